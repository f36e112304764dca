"""Controls of the gap floors (neurolip.evaluation.floors): unfair decisions sit above the floor, sex-blind
ones exceed it in about 5 % of cohorts, and the fast gaps equal fairlearn's."""

import numpy as np
import pytest
from fairlearn.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    true_positive_rate,
)

from neurolip.evaluation.floors import gap_floor, paired_gap_difference, two_group_gaps


def cohort(n, seed, sex_shift=0.0):
    """ABIDE-like: autism more common in males; decisions from a score that may be shifted for females."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    female = rng.random(n) < np.where(y == 1, 0.12, 0.2)
    score = 1.0 * (2 * y - 1) + sex_shift * female + rng.normal(0, 1, n)
    return y, (score > 0).astype(int), np.where(female, "F", "M"), score


def test_fast_gaps_equal_fairlearn():
    y, y_pred, sex, _ = cohort(500, 0, sex_shift=0.7)
    gaps = two_group_gaps(y_pred, y, sex == "M")
    assert gaps["dpd"] == pytest.approx(demographic_parity_difference(y, y_pred, sensitive_features=sex))
    assert gaps["deodds"] == pytest.approx(equalized_odds_difference(y, y_pred, sensitive_features=sex))
    tpr = {g: true_positive_rate(y[sex == g], y_pred[sex == g]) for g in "FM"}
    fpr = {g: false_positive_rate(y[sex == g], y_pred[sex == g]) for g in "FM"}
    assert gaps["tpr_gap"] == pytest.approx(tpr["M"] - tpr["F"])
    assert gaps["fpr_gap"] == pytest.approx(fpr["M"] - fpr["F"])


def test_unfair_classifier_is_above_every_floor():
    y, y_pred, sex, _ = cohort(1000, 1, sex_shift=1.5)
    table = gap_floor(y, y_pred, sex, n_draws=1000, seed=0).set_index("gap")
    assert table["above_floor"].all(), table
    assert (table["floor_p95"] < table["observed"].abs()).all()
    assert (table["p_floor"] <= 0.01).all()


def test_sex_blind_classifier_sits_within_the_floor_at_the_nominal_rate():
    """200 sex-blind cohorts at a fold-like size: the floor's 95th percentile is exceeded in about 5 %."""
    alarms = {gap: 0 for gap in ("dpd", "deodds", "tpr_gap", "fpr_gap")}
    n_cohorts = 200
    for seed in range(n_cohorts):
        y, y_pred, sex, _ = cohort(200, 100 + seed)
        table = gap_floor(y, y_pred, sex, n_draws=1000, seed=seed).set_index("gap")
        for gap in alarms:
            alarms[gap] += bool(table.loc[gap, "above_floor"])
    rates = {gap: count / n_cohorts for gap, count in alarms.items()}
    print("false-alarm rate of the floor's 95th percentile, 200 sex-blind cohorts:", rates)
    assert all(0.01 <= r <= 0.10 for r in rates.values()), rates
    # the floor reflects group size: a sex-blind DEOdds on 200 subjects is far from zero
    y, y_pred, sex, _ = cohort(200, 7)
    assert gap_floor(y, y_pred, sex, seed=0).set_index("gap").loc["deodds", "floor_median"] > 0.05


def test_floor_within_folds_keeps_each_fold_stratum():
    y, y_pred, sex, _ = cohort(400, 3)
    folds = np.arange(400) % 4
    table = gap_floor(y, y_pred, sex, folds=folds, n_draws=200).set_index("gap")
    assert table.loc["dpd", "floor_median"] > 0 and not table.isna().any().any()
    with pytest.raises(ValueError, match="exactly two groups"):
        gap_floor(y, y_pred, np.where(np.arange(400) % 3 == 0, "a", np.where(sex == "F", "b", "c")))


def test_paired_bootstrap_separates_a_fairer_method_and_not_two_equal_ones():
    y, unfair, sex, score = cohort(1000, 4, sex_shift=1.5)
    fair = (score - 1.5 * (sex == "F") > 0).astype(int)  # the same score with the sex shift removed
    table = paired_gap_difference(y, unfair, fair, sex, n_boot=1000, seed=0).set_index("gap")
    assert table.loc["dpd", "ci_low"] > 0 and table.loc["deodds", "ci_low"] > 0, table
    same = paired_gap_difference(y, fair, fair.copy(), sex, n_boot=200).set_index("gap")
    assert (same["difference"] == 0).all() and (same["ci_low"] == 0).all() and (same["ci_high"] == 0).all()
