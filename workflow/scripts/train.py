from _logging import log_to_file

log_to_file(snakemake)

import logging
from pathlib import Path

from neurolip.methods import job_method
from neurolip.training.checkpoint import remove_resume_tensors
from neurolip.training.trainer import FoldInputs, FoldOutputs, train_fold


def optional_output(name):
    return Path(snakemake.output[name]) if name in snakemake.output.keys() else None


train_fold(
    method=job_method(snakemake),
    fold=snakemake.params.fold,
    training={**snakemake.params.training, "threads": snakemake.threads},
    model=snakemake.params.model,
    text_encoder=snakemake.params.text_encoder,
    inputs=FoldInputs(
        connectomes=Path(snakemake.input.connectomes),
        text_features=Path(snakemake.input.text_features),
        folds=Path(snakemake.input.folds),
        cohort=Path(snakemake.input.cohort),
        models_from=Path(snakemake.params.models_from) if snakemake.params.get("models_from") else None,
        # a group-threshold variant: its base's selection, seed scores and attention of the fold
        readout_from={
            name.removeprefix("base_"): Path(snakemake.input.get(name))
            for name in snakemake.input.keys()
            if name.startswith("base_")
        }
        or None,
    ),
    outputs=FoldOutputs(
        work_dir=Path(snakemake.params.work_dir),
        predictions=Path(snakemake.output.predictions),
        validation=optional_output("validation"),
        attention=optional_output("attention"),
        seed_scores=optional_output("seed_scores"),
        leakage=optional_output("leakage"),
    ),
    sensitive_attributes=snakemake.params.sensitive,
    permutation=snakemake.params.get("permutation"),
)

# disk: a finished fold keeps what a rerun and models_from readers need (best weights, final state), not the
# last epoch's model and optimizer tensors, unless the config's keep_checkpoints says so
if not snakemake.config.get("keep_checkpoints", False):
    freed = remove_resume_tensors(snakemake.params.work_dir)
    logging.getLogger(remove_resume_tensors.__module__).info(
        "removed resume checkpoints: %.1f MB freed", freed / 1e6
    )
