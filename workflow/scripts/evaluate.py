from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.metrics import (
    evaluate,
    leakage_per_fold,
    paired_comparison,
    paired_pooled,
    pooled_metrics,
    pooled_probe_rows,
    summarize,
    test_train_ratio,
)
from neurolip.phenotypes import read_phenotypes
from neurolip.training.leakage import attribute_codes

files = {
    (method, fold): path
    for (method, fold), path in zip(snakemake.params.method_folds, snakemake.input.predictions, strict=True)
}
cohort = read_phenotypes(snakemake.input.cohort)
folds = pd.read_csv(snakemake.input.folds, sep="\t", dtype={"subject_id": str})
pooled = {}  # filled by evaluate: every method's test predictions with the groups of each attribute
per_fold, summary = evaluate(
    files, cohort, folds, snakemake.params.attributes, snakemake.params.continuous, pooled=pooled
)
# the held-out probe's floor depends only on each test fold's group sizes by diagnosis (codes as the
# probe read them)
indexed = cohort.set_index("subject_id")
test_groups = {
    (fold, attribute): (
        attribute_codes(indexed, ids, attribute),
        indexed.loc[ids, "diagnosis"].astype(int).to_numpy(),
    )
    for fold, rows in folds.groupby("fold")
    for ids in [rows.loc[rows["split"] == "test", "subject_id"].tolist()]
    for attribute in snakemake.params.attributes
    # the probe reads two-group attributes only
    if attribute in cohort.columns and cohort[attribute].dropna().astype(str).nunique() == 2
}
leakage = leakage_per_fold(
    dict(zip(map(tuple, snakemake.params.leakage_keys), snakemake.input.leakage, strict=True)),
    test_groups=test_groups,
)
per_fold = pd.concat([per_fold, leakage], ignore_index=True)
summary = summarize(per_fold)
per_fold.to_csv(snakemake.output.per_fold, index=False)
summary.to_csv(snakemake.output.summary, index=False)
comparisons = [("auc", ""), ("accuracy", "")] + [
    (m, a)
    for a in snakemake.params.attributes
    for m in ("dpd", "deodds", "probe_auc", "score_leakage", "decision_leakage")
]
paired_comparison(
    per_fold,
    reference=snakemake.params.reference or None,
    metrics=comparisons,
    test_train_ratio=test_train_ratio(folds),
).to_csv(snakemake.output.paired, index=False)
pd.concat(
    [pooled_metrics(pooled, snakemake.params.attributes), pooled_probe_rows(leakage, test_groups)],
    ignore_index=True,
).to_csv(snakemake.output.pooled, index=False)
paired_pooled(
    pooled, snakemake.params.gap_pairs, snakemake.params.postprocessed, snakemake.params.attributes
).to_csv(snakemake.output.paired_pooled, index=False)
