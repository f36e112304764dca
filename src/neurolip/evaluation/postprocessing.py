"""Group-aware decision thresholds (Hardt et al., 2016) with fairlearn's ``ThresholdOptimizer``.

The thresholds are fitted on a method's *validation* predictions and applied to its test predictions, so the
test fold chooses nothing. The score (``p_disease``) is left as it is: AUC does not change, only the
decisions ``y_pred`` and therefore accuracy, sensitivity, specificity and the fairness metrics. The subject's
attribute (e.g. sex) is an input at prediction time; the diagnosis never is.
"""

import logging

import numpy as np
import pandas as pd
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin

from ..methods import CONSTRAINT_SHORT

log = logging.getLogger(__name__)

# fairlearn's constraint names, one list for the registry (their short names) and the fit
CONSTRAINTS = tuple(CONSTRAINT_SHORT)


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
    values = out[attribute]
    known = values.notna() & values.astype(str).isin(_fitted_groups(optimizer))
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
    if known.any():
        rows = out[known]
        out.loc[known, "y_pred"] = optimizer.predict(
            rows[["p_disease"]].to_numpy(dtype=float),
            sensitive_features=rows[attribute].astype(str).to_numpy(),
            random_state=seed,
        ).astype(int)
    out["y_pred"] = out["y_pred"].astype(int)
    return out


def _fitted_groups(optimizer):
    return {str(g) for g in optimizer.interpolated_thresholder_.interpolation_dict}


class GroupThresholds:
    """The group-thresholds read-out stage: fitted on validation (or out-of-fold) predictions, applied to
    test predictions. A validation split that cannot fit them (a group holding one class, e.g. a handful
    of females all controls) leaves the calibrated decisions in place: logged, and said in the
    ``decision`` column of every row. Fitted: ``optimizer_`` (None when not fitted) and ``reason_``."""

    def __init__(
        self,
        attribute="sex",
        constraint="demographic_parity",
        objective="balanced_accuracy_score",
        seed=0,
    ):
        self.attribute = attribute
        self.constraint = constraint
        self.objective = objective
        self.seed = seed

    def fit(self, validation: pd.DataFrame, source="validation predictions") -> "GroupThresholds":
        self.optimizer_, self.reason_ = None, None
        try:
            self.optimizer_ = fit_group_thresholds(
                validation, self.attribute, self.constraint, self.objective, source=source
            )
        except DegenerateGroupError as error:
            log.warning("%s; the calibrated decisions are kept", error)
            self.reason_ = error.reason
        return self

    def transform(self, predictions: pd.DataFrame, source="test predictions") -> pd.DataFrame:
        if self.optimizer_ is None:
            return predictions.assign(decision=f"calibrated 0.5 (not fitted: {self.reason_})")
        return apply_group_thresholds(self.optimizer_, predictions, self.attribute, self.seed, source=source)

    def describe(self) -> dict:
        return {
            "attribute": self.attribute,
            "constraint": self.constraint,
            "fitted": self.optimizer_ is not None,
        }
