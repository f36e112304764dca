"""The smallest effect each instrument detects with 80 % power (the **minimum detectable effect**, MDE) at the
run's own sizes, in the instrument's own units: what a non-rejection ("within the floor", "interval includes
0") rules out. "Within the floor" with an MDE of 0.08 says: an effect of 0.08 or more would have been seen
(in 4 of 5 cohorts); it does not say there is no gap.

**How (a location shift of the null draws).** Each floor is a permutation null of the *signed* quantities
behind the instrument (the selection-rate, TPR and FPR differences between the two groups; the within-
diagnosis AUC of the attribute minus 0.5), drawn on the run's own subjects, diagnoses, groups and folds, so
the run's sizes enter through the draws themselves. A planted effect of the instrument's own kind moves the
signed quantity by Δ (one group's selection rate, TPR or FPR raised by Δ; the score shifted for one group so
that the within-diagnosis AUC moves by Δ in both classes) and leaves its sampling noise about as it is, so
the instrument's statistic under the effect is that of (null draw + Δ). The power at Δ is then the share of
those shifted draws above the floor's critical value (its 95th percentile: the floor's own test), and the MDE
the smallest Δ of a fine grid with power ≥ 80 % (linear interpolation between grid points). No refit, no
second simulation: a few milliseconds beside the floor. Effects are planted in every direction the
instrument sees (±Δ; DEOdds: in the TPR or in the FPR alone), and the **worst** direction is reported, so
that "no effect larger than the MDE" holds for each of them: for DPD the worst is the direction that first
cancels the gap the groups' base rates induce (a sex-blind rule has a DPD when the diagnosis rates differ).

The paired gap differences are a bootstrap interval (:func:`.floors.paired_gap_difference`): the interval
excludes 0 in 80 % of cohorts when the true difference is (z₀.₉₇₅ + z₀.₈) = 2.80 times the bootstrap SD of
the signed difference (normal approximation; DEOdds: the larger of the TPR and FPR differences' SDs).

The shift approximation is checked against planted effects in simulated cohorts (``benchmarks/power.py``:
power at the MDE ~80 %, at half of it far below); ``tests/test_power.py`` does the same on a small scale.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ..group_rates import group_indicator, signed_rate_differences
from .floors import _strata, bootstrap_weights, permute_within
from .probes import _stratified_auc, _within_stratum_ranks, permuted_within_strata

POWER, ALPHA = 0.8, 0.05
# planted shifts tried (in the instrument's units): gaps are rate differences, leakage an AUC above 0.5
GAP_GRID = np.linspace(0.0, 1.0, 401)
AUC_GRID = np.linspace(0.0, 0.5, 401)
COMPONENTS = ("selection", "tpr", "fpr")
# which signed components each gap is made of, and where its effect is planted
GAP_PARTS = {"dpd": ("selection",), "deodds": ("tpr", "fpr"), "tpr_gap": ("tpr",), "fpr_gap": ("fpr",)}


def gap_statistic(gap: str, parts: dict) -> np.ndarray:
    """The gap (a magnitude) from its signed components: |selection| (DPD), max(|TPR|, |FPR|) (DEOdds)."""
    magnitudes = [np.abs(parts[c]) for c in GAP_PARTS[gap]]
    return magnitudes[0] if len(magnitudes) == 1 else np.maximum(*magnitudes)


def shift_mde(statistic, draws: dict, planted, grid, power=POWER, alpha=ALPHA, critical=None) -> float:
    """The smallest shift of ``grid`` (interpolated) at which ``statistic`` of the shifted null draws exceeds
    the null's (1 − ``alpha``) quantile (or ``critical``) in at least ``power`` of the draws, in the worst of
    the plantings: ``planted`` is a list of (component, sign); each adds sign × Δ to that component of every
    draw. ``draws``: {component: (B, ...) signed null draws}; ``statistic``: maps a dict of (G, B, ...)
    arrays to (G, B). NaN when the draws are NaN; ∞ beyond the grid."""
    by_planting = shift_mdes(statistic, draws, planted, grid, power, alpha, critical)
    return max(by_planting.values()) if by_planting else np.nan


def shift_mdes(statistic, draws: dict, planted, grid, power=POWER, alpha=ALPHA, critical=None) -> dict:
    """:func:`shift_mde` of each planting alone: {(component, sign): MDE}; empty when the draws are NaN."""
    null = statistic({k: v[None] for k, v in draws.items()})[0]
    finite = null[np.isfinite(null)]
    if not len(finite):
        return {}
    critical = np.quantile(finite, 1 - alpha) if critical is None else critical
    grid = np.asarray(grid, dtype=float)
    out = {}
    for component, sign in planted:
        extra = (grid * sign).reshape((-1,) + (1,) * draws[component].ndim)
        shifted = {k: (v[None] + extra if k == component else v[None]) for k, v in draws.items()}
        curve = np.nanmean(statistic(shifted) > critical, axis=1)
        out[(component, sign)] = _first_crossing(grid, curve, power)
    return out


def _first_crossing(grid, curve, power) -> float:
    """The smallest x at which the (increasing) curve reaches ``power``, interpolated; ∞ if never."""
    above = np.flatnonzero(curve >= power)
    if not len(above):
        return np.inf
    i = above[0]
    if i == 0:
        return float(grid[0])
    x0, x1, p0, p1 = grid[i - 1], grid[i], curve[i - 1], curve[i]
    return float(x0 + (power - p0) / (p1 - p0) * (x1 - x0))


def gap_null_components(y_true, y_pred, groups, folds=None, n_draws=1000, seed=0) -> dict[str, np.ndarray]:
    """{component: (n_draws,) signed null draws}: the attribute permuted within diagnosis (× fold), as the
    floors (:func:`.floors.gap_null`) draw it."""
    y_true = np.asarray(y_true).astype(int)
    second, _ = group_indicator(groups)
    rng = np.random.default_rng(seed)
    permuted = permute_within(second, _strata(y_true, folds), n_draws, rng)
    return signed_rate_differences(np.asarray(y_pred, dtype=float)[None], y_true[None], permuted)


def gap_mde(y_true, y_pred, groups, folds=None, n_draws=1000, seed=0, by_planting=False) -> dict:
    """MDE of each pooled gap (DPD, DEOdds, TPR and FPR gap) against its sex-blind floor
    (:func:`.floors.gap_floor`), in the gap's units (a rate difference): {gap: MDE of the worst planting},
    or with ``by_planting`` {gap: {(component, sign): MDE}}."""
    draws = gap_null_components(y_true, y_pred, groups, folds, n_draws, seed)
    mdes = {}
    for gap, parts in GAP_PARTS.items():
        planted = [(c, s) for c in parts for s in (1, -1)]
        each = shift_mdes(lambda d, gap=gap: gap_statistic(gap, d), draws, planted, GAP_GRID)
        mdes[gap] = each if by_planting else (max(each.values()) if each else np.nan)
    return mdes


def fold_mean_gap_mde(fold_inputs, n_draws=1000, seed=0) -> dict[str, float]:
    """MDE of the fold mean of each per-fold gap against the floor of that mean (:mod:`.fold_mean`):
    ``fold_inputs`` is a list of (y_true, y_pred, groups) per test fold; the effect Δ is planted in every
    fold alike. Folds whose groups lack a diagnosis class are left out (as the floor leaves them out)."""
    per_fold = []
    for k, (y, pred, groups) in enumerate(fold_inputs):
        draws = gap_null_components(y, pred, groups, None, n_draws, [seed, k])
        if all(np.isfinite(v).all() for v in draws.values()):
            per_fold.append(draws)
    if not per_fold:
        return dict.fromkeys(GAP_PARTS, np.nan)
    stacked = {c: np.stack([d[c] for d in per_fold], axis=-1) for c in COMPONENTS}  # (B, K)
    mdes = {}
    for gap, parts in GAP_PARTS.items():
        planted = [(c, s) for c in parts for s in (1, -1)]
        mdes[gap] = shift_mde(lambda d, gap=gap: gap_statistic(gap, d).mean(-1), stacked, planted, GAP_GRID)
    return mdes


def leakage_null(scores, codes, y_true, folds=None, n_draws=1000, seed=0) -> np.ndarray | None:
    """(n_draws, 2) null draws of the fold-stratified AUC − 0.5 of the attribute from ``scores`` within each
    diagnosis class (the attribute permuted within diagnosis × fold, as :func:`.probes.decision_leakage_floor`);
    None when a class lacks one of the two groups."""
    scores = np.asarray(scores, dtype=float)
    codes = np.asarray(codes).astype(int)
    y_true = np.asarray(y_true).astype(int)
    folds = np.zeros(len(scores)) if folds is None else np.asarray(folds)
    rng = np.random.default_rng(seed)
    out = []
    for diagnosis in (0, 1):
        keep = (y_true == diagnosis) & (codes >= 0)
        second = codes[keep] == 1
        if second.all() or not second.any():
            return None
        strata = folds[keep]
        ranks = _within_stratum_ranks(scores[keep], strata)
        permuted = permuted_within_strata(second, strata, n_draws, rng)
        out.append(_stratified_auc(permuted, ranks, strata) - 0.5)
    return np.stack(out, axis=-1)


def _leakage_statistic(d):
    """max(AUC, 1 − AUC) averaged over the diagnosis classes (and over folds when there is a fold axis)."""
    value = 0.5 + np.abs(d["auc"]).mean(-1)
    return value.reshape(value.shape[:2] + (-1,)).mean(-1)


def leakage_mde(scores, codes, y_true, folds=None, n_draws=1000, seed=0) -> float:
    """MDE of the score or decision leakage (pooled, fold-stratified) against its floor, as the leakage AUC
    (0.5 + Δ) at which a shift of one group's values within both diagnosis classes is detected with 80 %
    power. NaN when a class lacks a group."""
    draws = leakage_null(scores, codes, y_true, folds, n_draws, seed)
    if draws is None:
        return np.nan
    planted = [("auc", 1), ("auc", -1)]
    return 0.5 + shift_mde(_leakage_statistic, {"auc": draws}, planted, AUC_GRID)


def fold_mean_leakage_mde(fold_inputs, n_draws=1000, seed=0) -> float:
    """MDE (leakage AUC) of the fold mean of a per-fold leakage against the floor of that mean:
    ``fold_inputs`` a list of (scores, codes, y_true) per test fold."""
    per_fold = [leakage_null(s, c, y, None, n_draws, [seed, k]) for k, (s, c, y) in enumerate(fold_inputs)]
    per_fold = [d for d in per_fold if d is not None]
    if not per_fold:
        return np.nan
    draws = np.stack(per_fold, axis=1)  # (B, K, 2)
    planted = [("auc", 1), ("auc", -1)]
    return 0.5 + shift_mde(_leakage_statistic, {"auc": draws}, planted, AUC_GRID)


def paired_mde(y_true, y_pred_a, y_pred_b, groups, n_boot=1000, seed=0, power=POWER, alpha=ALPHA) -> dict:
    """MDE of each paired gap difference (A − B, :func:`.floors.paired_gap_difference`): (z_{1−α/2} +
    z_power) × the SD of the signed difference over the same joint bootstrap (subjects resampled within
    diagnosis); DEOdds: the larger of its TPR and FPR differences'."""
    y_true = np.asarray(y_true).astype(int)
    second, _ = group_indicator(groups)
    weights = bootstrap_weights(len(y_true), n_boot, np.random.default_rng(seed), y_true)
    a = signed_rate_differences(np.asarray(y_pred_a, dtype=float)[None], y_true[None], second, weights)
    b = signed_rate_differences(np.asarray(y_pred_b, dtype=float)[None], y_true[None], second, weights)
    sd = {c: float(np.nanstd(a[c] - b[c], ddof=1)) for c in COMPONENTS}
    factor = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return {gap: factor * max(sd[c] for c in parts) for gap, parts in GAP_PARTS.items()}


def non_rejection_text(mde: float, digits: int = 2, scale: float = 1.0) -> str:
    """The sentence a non-rejection carries: what it rules out. ``mde`` is a shift of the instrument's own
    statistic beyond what the floor produces (for a gap: beyond the gap the groups' diagnosis rates induce),
    so the sentence names an effect, not a gap size, and says it would have been seen, not that it cannot be:
    'an effect ≥ X would have been seen with 80 % power' (X = ``mde`` × ``scale``)."""
    if mde is None or not np.isfinite(mde):
        return ""
    return f"an effect ≥ {scale * mde:.{digits}f} would have been seen with 80 % power"
