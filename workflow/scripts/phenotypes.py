from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import prepare_phenotypes

prepare_phenotypes(
    snakemake.params.dataset,
    snakemake.input.raw,
    snakemake.output.phenotypes,
    snakemake.output.exclusions,
    snakemake.output.qc,
)
