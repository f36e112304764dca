"""A method's training recipe: its objective and the splitter that makes its validation scores.

The splitter is the only difference between one validation split and cross-fitting: it yields the models
to fit (:class:`ModelSplit`: seed, the split it trains and validates on, where its checkpoint lives) and
says how their scores combine into fold-level validation and test scores. Everything else, from fitting to
the read-out stages, is one path (:mod:`neurolip.training.trainer`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

from ..folds import strata_labels
from . import readout
from .fold_io import FoldData

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSplit:
    """One model to fit: its seed, the subjects it trains and validates on, its work folder and, for a
    read-out-only method, the folder of the source's checkpoint of the same model."""

    seed: int
    data: FoldData
    work_dir: Path
    source_dir: Path | None = None
    permutation: int | None = None  # a permutation-null model's permutation (its data are permuted)


@dataclass(frozen=True)
class Recipe:
    """``objective``: a :class:`~neurolip.losses.objectives.Objective`; ``cross_fit``: K inner folds, or
    None for the fold's validation split (then ``n_seeds`` models, seeds ``seed`` ... ``seed + n - 1``)."""

    objective: object
    cross_fit: int | None
    n_seeds: int

    @classmethod
    def of(cls, method, n_seeds: int) -> Recipe:
        objective = method.objective
        cross_fit = method.spec.get("cross_fit")
        if cross_fit and n_seeds > 1:
            log.info(
                "%s: cross_fit %d trains %d models (seeds seed ... seed + %d), not training.n_seeds %d",
                method.name,
                cross_fit,
                cross_fit,
                cross_fit - 1,
                n_seeds,
            )
        # the logistic regression is deterministic: more seeds would fit the same model again
        return cls(
            objective, int(cross_fit) if cross_fit else None, n_seeds if objective.trains_network else 1
        )

    def splits(self, data: FoldData, seed: int, work_dir: Path, models_from: Path | None) -> list[ModelSplit]:
        """The models of the fold: K cross-fitted ones (model k: seed + k, validated on inner fold k), or
        ``n_seeds`` on the fold's own validation split."""
        if self.cross_fit:
            return [
                ModelSplit(
                    seed + k,
                    part,
                    Path(work_dir) / f"inner{k}" / f"seed{seed + k}",
                    Path(models_from) / f"inner{k}" / f"seed{seed + k}" if models_from else None,
                )
                for k, part in enumerate(inner_folds(data, self.cross_fit, seed))
            ]
        return [
            ModelSplit(
                seed + i,
                data,
                Path(work_dir) / f"seed{seed + i}",
                Path(models_from) / f"seed{seed + i}" if models_from else None,
            )
            for i in range(self.n_seeds)
        ]

    def combine(self, data: FoldData, splits: list[ModelSplit], per_model: list[dict]):
        """Fold-level candidate scores from each model's ({kind: {split: p}}): seeds averaged, or
        cross-fitted models' out-of-fold scores joined. Returns (validation, test, the FoldData whose
        ``val`` the validation scores cover)."""
        if self.cross_fit:
            validation, test = readout.combine_cross_fitted(per_model)
            return validation, test, out_of_fold_data(data, [s.data for s in splits])
        validation, test = readout.average_seeds(per_model)
        return validation, test, data


def inner_folds(data: FoldData, n_inner: int, seed: int) -> list[FoldData]:
    """The fold's training portion (train and val) cut into ``n_inner`` folds stratified on diagnosis x
    site; part k trains on the others and validates (early stopping, C, read-out) on fold k. The test
    subjects are the fold's own in every part."""
    ids = data.subject_ids["train"] + data.subject_ids["val"]
    x = torch.cat([data.x["train"], data.x["val"]])
    y = np.concatenate([data.y["train"], data.y["val"]])
    if n_inner < 2 or n_inner > int(np.bincount(y, minlength=2).min()):
        raise ValueError(
            f"cross_fit {n_inner}: fold {data.fold}'s training portion ({len(ids)} subjects, "
            f"{int(np.bincount(y, minlength=2).min())} in its smaller class) cannot be cut into that many "
            "inner folds holding both diagnoses"
        )
    site = (
        data.cohort.loc[ids, "site"].astype(str).to_numpy() if "site" in data.cohort else np.zeros(len(ids))
    )
    splitter = StratifiedKFold(n_splits=n_inner, shuffle=True, random_state=seed)
    parts = []
    strata = strata_labels(y, site, n_inner)
    # a diagnosis's pooled rare sites can still be fewer than the inner folds: stratify those on diagnosis
    labels, counts = np.unique(strata, return_counts=True)
    too_small = np.isin(strata, labels[counts < n_inner])
    strata[too_small] = y[too_small].astype(str)
    for fit_idx, val_idx in splitter.split(ids, strata):
        parts.append(
            FoldData(
                subject_ids={
                    "train": [ids[i] for i in fit_idx],
                    "val": [ids[i] for i in val_idx],
                    "test": list(data.subject_ids["test"]),
                },
                x={"train": x[fit_idx], "val": x[val_idx], "test": data.x["test"]},
                y={"train": y[fit_idx], "val": y[val_idx], "test": data.y["test"]},
                cohort=data.cohort,
                fold=data.fold,
            )
        )
    return parts


def out_of_fold_data(data: FoldData, parts: list[FoldData]) -> FoldData:
    """The fold with ``val`` = every training-portion subject, in the parts' order (their out-of-fold
    scores), for calibration, group thresholds and the validation predictions file."""
    return FoldData(
        subject_ids={
            "train": [],
            "val": [s for part in parts for s in part.subject_ids["val"]],
            "test": data.subject_ids["test"],
        },
        x={"val": torch.cat([part.x["val"] for part in parts]), "test": data.x["test"]},
        y={"val": np.concatenate([part.y["val"] for part in parts]), "test": data.y["test"]},
        cohort=data.cohort,
        fold=data.fold,
    )
