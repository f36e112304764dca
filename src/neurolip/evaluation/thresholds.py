"""Group thresholds reported as what they are: randomised ones with their expected gaps and spread, and a
deterministic alternative.

fairlearn's ``ThresholdOptimizer`` (Hardt, Price & Srebro 2016) may give part of a group a coin flip: the
equalized-odds optimum mixes two thresholds. Its ``predict`` draws once (``random_state`` only fixes that
draw), so one reported DPD or DEOdds is one draw. What the thresholds achieve is fixed by each subject's
**decision probability** (``_pmf_predict``), from which this module computes

- ``expected_rate_gaps``: the gaps of the expected group rates (what the optimiser constrains);
- ``expected_gaps``: the exact expected value, over randomisation draws, of the gaps as reported (an
  absolute difference of realised rates; computed from the Poisson-binomial distributions of each group's
  counts, so no Monte-Carlo error);
- ``gap_draws`` / ``randomised_threshold_report``: the 5–95 % range over ``n_draws`` draws and the share of
  subjects of each group whose decision is randomised.

``DeterministicGroupThresholds`` is one threshold per group, no coin flips: fitted on validation (or
out-of-fold) scores by searching all pairs of candidate thresholds for the highest balanced accuracy whose
constraint violation (DPD for demographic parity; max(|TPR gap|, |FPR gap|) for equalized odds) on the fit
set is at most ``tolerance``. A diagnosis then does not depend on a coin.

Controls (``tests/test_thresholds.py``): the exact expectations equal the mean over 20 000 draws; the
deterministic estimator randomises nobody, meets its constraint on the fit set and is reproducible.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .floors import GAPS, group_indicator, two_group_gaps

log = logging.getLogger(__name__)


def randomised(probabilities, atol: float = 1e-9) -> np.ndarray:
    """Which subjects' decisions are a coin flip (0 < p < 1)."""
    p = np.asarray(probabilities, dtype=float)
    return (p > atol) & (p < 1 - atol)


def draw_decisions(probabilities, n_draws: int, seed: int = 0) -> np.ndarray:
    """(n_draws, n) decisions drawn independently per subject, as ``predict`` would with n_draws seeds."""
    rng = np.random.default_rng(seed)
    p = np.asarray(probabilities, dtype=float)
    return (rng.random((n_draws, len(p))) < p).astype(np.int8)


def expected_rate_gaps(probabilities, y_true, groups) -> dict[str, float]:
    """Gaps (floors.GAPS) of the expected group rates (the mean decision probability per cell)."""
    second, _ = group_indicator(groups)
    return {k: float(v) for k, v in two_group_gaps(probabilities, y_true, second).items()}


def _count_pmf(probabilities) -> np.ndarray:
    """Poisson-binomial PMF of the number of positive decisions among independent subjects."""
    pmf = np.ones(1)
    for p in np.asarray(probabilities, dtype=float):
        if p <= 0:
            continue
        pmf = np.append(pmf * (1 - p), 0.0) + np.append(0.0, pmf * p) if p < 1 else np.append(0.0, pmf)
    return pmf


def _rate_difference_distribution(p_second, p_first):
    """Support and probabilities of rate(second) − rate(first), with the subjects' decision probabilities."""
    if len(p_second) == 0 or len(p_first) == 0:
        raise ValueError("an expected gap needs subjects in both groups (and, for TPR/FPR, both classes)")
    pmf_second, pmf_first = _count_pmf(p_second), _count_pmf(p_first)
    rate_second = np.arange(len(pmf_second)) / len(p_second)
    rate_first = np.arange(len(pmf_first)) / len(p_first)
    values = rate_second[:, None] - rate_first[None, :]
    return values.ravel(), np.outer(pmf_second, pmf_first).ravel()


def expected_maximum(values_a, probabilities_a, values_b, probabilities_b) -> float:
    """E[max(A, B)] of two independent discrete variables from their supports and probabilities, through
    P(max ≤ v) = P(A ≤ v) P(B ≤ v) on the union of the supports: linear memory (the outer product of two
    ABIDE-sized supports, about 3·10⁴ values each, takes 8.6 GB)."""
    values = np.unique(np.concatenate([values_a, values_b]))

    def cdf(support, probabilities):
        order = np.argsort(support)
        cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(probabilities, dtype=float)[order])])
        return cumulative[np.searchsorted(np.asarray(support)[order], values, side="right")]

    at_most = cdf(values_a, probabilities_a) * cdf(values_b, probabilities_b)
    return float(values @ np.diff(at_most, prepend=0.0))


def expected_gaps(probabilities, y_true, groups) -> dict[str, float]:
    """Exact expected gaps over randomisation draws: E|rate difference| for DPD, E[signed gap] for the
    TPR/FPR gaps, and E[max(|TPR gap|, |FPR gap|)] for DEOdds (TPR and FPR rest on different subjects, so
    their draws are independent)."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(y_true).astype(int)
    second, _ = group_indicator(groups)
    selection = _rate_difference_distribution(p[second], p[~second])
    tpr = _rate_difference_distribution(p[second & (y == 1)], p[~second & (y == 1)])
    fpr = _rate_difference_distribution(p[second & (y == 0)], p[~second & (y == 0)])
    return {
        "dpd": float(np.abs(selection[0]) @ selection[1]),
        "deodds": expected_maximum(np.abs(tpr[0]), tpr[1], np.abs(fpr[0]), fpr[1]),
        "tpr_gap": float(tpr[0] @ tpr[1]),
        "fpr_gap": float(fpr[0] @ fpr[1]),
    }


def gap_draws(probabilities, y_true, groups, n_draws: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    """Each gap for ``n_draws`` independent randomisation draws: {gap: (n_draws,)}."""
    second, _ = group_indicator(groups)
    decisions = draw_decisions(probabilities, n_draws, seed)
    return two_group_gaps(decisions, np.asarray(y_true)[None, :], second[None, :])


def randomised_threshold_report(
    probabilities, y_true, groups, n_draws: int = 200, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(gaps, randomised share) of decisions with the given decision probabilities.

    ``gaps``: one row per gap with ``expected`` (exact expectation over draws), ``expected_rates`` (gap of
    the expected rates), ``draw_p05``/``draw_median``/``draw_p95`` over ``n_draws`` draws. ``randomised
    share``: one row per group with its size and the share of its subjects whose decision is a coin flip."""
    if n_draws < 200:
        log.warning("%d randomisation draws: the 5-95 %% range needs at least 200 to be stable", n_draws)
    exact = expected_gaps(probabilities, y_true, groups)
    rates = expected_rate_gaps(probabilities, y_true, groups)
    draws = gap_draws(probabilities, y_true, groups, n_draws, seed)
    gaps = pd.DataFrame(
        [
            {
                "gap": gap,
                "expected": exact[gap],
                "expected_rates": rates[gap],
                "draw_p05": float(np.nanpercentile(draws[gap], 5)),
                "draw_median": float(np.nanmedian(draws[gap])),
                "draw_p95": float(np.nanpercentile(draws[gap], 95)),
                "n_draws": n_draws,
            }
            for gap in GAPS
        ]
    )
    groups = np.asarray(groups).astype(str)
    coin = randomised(probabilities)
    share = pd.DataFrame(
        [
            {"group": g, "n": int((groups == g).sum()), "randomised_share": float(coin[groups == g].mean())}
            for g in np.unique(groups)
        ]
    )
    return gaps, share
