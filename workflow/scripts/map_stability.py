"""Every method's map agreement in one table, with the chance level of random maps, and its figure."""

from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.brainmaps import random_agreement
from neurolip.evaluation.figures import map_stability_figure
from neurolip.methods import MethodRegistry

tables = [pd.read_csv(path) for path in snakemake.input.agreement]
table = pd.concat([t for t in tables if not t.empty], ignore_index=True)
chance = random_agreement(snakemake.params.n_rois, k=snakemake.params.top_k)
for split in ("val", "test"):
    table.loc[len(table)] = {
        "method": "random",
        "estimator": "uniform random values",
        "split": split,
        "pair": "any",
        **chance,
    }
table.to_csv(snakemake.output.table, index=False)
map_stability_figure(table, snakemake.output.figure, MethodRegistry.from_config(snakemake.params.registry))
