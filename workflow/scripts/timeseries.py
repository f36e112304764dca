from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import extract_timeseries

# one subject (NIfTI sources: rule timeseries_subject) or the whole manifest (rule timeseries)
subject = snakemake.params.get("subject")
extract_timeseries(
    snakemake.params.dataset,
    snakemake.input.manifest,
    snakemake.output.timeseries,
    snakemake.output.exclusions,
    subjects=[subject] if subject else None,
)
