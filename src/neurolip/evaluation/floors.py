"""A floor for every fairness gap, and paired differences of gaps between two methods.

A gap estimated on finite groups is positive even for a decision rule that ignores the attribute: with about
30 females in a test fold, a sex-blind classifier shows a DEOdds of about 0.15. The **floor** of a gap is its
distribution for *sex-blind decisions on these very subjects*: the decisions and diagnoses are kept and the
attribute is permuted within each stratum (diagnosis, and fold when given), so the base-rate difference
between the groups is kept and only the link between attribute and decision is broken. If the decisions do
not depend on the attribute given the diagnosis, the attribute is exchangeable within diagnosis and the
observed gap is one draw of that floor (an exact permutation test: ``above_floor`` then fires in at most
5 % of cohorts).

Gaps, for two groups ``g0 < g1`` (sorted labels): ``dpd`` = |P(ŷ=1|g1) − P(ŷ=1|g0)|; ``tpr_gap`` and
``fpr_gap`` the *signed* differences TPR(g1) − TPR(g0) and FPR(g1) − FPR(g0); ``deodds`` =
max(|tpr_gap|, |fpr_gap|) (fairlearn's ``equalized_odds_difference``; a test checks they agree). Every
statistic is computed for all permutations or bootstrap resamples at once with numpy (1000 draws on 1000
subjects take milliseconds; fairlearn's MetricFrame would take minutes).

Controls (``tests/test_floors.py``): a classifier whose score is shifted by sex has every gap above its floor's
95th percentile; sex-blind classifiers exceed it in about 5 % of simulated cohorts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..group_rates import GAPS, SIGNED, group_indicator, two_group_gaps  # noqa: F401 (re-exported)


def permute_within(values, strata, n_draws: int, rng) -> np.ndarray:
    """(n_draws, n): ``values`` permuted independently within each stratum in every draw."""
    values = np.asarray(values)
    strata = np.asarray(strata)
    out = np.broadcast_to(values, (n_draws, len(values))).copy()
    for stratum in np.unique(strata):
        where = np.flatnonzero(strata == stratum)
        out[:, where] = rng.permuted(out[:, where], axis=1)
    return out


def _strata(y_true, folds):
    y_true = np.asarray(y_true).astype(str)
    return y_true if folds is None else np.char.add(np.char.add(y_true, "|"), np.asarray(folds).astype(str))


def gap_null(y_true, y_pred, groups, folds=None, n_draws: int = 1000, seed=0) -> tuple[dict, dict, list]:
    """(observed gaps, {gap: (n_draws,) null magnitudes}, the two group labels): the draws behind
    :func:`gap_floor` (the attribute permuted within diagnosis, × fold when ``folds`` is given), kept for
    whoever combines them (:mod:`.fold_mean` averages them across folds draw by draw)."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred, dtype=float)
    second, labels = group_indicator(groups)
    rng = np.random.default_rng(seed)
    observed = two_group_gaps(y_pred, y_true, second)
    permuted = permute_within(second, _strata(y_true, folds), n_draws, rng)
    floor = two_group_gaps(y_pred[None, :], y_true[None, :], permuted)
    return observed, {gap: np.abs(floor[gap]) for gap in GAPS}, labels


def gap_floor(y_true, y_pred, groups, folds=None, n_draws: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Each gap of ``y_pred`` beside its sex-blind floor.

    ``groups``: the two-valued attribute; ``folds`` (optional): the attribute is then permuted within
    diagnosis × fold, as each test fold's decisions were made separately. One row per gap: ``observed``,
    ``floor_median`` and ``floor_p95`` (for the signed TPR/FPR gaps these are of the gap's magnitude),
    ``p_floor`` = (1 + #draws whose gap reaches the observed one) / (1 + n_draws), and ``above_floor``
    (observed magnitude above the floor's 95th percentile).
    """
    observed, floor, labels = gap_null(y_true, y_pred, groups, folds, n_draws, seed)
    rows = []
    for gap in GAPS:
        value, null = float(observed[gap]), floor[gap]
        magnitude = abs(value)
        rows.append(
            {
                "gap": gap,
                "groups": f"{labels[1]} - {labels[0]}" if gap in SIGNED else f"{labels[0]}, {labels[1]}",
                "observed": value,
                "floor_median": float(np.nanmedian(null)),
                "floor_p95": float(np.nanpercentile(null, 95)),
                "p_floor": float((1 + np.sum(null >= magnitude - 1e-12)) / (1 + n_draws)),
                "above_floor": bool(magnitude > np.nanpercentile(null, 95)),
                "n_draws": n_draws,
            }
        )
    return pd.DataFrame(rows)


def bootstrap_weights(n: int, n_boot: int, rng, strata=None) -> np.ndarray:
    """(n_boot, n) resampling counts: subjects drawn with replacement (within each stratum when given)."""
    if strata is None:
        return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    strata = np.asarray(strata)
    weights = np.zeros((n_boot, n))
    for stratum in np.unique(strata):
        where = np.flatnonzero(strata == stratum)
        weights[:, where] = rng.multinomial(len(where), np.full(len(where), 1.0 / len(where)), size=n_boot)
    return weights


def paired_gap_difference(
    y_true, y_pred_a, y_pred_b, groups, n_boot: int = 1000, seed: int = 0, stratify=True, level=0.95
) -> pd.DataFrame:
    """Pooled gap of method A minus that of method B on the same subjects, with a paired bootstrap interval.

    Subjects are resampled jointly (the same draw for both methods' decisions; within diagnosis when
    ``stratify``), so what the methods share cancels. One row per gap: ``gap_a``, ``gap_b``,
    ``difference`` (A − B; for the signed gaps, the difference of magnitudes |A| − |B|), ``ci_low``,
    ``ci_high`` (percentile interval) and ``n_boot``."""
    y_true = np.asarray(y_true).astype(int)
    second, _ = group_indicator(groups)
    rng = np.random.default_rng(seed)
    weights = bootstrap_weights(len(y_true), n_boot, rng, y_true if stratify else None)
    tail = 100 * (1 - level) / 2
    gaps_a, gaps_b = two_group_gaps(y_pred_a, y_true, second), two_group_gaps(y_pred_b, y_true, second)
    boot_a = two_group_gaps(np.asarray(y_pred_a, dtype=float)[None, :], y_true[None, :], second, weights)
    boot_b = two_group_gaps(np.asarray(y_pred_b, dtype=float)[None, :], y_true[None, :], second, weights)
    rows = []
    for gap in GAPS:
        diff = np.abs(boot_a[gap]) - np.abs(boot_b[gap])
        rows.append(
            {
                "gap": gap,
                "gap_a": float(gaps_a[gap]),
                "gap_b": float(gaps_b[gap]),
                "difference": float(abs(gaps_a[gap]) - abs(gaps_b[gap])),
                "ci_low": float(np.nanpercentile(diff, tail)),
                "ci_high": float(np.nanpercentile(diff, 100 - tail)),
                "n_boot": n_boot,
            }
        )
    return pd.DataFrame(rows)


def paired_gap_permutation(
    y_true, y_pred_a, y_pred_b, groups, n_draws: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Pooled gap of method A minus that of method B with a paired permutation p-value: each subject's two
    decisions are swapped between the methods with probability 1/2, independently, ``n_draws`` times.

    Under the null that the two methods' decisions are exchangeable on every subject (the methods are the
    same rule up to their own noise, whatever the subject's diagnosis, sex, site or fold), every swap
    pattern is equally likely and the p-value is exact. A swap stays within the subject, so it stays within
    any stratum (diagnosis × sex × fold) and keeps the group sizes and base rates. One row per gap:
    ``difference`` (|A| − |B|) and two-sided ``p_permutation`` = (1 + #{|T*| ≥ |T|}) / (1 + n_draws)."""
    y_true = np.asarray(y_true).astype(int)
    second, _ = group_indicator(groups)
    a, b = np.asarray(y_pred_a, dtype=float), np.asarray(y_pred_b, dtype=float)
    swap = np.random.default_rng(seed).random((n_draws, len(y_true))) < 0.5
    perm_a, perm_b = np.where(swap, b, a), np.where(swap, a, b)
    gaps_a, gaps_b = two_group_gaps(a, y_true, second), two_group_gaps(b, y_true, second)
    null_a, null_b = (
        two_group_gaps(perm_a, y_true[None], second),
        two_group_gaps(perm_b, y_true[None], second),
    )
    rows = []
    for gap in GAPS:
        observed = abs(gaps_a[gap]) - abs(gaps_b[gap])
        null = np.abs(null_a[gap]) - np.abs(null_b[gap])
        rows.append(
            {
                "gap": gap,
                "difference": float(observed),
                "p_permutation": float((1 + np.sum(np.abs(null) >= abs(observed) - 1e-12)) / (1 + n_draws)),
            }
        )
    return pd.DataFrame(rows)
