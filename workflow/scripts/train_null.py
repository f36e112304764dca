"""The permutation-null models of one method (evaluation.maps) in one job: every permutation's predictions,
per-seed scores and, for TTCA methods, attention, each in its own null/<method>/perm<p>/ folder; the
connectomes permuted within site, the observed model's C or read-out reused."""

from _logging import log_to_file

log_to_file(snakemake)

import logging
from pathlib import Path

from neurolip.methods import job_method
from neurolip.training.checkpoint import remove_resume_tensors
from neurolip.training.fold_io import permute_connectomes_within_site
from neurolip.training.trainer import FoldInputs, FoldOutputs, train_null_models

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

if not snakemake.config.get("keep_checkpoints", False):
    freed = sum(remove_resume_tensors(d) for d in params.work_dirs)
    logging.getLogger(remove_resume_tensors.__module__).info(
        "removed resume checkpoints: %.1f MB freed", freed / 1e6
    )
