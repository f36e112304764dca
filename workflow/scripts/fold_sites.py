from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import write_fold_sites

write_fold_sites(snakemake.params.cv, snakemake.input.cohort, snakemake.input.folds, snakemake.output.sites)
