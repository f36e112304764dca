"""Deterministic group thresholds: one threshold per group, no coin flips (the group-thresholds stage's
default mode; docs/method.md). Controls: ``tests/test_thresholds.py``."""

from __future__ import annotations

import logging

import numpy as np

from ...group_rates import group_indicator

log = logging.getLogger(__name__)

CONSTRAINTS = (
    "demographic_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
)


def _candidates(scores, max_candidates):
    """Thresholds between distinct scores (and below/above all of them), thinned to quantiles if many."""
    values = np.unique(scores)
    cuts = np.concatenate([[-np.inf], (values[1:] + values[:-1]) / 2, [np.inf]])
    if len(cuts) > max_candidates:
        cuts = np.unique(np.quantile(cuts[1:-1], np.linspace(0, 1, max_candidates - 2)))
        cuts = np.concatenate([[-np.inf], cuts, [np.inf]])
    return cuts


class DeterministicGroupThresholds:
    """One decision threshold per group (decision = score ≥ threshold), no randomisation.

    ``constraint``: ``demographic_parity`` (selection-rate gap), ``equalized_odds`` (max of the TPR and FPR
    gaps), ``true_positive_rate_parity`` or ``false_positive_rate_parity`` (that gap alone); ``tolerance``: the largest violation allowed on the fit set; ``max_candidates``: thresholds tried
    per group (all distinct cut points up to that number, else quantiles). Among threshold pairs within the
    tolerance it keeps the one with the highest balanced accuracy (ties: the smaller violation). If no pair
    meets the tolerance it keeps the pair of least violation and says so (``constraint_met_`` False, a
    warning). Two groups only (the gaps are two-group gaps).

    Fitted: ``groups_`` (sorted labels), ``thresholds_`` {group: threshold}, ``violation_``,
    ``balanced_accuracy_`` (on the fit set), ``constraint_met_``.
    """

    def __init__(
        self, constraint: str = "equalized_odds", tolerance: float = 0.05, max_candidates: int = 400
    ):
        self.constraint = constraint
        self.tolerance = tolerance
        self.max_candidates = max_candidates

    def fit(self, scores, y, groups) -> DeterministicGroupThresholds:
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {CONSTRAINTS}, not {self.constraint!r}")
        scores = np.asarray(scores, dtype=float)
        y = np.asarray(y).astype(int)
        second, labels = group_indicator(groups)
        cells = []
        for member in (~second, second):
            if len(np.unique(y[member])) < 2:
                raise ValueError("deterministic group thresholds need both classes in each group")
            s, label = scores[member], y[member]
            cuts = _candidates(s, self.max_candidates)
            chosen = s[None, :] >= cuts[:, None]  # (n_cuts, n_group)
            cells.append(
                {
                    "cuts": cuts,
                    "selected": chosen.sum(1),
                    "tp": (chosen & (label == 1)).sum(1),
                    "fp": (chosen & (label == 0)).sum(1),
                    "n": len(s),
                    "pos": int((label == 1).sum()),
                    "neg": int((label == 0).sum()),
                }
            )
        a, b = cells  # a: first group's cuts on axis 0, b: second group's on axis 1
        tpr_a, tpr_b = a["tp"] / a["pos"], b["tp"] / b["pos"]
        fpr_a, fpr_b = a["fp"] / a["neg"], b["fp"] / b["neg"]
        if self.constraint == "demographic_parity":
            violation = np.abs((a["selected"] / a["n"])[:, None] - (b["selected"] / b["n"])[None, :])
        elif self.constraint == "true_positive_rate_parity":
            violation = np.abs(tpr_a[:, None] - tpr_b[None, :])
        elif self.constraint == "false_positive_rate_parity":
            violation = np.abs(fpr_a[:, None] - fpr_b[None, :])
        else:
            violation = np.maximum(
                np.abs(tpr_a[:, None] - tpr_b[None, :]), np.abs(fpr_a[:, None] - fpr_b[None, :])
            )
        tpr = (a["tp"][:, None] + b["tp"][None, :]) / (a["pos"] + b["pos"])
        tnr = 1 - (a["fp"][:, None] + b["fp"][None, :]) / (a["neg"] + b["neg"])
        balanced = (tpr + tnr) / 2
        feasible = violation <= self.tolerance + 1e-12
        self.constraint_met_ = bool(feasible.any())
        if self.constraint_met_:
            # highest balanced accuracy; among equals, the smallest violation
            key = np.where(feasible, balanced - 1e-9 * violation, -np.inf)
        else:
            log.warning(
                "no pair of thresholds meets %s within %.3f on the fit set (least violation %.3f): "
                "keeping the least violating pair",
                self.constraint,
                self.tolerance,
                violation.min(),
            )
            key = -violation + 1e-9 * balanced
        i, j = np.unravel_index(np.argmax(key), key.shape)
        self.groups_ = labels
        self.thresholds_ = {str(labels[0]): float(a["cuts"][i]), str(labels[1]): float(b["cuts"][j])}
        self.violation_ = float(violation[i, j])
        self.balanced_accuracy_ = float(balanced[i, j])
        return self

    def predict(self, scores, groups) -> np.ndarray:
        """Decisions (0/1): each subject's score against its group's threshold. A group not seen in the fit
        is an error (its threshold would be a guess)."""
        if not hasattr(self, "thresholds_"):
            raise ValueError("DeterministicGroupThresholds is not fitted: call fit first")
        scores = np.asarray(scores, dtype=float)
        groups = np.asarray(groups).astype(str)
        unknown = sorted(set(groups) - set(self.thresholds_))
        if unknown:
            raise ValueError(f"groups {unknown} were not in the data the thresholds were fitted on")
        cut = np.array([self.thresholds_[g] for g in groups])
        return (scores >= cut).astype(int)

    def predict_proba_decision(self, scores, groups) -> np.ndarray:
        """Decision probabilities (0 or 1 only), so the randomised-threshold report applies unchanged."""
        return self.predict(scores, groups).astype(float)
