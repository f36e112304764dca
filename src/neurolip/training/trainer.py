"""One method on one cross-validation fold, as wiring: fit → pipeline → one writer. The recipe's splitter
gives the models to fit, ``fit_fold`` fits them (or loads a source's, for a read-out-only method), the
method's :class:`~.stages.Pipeline` reads them out (erase, choose the read-out, calibrate, group thresholds,
held-out probe) and :func:`~.fold_writer.write_fold` writes the result. Null models
(:mod:`.null_models`) and a variant on its base's kept read-out go through the same pipeline and writer.
Nothing here depends on which method it is, nor on whether the recipe is linear or a network."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..methods import Method
from .fold_io import load_fold, permute_connectomes
from .fold_writer import FoldOutputs, write_fold
from .linear import LinearFitter
from .loop import LoopSettings
from .network import NetworkFitter, pick_device  # noqa: F401 (pick_device: the trainer's public helper)
from .readout_state import matching_state, write_state
from .recipes import ModelSplit, Recipe
from .stages import FoldResult, Pipeline

__all__ = ["FoldInputs", "FoldOutputs", "FoldResult", "TrainingConfig", "fit_fold", "train_fold"]


@dataclass(frozen=True)
class TrainingConfig:
    """The config section ``training`` without its workflow-only keys (defaults: the workflow's schema;
    unknown keys are an error)."""

    max_epochs: int
    min_epochs: int
    patience: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int
    device: str
    readout: str
    n_seeds: int
    threads: int
    ensemble: bool | str = (
        "auto"  # train a fold's models as one stacked ensemble: true, false, auto (on a GPU)
    )

    # which methods to train and whether to ask the scheduler for a GPU: the workflow's business
    WORKFLOW_KEYS = ("methods", "gpu")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        values = {k: v for k, v in values.items() if k not in cls.WORKFLOW_KEYS}
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown training configuration keys: {sorted(unknown)}")
        return cls(**values)

    @property
    def loop(self) -> LoopSettings:
        return LoopSettings(self.max_epochs, self.min_epochs, self.patience, self.batch_size)


@dataclass(frozen=True)
class FoldInputs:
    connectomes: Path
    text_features: Path
    folds: Path
    cohort: Path
    models_from: Path | None = None  # work dir of the method whose trained models this one reads
    # a group-threshold variant: its base's outputs of the fold ({"selection", "seed_scores", "attention"})
    readout_from: dict | None = None


def train_fold(
    *,
    method: Method,
    fold: int,
    training: dict,
    model: dict,
    text_encoder: dict,
    inputs: FoldInputs,
    outputs: FoldOutputs,
    sensitive_attributes=("sex",),
    permutation: int | None = None,
) -> pd.DataFrame:
    """Train ``method`` on ``fold`` (or read its source's models) and write its test predictions, plus the
    validation predictions, the test subjects' attention, per-seed scores and the leakage probe where
    ``outputs`` asks. Returns the test predictions.

    ``permutation``: a null model for brain maps: the training and validation subjects' connectomes are
    shuffled among them (seeded by the number), so nothing the texts or labels say is in the images.
    """
    settings = settings_of(training)
    if inputs.readout_from and permutation is None:
        state = matching_state(inputs.readout_from["selection"], variant=method, settings=settings)
        if state is not None:
            # a group-threshold variant on its base's kept read-out: its last stage, the base's other files
            result = Pipeline.of(method, settings).run_on_kept(state)
            write_fold(method.name, fold, result, outputs, base_files=inputs.readout_from)
            return result.predictions["test"]
    data = load_fold(inputs.connectomes, inputs.folds, inputs.cohort, fold)
    if permutation is not None:
        permute_connectomes(data, permutation)
    recipe = Recipe.of(method, settings.n_seeds)
    fitter = (
        NetworkFitter(method, settings, model, text_encoder, inputs, permutation)
        if recipe.objective.trains_network
        else LinearFitter()
    )
    work_dir = Path(outputs.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    splits = recipe.splits(data, settings.seed, work_dir, inputs.models_from)
    models = fit_fold(fitter, splits)
    return read_out_and_write(
        method, settings, recipe, models, data, splits, outputs, sensitive_attributes, keep_state=True
    )


def settings_of(training: dict) -> TrainingConfig:
    settings = TrainingConfig.from_dict(training)
    torch.set_num_threads(max(1, int(settings.threads)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    return settings


def read_out_and_write(
    method,
    settings,
    recipe,
    models,
    data,
    splits,
    outputs,
    sensitive_attributes,
    readout_choice=None,
    keep_state=False,
) -> pd.DataFrame:
    """The method's pipeline on the fold's fitted ``models``, written by the one writer; returns the test
    predictions. ``keep_state``: keep the read-out a group-threshold variant of this method starts from."""
    probed = list(sensitive_attributes) if outputs.leakage is not None else []
    pipeline = Pipeline.of(method, settings, probed)
    result = pipeline.run(models, recipe, data, splits, sensitive_attributes, readout_choice)
    write_fold(method.name, data.fold, result, outputs)
    if keep_state and pipeline.thresholds is None:
        # what a group-threshold variant of this method needs, so that it does not read the models again
        write_state(
            outputs.work_dir,
            method=method,
            settings=settings,
            frames=result.predictions,
            members=result.members,
            info=result.info,
        )
    return result.predictions["test"]


def fit_fold(fitter, splits: list[ModelSplit]) -> list:
    """One fitted model per split, through ``fitter`` (a NetworkFitter or a linear recipe's fitter; None:
    the linear recipe)."""
    fitter = LinearFitter() if fitter is None else fitter
    fit_all = getattr(fitter, "fit_all", None)
    return fit_all(splits) if fit_all is not None else [fitter.fit(split) for split in splits]
