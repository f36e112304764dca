"""A method's read-out stages run as one pipeline on a fold's fitted models: erase (per model, fitted on
its training subjects), choose the read-out and calibrate it (on validation or out-of-fold scores), group
thresholds (on the validation predictions, applied to the test ones), and the held-out probe of what the
prediction's representation says about each sensitive attribute. The stages are the registry's
(:attr:`neurolip.methods.Method.stages`, built here from their ``estimator`` names); the trainer calls
:meth:`Pipeline.run` for trained models, null models alike, and :meth:`Pipeline.run_on_kept` for a
group-threshold variant that reads its base's kept read-out."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .. import readout
from ..attention_export import stack_seeds
from ..fold_io import FoldData, predictions_frame
from ..leakage import attribute_codes
from .erase import RepresentationEraser
from .probe import held_out_leakage_rows


@dataclass
class FoldResult:
    """What a method makes of one fold: validation and test predictions (``val`` covers the out-of-fold
    subjects of a cross-fitted recipe), the selection info, each model's own chosen read-out
    ([(seed, FoldData, {split: p})]; None: the base's, for a variant on a kept read-out), the probe's rows
    and the test subjects' attention."""

    predictions: dict[str, pd.DataFrame]
    info: dict
    seed_scores: list | None
    leakage: list[dict]
    attention: dict | None = None
    members: np.ndarray | None = None  # cross-fitted models' calibrated test probabilities (K, n_test)


class Pipeline:
    """A method's stage estimators in the order they act (``estimators``: {kind: estimator}) and the
    attributes its held-out probe reads (``probed``; none for a method that decides with the attribute)."""

    def __init__(self, estimators: dict, probed=()):
        self.estimators = dict(estimators)
        self.probed = tuple(probed)

    @classmethod
    def of(cls, method, settings, probed=()) -> Pipeline:
        """``method``: the registry's Method; ``settings``: the trainer's TrainingConfig (``readout``,
        ``seed``). A method with group thresholds has no representation probe of its own (its decision-level
        leakage is the evaluation's)."""
        estimators = {}
        for stage in method.stages:
            module, name = stage.estimator.split(":")
            estimator = getattr(importlib.import_module(f"{__package__}.{module}"), name)
            estimators[stage.kind] = estimator.from_stage(stage.params, method, settings)
        thresholded = "group_thresholds" in estimators
        return cls(estimators, () if thresholded else probed)

    @property
    def erase(self) -> RepresentationEraser | None:
        return self.estimators.get("erase")

    @property
    def thresholds(self):
        return self.estimators.get("group_thresholds")

    def eraser_for(self, model) -> RepresentationEraser | None:
        """A fresh erase stage fitted, for one model, on its training subjects' representations and their
        attribute (never their diagnosis, never a test subject); None when the method erases nothing."""
        eraser = self.erase
        if eraser is None:
            return None
        if not model.erasable:
            raise ValueError(
                f"erase_attribute {eraser.attribute!r}: this recipe has no representation to erase"
            )
        codes = attribute_codes(model.data.cohort, model.data.subject_ids["train"], eraser.attribute)
        raw = model.representations("train")
        # the linear recipe's connectome has more edges than subjects: LEACE in the training span
        row_space = getattr(model, "erase_in_row_space", False)
        return RepresentationEraser(eraser.attribute, row_space=row_space).fit(
            {n: torch.from_numpy(v) for n, v in raw.items()}, codes
        )

    def run(self, models, recipe, data: FoldData, splits, sensitive, readout_choice=None) -> FoldResult:
        """The fold's predictions from its fitted ``models``: each model's read-out candidates (on erased
        representations when the method erases), combined by the recipe's splitter, one read-out chosen and
        calibrated on the validation scores, then group thresholds. ``readout_choice``: a read-out fixed
        beforehand (a null model reads what its observed model chose)."""
        choose, calibrate = self.estimators["choose_readout"], self.estimators["calibrate"]
        erasers = [self.eraser_for(m) for m in models]
        read = [m.candidates(erase) for m, erase in zip(models, erasers, strict=True)]
        per_model = [scores for scores, _ in read]
        validation, test, covered = recipe.combine(data, splits, per_model)
        choice = choose.fit(validation, covered.y["val"]).choice_
        if readout_choice is not None:
            if readout_choice not in validation:
                raise ValueError(
                    f"read-out {readout_choice!r} is not among the candidates {sorted(validation)}"
                )
            choice = choose.choice_ = readout_choice
        infos = [{**m.info, **details} for m, (_, details) in zip(models, read, strict=True)]
        info = {
            **({"cross_fit": recipe.cross_fit} if recipe.cross_fit else {}),
            "readout": choice,
            **{f"val_auc_{k}": v for k, v in choose.val_auc_.items()},
            "seeds": infos,
            **({k: v for k, v in infos[0].items() if k != "seed"} if len(infos) == 1 else {}),
        }
        chosen = readout.per_seed_choice(per_model, choice)
        seed_scores = [(m.seed, m.data, scores) for m, scores in zip(models, chosen, strict=True)]
        leakage = []
        if self.probed:
            for index, (m, erase) in enumerate(zip(models, erasers, strict=True)):
                # the held-out probe reads the validation (out-of-fold) and test subjects only
                name, features = m.leakage_features(choice, erase, splits=("val", "test"))
                leakage += held_out_leakage_rows(
                    m.data, features, self.probed, name, m.seed, m.data.fold, model=index
                )
        scores = {"val": choose.transform(validation), "test": choose.transform(test)}
        calibration = calibrate.fit(scores["val"], covered.y["val"])
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
            split: predictions_frame(
                covered, data.fold, split, probabilities[split], scores[split], sensitive
            )
            for split in ("val", "test")
        }
        result = FoldResult(frames, info, seed_scores, leakage, None, members)
        result = self._decide(result)
        result.attention = stack_seeds([a for a in (m.attention() for m in models) if a is not None])
        return result

    def run_on_kept(self, state: dict) -> FoldResult:
        """A group-threshold variant from its base's kept read-out (:mod:`..readout_state`): the same last
        stage on the frames, members and info the base's pipeline made; seed scores, attention and the
        base's other files are the base's."""
        return self._decide(
            FoldResult(dict(state["frames"]), dict(state["info"]), None, [], None, state["members"])
        )

    def _decide(self, result: FoldResult) -> FoldResult:
        """The group-thresholds stage, where the method has one: fitted on the validation predictions,
        applied to the test predictions (each cross-fitted member's)."""
        thresholds = self.thresholds
        if thresholds is not None:
            frames = result.predictions
            frames["test"] = thresholds.fit(frames["val"]).transform(frames["test"], members=result.members)
            result.info["group_thresholds"] = thresholds.describe()
        return result
