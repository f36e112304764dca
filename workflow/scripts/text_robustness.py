"""metrics/text_robustness.csv: every method's change under each text variant beside its seed spread
(neurolip.evaluation.text_robustness)."""

from _logging import log_to_file

log_to_file(snakemake)

import logging

import numpy as np
import pandas as pd

from neurolip.evaluation.frame import GroupFrame
from neurolip.evaluation.text_robustness import metric_rows, robustness_table
from neurolip.phenotypes import read_phenotypes

frames, maps = [], {}
for (method, fold), table, archive in zip(
    snakemake.params.method_folds, snakemake.input.predictions, snakemake.input.maps, strict=True
):
    frames.append(pd.read_csv(table, dtype={"subject_id": str}).assign(fold=fold))
    with np.load(archive) as stored:
        maps[(method, fold)] = {key: stored[key] for key in stored.files}
folds = pd.read_csv(snakemake.input.folds, sep="\t", dtype={"subject_id": str})
attribute = snakemake.params.attribute
groups = GroupFrame(read_phenotypes(snakemake.input.cohort), folds, [attribute])
table = robustness_table(
    metric_rows(pd.concat(frames, ignore_index=True), groups, attribute),
    maps,
    [tuple(pair) for pair in snakemake.params.trained_variants],
)
table.insert(2, "attribute", attribute)
table.to_csv(snakemake.output.table, index=False)
with pd.option_context("display.width", 200, "display.max_columns", 20):
    logging.info("text robustness (%s):\n%s", attribute, table.to_string(index=False))
