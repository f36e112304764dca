"""The simulated cohort's two control reference maps: spheres at its planted disease regions and a smooth
random field (neurolip.evaluation.reference_maps.write_demo_references)."""

from _logging import log_to_file

log_to_file(snakemake)

import json
from pathlib import Path

import pandas as pd

from neurolip.evaluation.reference_maps import write_demo_references

write_demo_references(
    pd.read_csv(snakemake.input.coordinates),
    json.loads(Path(snakemake.input.truth).read_text()),
    snakemake.output.planted_disease,
    snakemake.output.random_field,
    radius=snakemake.params.radius,
    seed=snakemake.params.seed,
)
