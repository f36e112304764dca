from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.tables import build_table, write_table
from neurolip.methods import MethodRegistry

registry = MethodRegistry.from_config(snakemake.params.registry)
summary = pd.read_csv(snakemake.input.summary, keep_default_na=False, na_values=[""])
summary["attribute"] = summary["attribute"].fillna("")
paper = snakemake.params.paper or None
attributes = snakemake.params.attributes
name = snakemake.params.dataset
captions = {
    "table1": f"Table 1 ({name}): methods, percent, mean ± std over folds",
    "table2": f"Table 2 ({name}): ablations, percent, mean ± std over folds",
}
for table, caption in captions.items():
    frame = build_table(summary, registry.table(table), attributes, paper)
    write_table(frame, getattr(snakemake.output, table)[: -len(".csv")], caption)
