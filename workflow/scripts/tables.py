from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.tables import TABLE1_METHODS, TABLE2_METHODS, build_table, write_table

summary = pd.read_csv(snakemake.input.summary, keep_default_na=False, na_values=[""])
summary["attribute"] = summary["attribute"].fillna("")
paper = snakemake.params.paper or None
attributes = snakemake.params.attributes
name = snakemake.params.dataset
table1 = build_table(summary, TABLE1_METHODS, attributes, paper)
write_table(table1, snakemake.output.table1[: -len(".csv")], f"Table 1 ({name}): methods, percent, mean ± std over folds")
table2 = build_table(summary, TABLE2_METHODS, attributes, paper)
write_table(table2, snakemake.output.table2[: -len(".csv")], f"Table 2 ({name}): ablations, percent, mean ± std over folds")
