"""One method on one cross-validation fold, as wiring: the recipe's splitter gives the models to fit,
``fit_fold`` fits them (or loads a source's, for a read-out-only method), ``read_out`` runs the method's
stages on them (erase, choose the read-out, calibrate, group thresholds) and returns a :class:`FoldResult`.
Nothing here depends on which method it is, nor on whether the recipe is linear or a network."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..methods import Method
from . import readout
from .attention_export import stack_seeds
from .fold_io import (
    FoldData,
    copy_fold,
    load_fold,
    permute_connectomes,
    predictions_frame,
    write_attention,
    write_csv,
)
from .leakage import LEAKAGE_COLUMNS, held_out_leakage_rows
from .linear import LinearFitter, LinearNullFitter
from .loop import LoopSettings
from .network import NetworkFitter, pick_device  # noqa: F401 (pick_device: the trainer's public helper)
from .readout_state import matching_state, write_state
from .recipes import ModelSplit, Recipe
from .stages import Stages


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


@dataclass(frozen=True)
class FoldOutputs:
    work_dir: Path  # selection.json, per-seed checkpoints and epoch logs
    predictions: Path
    validation: Path | None = None
    attention: Path | None = None
    seed_scores: Path | None = None  # each seed's own read-out probabilities (val, test), for brain maps
    leakage: Path | None = None  # sensitive-attribute probe AUCs on the predicting representation


@dataclass
class FoldResult:
    """What a method makes of one fold: validation and test predictions (``val`` covers the out-of-fold
    subjects of a cross-fitted recipe), the selection info, each model's own chosen read-out
    ([(seed, FoldData, {split: p})]), the leakage probe's rows and the test subjects' attention."""

    predictions: dict[str, pd.DataFrame]
    info: dict
    seed_scores: list
    leakage: list[dict]
    attention: dict | None = None
    members: np.ndarray | None = None  # cross-fitted models' calibrated test probabilities (K, n_test)


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
    settings = _settings(training)
    if inputs.readout_from and permutation is None:
        state = matching_state(inputs.readout_from["selection"], variant=method, settings=settings)
        if state is not None:
            return _thresholds_on_kept_readout(method, settings, state, inputs.readout_from, outputs)
    data = load_fold(inputs.connectomes, inputs.folds, inputs.cohort, fold)
    if permutation is not None:
        permute_connectomes(data, permutation)
    recipe = Recipe.of(method, settings.n_seeds)
    fitter = (
        NetworkFitter(method, settings, model, text_encoder, inputs, permutation)
        if recipe.objective.trains_network
        else LinearFitter()
    )
    return _train_and_write(method, settings, recipe, fitter, data, inputs, outputs, sensitive_attributes)


def train_null_models(
    *,
    method: Method,
    fold: int,
    training: dict,
    model: dict,
    text_encoder: dict,
    inputs: FoldInputs,
    outputs: dict[int, FoldOutputs],
    sensitive_attributes=("sex",),
    observed_selection: Path | None = None,
    permute: Callable[[FoldData, int], None] = permute_connectomes,
) -> dict[int, pd.DataFrame]:
    """The permutation-null models of ``method`` on ``fold``, one per key of ``outputs`` (the permutation
    number -> where that null model's files go), in one process: the data, the text features and the
    libraries load once. Each null model is exactly what ``train_fold(..., permutation=p)`` makes, except
    that a linear recipe reuses the observed model's C and a network recipe the observed model's read-out
    (from ``observed_selection``, the observed model's selection.json of this fold; without it a linear C
    is chosen once on the unpermuted validation split) and warm-starts each
    permutation's fit from the previous one's coefficients (one standardisation shared by all).

    ``permute(data, p)``: shuffles the connectomes of a copy of the fold in place (default: among the
    training and among the validation subjects, :func:`permute_connectomes`); the workflow passes the
    within-site :func:`permute_connectomes_within_site`. Returns {p: test predictions}.
    """
    settings = _settings(training)
    observed = load_fold(inputs.connectomes, inputs.folds, inputs.cohort, fold)
    recipe = Recipe.of(method, settings.n_seeds)

    def permuted_fold(permutation):
        data = copy_fold(observed)
        permute(data, permutation)
        work_dir = Path(outputs[permutation].work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        splits = [
            replace(split, permutation=permutation)
            for split in recipe.splits(data, settings.seed, work_dir, inputs.models_from)
        ]
        return data, splits

    readout_choice = None
    if recipe.objective.trains_network:
        # one fitter for all: the null models of a batchable objective train as one ensemble (on a GPU)
        fitter = NetworkFitter(method, settings, model, text_encoder, inputs)
        # the null models read what the observed model of this fold chose, not their own best read-out
        readout_choice = _observed_readout(observed_selection) if observed_selection is not None else None
    else:
        chosen = _observed_c(observed_selection) if observed_selection is not None else None
        # C of each model: chosen on the unpermuted split of the same model (seed), once per fold
        fitter = LinearNullFitter(chosen).for_observed(
            recipe.splits(observed, settings.seed, Path("."), None)
        )
    # models that train as one ensemble need all their permuted copies at once; otherwise each permutation
    # is permuted, fitted, read out and written before the next, so memory holds one permuted copy of the
    # fold (40 copies of ABIDE's training connectomes held 7.4 GB)
    together = getattr(fitter, "trains_together", lambda: False)()
    chunks = [list(outputs)] if together else [[p] for p in outputs]
    results = {}
    for chunk in chunks:
        permuted = {p: permuted_fold(p) for p in chunk}
        models = fit_fold(fitter, [split for _, splits in permuted.values() for split in splits])
        for permutation, (data, splits) in permuted.items():
            own, models = models[: len(splits)], models[len(splits) :]
            results[permutation] = _read_out_and_write(
                method,
                settings,
                recipe,
                own,
                data,
                splits,
                outputs[permutation],
                sensitive_attributes,
                readout_choice,
            )
    return results


def _settings(training: dict) -> TrainingConfig:
    settings = TrainingConfig.from_dict(training)
    torch.set_num_threads(max(1, int(settings.threads)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    return settings


def _observed_c(selection: Path) -> dict[int, float]:
    """{seed: C} of the observed linear models, from their selection.json."""
    info = json.loads(Path(selection).read_text())
    return {int(entry["seed"]): float(entry["C"]) for entry in info["seeds"]}


def _train_and_write(method, settings, recipe, fitter, data, inputs, outputs, sensitive_attributes):
    work_dir = Path(outputs.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    splits = recipe.splits(data, settings.seed, work_dir, inputs.models_from)
    models = fit_fold(fitter, splits)
    return _read_out_and_write(
        method, settings, recipe, models, data, splits, outputs, sensitive_attributes, keep_state=True
    )


def _observed_readout(selection: Path) -> str | None:
    """The read-out the observed model of this fold chose (its selection.json): null models read the same."""
    return json.loads(Path(selection).read_text()).get("readout")


def _read_out_and_write(
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
):
    # a group-threshold method decides with the attribute itself: it has no representation probe of its own
    # (its decision-level leakage is measured by the evaluation)
    thresholded = any(stage.kind == "group_thresholds" for stage in method.stages)
    probed = list(sensitive_attributes) if outputs.leakage is not None and not thresholded else []
    result = read_out(
        models,
        Stages.of(method, settings),
        recipe,
        data,
        splits,
        sensitive_attributes,
        probed,
        readout_choice,
    )
    (Path(outputs.work_dir) / "selection.json").write_text(json.dumps(result.info, indent=2))
    if keep_state and not thresholded:
        # what a group-threshold variant of this method needs, so that it does not read the models again
        write_state(
            outputs.work_dir,
            method=method,
            settings=settings,
            frames=result.predictions,
            members=result.members,
            info=result.info,
        )
    write_csv(result.predictions["test"], outputs.predictions)
    if outputs.validation is not None:
        write_csv(result.predictions["val"], outputs.validation)
    if outputs.seed_scores is not None:
        write_csv(seed_score_frame(data.fold, result.seed_scores), outputs.seed_scores)
    if outputs.leakage is not None:
        write_csv(pd.DataFrame(result.leakage, columns=LEAKAGE_COLUMNS), outputs.leakage)
    if outputs.attention is not None:
        if result.attention is None:
            raise ValueError(f"method {method.name} computes no TTCA attention; it has no attention output")
        write_attention(result.attention, outputs.attention)
    return result.predictions["test"]


def fit_fold(fitter, splits: list[ModelSplit]) -> list:
    """One fitted model per split, through ``fitter`` (a NetworkFitter or a linear recipe's fitter; None:
    the linear recipe)."""
    fitter = LinearFitter() if fitter is None else fitter
    fit_all = getattr(fitter, "fit_all", None)
    return fit_all(splits) if fit_all is not None else [fitter.fit(split) for split in splits]


def read_out(
    models, stages: Stages, recipe: Recipe, data: FoldData, splits, sensitive, probed=(), readout_choice=None
):
    """The fold's predictions from its fitted ``models``: each model's read-out candidates (on erased
    representations when the method erases), combined by the recipe's splitter, one read-out chosen and
    calibrated on the validation scores, then group thresholds. ``probed``: attributes of the leakage probe.
    ``readout_choice``: a read-out fixed beforehand (a null model reads what its observed model chose)."""
    erasers = [stages.eraser_for(m) for m in models]
    read = [m.candidates(erase) for m, erase in zip(models, erasers, strict=True)]
    per_model = [scores for scores, _ in read]
    validation, test, covered = recipe.combine(data, splits, per_model)
    choice = stages.choose.fit(validation, covered.y["val"]).choice_
    if readout_choice is not None:
        if readout_choice not in validation:
            raise ValueError(f"read-out {readout_choice!r} is not among the candidates {sorted(validation)}")
        choice = stages.choose.choice_ = readout_choice
    infos = [{**m.info, **details} for m, (_, details) in zip(models, read, strict=True)]
    info = {
        **({"cross_fit": recipe.cross_fit} if recipe.cross_fit else {}),
        "readout": choice,
        **{f"val_auc_{k}": v for k, v in stages.choose.val_auc_.items()},
        "seeds": infos,
        **({k: v for k, v in infos[0].items() if k != "seed"} if len(infos) == 1 else {}),
    }
    chosen = readout.per_seed_choice(per_model, choice)
    seed_scores = [(m.seed, m.data, scores) for m, scores in zip(models, chosen, strict=True)]
    leakage = []
    if probed:
        for m, erase in zip(models, erasers, strict=True):
            # the held-out probe reads the validation (out-of-fold) and test subjects only
            name, features = m.leakage_features(choice, erase, splits=("val", "test"))
            leakage += held_out_leakage_rows(m.data, features, probed, name, m.seed, m.data.fold)
    scores = {"val": stages.choose.transform(validation), "test": stages.choose.transform(test)}
    calibration = stages.calibrate.fit(scores["val"], covered.y["val"])
    info["calibration"] = calibration.describe()
    probabilities = {split: calibration.transform(scores[split]) for split in ("val", "test")}
    members = None
    if recipe.cross_fit:
        # same scale: the calibration (and thresholds) fitted on out-of-fold scores act on each inner
        # model's own test scores, and the K calibrated probabilities are averaged (docs/method.md)
        own = readout.cross_fitted_member_scores(per_model, validation, choice)
        members = np.array([calibration.transform(s) for s in own])
        probabilities["test"] = members.mean(axis=0)
    frames = {
        split: predictions_frame(covered, data.fold, split, probabilities[split], scores[split], sensitive)
        for split in ("val", "test")
    }
    if stages.thresholds is not None:
        frames["test"] = stages.thresholds.fit(frames["val"]).transform(frames["test"], members=members)
        info["group_thresholds"] = stages.thresholds.describe()
    attention = stack_seeds([a for a in (m.attention() for m in models) if a is not None])
    return FoldResult(frames, info, seed_scores, leakage, attention, members)


def _thresholds_on_kept_readout(method, settings, state, base_files: dict, outputs: FoldOutputs):
    """A group-threshold variant from its base's kept read-out (:mod:`.readout_state`): the thresholds fitted
    on the base's validation predictions and applied to its test predictions (each cross-fitted member's,
    as :func:`read_out` does); the rest of the outputs are the base's, as reading the models would give."""
    thresholds = Stages.of(method, settings).thresholds
    frames = state["frames"]
    test = thresholds.fit(frames["val"]).transform(frames["test"], members=state["members"])
    info = {**state["info"], "group_thresholds": thresholds.describe()}
    work_dir = Path(outputs.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "selection.json").write_text(json.dumps(info, indent=2))
    write_csv(test, outputs.predictions)
    if outputs.validation is not None:
        write_csv(frames["val"], outputs.validation)
    if outputs.seed_scores is not None:
        shutil.copyfile(base_files["seed_scores"], outputs.seed_scores)
    if outputs.leakage is not None:
        write_csv(pd.DataFrame([], columns=LEAKAGE_COLUMNS), outputs.leakage)
    if outputs.attention is not None:
        if not base_files.get("attention"):
            raise ValueError(f"method {method.name}: its base wrote no attention maps to copy")
        Path(outputs.attention).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base_files["attention"], outputs.attention)
    return test


def seed_score_frame(fold: int, seed_scores) -> pd.DataFrame:
    """Long table of each model's read-out probability for its validation and the test subjects;
    ``seed_scores``: [(seed, FoldData the model was trained on, {split: p})]."""
    frames = [
        pd.DataFrame(
            {
                "subject_id": data.subject_ids[split],
                "fold": fold,
                "split": split,
                "seed": seed,
                "p_disease": np.asarray(scores[split], dtype=float),
            }
        )
        for seed, data, scores in seed_scores
        for split in ("val", "test")
    ]
    return pd.concat(frames, ignore_index=True)
