from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import normalize

normalize(
    snakemake.params.dataset,
    snakemake.input.raw,
    snakemake.output.phenotypes,
    snakemake.output.exclusions,
)
