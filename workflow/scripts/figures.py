from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.figures import (
    calibration_figure,
    fairness_accuracy_figure,
    fold_auc_figure,
    group_bars_figure,
    group_class_counts,
    roc_figure,
)
from neurolip.methods import job_registry

registry = job_registry(snakemake)
by_method = {}
for (method, _fold), path in zip(snakemake.params.method_folds, snakemake.input.predictions, strict=True):
    by_method.setdefault(method, []).append(pd.read_csv(path, dtype={"subject_id": str}))
predictions = {m: pd.concat(frames, ignore_index=True) for m, frames in by_method.items()}
per_fold = pd.read_csv(snakemake.input.per_fold, keep_default_na=False, na_values=[""])
per_fold["attribute"] = per_fold["attribute"].fillna("")
roc_figure(predictions, snakemake.output.roc, registry)
calibration_figure(predictions, snakemake.output.calibration, registry)
fairness_accuracy_figure(per_fold, snakemake.params.attribute, snakemake.output.tradeoff, registry)
# every method is tested on the same subjects: any method's predictions give the groups' sizes
counts = group_class_counts(next(iter(predictions.values())), per_fold, snakemake.params.attributes)
group_bars_figure(per_fold, snakemake.params.attributes, snakemake.output.groups, registry, counts=counts)
fold_auc_figure(per_fold, snakemake.output.fold_auc, registry)
