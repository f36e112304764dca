"""What each method's representation gives away against what it keeps: the held-out sex probe's
within-diagnosis AUC against the diagnosis probe's AUC (neurolip.evaluation.probe_test.probe_pairs_figure)."""

from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.probe_test import probe_pairs_figure

pairs = pd.read_csv(snakemake.input.pairs, keep_default_na=False, na_values=[""])
pairs["reference"] = pairs["reference"].fillna("")
probe_pairs_figure(
    pairs, snakemake.params.labels, snakemake.params.attribute, snakemake.output.png, snakemake.output.pdf
)
