from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import extract_timeseries

extract_timeseries(
    snakemake.params.dataset,
    snakemake.input.manifest,
    snakemake.output.timeseries,
    snakemake.output.exclusions,
    subjects=[snakemake.params.subject],
)
