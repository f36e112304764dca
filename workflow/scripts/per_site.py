"""Per-site results (issue 33): each test site's AUC with its bootstrap interval, the spread across sites,
the worst site, ES-AUC over sites and the site-heterogeneity test (neurolip.evaluation.per_site), and the
forest plot of the site AUCs."""

from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.figures import per_site_forest_figure
from neurolip.evaluation.per_site import per_site_metrics, pooled_predictions
from neurolip.methods import job_registry
from neurolip.phenotypes import read_phenotypes

params = snakemake.params
files = {
    (method, fold): path
    for (method, fold), path in zip(params.method_folds, snakemake.input.predictions, strict=True)
}
folds = pd.read_csv(snakemake.input.folds, sep="\t", dtype={"subject_id": str})
pooled = pooled_predictions(files, read_phenotypes(snakemake.input.cohort), folds)
table = per_site_metrics(pooled, n_boot=params.n_boot, n_perm=params.n_perm)
table.to_csv(snakemake.output.table, index=False)
per_site_forest_figure(table, snakemake.output.figure, job_registry(snakemake), methods=params.methods)
