"""Per-fold gaps beside the floor of their fold mean (per-fold null draws averaged across folds draw by draw),
decision leakage beside its floor, per-fold DEOdds when a group holds one class only, and the fold-mean
floor's controls (the benchmark's core at small settings)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurolip.evaluation.floors import gap_floor
from neurolip.evaluation.fold_mean import FLOORED, fold_floor_draws, fold_mean_floor, fold_mean_rows
from neurolip.evaluation.per_fold import fairness_metrics
from neurolip.evaluation.probes import decision_leakage_floor
from neurolip.evaluation.tables import _cell

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from fold_mean_floor import firing_rates  # noqa: E402  (the benchmark's core)


def _cohort(rng, n, shift):
    y = rng.integers(0, 2, n)
    sex = rng.random(n) < 0.3
    score = y + rng.normal(0, 1, n) + shift * sex
    return y, sex.astype(int), score


def test_decision_leakage_fires_for_a_score_shifted_by_sex_and_not_for_a_blind_one():
    rng = np.random.default_rng(0)
    fired = []
    for shift in (0.0, 1.0):
        hits = []
        for _ in range(40):
            y, sex, score = _cohort(rng, 200, shift)
            hits.append(decision_leakage_floor(score, sex, y, n_draws=300, seed=1)["above_floor"])
        fired.append(np.mean(hits))
    blind, unfair = fired
    assert blind <= 0.15  # about 5 % false alarms expected
    assert unfair >= 0.9


def test_the_leakage_floor_sits_above_one_half_for_pure_noise():
    """max(AUC, 1 - AUC) is biased upward: the floor says by how much at these group sizes."""
    rng = np.random.default_rng(2)
    y, sex, score = _cohort(rng, 60, 0.0)
    floor = decision_leakage_floor(score, sex, y, n_draws=1000, seed=0)
    assert 0.52 < floor["floor_median"] < 0.62 and floor["floor_p95"] > floor["floor_median"]


def test_per_fold_deodds_leaves_out_a_class_missing_a_group():
    """fairlearn counts a group without patients with TPR 0 (DEOdds 1.0 for fair decisions): the gap of
    that class is undefined, so DEOdds is too."""
    y = np.array([1, 1, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0])
    sex = pd.Series(["M", "M", "M", "M", "F", "F"])
    rows = dict(fairness_metrics("sex", y, y_pred.astype(float), y_pred, sex))
    assert np.isnan(rows["deodds"])
    # with both groups in both classes it is the larger of the TPR and FPR gaps
    y = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    y_pred = np.array([1, 1, 0, 0, 0, 1, 1, 0])
    sex = pd.Series(["M", "M", "M", "M", "F", "F", "F", "F"])
    rows = dict(fairness_metrics("sex", y, y_pred.astype(float), y_pred, sex))
    tpr_gap = abs(2 / 3 - 1.0)
    fpr_gap = abs(0.0 - 1 / 3)
    assert np.isclose(rows["deodds"], max(tpr_gap, fpr_gap))


def test_fold_floor_draws_of_a_fold_and_their_table_cell():
    rng = np.random.default_rng(3)
    y, sex, score = _cohort(rng, 120, 0.0)
    groups = pd.Series(np.where(sex == 1, "F", "M"))
    draws = fold_floor_draws(score, y, (score > 0.5).astype(int), groups, n_draws=300, seed=[0, 1])
    assert set(draws) == set(FLOORED)
    for metric in ("dpd", "deodds", "decision_leakage"):
        observed, null = draws[metric]
        assert null.shape == (300,) and np.percentile(null, 95) >= np.median(null) > 0
    rows = fold_mean_rows({("m", "sex", m): {0: pair} for m, pair in draws.items()})
    summary = pd.concat(
        [pd.DataFrame([{"method": "m", "metric": "dpd", "attribute": "sex", "mean": 0.1, "std": 0.02}]), rows]
    )
    cell = _cell(summary, "m", "dpd", "sex")
    assert cell.startswith("10.00 ± 2.00 (fold-mean floor ") and "p95" in cell
    # rows of the fold mean's floor only, no mean of per-fold floors
    assert rows.metric.str.contains("_fold_mean_floor_").all() and len(rows) == 3 * len(FLOORED)
    # subjects of unknown group are left out of every figure and its draws
    unknown = groups.where(np.arange(len(groups)) % 10 != 0, None)
    partial = fold_floor_draws(score, y, (score > 0.5).astype(int), unknown, n_draws=300, seed=[0, 1])
    known = unknown.notna().to_numpy()
    alone = fold_floor_draws(
        score[known], y[known], (score[known] > 0.5).astype(int), unknown[known], n_draws=300, seed=[0, 1]
    )
    for metric in FLOORED:
        assert partial[metric][0] == pytest.approx(alone[metric][0])
        np.testing.assert_allclose(partial[metric][1], alone[metric][1])
    # a three-group attribute gets no floor draws (the floors are for two groups)
    assert fold_floor_draws(score, y, y, pd.Series(rng.choice(["a", "b", "c"], len(y))), n_draws=10) == {}


def test_the_fold_mean_floor_of_one_fold_is_that_folds_floor():
    rng = np.random.default_rng(4)
    y, sex, score = _cohort(rng, 200, 0.3)
    decisions = (score > 0.5).astype(int)
    draws = fold_floor_draws(score, y, decisions, pd.Series(sex), n_draws=500, seed=7)
    per_fold = gap_floor(y, decisions, sex, n_draws=500, seed=7).set_index("gap")
    leakage = decision_leakage_floor(score, sex, y, n_draws=500, seed=7)
    for metric, expected in (
        ("dpd", per_fold.loc["dpd"]),
        ("deodds", per_fold.loc["deodds"]),
        ("score_leakage", leakage),
    ):
        floor = fold_mean_floor([draws[metric][0]], [draws[metric][1]])
        assert floor["n_folds"] == 1
        assert floor["value"] == pytest.approx(expected["observed"])
        assert floor["floor_median"] == pytest.approx(expected["floor_median"])
        assert floor["floor_p95"] == pytest.approx(expected["floor_p95"])
        assert floor["p"] == pytest.approx(expected["p_floor"])


def test_the_fold_mean_floor_averages_draw_by_draw_and_counts_ties_in_its_p_value():
    # draw b of the fold mean is the mean of draw b of every fold, not of the sorted draws
    first, second = np.array([0.0, 1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0, 0.0])
    floor = fold_mean_floor([1.0, 2.0], [first, second])
    assert floor["value"] == 1.5 and floor["floor_median"] == floor["floor_p95"] == 1.5
    assert floor["p"] == pytest.approx((1 + 4) / (4 + 1))  # every null draw ties the observed mean
    # p = (1 + #{null >= observed}) / (B + 1)
    null = np.arange(1, 20) / 100  # 0.01 ... 0.19, B = 19
    assert fold_mean_floor([0.15], [null])["p"] == pytest.approx((1 + 5) / 20)
    assert fold_mean_floor([0.5], [null])["p"] == pytest.approx(1 / 20)  # the smallest attainable p
    # folds without a figure or draws are left out of the mean and of the null
    floor = fold_mean_floor([0.2, np.nan, 0.4], [null, null, np.full(19, np.nan)])
    assert floor["n_folds"] == 1 and floor["value"] == pytest.approx(0.2)
    assert fold_mean_floor([np.nan], [null])["n_folds"] == 0
    with pytest.raises(ValueError, match="same number of null draws"):
        fold_mean_floor([0.1, 0.2], [null, null[:10]])


def test_averaging_folds_narrows_the_floor():
    """The fold mean's null is narrower than one fold's: the mean of per-fold p95s sits far above the p95
    of the fold mean (why the old rule could not fire)."""
    rng = np.random.default_rng(5)
    observed, draws = [], []
    for fold in range(5):
        y, sex, score = _cohort(rng, 200, 0.0)
        value, null = fold_floor_draws(score, y, (score > 0.5).astype(int), pd.Series(sex), 1000, [0, fold])[
            "deodds"
        ]
        observed.append(value)
        draws.append(null)
    floor = fold_mean_floor(observed, draws)
    assert floor["floor_p95"] < np.mean([np.percentile(d, 95) for d in draws]) - 0.02
    assert floor["floor_median"] == pytest.approx(np.mean([np.median(d) for d in draws]), abs=0.02)


def test_table_cells_mark_a_fold_mean_above_its_floor_and_take_the_probes_floor_from_pooled():
    summary = pd.DataFrame(
        [
            {"method": "m", "metric": "deodds", "attribute": "sex", "mean": 0.2, "std": 0.05, "n_folds": 5},
            {
                "method": "m",
                "metric": "probe_auc",
                "attribute": "sex",
                "mean": 0.6,
                "std": 0.02,
                "n_folds": 5,
            },
        ]
        + [
            {
                "method": "m",
                "metric": f"deodds_fold_mean_floor_{k}",
                "attribute": "sex",
                "mean": v,
                "n_folds": n,
            }
            for k, v, n in (("median", 0.08, 5), ("p95", 0.12, 5), ("p", 0.001, 5))
        ]
    )
    assert _cell(summary, "m", "deodds", "sex", 5) == "20.00 ± 5.00 (fold-mean floor 8.00; p95 12.00) *"
    quiet = summary.assign(mean=np.where(summary.metric == "deodds_fold_mean_floor_p", 0.3, summary["mean"]))
    assert _cell(quiet, "m", "deodds", "sex", 5).endswith("p95 12.00)")
    # a floor over fewer folds than the mean beside it says so
    fewer = summary.assign(n_folds=np.where(summary.metric.str.contains("floor"), 4, 5))
    assert "p95 12.00 over 4 folds)" in _cell(fewer, "m", "deodds", "sex", 5)
    pooled = pd.DataFrame(
        [
            {
                "method": "m",
                "metric": "probe_auc",
                "attribute": "sex",
                "value": 0.6,
                "floor_median": 0.52,
                "floor_p95": 0.55,
                "p_floor": 0.002,
                "above_floor": 1.0,
            }
        ]
    )
    assert _cell(summary, "m", "probe_auc", "sex", 5, pooled) == (
        "60.00 ± 2.00 (fold-mean floor 52.00; p95 55.00) *"
    )
    # the probe's exact test with its MDE (metrics/pooled.csv, probe_test.pooled_probe_rows)
    assert _cell(summary, "m", "probe_auc", "sex", 5, pooled.assign(mde=0.565)) == (
        "60.00 ± 2.00 (fold-mean floor 52.00; p95 55.00; MDE 56.50) *"
    )
    assert _cell(summary, "m", "probe_auc", "sex", 5) == "60.00 ± 2.00"


def test_the_benchmark_core_fires_with_a_planted_effect_and_stays_mostly_quiet_without():
    """``benchmarks/fold_mean_floor.py`` at small settings (its figures at full size are in
    docs/benchmarks.md): 30 no-effect cohorts and 30 with a strong score shift for one sex."""
    quiet = firing_rates(0.0, 30, n_draws=200, n=600)
    loud = firing_rates(1.0, 30, n_draws=200, n=600)
    new = "fold-mean floor"
    quiet, loud = (t[t.rule == new].set_index("metric")["fired"] / 30 for t in (quiet, loud))
    # about 5 % false alarms expected: 6 of 30 or more has probability < 1 % per figure at 5 %
    assert (quiet <= 0.2).all(), quiet.to_dict()
    assert (loud[["deodds", "score_leakage", "decision_leakage"]] >= 0.8).all(), loud.to_dict()
