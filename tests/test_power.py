"""The minimum detectable effects of ``evaluation.power`` are the effects the instruments detect with 80 %
power: planted at the MDE they are detected in about 80 % of simulated cohorts, at half of it far less often
(the full check at ABIDE's sizes: ``benchmarks/power.py``); and the paired swap permutation test is
calibrated."""

import numpy as np
import pandas as pd
import pytest

from neurolip.evaluation import power
from neurolip.evaluation.floors import gap_floor, paired_gap_difference, paired_gap_permutation
from neurolip.evaluation.glance import glance_table
from neurolip.evaluation.probes import decision_leakage_floor
from neurolip.evaluation.tables import _pooled_cell

N, FEMALE_SHARE, COHORTS = 400, 0.3, 160


def _design(seed=0):
    rng = np.random.default_rng(seed)
    female = (np.arange(N) < FEMALE_SHARE * N).astype(int)
    y = rng.permutation(np.arange(N) % 2)  # the same diagnosis rate in both groups
    fold = np.arange(N) % 4
    return y, female, fold


def _decisions(rng, y, female, delta):
    """Decisions of TPR 0.7, FPR 0.3; females' both raised by delta (a DPD of delta)."""
    p = np.where(y == 1, 0.7, 0.3) + delta * female
    return (rng.random(len(y)) < p).astype(float)


def test_a_dpd_planted_at_its_mde_is_detected_in_about_80_percent_of_cohorts():
    y, female, fold = _design()
    rng = np.random.default_rng(1)
    mde = power.gap_mde(y, _decisions(rng, y, female, 0.0), female, fold, n_draws=1000, seed=0)["dpd"]
    assert 0.1 < mde < 0.3  # ~2.8 × sqrt(0.25/120 + 0.25/280) ≈ 0.15
    rates = {}
    for factor in (0.5, 1.0):
        hits = [
            gap_floor(y, _decisions(rng, y, female, factor * mde), female, fold, n_draws=200, seed=s)
            .set_index("gap")
            .at["dpd", "above_floor"]
            for s in range(COHORTS)
        ]
        rates[factor] = np.mean(hits)
    assert 0.68 <= rates[1.0] <= 0.92, rates
    assert rates[0.5] <= 0.45, rates


def test_a_leakage_planted_at_its_mde_is_detected_in_about_80_percent_of_cohorts():
    from scipy.stats import norm

    y, female, fold = _design()
    rng = np.random.default_rng(2)
    mde = power.leakage_mde(rng.normal(size=N), female, y, fold, n_draws=1000, seed=0)
    assert 0.55 < mde < 0.7
    rates = {}
    for factor in (0.5, 1.0):
        shift = np.sqrt(2) * norm.ppf(0.5 + factor * (mde - 0.5))
        hits = [
            decision_leakage_floor(rng.normal(size=N) + shift * female, female, y, fold, n_draws=200, seed=s)[
                "above_floor"
            ]
            for s in range(COHORTS)
        ]
        rates[factor] = np.mean(hits)
    assert 0.68 <= rates[1.0] <= 0.92, rates
    assert rates[0.5] <= 0.45, rates


def test_the_paired_mde_is_where_the_bootstrap_interval_excludes_zero_in_about_80_percent():
    y, female, _ = _design()
    rng = np.random.default_rng(3)
    mde = power.paired_mde(y, _decisions(rng, y, female, 0.2), _decisions(rng, y, female, 0.2), female, 1000)[
        "dpd"
    ]
    hits = []
    for s in range(COHORTS // 2):
        a, b = _decisions(rng, y, female, 0.2 + mde), _decisions(rng, y, female, 0.2)
        row = paired_gap_difference(y, a, b, female, n_boot=300, seed=s).set_index("gap").loc["dpd"]
        hits.append(row.ci_low > 0)
    assert 0.65 <= np.mean(hits) <= 0.95, (mde, np.mean(hits))


def test_the_swap_permutation_test_is_calibrated_and_detects_a_planted_difference():
    y, female, _ = _design()
    rng = np.random.default_rng(4)
    null, planted = [], []
    for s in range(COHORTS):
        b = _decisions(rng, y, female, 0.1)
        a = _decisions(rng, y, female, 0.1)
        null.append(
            paired_gap_permutation(y, a, b, female, n_draws=200, seed=s).p_permutation.iloc[0] <= 0.05
        )
        wide = _decisions(rng, y, female, 0.35)
        planted.append(
            paired_gap_permutation(y, wide, b, female, n_draws=200, seed=s).p_permutation.iloc[0] <= 0.05
        )
    assert np.mean(null) <= 0.09, np.mean(null)
    assert np.mean(planted) >= 0.8, np.mean(planted)


def test_mde_grows_as_the_groups_shrink_and_each_gap_and_leakage_has_one():
    y, female, fold = _design()
    rng = np.random.default_rng(5)
    d = _decisions(rng, y, female, 0.0)
    full = power.gap_mde(y, d, female, fold, n_draws=500)
    half = power.gap_mde(y[::2], d[::2], female[::2], fold[::2], n_draws=500)
    assert set(full) == {"dpd", "deodds", "tpr_gap", "fpr_gap"}
    assert all(half[g] > full[g] for g in full)
    assert full["deodds"] >= max(full["tpr_gap"], full["fpr_gap"]) - 0.01
    per_fold = [(y[fold == k], d[fold == k], female[fold == k]) for k in range(4)]
    assert power.fold_mean_gap_mde(per_fold, n_draws=500)["dpd"] > full["dpd"]  # |gap| per fold is noisier
    assert np.isnan(power.leakage_mde(d, np.where(y == 1, 1, 0), y, fold))  # a class lacks a group


def test_rows_within_their_floor_say_what_they_rule_out():
    pooled = pd.DataFrame(
        [
            {"method": "m", "metric": "auc", "attribute": "", "value": 0.7, "ci_low": 0.6, "ci_high": 0.8},
            {
                "method": "m",
                "metric": "dpd",
                "attribute": "sex",
                "value": 0.03,
                "floor_median": 0.02,
                "floor_p95": 0.06,
                "above_floor": 0.0,
                "mde": 0.12,
            },
            {
                "method": "m",
                "metric": "deodds",
                "attribute": "sex",
                "value": 0.3,
                "floor_median": 0.05,
                "floor_p95": 0.1,
                "above_floor": 1.0,
                "mde": 0.15,
            },
        ]
    )
    assert "an effect ≥ 12.00 would have been seen with 80 % power" in _pooled_cell(pooled, "m", "dpd", "sex")
    above = _pooled_cell(pooled, "m", "deodds", "sex")
    assert "MDE 15.00" in above and "would have been seen" not in above
    row = glance_table(pooled, ["m"], {}, "sex").iloc[0]
    assert (
        "an effect ≥ 0.120 would have been seen" in row["DPD"] and "would have been seen" not in row["DEOdds"]
    )


@pytest.mark.parametrize("gap", ["dpd", "deodds"])
def test_pooled_metrics_carry_an_mde_for_every_floored_row(gap):
    from neurolip.evaluation.pooled import pooled_metrics

    y, female, fold = _design()
    rng = np.random.default_rng(6)
    p = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, N), 0, 1)
    frame = pd.DataFrame(
        {
            "subject_id": [str(i) for i in range(N)],
            "fold": fold,
            "y_true": y,
            "p_disease": p,
            "y_pred": (p > 0.5).astype(int),
            "group[sex]": np.where(female == 1, "F", "M"),
        }
    )
    table = pooled_metrics({"m": frame}, ["sex"], n_boot=20, floor_draws=200).set_index("metric")
    floored = table.dropna(subset=["floor_p95"])
    assert {gap, "score_leakage", "decision_leakage"} <= set(floored.index)
    assert floored["mde"].notna().all() and (floored.loc[gap, "mde"] > floored.loc[gap, "floor_p95"])


def test_the_power_benchmark_runs_every_instrument_on_one_cohort():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from power import cohort_checks, paired_null  # the benchmark's core (figures: docs/benchmarks.md)

    fired, mde = cohort_checks(0, 100)
    assert {"pooled dpd", "fold-mean deodds", "paired dpd", "pooled score_leakage"} <= set(mde)
    assert all(np.isfinite(v) for v in mde.values())
    assert {f for _, f in fired} == {0.0, 0.5, 1.0}
    assert all(n == 1 for *_, n in paired_null(1, 50, first_seed=3).values())


def test_the_power_benchmark_prints_the_mdes_a_run_wrote(tmp_path, capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from power import from_results

    metrics = tmp_path / "metrics"
    metrics.mkdir()
    pd.DataFrame(
        [{"method": "m", "metric": "dpd", "attribute": "sex", "value": 0.05, "floor_p95": 0.1, "mde": 0.1734}]
    ).to_csv(metrics / "pooled.csv", index=False)
    pd.DataFrame(
        [{"method": "m", "metric": "dpd_fold_mean_floor_mde", "attribute": "sex", "mean": 0.2468}]
    ).to_csv(metrics / "summary.csv", index=False)
    from_results(tmp_path)
    out = capsys.readouterr().out
    assert "0.1734" in out and "0.2468" in out
