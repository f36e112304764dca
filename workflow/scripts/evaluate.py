from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.metrics import (
    evaluate,
    leakage_per_fold,
    paired_comparison,
    paired_pooled,
    pooled_metrics,
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
# the held-out probe's floor depends only on each test fold's group sizes (codes as the probe read them)
test_codes = {
    (fold, attribute): attribute_codes(
        cohort.set_index("subject_id"), rows.loc[rows["split"] == "test", "subject_id"], attribute
    )
    for fold, rows in folds.groupby("fold")
    for attribute in snakemake.params.attributes
    if attribute in cohort.columns and attribute not in snakemake.params.continuous
}
leakage = leakage_per_fold(
    dict(zip(map(tuple, snakemake.params.leakage_keys), snakemake.input.leakage, strict=True)),
    test_codes=test_codes,
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
pooled_metrics(pooled, snakemake.params.attributes).to_csv(snakemake.output.pooled, index=False)
paired_pooled(
    pooled, snakemake.params.gap_pairs, snakemake.params.postprocessed, snakemake.params.attributes
).to_csv(snakemake.output.paired_pooled, index=False)
