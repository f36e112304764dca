"""One permutation-null model of one method and fold (evaluation.maps): its predictions, per-seed scores and,
for TTCA methods, attention in null/<method>/fold<f>/perm<p>/; the training and validation connectomes
permuted by cohort-wide permutation p (within site x outer test fold, the same p on every fold), the
observed model's C or read-out of this fold reused."""

from _logging import log_to_file

log_to_file(snakemake)

from pathlib import Path

from neurolip.methods import job_method
from neurolip.training.checkpoint import clean_finished
from neurolip.training.fold_io import cohort_wide_permuter
from neurolip.training.null_models import train_null_models
from neurolip.training.trainer import FoldInputs, FoldOutputs

params = snakemake.params
permutations = list(params.permutations)
attention = list(snakemake.output.get("attention", [])) or [None] * len(permutations)
outputs = {
    p: FoldOutputs(
        work_dir=Path(work_dir),
        predictions=Path(predictions),
        seed_scores=Path(scores),
        attention=Path(maps) if maps is not None else None,
    )
    for p, work_dir, predictions, scores, maps in zip(
        permutations,
        params.work_dirs,
        snakemake.output.predictions,
        snakemake.output.seed_scores,
        attention,
        strict=True,
    )
}
train_null_models(
    method=job_method(snakemake),
    fold=params.fold,
    training={**params.training, "threads": snakemake.threads},
    model=params.model,
    text_encoder=params.text_encoder,
    inputs=FoldInputs(
        connectomes=Path(snakemake.input.connectomes),
        text_features=Path(snakemake.input.text_features),
        folds=Path(snakemake.input.folds),
        cohort=Path(snakemake.input.cohort),
    ),
    outputs=outputs,
    sensitive_attributes=params.sensitive,
    observed_selection=Path(snakemake.input.observed) if snakemake.input.get("observed") else None,
    permute=cohort_wide_permuter(snakemake.input.folds, params.permutation_seed),
)

clean_finished(params.work_dirs, snakemake.config.get("keep_checkpoints", False))
