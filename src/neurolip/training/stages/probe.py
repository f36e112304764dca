"""The held-out probe: how well a logistic probe reads a sensitive attribute from the representation a
method's prediction reads, fitted *out of sample* (docs/method.md).

:class:`HeldOutProbe` is fitted on subjects that neither the model nor the eraser was fitted on (each model's
validation subjects; for a cross-fitted recipe, model k's inner fold k), passed through the training-fitted
eraser, its C chosen by inner cross-validation on that same fit set, and scored on the test fold
(:func:`held_out_leakage_rows`, one row per model and attribute). Its floor and the decision-level leakage
are the evaluation's (``neurolip.evaluation.probes``).
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ...stats import safe_auc
from ..leakage import attribute_codes

log = logging.getLogger(__name__)
# the columns of a fold's leakage file (one row per model and attribute)
LEAKAGE_COLUMNS = [
    "fold",
    "seed",
    "attribute",
    "representation",
    "probe_auc",
    "probe_cv_auc",
    "probe_C",
    "n_fit",
]


C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)


class HeldOutProbe:
    """A logistic probe of a two-valued attribute, fitted on held-out subjects' representations.

    ``c_grid``: inverse regularisation strengths; C is chosen by ``cv``-fold stratified cross-validation (ROC
    AUC) on the probe's own fit set, so the test fold chooses nothing. ``seed`` fixes the inner folds.
    Fitted: ``model_`` (scaler + logistic regression), ``C_``, ``cv_auc_`` (inner-CV AUC at ``C_``),
    ``n_fit_``.
    """

    def __init__(self, c_grid=C_GRID, cv: int = 5, seed: int = 0):
        self.c_grid = c_grid
        self.cv = cv
        self.seed = seed

    def fit(self, representations, codes) -> HeldOutProbe:
        """``representations`` (n, d) of subjects the model and eraser were not fitted on; ``codes`` their
        0/1 attribute codes (-1 unknown: left out)."""
        x, z = _known(representations, codes)
        if len(np.unique(z)) != 2:
            raise ValueError("the held-out probe needs subjects of both groups in its fit set")
        folds = min(self.cv, int(np.bincount(z).min()))
        if folds < 2:
            raise ValueError("the held-out probe needs at least two subjects of each group")
        cv = StratifiedKFold(folds, shuffle=True, random_state=self.seed)
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        search = GridSearchCV(
            pipeline, {"logisticregression__C": list(self.c_grid)}, scoring="roc_auc", cv=cv
        )
        search.fit(x, z)
        self.model_ = search.best_estimator_
        self.C_ = float(search.best_params_["logisticregression__C"])
        self.cv_auc_ = float(search.best_score_)
        self.n_fit_ = len(z)
        return self

    def decision_function(self, representations) -> np.ndarray:
        return self.model_.decision_function(np.asarray(representations, dtype=float))

    def score(self, representations, codes) -> float:
        """Test AUC of the probe (unknown codes left out)."""
        x, z = _known(representations, codes)
        return safe_auc(z, self.decision_function(x))


def _known(representations, codes):
    x = np.asarray(representations, dtype=float).reshape(len(codes), -1)
    z = np.asarray(codes).astype(int)
    return x[z >= 0], z[z >= 0]


def held_out_probe(fit_representations, fit_codes, test_representations, test_codes, seed: int = 0) -> dict:
    """One leakage figure: a :class:`HeldOutProbe` fitted on ``fit_*`` (held-out subjects), scored on
    ``test_*``. Returns probe_auc (test), probe_C, probe_cv_auc, n_fit, n_test."""
    probe = HeldOutProbe(seed=seed).fit(fit_representations, fit_codes)
    return {
        "probe_auc": probe.score(test_representations, test_codes),
        "probe_C": probe.C_,
        "probe_cv_auc": probe.cv_auc_,
        "n_fit": probe.n_fit_,
        "n_test": int((np.asarray(test_codes) >= 0).sum()),
    }


def held_out_leakage_rows(
    data, features, attributes, representation: str, seed: int, fold: int
) -> list[dict]:
    """One row per two-valued attribute: a :class:`HeldOutProbe` fitted on ``features["val"]`` (subjects the
    model and its eraser were not fitted on), scored on ``features["test"]``. An attribute whose validation
    subjects hold fewer than two of a group, or whose test subjects one group only, is logged and skipped."""
    rows = []
    for attribute in attributes:
        if attribute not in data.cohort.columns:
            continue
        codes = {s: attribute_codes(data.cohort, data.subject_ids[s], attribute) for s in ("val", "test")}
        counts = {s: np.bincount(c[c >= 0], minlength=2) for s, c in codes.items()}
        if any(len(c) != 2 for c in counts.values()) or counts["val"].min() < 2 or counts["test"].min() < 1:
            log.info(
                "no held-out leakage probe for %s: group counts %s (two groups needed, two per group to fit)",
                attribute,
                {s: c.tolist() for s, c in counts.items()},
            )
            continue
        fitted = HeldOutProbe(seed=seed).fit(features["val"], codes["val"])
        rows.append(
            {
                "fold": fold,
                "seed": seed,
                "attribute": attribute,
                "representation": representation,
                "probe_auc": fitted.score(features["test"], codes["test"]),
                "probe_cv_auc": fitted.cv_auc_,
                "probe_C": fitted.C_,
                "n_fit": fitted.n_fit_,
            }
        )
    return rows
