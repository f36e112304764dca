"""The floor of a fold mean: the null distribution of a per-fold gap or leakage averaged over folds.

Table 1 prints each per-fold gap as its mean over folds. A sex-blind floor of that mean is *not* the mean of
the per-fold floors' 95th percentiles: averaging five folds shrinks the null's spread by about √5 while the
mean of per-fold p95s keeps each fold's full spread, so "mean gap above the mean of p95s" almost never fires
(0 % of no-effect cohorts and 0.7 % at a realistic δ = 0.3 score shift at ABIDE's sizes; issue 31). The floor
of the fold mean keeps each fold's null **draws** (sex permuted within diagnosis on that fold's test subjects,
each fold with its own, independent generator) and averages them across folds draw by draw: draw b of the
fold mean is the mean over folds of draw b of each fold. The observed fold mean is compared with that
distribution: median, 95th percentile and p = (1 + #{null ≥ observed}) / (B + 1), an exact permutation
test of the fold mean (the folds' test subjects are disjoint, so their permutations compose).

Controls: ``benchmarks/fold_mean_floor.py`` (false alarms and power beside the old rule at ABIDE's sizes),
``tests/test_fold_floors.py``.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from .floors import gap_null
from .frame import decision_values, score_values, two_group_codes
from .power import fold_mean_gap_mde, fold_mean_leakage_mde
from .probes import decision_leakage_floor

# the per-fold figures that get a floor of their fold mean (the held-out probe's lives in metrics/pooled.csv,
# :func:`.probe_test.pooled_probe_rows`)
FLOORED = ("dpd", "deodds", "score_leakage", "decision_leakage")
STATISTICS = ("median", "p95", "p")
SUMMARY_COLUMNS = ["method", "metric", "attribute", "mean", "std", "n_folds"]


def fold_floor_draws(scores, y_true, decisions, groups, n_draws: int = 1000, seed=0) -> dict:
    """One test fold's sex-blind null draws of each :data:`FLOORED` figure: {metric: (observed, (n_draws,)
    draws)}. DPD and DEOdds of ``decisions`` (0/1, or decision probabilities: the gaps of the expected
    rates), score leakage of ``scores`` and decision leakage of ``decisions`` (max(AUC, 1 − AUC) within
    diagnosis), the attribute permuted within diagnosis. Empty unless ``groups`` has two groups present in
    both diagnosis classes. ``seed``: anything :func:`numpy.random.default_rng` takes; give each fold its
    own so that the folds' permutations are independent."""
    codes = two_group_codes(groups)
    if codes is None:
        return {}
    known = codes >= 0
    y_k, codes_k = np.asarray(y_true).astype(int)[known], codes[known]
    if min(len(np.unique(codes_k[y_k == c])) for c in (0, 1)) < 2:
        return {}
    decisions = np.asarray(decisions, dtype=float)
    observed, null, _ = gap_null(y_k, decisions[known], codes_k, n_draws=n_draws, seed=seed)
    out = {gap: (float(observed[gap]), null[gap]) for gap in ("dpd", "deodds")}
    for metric, source in (("score_leakage", scores), ("decision_leakage", decisions)):
        values = np.asarray(source, dtype=float)[known]
        floor = decision_leakage_floor(values, codes_k, y_k, n_draws=n_draws, seed=seed)
        out[metric] = (float(floor["observed"]), np.asarray(floor["draws"], dtype=float))
    return out


def prediction_floor_draws(predictions, groups, n_draws: int = 1000, seed=0) -> dict:
    """:func:`fold_floor_draws` of one fold's prediction table (its score and decisions as the per-fold
    metrics read them: :func:`.frame.score_values`, :func:`.frame.decision_values`)."""
    y_true = predictions["y_true"].to_numpy().astype(int)
    return fold_floor_draws(
        score_values(predictions), y_true, decision_values(predictions), groups, n_draws, seed
    )


def fold_mean_floor(observed, draws) -> dict:
    """The floor of the mean over folds of a per-fold figure.

    ``observed``: the figure of each fold; ``draws``: each fold's null draws (same length B, in the same
    order as ``observed``). Folds whose figure or draws are missing are left out of both. Returns ``value``
    (the observed fold mean), ``floor_median``, ``floor_p95`` (of the draw-by-draw fold means), ``p`` =
    (1 + #{null ≥ observed}) / (B + 1) and ``n_folds``; NaN without any fold."""
    kept = [
        (float(v), np.asarray(d, dtype=float))
        for v, d in zip(observed, draws, strict=True)
        if np.isfinite(v) and np.isfinite(d).any()
    ]
    if not kept:
        return {"value": np.nan, "floor_median": np.nan, "floor_p95": np.nan, "p": np.nan, "n_folds": 0}
    sizes = {len(d) for _, d in kept}
    if len(sizes) != 1:
        raise ValueError(f"every fold needs the same number of null draws to average them (got {sizes})")
    value = float(np.mean([v for v, _ in kept]))
    null = np.mean([d for _, d in kept], axis=0)  # draw b of the fold mean: draw b of every fold, averaged
    finite = null[np.isfinite(null)]
    return {
        "value": value,
        "floor_median": float(np.median(finite)),
        "floor_p95": float(np.percentile(finite, 95)),
        "p": float((1 + np.sum(finite >= value - 1e-12)) / (1 + len(finite))),
        "n_folds": len(kept),
    }


def fold_mean_rows(draws: dict) -> pd.DataFrame:
    """``metrics/summary.csv`` rows of the floors of fold means: ``draws`` is {(method, attribute, metric):
    {fold: (observed, draws)}}; rows ``<metric>_fold_mean_floor_median``, ``_p95`` and ``_p`` with the
    statistic in ``mean`` (``std`` empty) and the folds averaged in ``n_folds``."""
    rows = []
    for (method, attribute, metric), by_fold in draws.items():
        folds = sorted(by_fold, key=str)
        floor = fold_mean_floor([by_fold[f][0] for f in folds], [by_fold[f][1] for f in folds])
        if not floor["n_folds"]:
            continue
        values = dict(zip(STATISTICS, (floor["floor_median"], floor["floor_p95"], floor["p"]), strict=True))
        rows += [
            {
                "method": method,
                "metric": f"{metric}_fold_mean_floor_{name}",
                "attribute": attribute,
                "mean": value,
                "std": np.nan,
                "n_folds": floor["n_folds"],
            }
            for name, value in values.items()
        ]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).astype({"mean": float, "std": float})


def fold_inputs(predictions, groups):
    """What :func:`fold_mean_mde_rows` needs of one test fold: (scores, y_true, decisions, 0/1 codes) of the
    subjects of a known group, or None where the fold has no floor (:func:`fold_floor_draws`' conditions)."""
    codes = two_group_codes(groups)
    if codes is None:
        return None
    known = codes >= 0
    y = predictions["y_true"].to_numpy().astype(int)[known]
    if min(len(np.unique(codes[known][y == c])) for c in (0, 1)) < 2:
        return None
    scores, decisions = score_values(predictions)[known], decision_values(predictions)[known]
    return np.asarray(scores, dtype=float), y, np.asarray(decisions, dtype=float), codes[known]


def fold_mean_mde_rows(inputs: dict, n_draws: int = 1000, seed: int = 0) -> pd.DataFrame:
    """``<metric>_fold_mean_floor_mde`` summary rows: the smallest effect each floor of a fold mean detects
    with 80 % power at the folds' own sizes (:mod:`.power`; DPD/DEOdds a rate difference, leakages an AUC).
    ``inputs``: {(method, attribute): {fold: :func:`fold_inputs`}}."""
    rows = []
    for (method, attribute), by_fold in inputs.items():
        folds = [by_fold[f] for f in sorted(by_fold, key=str) if by_fold[f] is not None]
        if not folds:
            continue
        gaps = fold_mean_gap_mde([(y, d, c) for _, y, d, c in folds], n_draws, seed)
        mdes = {
            "dpd": gaps["dpd"],
            "deodds": gaps["deodds"],
            "score_leakage": fold_mean_leakage_mde([(s, c, y) for s, y, _, c in folds], n_draws, seed),
            "decision_leakage": fold_mean_leakage_mde([(d, c, y) for _, y, d, c in folds], n_draws, seed),
        }
        rows += [
            {
                "method": method,
                "metric": f"{metric}_fold_mean_floor_mde",
                "attribute": attribute,
                "mean": value,
                "std": np.nan,
                "n_folds": len(folds),
            }
            for metric, value in mdes.items()
        ]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).astype({"mean": float, "std": float})


def fold_seed(fold, seed: int = 0) -> list[int]:
    """A generator seed of its own per fold (and per repeat of a study: ``seed``), so that the folds' null
    draws are independent: [seed, fold] for an integer fold, else [seed, CRC-32 of its name]."""
    try:
        return [seed, int(fold)]
    except (TypeError, ValueError):
        return [seed, zlib.crc32(str(fold).encode())]
