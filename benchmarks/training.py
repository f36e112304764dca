"""Training speed per method: seconds per epoch, subjects per second and peak memory, on CPU or GPU.

    .venv/bin/python benchmarks/training.py --data results/abide/data --epochs 3 [--device cuda] [--threads 2]

``--data`` is a dataset's ``results/<dataset>/data`` folder (run the data stage and text features first:
``snakemake results/abide/data/text_features.safetensors --configfile config/abide.yaml``).
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml
from _measure import machine, peak_rss_mb

REPO = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="results/abide/data")
    parser.add_argument("--methods", nargs="*")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from neurolip.config import section_defaults
    from neurolip.methods import MethodRegistry
    from neurolip.training.trainer import FoldInputs, FoldOutputs, train_fold

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    registry = MethodRegistry.from_config(config)
    methods = args.methods or registry.trained
    data = Path(args.data)
    # one model (one seed) per method: the time of an epoch, whatever n_seeds a run uses
    training = {
        **config["training"],
        "max_epochs": args.epochs,
        "min_epochs": args.epochs,
        "patience": args.epochs,
        "n_seeds": 1,
        "device": args.device,
        "threads": args.threads,
    }
    folds = pd.read_csv(data / "folds.tsv", sep="\t")
    n_train = int(((folds.fold == 0) & (folds.split == "train")).sum())
    print(
        f"machine: {machine()}; torch {torch.__version__}; device {args.device}"
        f"{' (' + torch.cuda.get_device_name() + ')' if torch.cuda.is_available() else ''}; threads {args.threads}"
    )
    print(f"data: {data} ({n_train} training subjects in fold 0)")
    print(f"{'method':22s} {'s/epoch':>8s} {'subjects/s':>11s} {'total s':>8s} {'peak MB':>8s}")
    for method in methods:
        out = Path(tempfile.mkdtemp(prefix="neurolip-bench-"))
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        train_fold(
            method=registry[method],
            fold=0,
            training=training,
            model=section_defaults("model", config["model"]),
            text_encoder=section_defaults("text_encoder", config["text_encoder"]),
            inputs=FoldInputs(
                data / "connectomes.npz",
                data / "text_features.safetensors",
                data / "folds.tsv",
                data / "cohort.tsv",
            ),
            outputs=FoldOutputs(
                out / "work",
                out / "pred.csv",
                attention=out / "att.npz" if registry[method].writes_attention else None,
            ),
        )
        total = time.perf_counter() - started
        epochs_file = out / "work" / f"seed{training['seed']}" / "epochs.csv"
        if epochs_file.exists():
            per_epoch = pd.read_csv(epochs_file)["seconds"].median()
            rate = f"{n_train / per_epoch:11.0f}"
            per_epoch = f"{per_epoch:8.2f}"
        else:  # linear_fc: no epochs
            per_epoch, rate = f"{'-':>8s}", f"{'-':>11s}"
        peak = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else peak_rss_mb()
        print(f"{method:22s} {per_epoch} {rate} {total:8.1f} {peak:8.0f}", flush=True)
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
