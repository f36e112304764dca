from _logging import log_to_file

log_to_file(snakemake)

import re

import pandas as pd

from neurolip.evaluation.figures import fairness_accuracy_figure, group_bars_figure, roc_figure

by_method = {}
for path in snakemake.input.predictions:
    method = re.search(r"predictions/([^/]+)/fold\d+\.csv$", path).group(1)
    by_method.setdefault(method, []).append(pd.read_csv(path, dtype={"subject_id": str}))
predictions = {m: pd.concat(by_method[m], ignore_index=True) for m in snakemake.params.methods if m in by_method}
summary = pd.read_csv(snakemake.input.summary, keep_default_na=False, na_values=[""])
summary["attribute"] = summary["attribute"].fillna("")
roc_figure(predictions, snakemake.output.roc)
fairness_accuracy_figure(summary, snakemake.params.attribute, snakemake.output.tradeoff)
group_bars_figure(summary, snakemake.params.attributes, snakemake.output.groups)
