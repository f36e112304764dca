"""How much the disease words' attention map overlaps each sensitive segment's map, per model and method
(what L_attn is meant to reduce)."""

from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.brainmaps import disease_field, field_overlap, load_attention
from neurolip.evaluation.figures import overlap_figure
from neurolip.methods import job_registry

paths = {}
for (method, fold), path in zip(snakemake.params.method_folds, snakemake.input.attention, strict=True):
    paths.setdefault(method, {})[fold] = path
tables = []
for method, fold_paths in paths.items():
    attention = load_attention(fold_paths)
    disease = disease_field(attention)
    for field, role in zip(attention["fields"], attention["roles"]):
        if role == "sensitive":
            tables.append(
                field_overlap(attention, disease, field, k=snakemake.params.top_k).assign(method=method)
            )
table = pd.concat(tables, ignore_index=True)
table.to_csv(snakemake.output.table, index=False)
# read-out-only methods reuse their source's models: their maps are the source's, and the figure says so
overlap_figure(
    table, snakemake.output.figure, job_registry(snakemake), models_from=snakemake.params.models_from
)
