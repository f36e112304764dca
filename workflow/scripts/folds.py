from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import write_folds

write_folds(
    snakemake.params.cv,
    snakemake.input.cohort,
    snakemake.output.folds,
    snakemake.params.group_thresholds_attribute,
    snakemake.params.sensitive_attributes,
    snakemake.params.trained_attributes,
)
