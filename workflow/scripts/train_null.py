"""The permutation-null models of one method (evaluation.maps) in one job: every permutation's predictions,
per-seed scores and, for TTCA methods, attention, each in its own null/<method>/perm<p>/ folder; the
connectomes permuted within site, the observed model's C or read-out reused."""

from _logging import log_to_file

log_to_file(snakemake)

from pathlib import Path

from neurolip.methods import job_method
from neurolip.training.checkpoint import clean_finished
from neurolip.training.fold_io import permute_connectomes_within_site
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
    permute=permute_connectomes_within_site,
)

clean_finished(params.work_dirs, snakemake.config.get("keep_checkpoints", False))
