"""How small can DPD be on these test folds? The demographic-parity difference a classifier would show if its
predictions did not depend on the attribute at all, estimated by shuffling the attribute within each test fold.

    .venv/bin/python benchmarks/dpd_floor.py --results results/abide [--attribute sex] [--permutations 2000]

For every method under ``<results>/predictions`` it prints the observed mean DPD over folds, the mean DPD of
the same predictions with the attribute shuffled (the floor set by the size of the smallest group in a test
fold), the share of shuffles whose mean DPD is at most ``--target``, and the DPD of the labels themselves
(what a perfect classifier would show: the attribute's base-rate gap in each test fold).
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from fairlearn.metrics import demographic_parity_difference


def dpd(y_true, y_pred, groups):
    return float(demographic_parity_difference(y_true, y_pred, sensitive_features=np.asarray(groups)))


def group_rate_gap(y_pred, group_codes, n_groups):
    """DPD from integer group codes with bincount: the thousands of shuffles would take minutes through
    fairlearn; ``main`` checks it equals fairlearn's value on the unshuffled predictions."""
    rates = np.bincount(group_codes, weights=y_pred, minlength=n_groups) / np.bincount(
        group_codes, minlength=n_groups
    )
    return float(rates.max() - rates.min())


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", default="results/abide")
    parser.add_argument("--attribute", default="sex")
    parser.add_argument("--permutations", type=int, default=2000)
    parser.add_argument("--target", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = Path(args.results) / "predictions"
    methods = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not methods:
        raise SystemExit(f"no predictions under {folder}: run the workflow for that dataset first")
    rng = np.random.default_rng(args.seed)
    rows = []
    for method in methods:
        folds = [
            pd.read_csv(p, dtype={args.attribute: str}) for p in sorted((folder / method).glob("fold*.csv"))
        ]
        folds = [f.dropna(subset=[args.attribute]) for f in folds]
        if not folds or args.attribute not in folds[0]:
            raise SystemExit(f"{folder / method}: no column {args.attribute!r} in the prediction files")
        observed = [dpd(f["y_true"], f["y_pred"], f[args.attribute]) for f in folds]
        labels = np.mean([dpd(f["y_true"], f["y_true"], f[args.attribute]) for f in folds])
        coded = []
        for f, value in zip(folds, observed):
            codes, names = pd.factorize(f[args.attribute])
            y_pred = f["y_pred"].to_numpy(dtype=float)
            assert np.isclose(group_rate_gap(y_pred, codes, len(names)), value), (
                f"{method}: fast DPD != fairlearn"
            )
            coded.append((y_pred, codes, len(names)))
        shuffled = np.array(
            [
                np.mean([group_rate_gap(y_pred, rng.permutation(codes), n) for y_pred, codes, n in coded])
                for _ in range(args.permutations)
            ]
        )
        smallest = min(int(f[args.attribute].value_counts().min()) for f in folds)
        rows.append(
            {
                "method": method,
                "folds": len(folds),
                "smallest_group_in_a_test_fold": smallest,
                "mean_dpd_observed": np.mean(observed),
                "mean_dpd_attribute_shuffled": shuffled.mean(),
                f"share_shuffled_at_most_{args.target}": (shuffled <= args.target).mean(),
                "mean_dpd_of_labels": labels,
            }
        )
    table = pd.DataFrame(rows)
    print(f"attribute {args.attribute}; {args.permutations} shuffles within each test fold")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
