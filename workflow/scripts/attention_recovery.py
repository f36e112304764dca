from _logging import log_to_file

log_to_file(snakemake)

import json

import pandas as pd

from neurolip.errors import NeuroLIPInputError
from neurolip.evaluation.brainmaps import disease_field, fold_maps, load_attention, recovery
from neurolip.evaluation.figures import recovery_figure

truth = json.load(open(snakemake.input.truth))
if not truth.get("disease_regions"):
    raise NeuroLIPInputError(
        "no planted regions: recovery needs the simulated cohort's ground truth", path=snakemake.input.truth
    )
paths = dict(zip(snakemake.params.folds, snakemake.input.attention, strict=True))
attention = load_attention(paths)
tables = []
disease = disease_field(attention)
tables.append(
    recovery(fold_maps(attention, disease), truth["disease_regions"], truth["n_rois"]).assign(
        map=f"{disease} attention vs disease regions"
    )
)
if truth.get("sensitive_attribute") in attention["fields"]:
    field = truth["sensitive_attribute"]
    tables.append(
        recovery(fold_maps(attention, field), truth["sensitive_regions"], truth["n_rois"]).assign(
            map=f"{field} attention vs {field} regions"
        )
    )
table = pd.concat(tables, ignore_index=True).assign(method=snakemake.params.method)
table.to_csv(snakemake.output.table, index=False)
recovery_figure(table, snakemake.output.figure)
