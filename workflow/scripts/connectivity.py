from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import build_connectomes

build_connectomes(
    snakemake.params.connectivity,
    snakemake.input.timeseries,
    snakemake.input.phenotypes,
    snakemake.input.exclusions,
    snakemake.output.connectomes,
    snakemake.output.qc,
    snakemake.output.exclusions,
    snakemake.output.cohort,
)
