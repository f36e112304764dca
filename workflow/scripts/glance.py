"""Results at a glance: the run's compact table (neurolip.evaluation.glance), printed by the workflow's
onsuccess handler and shown on the report's first screen."""

from _logging import log_to_file

log_to_file(snakemake)

from pathlib import Path

import pandas as pd

from neurolip.evaluation.glance import glance_markdown, glance_rst, glance_table

params = snakemake.params
per_site = pd.read_csv(snakemake.input.per_site, keep_default_na=False, na_values=[""])
table = glance_table(
    pd.read_csv(snakemake.input.pooled), params.methods, params.labels, params.attribute, per_site
)
Path(snakemake.output.summary).write_text(glance_markdown(table, params.dataset, params.attribute))
Path(snakemake.output.landing).write_text(glance_rst(table, params.attribute))
