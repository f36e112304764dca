"""Group-aware decision thresholds (Hardt et al., 2016) with fairlearn's ``ThresholdOptimizer``.

The thresholds are fitted on a method's *validation* predictions and applied to its test predictions, so the
test fold chooses nothing. Two modes (``mode``): ``deterministic`` (the default: one threshold per group, no
coin flips; :class:`DeterministicGroupThresholds`) and ``randomised``
(fairlearn's, which gives part of a group a coin flip). Either way each test subject's decision probability
is kept (``p_decision``: 0 or 1, or in between for a coin flip), so the evaluation reports a randomised rule
by its expected gaps and their spread over draws, not by one draw. The score (``p_disease``) is left as it is: AUC does not change, only the
decisions ``y_pred`` and therefore accuracy, sensitivity, specificity and the fairness metrics. The subject's
attribute (e.g. sex) is an input at prediction time; the diagnosis never is.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin

from .deterministic_thresholds import CONSTRAINTS, DeterministicGroupThresholds

log = logging.getLogger(__name__)


def decision_probabilities(optimizer, scores, groups) -> np.ndarray:
    """P(decision = 1) of each subject under a fitted fairlearn ``ThresholdOptimizer`` (its ``_pmf_predict``;
    1 or 0 for a subject on one side of a single threshold, in between for a randomised one). ``scores`` is
    what the optimiser was fitted on (one column, e.g. P(disease))."""
    x = np.asarray(scores, dtype=float).reshape(-1, 1)
    return optimizer._pmf_predict(x, sensitive_features=np.asarray(groups).astype(str))[:, 1]


class _FixedProbabilities(ClassifierMixin, BaseEstimator):
    """A 'prefit' classifier whose single input column is already P(disease)."""

    classes_ = np.array([0, 1])

    def __sklearn_is_fitted__(self):
        return True  # nothing to learn

    def fit(self, X, y=None):
        return self

    def predict_proba(self, X):
        p = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


class DegenerateGroupError(ValueError):
    """A group of the validation split holds a single class: fairlearn cannot fit its threshold."""


def fit_group_thresholds(
    validation,
    attribute,
    constraint="demographic_parity",
    objective="balanced_accuracy_score",
    source="validation predictions",
):
    """Fit a ``ThresholdOptimizer`` on ``validation`` (columns y_true, p_disease, <attribute>).

    Subjects whose attribute is unknown are left out of the fit (and counted in the log)."""
    if constraint not in CONSTRAINTS:
        raise ValueError(
            f"fairness post-processing constraint must be one of {CONSTRAINTS}, not {constraint!r}"
        )
    if attribute not in validation.columns:
        raise ValueError(f"{source} have no column {attribute!r}: add it to dataset.sensitive_attributes")
    known = validation[attribute].notna()
    if (~known).any():
        log.warning(
            "%s: %d subjects with unknown %s left out of the threshold fit",
            source,
            int((~known).sum()),
            attribute,
        )
    fit_rows = validation[known]
    groups = fit_rows[attribute].astype(str)
    for group, rows in fit_rows.groupby(groups):
        if rows["y_true"].nunique() < 2:
            reason = f"group {attribute}={group} holds a single class ({len(rows)} subjects)"
            error = DegenerateGroupError(f"{source}: {reason}; group thresholds cannot be fitted")
            error.reason = reason
            raise error
    optimizer = ThresholdOptimizer(
        estimator=_FixedProbabilities(),
        constraints=constraint,
        objective=objective,
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(
        fit_rows[["p_disease"]].to_numpy(dtype=float),
        fit_rows["y_true"].to_numpy(),
        sensitive_features=groups.to_numpy(),
    )
    return optimizer


def apply_group_thresholds(optimizer, predictions, attribute, seed=0, source="test predictions"):
    """New ``y_pred`` for ``predictions``, and a ``decision`` column saying how each was made. Subjects whose
    attribute is unknown (or a group the validation split did not hold) keep their calibrated decision.
    ThresholdOptimizer randomises between two thresholds for some subjects: ``seed`` fixes that draw."""
    out = predictions.copy()
    known = _mark_known(out, attribute, _fitted_groups(optimizer), source)
    if known.any():
        rows = out[known]
        out.loc[known, "y_pred"] = optimizer.predict(
            rows[["p_disease"]].to_numpy(dtype=float),
            sensitive_features=rows[attribute].astype(str).to_numpy(),
            random_state=seed,
        ).astype(int)
    out["y_pred"] = out["y_pred"].astype(int)
    return out


def _mark_known(out, attribute, fitted_groups, source) -> np.ndarray:
    """Which subjects of ``out`` the thresholds decide (attribute known and a fitted group); writes the
    ``decision`` column saying how each decision is made and logs the subjects that keep the calibrated one."""
    values = out[attribute]
    known = (values.notna() & values.astype(str).isin(fitted_groups)).to_numpy()
    out["decision"] = np.where(
        known, "group thresholds", f"calibrated 0.5 ({attribute} unknown or not in validation)"
    )
    if (~known).any():
        log.warning(
            "%s: %d subjects keep the calibrated decision (%s unknown or not in the validation split)",
            source,
            int((~known).sum()),
            attribute,
        )
    return known


def _fitted_groups(optimizer):
    return {str(g) for g in optimizer.interpolated_thresholder_.interpolation_dict}


class GroupThresholds:
    """The group-thresholds read-out stage: fitted on validation (or out-of-fold) predictions, applied to
    test predictions. ``mode``: ``deterministic`` (one threshold per group, the pair with the highest
    balanced accuracy whose violation of ``constraint`` on the fit set is at most ``tolerance``) or
    ``randomised`` (fairlearn's ``ThresholdOptimizer``; ``seed`` fixes its one draw of ``y_pred``). A
    validation split that cannot fit them (a group holding one class, e.g. a handful of females all
    controls) leaves the calibrated decisions in place: logged, and said in the ``decision`` column of every
    row. Fitted: ``optimizer_`` (the fitted thresholds, None when not fitted) and ``reason_``."""

    def __init__(
        self,
        attribute="sex",
        constraint="demographic_parity",
        objective="balanced_accuracy_score",
        mode="deterministic",
        tolerance=0.05,
        seed=0,
    ):
        self.attribute = attribute
        self.constraint = constraint
        self.objective = objective
        self.mode = mode
        self.tolerance = tolerance
        self.seed = seed

    @classmethod
    def from_stage(cls, params, method, settings) -> GroupThresholds:
        """The stage's entry (attribute, constraint, objective, mode, tolerance); ``training.seed`` fixes a
        randomised rule's draw."""
        return cls(**params, seed=settings.seed)

    def fit(self, validation: pd.DataFrame, source="validation predictions") -> GroupThresholds:
        if self.mode not in ("deterministic", "randomised"):
            raise ValueError(f"group thresholds mode must be deterministic or randomised, not {self.mode!r}")
        self.optimizer_, self.reason_ = None, None
        try:
            if self.mode == "randomised":
                self.optimizer_ = fit_group_thresholds(
                    validation, self.attribute, self.constraint, self.objective, source=source
                )
            else:
                self.optimizer_ = fit_deterministic_thresholds(
                    validation, self.attribute, self.constraint, self.tolerance, source=source
                )
        except DegenerateGroupError as error:
            log.warning("%s; the calibrated decisions are kept", error)
            self.reason_ = error.reason
        return self

    def _groups(self):
        if self.mode == "randomised":
            return _fitted_groups(self.optimizer_)
        return set(self.optimizer_.thresholds_)

    def decision_probabilities(self, p_disease, groups) -> np.ndarray:
        """P(decision = 1) of subjects with calibrated ``p_disease`` in ``groups`` (fitted groups only)."""
        if self.mode == "randomised":
            return decision_probabilities(self.optimizer_, p_disease, groups)
        return self.optimizer_.predict_proba_decision(p_disease, np.asarray(groups).astype(str))

    def transform(self, predictions: pd.DataFrame, source="test predictions", members=None) -> pd.DataFrame:
        """New ``y_pred``, ``p_decision`` (each subject's decision probability) and ``decision`` (how it was
        made). ``members``: for a cross-fitted method, each inner model's calibrated test probabilities
        ((K, n), on the scale the thresholds were fitted on): the thresholds are applied to each model's own
        probabilities and the K decision probabilities averaged (deterministic mode: the majority of the K
        decisions, ties positive; randomised: one draw from the mean probability)."""
        if self.optimizer_ is None:
            return predictions.assign(
                decision=f"calibrated 0.5 (not fitted: {self.reason_})",
                p_decision=predictions["y_pred"].astype(float),
            )
        out = predictions.copy()
        known = _mark_known(out, self.attribute, self._groups(), source)
        values = out[self.attribute]
        p_decision = out["y_pred"].to_numpy(dtype=float)
        if known.any():
            groups = values[known].astype(str).to_numpy()
            if members is None:
                probabilities = self.decision_probabilities(
                    out.loc[known, "p_disease"].to_numpy(float), groups
                )
            else:
                members = np.asarray(members, dtype=float)
                probabilities = np.mean(
                    [self.decision_probabilities(member[known], groups) for member in members], axis=0
                )
            if self.mode == "deterministic":
                decided = (probabilities >= 0.5).astype(int)
                probabilities = decided.astype(float)
            elif members is None:
                # fairlearn's own draw, seeded: the same y_pred as before decision probabilities were kept
                decided = self.optimizer_.predict(
                    out.loc[known, ["p_disease"]].to_numpy(dtype=float),
                    sensitive_features=groups,
                    random_state=self.seed,
                ).astype(int)
            else:
                rng = np.random.default_rng(self.seed)
                decided = (rng.random(len(probabilities)) < probabilities).astype(int)
            out.loc[known, "y_pred"] = decided
            p_decision[known] = probabilities
        out["y_pred"] = out["y_pred"].astype(int)
        out["p_decision"] = p_decision
        return out

    def describe(self) -> dict:
        described = {
            "attribute": self.attribute,
            "constraint": self.constraint,
            "mode": self.mode,
            "fitted": self.optimizer_ is not None,
        }
        if self.mode == "deterministic" and self.optimizer_ is not None:
            described.update(
                thresholds=self.optimizer_.thresholds_,
                violation=self.optimizer_.violation_,
                constraint_met=self.optimizer_.constraint_met_,
            )
        return described


def fit_deterministic_thresholds(
    validation, attribute, constraint, tolerance, source="validation predictions"
):
    """A :class:`DeterministicGroupThresholds` fitted on ``validation`` (columns y_true, p_disease,
    <attribute>), subjects of unknown attribute left out; a group holding a single class, or not exactly
    two groups, raises :class:`DegenerateGroupError`."""
    if attribute not in validation.columns:
        raise ValueError(f"{source} have no column {attribute!r}: add it to dataset.sensitive_attributes")
    rows = validation[validation[attribute].notna()]
    groups = rows[attribute].astype(str)
    reason = None
    if groups.nunique() != 2:
        reason = f"{attribute} has {groups.nunique()} groups (deterministic thresholds need two)"
    for group, part in rows.groupby(groups):
        if part["y_true"].nunique() < 2:
            reason = f"group {attribute}={group} holds a single class ({len(part)} subjects)"
    if reason is not None:
        error = DegenerateGroupError(f"{source}: {reason}; group thresholds cannot be fitted")
        error.reason = reason
        raise error
    return DeterministicGroupThresholds(constraint, tolerance).fit(
        rows["p_disease"].to_numpy(dtype=float), rows["y_true"].to_numpy(), groups.to_numpy()
    )
