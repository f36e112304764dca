import logging

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference
from scipy import special

from neurolip.training.stages.group_thresholds import (
    DeterministicGroupThresholds,
    GroupThresholds,
    apply_group_thresholds,
    decision_probabilities,
    fit_group_thresholds,
)


def biased_predictions(n, seed):
    """Scores that are shifted up for males: at 0.5, males are called positive far more often."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["male", "female"], n)
    y = rng.integers(0, 2, n)
    logit = 1.5 * (2 * y - 1) + 1.2 * (sex == "male") - 0.6 + rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(n)],
            "fold": 0,
            "y_true": y,
            "p_disease": p,
            "y_pred": (p >= 0.5).astype(int),
            "score": p,
            "sex": sex,
        }
    )


def test_demographic_parity_thresholds_fitted_on_validation_reduce_test_dpd():
    validation, test = biased_predictions(600, 0), biased_predictions(2000, 1)
    before = demographic_parity_difference(test.y_true, test.y_pred, sensitive_features=test.sex)
    optimizer = fit_group_thresholds(validation, "sex")
    after = apply_group_thresholds(optimizer, test, "sex")
    dpd = demographic_parity_difference(after.y_true, after.y_pred, sensitive_features=after.sex)
    assert before > 0.12 and dpd < 0.05, (before, dpd)
    # scores are untouched, only the decisions move
    pd.testing.assert_series_equal(after.p_disease, test.p_disease)
    assert set(after.y_pred.unique()) <= {0, 1}


def test_thresholds_are_reproducible_and_unknown_groups_keep_their_decision():
    validation, test = biased_predictions(400, 2), biased_predictions(300, 3)
    test.loc[:9, "sex"] = None
    test.loc[10:14, "sex"] = "unreported"
    optimizer = fit_group_thresholds(validation, "sex")
    a, b = (apply_group_thresholds(optimizer, test, "sex", seed=0) for _ in range(2))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(a.y_pred[:15], test.y_pred[:15])
    assert (
        a.decision[:15].str.startswith("calibrated 0.5").all()
        and (a.decision[15:] == "group thresholds").all()
    )


def test_group_thresholds_stage_keeps_calibrated_decisions_when_a_group_cannot_be_fitted(caplog):
    validation = biased_predictions(200, 4)
    validation.loc[validation.sex == "female", "y_true"] = 0  # one class only among females
    test = biased_predictions(100, 5)
    with caplog.at_level(logging.WARNING):
        stage = GroupThresholds("sex", "demographic_parity").fit(validation, source="fold 0 validation")
        kept = stage.transform(test)
    assert "fold 0 validation: group sex=female holds a single class" in caplog.text
    assert stage.optimizer_ is None and not stage.describe()["fitted"]
    pd.testing.assert_series_equal(kept.y_pred, test.y_pred)
    assert kept.decision.str.startswith(
        "calibrated 0.5 (not fitted: group sex=female holds a single class"
    ).all()
    assert (kept.p_decision == kept.y_pred).all()
    # fitted in randomised mode, the stage is the functions it wraps, with its seed, plus each subject's
    # decision probability
    fitted = GroupThresholds("sex", "equalized_odds", mode="randomised", seed=3).fit(
        biased_predictions(400, 2)
    )
    optimizer = fit_group_thresholds(biased_predictions(400, 2), "sex", "equalized_odds")
    expected = apply_group_thresholds(optimizer, test, "sex", seed=3)
    expected["p_decision"] = decision_probabilities(optimizer, test.p_disease, test.sex)
    pd.testing.assert_frame_equal(fitted.transform(test), expected)
    with pytest.raises(ValueError, match="no column 'site'"):
        GroupThresholds("site").fit(validation)
    with pytest.raises(ValueError, match="constraint must be one of"):
        fit_group_thresholds(biased_predictions(50, 6), "sex", constraint="parity")


def test_deterministic_stage_is_the_default_and_flips_no_coin():
    validation, test = biased_predictions(400, 2), biased_predictions(300, 3)
    test.loc[:4, "sex"] = None
    stage = GroupThresholds("sex", "equalized_odds", tolerance=0.05).fit(validation)
    assert stage.mode == "deterministic" and stage.describe()["fitted"]
    out = stage.transform(test)
    # every decision probability is 0 or 1 and equals the decision
    assert set(out.p_decision.unique()) <= {0.0, 1.0} and (out.p_decision == out.y_pred).all()
    reference = DeterministicGroupThresholds("equalized_odds", 0.05).fit(
        validation.p_disease, validation.y_true, validation.sex
    )
    known = test.sex.notna().to_numpy()
    np.testing.assert_array_equal(
        out.y_pred[known], reference.predict(test.p_disease[known], test.sex[known].astype(str))
    )
    pd.testing.assert_series_equal(out.y_pred[:5], test.y_pred[:5])
    # K members: each member's own decision, majority of K (three identical members: the single decision)
    members = np.vstack([test.p_disease.to_numpy()] * 3)
    pd.testing.assert_frame_equal(stage.transform(test, members=members), out)
    # two of three members push everyone to 1: the majority decides positive
    pushed = np.vstack([np.ones(len(test)), np.ones(len(test)), np.zeros(len(test))])
    assert (stage.transform(test, members=pushed).y_pred[known] == 1).all()


def test_randomised_stage_keeps_the_decision_probabilities_of_its_members():
    validation, test = biased_predictions(400, 2), biased_predictions(300, 3)
    stage = GroupThresholds("sex", "equalized_odds", mode="randomised", seed=1).fit(validation)
    single = decision_probabilities(stage.optimizer_, test.p_disease, test.sex)
    low = np.clip(test.p_disease.to_numpy() - 0.2, 0, 1)
    out = stage.transform(test, members=np.vstack([test.p_disease.to_numpy(), low]))
    expected = (single + decision_probabilities(stage.optimizer_, low, test.sex)) / 2
    np.testing.assert_allclose(out.p_decision, expected)


def test_corrected_t_test_is_wider_than_the_plain_one():
    from neurolip.evaluation.paired import paired_comparison

    rows = [
        {"method": m, "fold": f, "metric": "auc", "attribute": "", "value": v}
        for f, (a, b) in enumerate([(0.80, 0.75), (0.78, 0.76), (0.82, 0.77), (0.79, 0.78), (0.81, 0.74)])
        for m, v in (("ref", a), ("base", b))
    ]
    table = paired_comparison(pd.DataFrame(rows), "ref", metrics=(("auc", ""),), test_train_ratio=0.25).iloc[
        0
    ]
    assert (
        table.ci_low_corrected
        < table.ci_low
        < table.mean_difference
        < table.ci_high
        < table.ci_high_corrected
    )
    assert table.p_value < table.p_value_corrected < 1
    # Nadeau-Bengio: variance (1/J + ratio) s^2 instead of s^2 / J
    diffs = np.array([0.05, 0.02, 0.05, 0.01, 0.07])
    t = diffs.mean() / np.sqrt((1 / 5 + 0.25) * diffs.var(ddof=1))
    from scipy import stats

    assert table.p_value_corrected == pytest.approx(2 * stats.t.sf(t, 4))


def test_pooled_metrics_give_bootstrap_intervals_and_a_dpd_floor():
    from neurolip.evaluation.pooled import pooled_metrics

    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    sex = np.where(rng.random(n) < 0.5, "female", "male")
    # decisions depend on sex: a large DPD, far above the floor of sex-blind decisions
    y_pred = ((sex == "male") | (rng.random(n) < 0.2)).astype(int)
    frame = pd.DataFrame(
        {
            "y_true": y,
            "p_disease": np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1),
            "y_pred": y_pred,
            "fold": np.arange(n) % 4,
            "group[sex]": sex,
        }
    )
    table = pooled_metrics({"m": frame}, ["sex"], n_boot=200, floor_draws=200).set_index(
        ["metric", "attribute"]
    )
    dpd = table.loc[("dpd", "sex")]
    assert dpd.ci_low < dpd.value < dpd.ci_high and dpd.floor_median < 0.1 < 0.6 < dpd.value
    # the fast gaps used for the bootstrap are fairlearn's
    from fairlearn.metrics import equalized_odds_difference

    assert dpd.value == pytest.approx(demographic_parity_difference(y, y_pred, sensitive_features=sex))
    assert table.loc[("deodds", "sex")].value == pytest.approx(
        equalized_odds_difference(y, y_pred, sensitive_features=sex)
    )
    auc = table.loc[("auc", "")]
    assert 0.5 < auc.ci_low < auc.value < auc.ci_high <= 1
    # a method's intervals and floor do not depend on the other methods of the run
    other = frame.assign(y_pred=1 - frame.y_pred)
    both = pooled_metrics({"other": other, "m": frame}, ["sex"], n_boot=200, floor_draws=200)
    pd.testing.assert_frame_equal(
        both[both.method == "m"].drop(columns="method").set_index(["metric", "attribute"]),
        table.drop(columns="method"),
    )


def test_a_diagnosis_proxy_is_named_in_the_table_notes():
    import pandas as pd

    from neurolip.evaluation.tables import proxy_notes

    cohort = pd.DataFrame(
        {
            "diagnosis": [1, 1, 1, 0, 0, 0, 1, 0],
            "site": ["A", "A", "A", "A", "B", "B", "C", "C"],
            "srs": [120, 110, 95, 20, 30, None, None, None],
            "age": [10, 30, 12, 28, 11, 29, 27, 13],
        }
    )
    notes = proxy_notes(cohort, ["srs", "age", "sex"], ["srs", "age"])
    srs = next(n for n in notes if n.startswith("srs"))
    assert "known for 5 of 8 subjects, missing at 1 of 3 sites" in srs and "diagnosis proxy" in srs
    assert not any("proxy" in n for n in notes if n.startswith("age"))


def _previous_rate_gap(decisions, codes):
    # the hand-written gap pooled DPD/DEOdds used before they went through fairlearn (reference for the test)
    known = codes >= 0
    counts = np.bincount(codes[known], minlength=1)
    positives = np.bincount(codes[known], weights=decisions[known], minlength=1)
    present = counts > 0
    if present.sum() < 2:
        return np.nan
    rates = positives[present] / counts[present]
    return float(rates.max() - rates.min())


def test_pooled_gaps_through_fairlearn_equal_the_previous_hand_written_ones():
    from fairlearn.metrics import equalized_odds_difference

    from neurolip.evaluation.bootstrap import resampled_deodds as _deodds
    from neurolip.evaluation.bootstrap import resampled_dpd as _dpd
    from neurolip.evaluation.gaps import pooled_deodds, pooled_dpd

    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(20, 300))
        y = rng.integers(0, 2, n)
        decision = rng.integers(0, 2, n)
        names = np.array(["a", "b", "c", "d"])[: int(rng.integers(2, 5))]
        groups = rng.choice(names, n).astype(object)
        groups[rng.random(n) < 0.1] = None  # unknown group: left out
        codes = np.full(n, -1)
        known = np.array([g is not None for g in groups])
        codes[known] = np.unique(groups[known].astype(str), return_inverse=True)[1]
        everyone = np.arange(n)
        previous_dpd = _previous_rate_gap(decision, codes)
        previous_deodds = max(
            _previous_rate_gap(decision[(y == 1) & known], codes[(y == 1) & known]),
            _previous_rate_gap(decision[(y == 0) & known], codes[(y == 0) & known]),
        )
        assert pooled_dpd(decision, groups) == pytest.approx(previous_dpd, abs=1e-12)
        assert pooled_deodds(y, decision, groups) == pytest.approx(previous_deodds, abs=1e-12)
        # the fast gaps of the bootstrap resamples agree with fairlearn's, on resamples too
        idx = rng.integers(0, n, n)
        assert _dpd(decision, codes, idx) == pytest.approx(pooled_dpd(decision[idx], groups[idx]), abs=1e-12)
        assert _deodds(y, decision, codes, idx) == pytest.approx(
            pooled_deodds(y[idx], decision[idx], groups[idx]), abs=1e-12
        )
        assert _dpd(decision, codes, everyone) == pytest.approx(previous_dpd, abs=1e-12)
        # every group holds both classes: exactly fairlearn's equalized-odds difference
        if all(len(set(y[known & (groups == g)])) == 2 for g in names if (groups == g).any()):
            assert pooled_deodds(y, decision, groups) == pytest.approx(
                equalized_odds_difference(
                    y[known], decision[known], sensitive_features=groups[known].astype(str)
                )
            )
    # a single group: no gap
    assert np.isnan(pooled_dpd(np.array([0, 1, 1]), np.array(["a", "a", None], dtype=object)))
    # all patients in one group (e.g. SRS above its median): the TPR gap, hence DEOdds, is undefined, as
    # before; all controls in one group: undefined too (before: the TPR gap alone)
    y, decision = np.array([1, 1, 0, 0, 0, 0]), np.array([1, 0, 1, 0, 0, 1])
    patients_in_a = np.array(["a", "a", "a", "b", "a", "b"], dtype=object)
    assert np.isnan(pooled_deodds(y, decision, patients_in_a))
    assert np.isnan(pooled_deodds(1 - y, decision, patients_in_a))


def test_stratified_bootstrap_resamples_within_strata_and_is_reproducible():
    from scipy.stats import bootstrap

    from neurolip.stats import stratified_bootstrap

    rng = np.random.default_rng(1)
    y = np.r_[np.ones(30, int), np.zeros(50, int)]
    x = rng.normal(size=80) + y
    statistics = [lambda idx: x[idx].mean(), lambda idx: y[idx].sum(), lambda idx: np.nan]
    mean_ci, positives_ci, undefined = stratified_bootstrap(statistics, y, 500, np.random.default_rng(3))
    # within diagnosis: every resample keeps 30 patients
    assert positives_ci == (30, 30)
    assert mean_ci[0] < x.mean() < mean_ci[1] and np.isnan(undefined).all()
    # the same seed gives the same interval; it is scipy's percentile interval of the same resamples
    assert stratified_bootstrap(statistics[:1], y, 500, np.random.default_rng(3))[0] == mean_ci
    reference = bootstrap(
        (x[y == 0], x[y == 1]),
        lambda a, b, axis=-1: np.concatenate([a, b], axis=-1).mean(axis=-1),
        n_resamples=500,
        method="percentile",
        rng=np.random.default_rng(3),
    ).confidence_interval
    assert mean_ci == pytest.approx((reference.low, reference.high))


def _pooled_frame(seed, n=600, shift=0.0, randomised_share=0.0):
    """Pooled test predictions of a simulated cohort: sex-blind scores, or scores shifted by sex."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    sex = np.where(rng.random(n) < 0.3, "female", "male")
    p = special.expit(1.5 * (y - 0.5) + rng.normal(size=n) + shift * (sex == "male"))
    frame = pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(n)],
            "y_true": y,
            "p_disease": p,
            "y_pred": (p >= 0.5).astype(int),
            "fold": np.arange(n) % 5,
            "repeat": 0,
            "group[sex]": sex,
        }
    )
    if randomised_share:
        p_decision = frame.y_pred.to_numpy(float)
        coin = rng.random(n) < randomised_share
        p_decision[coin] = 0.5
        frame["p_decision"] = p_decision
        frame["y_pred"] = (rng.random(n) < p_decision).astype(int)
    return frame


def test_pooled_gaps_have_floors_and_leakage_separates_unfair_from_sex_blind():
    from neurolip.evaluation.pooled import pooled_metrics

    unfair, blind = _pooled_frame(1, shift=1.5), _pooled_frame(1)
    table = pooled_metrics({"unfair": unfair, "blind": blind}, ["sex"], n_boot=50, floor_draws=400)
    table = table.set_index(["method", "metric", "attribute"])
    for gap in ("dpd", "deodds", "tpr_gap", "fpr_gap"):
        row = table.loc[("unfair", gap, "sex")]
        assert row.floor_median < row.floor_p95 < abs(row.value) and row.above_floor == 1.0
        assert table.loc[("blind", gap, "sex"), "floor_p95"] > 0
    assert table.loc[("blind", "dpd", "sex"), "above_floor"] == 0.0
    # score leakage: the unfair score tells the sexes apart within each diagnosis, the blind one hardly;
    # decision leakage (of the 0/1 decisions) too, each above / within its floor
    assert table.loc[("unfair", "score_leakage", "sex"), "value"] > 0.75
    assert table.loc[("blind", "score_leakage", "sex"), "value"] < 0.6
    assert table.loc[("unfair", "score_auc[y=1]", "sex"), "value"] > 0.75
    for metric in ("score_leakage", "decision_leakage"):
        assert table.loc[("unfair", metric, "sex"), "above_floor"] == 1.0
        assert table.loc[("blind", metric, "sex"), "above_floor"] == 0.0
    # no randomised decisions: no expected-gap rows
    assert not any(m.endswith("_expected") for m in table.index.get_level_values("metric"))


def test_randomised_decisions_are_reported_by_expectation_spread_and_share():
    from neurolip.evaluation.pooled import pooled_metrics

    frame = _pooled_frame(2, randomised_share=0.3)
    table = pooled_metrics({"m": frame}, ["sex"], n_boot=20, floor_draws=100, n_draws=300)
    table = table.set_index(["metric", "attribute"])
    for gap in ("dpd", "deodds"):
        row = table.loc[(f"{gap}_expected", "sex")]
        assert row.draw_p05 < row.value < row.draw_p95
    shares = [table.loc[(f"randomised_share[{g}]", "sex"), "value"] for g in ("female", "male")]
    assert all(0.2 < s < 0.4 for s in shares)
    # per fold too: the exact expectation, which differs from the one draw in y_pred
    from neurolip.evaluation.per_fold import fold_metrics
    from neurolip.evaluation.thresholds import expected_gaps

    rows = fold_metrics(frame.rename(columns={"group[sex]": "sex"}), {}, ["sex"])
    per_fold = {r["metric"]: r["value"] for r in rows if r["attribute"] == "sex"}
    exact = expected_gaps(frame.p_decision, frame.y_true, frame["group[sex]"])
    assert per_fold["dpd_expected"] == pytest.approx(exact["dpd"])
    assert per_fold["deodds_expected"] == pytest.approx(exact["deodds"])


def test_decision_leakage_in_the_per_fold_metrics_reads_the_decision_probability():
    from neurolip.evaluation.per_fold import fold_metrics

    frame = _pooled_frame(3).rename(columns={"group[sex]": "sex"})
    plain = {r["metric"]: r["value"] for r in fold_metrics(frame, {}, ["sex"]) if r["attribute"] == "sex"}
    # a group-threshold method whose decision is the sex itself: leakage 1 within each diagnosis
    thresholded = frame.assign(p_decision=(frame.sex == "male").astype(float))
    rows = fold_metrics(thresholded, {}, ["sex"])
    leak = {r["metric"]: r["value"] for r in rows if r["attribute"] == "sex"}["decision_leakage"]
    assert plain["decision_leakage"] < 0.65 and leak == pytest.approx(1.0)


def test_paired_pooled_compares_each_variant_with_the_baseline_of_the_same_post_processing():
    from neurolip.evaluation.paired import paired_pooled

    blind, unfair = _pooled_frame(4), _pooled_frame(4, shift=1.5)
    pooled = {"a": unfair, "b": blind, "a_fairthr_eo": blind, "b_fairthr_eo": blind}
    table = paired_pooled(
        pooled, [["a", "b"]], {"a_fairthr_eo": "a", "b_fairthr_eo": "b"}, ["sex"], n_boot=200
    )
    plain = table[(table.method == "a") & (table.gap == "dpd")].iloc[0]
    assert plain.baseline == "b" and plain.ci_low > 0 and plain.difference > 0.1
    same = table[(table.method == "a_fairthr_eo") & (table.gap == "dpd")].iloc[0]
    assert same.baseline == "b_fairthr_eo" and same.difference == 0 and same.ci_low == same.ci_high == 0


def test_table1_prints_each_pooled_gap_beside_its_floor():
    from neurolip.evaluation.pooled import pooled_metrics
    from neurolip.evaluation.tables import build_table
    from neurolip.methods import Method

    pooled = pooled_metrics({"m": _pooled_frame(5, shift=1.5)}, ["sex"], n_boot=20, floor_draws=100)
    summary = pd.DataFrame([{"method": "m", "metric": "dpd", "attribute": "sex", "mean": 0.3, "std": 0.1}])
    table = build_table(summary, [Method("m", label="M")], ["sex"], pooled=pooled)
    cell = table.loc[0, "Pooled DPD (sex)"]
    dpd = pooled[pooled.metric == "dpd"].iloc[0]
    assert cell.startswith(
        f"{100 * dpd.value:.2f} (floor {100 * dpd.floor_median:.2f}; p95 "
    ) and cell.endswith("*")


def test_the_published_dpd_sits_under_the_papers_own_attribute_only():
    """The paper's ABIDE DPD is on SRS: a run whose tables lead with age (the attribute swap) must not show it
    under DPD (age); the published AUC stays."""
    from neurolip.evaluation.tables import build_table
    from neurolip.methods import Method

    summary = pd.DataFrame(
        [{"method": "m", "metric": "auc", "attribute": "", "mean": 0.7, "std": 0.01}]
        + [{"method": "m", "metric": "dpd", "attribute": a, "mean": 0.1, "std": 0.01} for a in ("age", "srs")]
    )
    method = Method("m", label="M", paper={"abide": {"AUC": 72.43, "DPD": 7.92}})
    swapped = build_table(summary, [method], ["age", "sex"], paper_key="abide").iloc[-1]
    assert swapped["Source"] == "paper (published)" and swapped["AUC"] == "72.43"
    assert swapped["DPD (age)"] == "" and swapped["DPD (sex)"] == ""
    original = build_table(summary, [method], ["age", "srs"], paper_key="abide").iloc[-1]
    assert original["DPD (srs)"] == "7.92" and original["DPD (age)"] == ""
