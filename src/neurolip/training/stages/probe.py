"""The held-out probe: how well a logistic probe reads a sensitive attribute from the representation a
method's prediction reads, fitted *out of sample* (docs/method.md).

:class:`HeldOutProbe` is fitted on subjects that the model and the eraser were not fitted on, passed through
the training-fitted eraser, its C chosen by inner cross-validation on that same fit set. It is cross-fitted
over those subjects (:func:`cross_fitted_scores`): each model's validation subjects (for a cross-fitted
recipe, model k's inner fold k) and the test fold in five parts, part j scored by a probe fitted on the
validation subjects and parts 0 … j − 1 (chained: within a fold, the parts' AUCs are then independent null draws), so every test subject
gets a score from a probe not fitted on it (:func:`held_out_leakage_rows`: one row per model, attribute and test subject; the diagnosis is probed the
same way). The exact test of those scores and the decision-level leakage are the evaluation's
(``neurolip.evaluation.probe_test``, ``neurolip.evaluation.probes``).
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
# the columns of a fold's leakage file: one row per model, probed attribute (or the diagnosis) and test
# subject, with the subject's out-of-sample probe score
LEAKAGE_COLUMNS = [
    "fold",
    "seed",
    "model",
    "attribute",
    "representation",
    "subject_id",
    "code",
    "diagnosis",
    "part",
    "probe_score",
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


def cross_fitted_scores(
    fit_x,
    fit_codes,
    test_x,
    test_codes,
    test_strata,
    seed: int = 0,
    chunks: int = 5,
    make_probe=None,
    partition_seed: int | None = None,
    chained: bool = True,
):
    """Out-of-sample probe scores of every test subject from probes fitted on the subjects the model did not
    train on: the test subjects are split into ``chunks`` parts (stratified by ``test_strata``, e.g. code ×
    diagnosis); part j is scored by a probe fitted on the ``fit_*`` subjects (validation or out-of-fold) plus
    parts 0 … j − 1 (``chained``; without it, plus every other part: symmetric cross-fitting), so no subject
    is scored by a probe fitted on it and every test subject gets a score.

    Why chained: with symmetric cross-fitting part A's labels shape the probe that scores part B and B's
    those that score A, so the parts' AUCs covary positively under the null (the same label pairs enter
    both) and a permutation of the fixed scores is anti-conservative (benchmarks/probe_exact_test.py:
    ``--symmetric``). Chained, part j's AUC given the earlier parts' labels is a Mann–Whitney draw of its
    own labels, the parts' AUCs are uncorrelated and the permutation within part × diagnosis has the null's
    variance. ``make_probe()`` builds an unfitted probe with ``fit``/``decision_function`` (default:
    :class:`HeldOutProbe` with ``seed``). ``partition_seed`` (default ``seed``) fixes the parts: the same for
    every model of a fold. Returns (scores, parts, probes); unknown codes (-1) are scored, never fitted on.
    Scores of different parts come from different probes: the exact test compares subjects of the same part
    only (``evaluation.probe_test``)."""
    make_probe = make_probe or (lambda: HeldOutProbe(seed=seed))
    fit_x = np.asarray(fit_x, dtype=float).reshape(len(fit_codes), -1)
    test_x = np.asarray(test_x, dtype=float).reshape(len(test_codes), -1)
    fit_codes, test_codes = np.asarray(fit_codes).astype(int), np.asarray(test_codes).astype(int)
    strata = np.unique(np.asarray(test_strata), return_inverse=True)[1]
    parts = np.empty(len(test_codes), dtype=int)
    rng = np.random.default_rng(seed if partition_seed is None else partition_seed)
    for stratum in np.unique(strata):
        members = rng.permutation(np.flatnonzero(strata == stratum))
        # dealt round-robin from a random start: each part gets its share of every stratum
        parts[members] = (np.arange(len(members)) + rng.integers(chunks)) % chunks
    scores, probes = np.full(len(test_codes), np.nan), []
    for part in range(chunks):
        scored = parts == part
        if not scored.any():
            continue
        added = parts < part if chained else ~scored
        x = np.concatenate([fit_x, test_x[added]])
        z = np.concatenate([fit_codes, test_codes[added]])
        probe = make_probe().fit(x, z)
        scores[scored] = probe.decision_function(test_x[scored])
        probes.append(probe)
    return scores, parts, probes


# the held-out probe of the diagnosis (what a representation keeps) is written beside the attribute's
DIAGNOSIS_TARGET = "diagnosis"


def held_out_leakage_rows(
    data, features, attributes, representation: str, seed: int, fold: int, model: int = 0
) -> list[dict]:
    """Per test subject, the out-of-sample score of a :class:`HeldOutProbe` of each two-valued attribute and
    of the diagnosis (``attribute`` ``"diagnosis"``: what the representation keeps), cross-fitted by
    :func:`cross_fitted_scores` over the subjects the model and its eraser were not fitted on
    (``features["val"]``: validation or out-of-fold; ``features["test"]``: the test fold, scored part by
    part by probes fitted on the validation subjects and the earlier parts). The evaluation tests the scores
    exactly (:mod:`neurolip.evaluation.probe_test`). An attribute whose fit subjects hold fewer than two of a
    group, or whose test subjects one group only, is logged and skipped. ``model``: the model's index
    among the fold's models (a cross-fitted recipe's K models may share a seed)."""
    if DIAGNOSIS_TARGET in attributes:
        raise ValueError(
            f"a sensitive attribute may not be called {DIAGNOSIS_TARGET!r} (the diagnosis probe's)"
        )
    diagnosis = {s: np.asarray(data.y[s]).astype(int) for s in ("val", "test")}
    rows = []
    for attribute in [*attributes, DIAGNOSIS_TARGET]:
        if attribute == DIAGNOSIS_TARGET:
            codes = diagnosis
        elif attribute in data.cohort.columns:
            codes = {s: attribute_codes(data.cohort, data.subject_ids[s], attribute) for s in ("val", "test")}
        else:
            continue
        counts = {s: np.bincount(c[c >= 0], minlength=2) for s, c in codes.items()}
        if any(len(c) != 2 for c in counts.values()) or counts["val"].min() < 2 or counts["test"].min() < 1:
            log.info(
                "no held-out probe of %s: group counts %s (two groups needed, two per group to fit)",
                attribute,
                {s: c.tolist() for s, c in counts.items()},
            )
            continue
        strata = codes["test"] * 2 + diagnosis["test"]
        scores, parts, probes = cross_fitted_scores(
            features["val"],
            codes["val"],
            features["test"],
            codes["test"],
            strata,
            seed=seed,
            partition_seed=fold,
        )
        common = {
            "fold": fold,
            "seed": seed,
            "model": model,
            "attribute": attribute,
            "representation": representation,
            "probe_C": float(np.median([p.C_ for p in probes])),
            "probe_cv_auc": float(np.mean([p.cv_auc_ for p in probes])),
            "n_fit": float(np.mean([p.n_fit_ for p in probes])),
        }
        rows += [
            {
                **common,
                "subject_id": s,
                "code": int(c),
                "diagnosis": int(d),
                "part": int(k),
                "probe_score": float(v),
            }
            for s, c, d, k, v in zip(
                data.subject_ids["test"], codes["test"], diagnosis["test"], parts, scores, strict=True
            )
        ]
    return rows
