"""Paired comparisons against any method of a finished run (the workflow's paired_comparison.csv uses the
registry's reference; ablations of another method need that method as the reference).

    .venv/bin/python benchmarks/paired.py --results results/abide --reference neurolip_adversary \
        [--metrics auc: dpd:sex deodds:sex probe_auc:sex]

Prints, for each other method and metric, the mean per-fold difference (reference − other) with the plain
t-interval over folds and the Nadeau–Bengio corrected one (folds share training subjects).
"""

import argparse
from pathlib import Path

import pandas as pd

from neurolip.evaluation.paired import paired_comparison, test_train_ratio


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", default="results/abide")
    parser.add_argument("--reference", required=True)
    parser.add_argument("--metrics", nargs="+", default=["auc:", "dpd:sex", "deodds:sex", "probe_auc:sex"])
    parser.add_argument("--methods", nargs="*", help="compare with these only (default: every other)")
    args = parser.parse_args()
    results = Path(args.results)
    per_fold = pd.read_csv(results / "metrics" / "per_fold.csv", keep_default_na=False, na_values=[""])
    per_fold["attribute"] = per_fold["attribute"].fillna("")
    if args.methods:
        per_fold = per_fold[per_fold["method"].isin([args.reference, *args.methods])]
    folds = pd.read_csv(results / "data" / "folds.tsv", sep="\t", dtype={"subject_id": str})
    metrics = [tuple(m.split(":", 1)) for m in args.metrics]
    table = paired_comparison(
        per_fold, reference=args.reference, metrics=metrics, test_train_ratio=test_train_ratio(folds)
    )
    columns = [
        "baseline",
        "metric",
        "attribute",
        "mean_difference",
        "ci_low_corrected",
        "ci_high_corrected",
        "p_value_corrected",
        "n_folds",
    ]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table[[c for c in columns if c in table.columns]].round(4).to_string(index=False))


if __name__ == "__main__":
    main()
