"""Seconds per linear_fc null model: as separate jobs used to fit them (C re-chosen on each permutation's
validation split, four fits each) against the null job's LinearNullFitter (the observed model's C, warm
starts from the previous permutation).

    PYTHONPATH=src .venv/bin/python benchmarks/linear_nulls.py --size demo --permutations 20

Synthetic connectomes of ABIDE's size (703 training, 176 validation, 220 test subjects, 200 ROIs) or the
demo cohort's (144, 48, 48 subjects, 100 ROIs), labels tied to a few edges. Job start-up (Python, imports,
data load), which the one-job null saves as well, is not counted here (benchmarks/ensemble.py prints it).
"""

import argparse
import time

import numpy as np
import torch

SIZES = {"abide": ((703, 176, 220), 200), "demo": ((144, 48, 48), 100)}


def synthetic_fold(counts, n_rois, seed=0):
    from neurolip.training.fold_io import FoldData

    generator = torch.Generator().manual_seed(seed)
    x, y, ids = {}, {}, {}
    for split, n in zip(("train", "val", "test"), counts, strict=True):
        a = torch.randn(n, n_rois, 16, generator=generator)
        matrices = torch.tanh(a @ a.transpose(1, 2) / 16)
        labels = (matrices[:, 0, 1] + 0.5 * torch.randn(n, generator=generator) > 0).long()
        x[split], y[split] = matrices, labels.numpy()
        ids[split] = [f"{split}{i}" for i in range(n)]
    return FoldData(ids, x, y, cohort=None, fold=0)


def main():
    from neurolip.training.fold_io import copy_fold, permute_connectomes
    from neurolip.training.linear import FittedLinear, LinearNullFitter
    from neurolip.training.recipes import ModelSplit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="demo", choices=list(SIZES))
    parser.add_argument("--permutations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    counts, n_rois = SIZES[args.size]
    observed = synthetic_fold(counts, n_rois)
    permuted = []
    for p in range(args.permutations):
        data = copy_fold(observed)
        permute_connectomes(data, p)
        permuted.append(ModelSplit(0, data, None))
    started = time.perf_counter()
    separate = [FittedLinear(split) for split in permuted]
    # a plain linear model fits when its read-out candidates are asked for
    separate_scores = [model.candidates()[0]["logistic_regression"] for model in separate]
    separate_s = (time.perf_counter() - started) / args.permutations
    started = time.perf_counter()
    fitter = LinearNullFitter().for_observed([ModelSplit(0, observed, None)])
    shared = [fitter.fit(split) for split in permuted]
    shared_scores = [model.candidates()[0]["logistic_regression"] for model in shared]
    shared_s = (time.perf_counter() - started) / args.permutations
    same = [
        (sa, sb)
        for a, b, sa, sb in zip(separate, shared, separate_scores, shared_scores, strict=True)
        if a.info["C"] == b.info["C"]
    ]
    gap = max((float(np.abs(a["test"] - b["test"]).max()) for a, b in same), default=np.nan)
    same_c = len(same)
    print(
        f"{args.size}: {args.permutations} null models, {args.threads} thread(s): separate (C re-chosen) "
        f"{separate_s:.3f} s each, shared C + warm start {shared_s:.3f} s each (C chosen once included), "
        f"ratio {shared_s / separate_s:.2f}; {same_c} null models chose the observed C themselves "
        f"(largest test-score gap among them: {gap:.1e})"
    )


if __name__ == "__main__":
    main()
