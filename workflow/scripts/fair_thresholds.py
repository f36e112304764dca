from _logging import log_to_file

log_to_file(snakemake)

from neurolip.evaluation.postprocessing import postprocess_fold

postprocess_fold(
    snakemake.input.validation,
    snakemake.input.predictions,
    snakemake.params.attribute,
    snakemake.params.constraint,
    snakemake.params.objective,
    snakemake.params.seed,
).to_csv(snakemake.output.predictions, index=False)
