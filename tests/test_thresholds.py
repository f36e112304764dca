"""Controls of neurolip.evaluation.thresholds: exact expected gaps of randomised thresholds equal the mean
over many draws; deterministic group thresholds randomise nobody, meet their constraint, are reproducible."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

from neurolip.evaluation.thresholds import (
    draw_decisions,
    expected_gaps,
    expected_rate_gaps,
    gap_draws,
    randomised,
    randomised_threshold_report,
)
from neurolip.training.stages.group_thresholds import (
    DeterministicGroupThresholds,
    decision_probabilities,
    fit_group_thresholds,
)


def predictions(n, seed, n_female=None):
    """ABIDE-like scores: fewer females, lower base rate in females, a score shifted up for males."""
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.15 if n_female is None else np.arange(n) < n_female
    y = (rng.random(n) < np.where(female, 0.4, 0.5)).astype(int)
    logit = 0.9 * (2 * y - 1) + 0.5 * ~female + rng.normal(0, 1, n)
    return pd.DataFrame(
        {"y_true": y, "p_disease": 1 / (1 + np.exp(-logit)), "sex": np.where(female, "F", "M")}
    )


@pytest.fixture(scope="module")
def equalized_odds():
    validation, test = predictions(800, 0), predictions(1035, 1)
    optimizer = fit_group_thresholds(validation, "sex", constraint="equalized_odds")
    p = decision_probabilities(optimizer, test.p_disease, test.sex)
    return optimizer, test, p


def test_decision_probabilities_are_what_predict_draws(equalized_odds):
    optimizer, test, p = equalized_odds
    coin = randomised(p)
    assert coin.any(), "equalized odds on these scores should randomise some subjects"
    drawn = np.array(
        [
            optimizer.predict(test[["p_disease"]].to_numpy(), sensitive_features=test.sex, random_state=s)
            for s in range(300)
        ]
    )
    np.testing.assert_array_equal(drawn[:, ~coin], np.broadcast_to(p[~coin], drawn[:, ~coin].shape))
    assert np.abs(drawn[:, coin].mean(0) - p[coin]).max() < 0.15


def test_expected_gaps_equal_the_mean_over_many_draws(equalized_odds):
    _, test, p = equalized_odds
    exact = expected_gaps(p, test.y_true, test.sex)
    draws = gap_draws(p, test.y_true, test.sex, n_draws=20000, seed=3)
    for gap, values in draws.items():
        standard_error = values.std() / np.sqrt(len(values))
        assert abs(values.mean() - exact[gap]) < 4 * standard_error + 1e-12, (gap, values.mean(), exact[gap])
    # mean decisions converge to the decision probabilities: the gap of expected rates
    mean_decisions = draw_decisions(p, 20000, seed=4).mean(0)
    rates = expected_rate_gaps(mean_decisions, test.y_true, test.sex)
    assert rates["dpd"] == pytest.approx(expected_rate_gaps(p, test.y_true, test.sex)["dpd"], abs=0.01)
    # a single draw's DPD is one value of that distribution, the fairlearn way
    one = draw_decisions(p, 1, seed=5)[0]
    assert draws_contains(
        draws["dpd"], demographic_parity_difference(test.y_true, one, sensitive_features=test.sex)
    )


def draws_contains(values, value):
    return values.min() - 1e-12 <= value <= values.max() + 1e-12


def test_report_has_range_and_randomised_share(equalized_odds):
    _, test, p = equalized_odds
    gaps, share = randomised_threshold_report(p, test.y_true, test.sex, n_draws=200)
    gaps = gaps.set_index("gap")
    assert (gaps["draw_p05"] <= gaps["draw_p95"]).all()
    assert gaps.loc["deodds", "draw_p95"] > gaps.loc["deodds", "draw_p05"], "coin flips must spread the gap"
    assert set(share.group) == {"F", "M"} and share.randomised_share.between(0, 1).all()
    assert share.randomised_share.max() > 0
    print(gaps.round(4).to_string(), share.to_string(), sep="\n")


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_deterministic_thresholds_meet_the_constraint_without_coin_flips(constraint):
    validation = predictions(800, 0)
    model = DeterministicGroupThresholds(constraint=constraint, tolerance=0.03)
    model.fit(validation.p_disease, validation.y_true, validation.sex)
    assert model.constraint_met_ and set(model.thresholds_) == {"F", "M"}
    decided = model.predict(validation.p_disease, validation.sex)
    metric = (
        demographic_parity_difference if constraint == "demographic_parity" else equalized_odds_difference
    )
    violation = metric(validation.y_true, decided, sensitive_features=validation.sex)
    assert violation <= 0.03 + 1e-12 and violation == pytest.approx(model.violation_)
    unconstrained = metric(validation.y_true, validation.p_disease >= 0.5, sensitive_features=validation.sex)
    assert unconstrained > 0.05, "the scores must be unfair for the test to mean anything"
    # no subject is randomised, and refitting or predicting again changes nothing
    assert not randomised(model.predict_proba_decision(validation.p_disease, validation.sex)).any()
    again = DeterministicGroupThresholds(constraint=constraint, tolerance=0.03).fit(
        validation.p_disease, validation.y_true, validation.sex
    )
    assert again.thresholds_ == model.thresholds_
    test = predictions(1035, 1)
    np.testing.assert_array_equal(
        model.predict(test.p_disease, test.sex), again.predict(test.p_disease, test.sex)
    )
    # better than deciding everyone the same
    assert model.balanced_accuracy_ > 0.6


def test_deterministic_thresholds_say_when_the_tolerance_cannot_be_met_and_reject_unknown_groups(caplog):
    validation = predictions(60, 2, n_female=12)
    model = DeterministicGroupThresholds(constraint="equalized_odds", tolerance=0.0)
    model.fit(validation.p_disease, validation.y_true, validation.sex)
    if not model.constraint_met_:
        assert "no pair of thresholds" in caplog.text
    with pytest.raises(ValueError, match="not in the data the thresholds were fitted on"):
        model.predict([0.2], ["X"])
    with pytest.raises(ValueError, match="constraint must be one of"):
        DeterministicGroupThresholds(constraint="parity").fit(
            validation.p_disease, validation.y_true, validation.sex
        )


def test_expected_gaps_of_certain_decisions_are_the_plain_gaps_and_empty_cells_are_errors():
    test = predictions(300, 6)
    decided = (test.p_disease >= 0.5).astype(float).to_numpy()
    exact = expected_gaps(decided, test.y_true, test.sex)
    assert exact["dpd"] == pytest.approx(
        demographic_parity_difference(test.y_true, decided, sensitive_features=test.sex)
    )
    assert exact["deodds"] == pytest.approx(
        equalized_odds_difference(test.y_true, decided, sensitive_features=test.sex)
    )
    only_male_patients = np.where(test.y_true == 1, "M", test.sex)
    with pytest.raises(ValueError, match="subjects in both groups"):
        expected_gaps(decided, test.y_true, only_male_patients)


@pytest.mark.parametrize(
    ("constraint", "rate"), [("true_positive_rate_parity", 1), ("false_positive_rate_parity", 0)]
)
def test_deterministic_rate_parity_constrains_its_own_rate(constraint, rate):
    from fairlearn.metrics import demographic_parity_difference as gap

    validation = predictions(800, 0)
    model = DeterministicGroupThresholds(constraint=constraint, tolerance=0.03)
    model.fit(validation.p_disease, validation.y_true, validation.sex)
    decided = model.predict(validation.p_disease, validation.sex)
    cell = (validation.y_true == rate).to_numpy()
    # TPR (FPR) gap = the selection-rate gap among patients (controls)
    violation = gap(decided[cell], decided[cell], sensitive_features=validation.sex[cell])
    assert model.constraint_met_ and violation <= 0.03 + 1e-12
    assert violation == pytest.approx(model.violation_)


def test_expected_maximum_equals_the_outer_product_formula():
    """E[max(A, B)] of independent discrete variables in linear memory: the same as summing over every pair."""
    from neurolip.evaluation.thresholds import expected_maximum

    rng = np.random.default_rng(3)
    a, b = rng.random(40).round(2), rng.random(55).round(2)  # rounded: supports share values (ties)
    pa, pb = rng.dirichlet(np.ones(40)), rng.dirichlet(np.ones(55))
    by_pairs = pa @ np.maximum(a[:, None], b[None, :]) @ pb
    assert expected_maximum(a, pa, b, pb) == pytest.approx(by_pairs, rel=1e-12)
