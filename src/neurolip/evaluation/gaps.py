"""Gaps between groups in the rate of (expected) positive decisions: DPD and DEOdds of pooled decisions, with
fairlearn, and the fast ``np.bincount`` rate gap the bootstrap and floors evaluate thousands of times."""

import numpy as np
from fairlearn.metrics import demographic_parity_difference


def rate_gap(decisions, group_codes):
    """Largest difference between groups in the rate of positive decisions: fairlearn's demographic parity
    difference, computed with ``np.bincount`` because the bootstrap and the floor evaluate it thousands of
    times (fairlearn's MetricFrame costs about 1.5 ms per group and call; tests/test_postprocessing.py checks
    both agree). Unknown groups (code -1) are left out; NaN with fewer than two groups."""
    known = group_codes >= 0
    counts = np.bincount(group_codes[known], minlength=1)
    positives = np.bincount(group_codes[known], weights=decisions[known], minlength=1)
    present = counts > 0
    if present.sum() < 2:
        return np.nan
    rates = positives[present] / counts[present]
    return float(rates.max() - rates.min())


def pooled_dpd(decision, groups):
    """Demographic parity difference of the pooled decisions (fairlearn), subjects of unknown group (None)
    left out; NaN with fewer than two groups. Decision probabilities (not all 0/1: a randomised rule) give
    the largest difference of the groups' expected rates (fairlearn's selection rate counts only p = 1)."""
    known = np.array([g is not None and g == g for g in groups], dtype=bool)
    if len(set(np.asarray(groups, dtype=object)[known])) < 2:
        return np.nan
    groups = np.asarray(groups, dtype=object)[known].astype(str)
    decision = np.asarray(decision)[known]
    if not np.isin(decision, (0, 1)).all():
        return rate_gap(decision.astype(float), np.unique(groups, return_inverse=True)[1])
    return float(demographic_parity_difference(decision, decision, sensitive_features=groups))


def pooled_deodds(y, decision, groups):
    """Equalized-odds difference of the pooled decisions: the larger of the demographic parity differences
    among the patients (TPR gap) and among the controls (FPR gap), with fairlearn. This is fairlearn's
    ``equalized_odds_difference`` except that a group without patients (or controls) is left out of that
    gap rather than counted with a rate of 0; NaN when either class holds fewer than two groups (one of the
    two gaps is undefined, e.g. SRS, which nearly splits by diagnosis)."""
    gaps = [pooled_dpd(decision[y == c], np.asarray(groups, dtype=object)[y == c]) for c in (1, 0)]
    return np.nan if np.isnan(gaps).any() else float(max(gaps))
