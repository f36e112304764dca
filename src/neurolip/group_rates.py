"""Group rates and their two-group gaps: the arithmetic a fairness decision (group thresholds, a training
stage) and a fairness measurement (evaluation) share, so neither layer imports the other for it.

Gaps, for two groups ``g0 < g1`` (sorted labels): ``dpd`` = |P(ŷ=1|g1) − P(ŷ=1|g0)|; ``tpr_gap`` and
``fpr_gap`` signed (g1 − g0); ``deodds`` = max(|tpr_gap|, |fpr_gap|).
"""

from __future__ import annotations

import numpy as np

GAPS = ("dpd", "deodds", "tpr_gap", "fpr_gap")
SIGNED = ("tpr_gap", "fpr_gap")


def group_indicator(groups) -> tuple[np.ndarray, np.ndarray]:
    """(in_second (n,) bool, labels (2,)): which subjects belong to the second of the two sorted groups."""
    groups = np.asarray(groups).astype(str)
    labels = np.unique(groups)
    if len(labels) != 2:
        raise ValueError(f"a gap needs exactly two groups, got {len(labels)}: {labels.tolist()[:5]}")
    return groups == labels[1], labels


def signed_rate_differences(y_pred, y_true, in_second, weights=None) -> dict[str, np.ndarray]:
    """The signed group differences (second − first) of the selection rate, TPR and FPR, vectorised over
    leading axes (arguments as :func:`two_group_gaps`). A rate of an empty cell is NaN."""
    y_pred = np.asarray(y_pred, dtype=float)
    positive = np.asarray(y_true) == 1
    second = np.asarray(in_second, dtype=bool)
    weights = np.ones(1) if weights is None else np.asarray(weights, dtype=float)

    def rate(cell):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (weights * cell * y_pred).sum(-1) / (weights * cell).sum(-1)

    return {
        "selection": rate(second) - rate(~second),
        "tpr": rate(second & positive) - rate(~second & positive),
        "fpr": rate(second & ~positive) - rate(~second & ~positive),
    }


def two_group_gaps(y_pred, y_true, in_second, weights=None) -> dict[str, np.ndarray]:
    """DPD, DEOdds and the signed TPR/FPR gaps, vectorised over leading axes.

    All arguments broadcast to (..., n): ``y_pred`` decisions (0/1, or decision probabilities: the gap of
    expected rates), ``y_true`` labels, ``in_second`` membership of the second group, ``weights`` per-subject
    weights (bootstrap counts). A rate of an empty cell is NaN.
    """
    parts = signed_rate_differences(y_pred, y_true, in_second, weights)
    selection, tpr, fpr = parts["selection"], parts["tpr"], parts["fpr"]
    return {
        "dpd": np.abs(selection),
        "deodds": np.maximum(np.abs(tpr), np.abs(fpr)),
        "tpr_gap": tpr,
        "fpr_gap": fpr,
    }
