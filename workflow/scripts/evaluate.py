from _logging import log_to_file

log_to_file(snakemake)

import re

import pandas as pd

from neurolip.evaluation.metrics import evaluate, paired_comparison

files = {}
for path in snakemake.input.predictions:
    method, fold = re.search(r"predictions/([^/]+)/fold(\d+)\.csv$", path).groups()
    files[(method, int(fold))] = path
cohort = pd.read_csv(snakemake.input.cohort, sep="\t", dtype={"subject_id": str, "site": str, "sex": str})
folds = pd.read_csv(snakemake.input.folds, sep="\t", dtype={"subject_id": str})
per_fold, summary = evaluate(files, cohort, folds, snakemake.params.attributes)
per_fold.to_csv(snakemake.output.per_fold, index=False)
summary.to_csv(snakemake.output.summary, index=False)
comparisons = [("auc", ""), ("accuracy", "")] + [(m, a) for a in snakemake.params.attributes for m in ("dpd", "deodds")]
paired_comparison(per_fold, metrics=comparisons).to_csv(snakemake.output.paired, index=False)
