from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import write_fold_connectomes

write_fold_connectomes(
    snakemake.input.connectomes,
    snakemake.input.folds,
    snakemake.params.fold,
    snakemake.output.connectomes,
    harmonize=snakemake.params.get("harmonize"),
    cohort_path=snakemake.input.get("cohort"),
)
