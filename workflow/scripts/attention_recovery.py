from _logging import log_to_file

log_to_file(snakemake)

import json

import pandas as pd

from neurolip.data_stage import FoldConnectomes
from neurolip.errors import NeuroLIPInputError
from neurolip.evaluation.brainmaps import (
    disease_field,
    fold_maps,
    load_attention,
    map_recovery,
    pattern_maps,
    recovery,
)
from neurolip.evaluation.figures import recovery_figure
from neurolip.methods import job_registry

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
# the read-out's activation pattern, model by model, on the test subjects
connectomes = FoldConnectomes.of_folds(snakemake.params.folds, snakemake.input.connectomes)
scores = pd.concat([pd.read_csv(p, dtype={"subject_id": str}) for p in snakemake.input.seed_scores])
patterns = {}
for fold, rows in scores.groupby("fold", sort=True):  # each fold's model reads its fold's connectomes
    patterns.update(pattern_maps(connectomes.edges_function(int(fold)), rows, "test", truth["n_rois"]))
tables.append(
    map_recovery(patterns, truth["disease_regions"], truth["n_rois"], "activation pattern").assign(
        map="read-out pattern vs disease regions"
    )
)
table = pd.concat(tables, ignore_index=True).assign(method=snakemake.params.method)
table.to_csv(snakemake.output.table, index=False)
registry = job_registry(snakemake)
label = registry.label(snakemake.params.method)
source = snakemake.params.models_from
# a read-out-only method's attention is its source's: those bars repeat that method's figure
note = (
    f"attention maps: those of {registry.label(source)}'s models, which this method reads (identical bars)"
    if source
    else None
)
recovery_figure(table, snakemake.output.figure, title=f"{label}: planted-region recovery", note=note)
