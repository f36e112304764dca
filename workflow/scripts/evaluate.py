from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.frame import GroupFrame
from neurolip.evaluation.metrics import evaluate
from neurolip.evaluation.paired import paired_comparison, paired_pooled, test_train_ratio
from neurolip.evaluation.per_fold import leakage_per_fold, summarize
from neurolip.evaluation.pooled import POOLED_COLUMNS, pooled_metrics
from neurolip.evaluation.probe_test import pooled_probe_rows, probe_pairs, read_leakage
from neurolip.phenotypes import read_phenotypes

files = {
    (method, fold): path
    for (method, fold), path in zip(snakemake.params.method_folds, snakemake.input.predictions, strict=True)
}
folds = pd.read_csv(snakemake.input.folds, sep="\t", dtype={"subject_id": str})
frame = GroupFrame(
    read_phenotypes(snakemake.input.cohort), folds, snakemake.params.attributes, snakemake.params.continuous
)
evaluation = evaluate(files, frame)
# the held-out probes' out-of-sample scores of every test subject (sensitive attributes and diagnosis)
scores = read_leakage(
    dict(zip(map(tuple, snakemake.params.leakage_keys), snakemake.input.leakage, strict=True))
)
leakage = leakage_per_fold(scores)
per_fold = pd.concat([evaluation.per_fold, leakage], ignore_index=True)
# the per-fold gaps and leakages beside the floors of their fold means (the probe's: metrics/pooled.csv)
summary = summarize(per_fold, evaluation.fold_mean_floors)
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
    [
        pooled_metrics(evaluation.pooled, snakemake.params.attributes),
        pooled_probe_rows(scores, POOLED_COLUMNS),
    ],
    ignore_index=True,
).to_csv(snakemake.output.pooled, index=False)
# what each representation gives away (attribute probe) and keeps (diagnosis probe), beside its unerased model
probe_pairs(scores, snakemake.params.unerased).to_csv(snakemake.output.probe_pairs, index=False)
paired_pooled(
    evaluation.pooled, snakemake.params.gap_pairs, snakemake.params.postprocessed, snakemake.params.attributes
).to_csv(snakemake.output.paired_pooled, index=False)
