from pathlib import Path

from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import fetch

Path(snakemake.output.raw).mkdir(parents=True, exist_ok=True)
fetch(
    snakemake.params.dataset,
    snakemake.output.raw,
    snakemake.output.manifest,
    snakemake.output.phenotypes,
    snakemake.output.exclusions,
    snakemake.output.coordinates,
    snakemake.output.ground_truth,
)
