from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import gather_timeseries

gather_timeseries(
    snakemake.input.parts,
    snakemake.input.exclusions,
    snakemake.input.manifest,
    snakemake.output.timeseries,
    snakemake.output.exclusions,
)
