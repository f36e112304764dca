from _logging import log_to_file

log_to_file(snakemake)

from neurolip.training.trainer import train_fold

train_fold(
    snakemake.wildcards.method,
    snakemake.params.method_spec,
    {**snakemake.params.training, "threads": snakemake.threads},
    snakemake.params.model,
    snakemake.input.connectomes,
    snakemake.input.text_features,
    snakemake.input.folds,
    snakemake.input.cohort,
    int(snakemake.wildcards.fold),
    snakemake.params.work_dir,
    snakemake.output.predictions,
    snakemake.output.get("attention"),
    snakemake.params.sensitive,
    snakemake.output.validation,
)
