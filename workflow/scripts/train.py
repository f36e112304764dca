"""One method on one fold: the registry's method, trained (or read from its source's models), read out
through its stages and written (neurolip.training.trainer)."""

from _logging import log_to_file

log_to_file(snakemake)

from pathlib import Path

from neurolip.methods import job_method
from neurolip.training.checkpoint import clean_finished
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
clean_finished([snakemake.params.work_dir], snakemake.config.get("keep_checkpoints", False))
