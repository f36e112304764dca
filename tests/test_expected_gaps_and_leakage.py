"""Review items 5, 9/10, 15, 16, 17 of the fairness instruments (issue 22): randomised-threshold rows led by
the gap of their expected decisions with its floor; score leakage and decision leakage for every row,
fold-stratified; a one-class leakage figure is NaN; attribute codes shared by every split."""

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import special

from neurolip.evaluation.floors import gap_floor, group_indicator, two_group_gaps
from neurolip.evaluation.fold_mean import prediction_floor_draws
from neurolip.evaluation.paired import paired_pooled
from neurolip.evaluation.per_fold import decision_leakage_value, fold_metrics, leakage_per_fold
from neurolip.evaluation.pooled import pooled_metrics
from neurolip.evaluation.probes import decision_leakage, decision_leakage_floor
from neurolip.stats import safe_auc


def _randomised_rule(score, sex, shift, rng):
    """Decision probabilities of a randomised threshold rule: 1 above the upper threshold, 0 below the lower
    one, a coin flip (0.5) in between; ``shift`` lowers both thresholds for the second sex (unfair)."""
    low, high = -0.3 - shift * sex, 0.3 - shift * sex
    p = np.where(score >= high, 1.0, np.where(score < low, 0.0, 0.5))
    return p, (rng.random(len(p)) < p).astype(int)


def _cohort(seed, n=600, shift=0.0, n_folds=5):
    """Pooled test predictions with randomised decisions; sex-blind (``shift`` 0) or shifted by sex."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    female = (rng.random(n) < 0.3).astype(int)
    score = 1.5 * (y - 0.5) + rng.normal(size=n)
    p_decision, y_pred = _randomised_rule(score, female, shift, rng)
    return pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(n)],
            "y_true": y,
            "p_disease": special.expit(score),
            "y_pred": y_pred,
            "p_decision": p_decision,
            "fold": np.arange(n) % n_folds,
            "repeat": 0,
            "group[sex]": np.where(female == 1, "female", "male"),
        }
    )


def test_randomised_rows_lead_with_the_gap_of_the_expected_decisions_and_its_floor():
    frame = _cohort(0, shift=0.6)
    redrawn = frame.assign(
        y_pred=(np.random.default_rng(9).random(len(frame)) < frame.p_decision).astype(int)
    )
    assert (redrawn.y_pred != frame.y_pred).any()
    table = pooled_metrics({"a": frame, "b": redrawn}, ["sex"], n_boot=50, floor_draws=300)
    table = table.set_index(["method", "metric", "attribute"])
    second, _ = group_indicator(frame["group[sex]"])
    expected_rates = two_group_gaps(frame.p_decision, frame.y_true, second)
    floors = gap_floor(
        frame.y_true, frame.p_decision, frame["group[sex]"], frame.fold, n_draws=300, seed=0
    ).set_index("gap")
    for gap in ("dpd", "deodds"):
        row = table.loc[("a", gap, "sex")]
        assert row.value == pytest.approx(float(expected_rates[gap]))
        assert row.floor_median == pytest.approx(floors.at[gap, "floor_median"])
        assert row.floor_p95 == pytest.approx(floors.at[gap, "floor_p95"])
        assert row.ci_low <= row.value <= row.ci_high
        # another randomisation draw of the same rule changes nothing of the headline, floor or interval
        pd.testing.assert_series_equal(row, table.loc[("b", gap, "sex")], check_names=False)
        # the draw range stays beside it
        drawn = table.loc[("a", f"{gap}_expected", "sex")]
        assert drawn.draw_p05 < drawn.value < drawn.draw_p95
    # per fold: the same expected-rate gap, and its floor on the decision probabilities
    fold = frame[frame.fold == 0].rename(columns={"group[sex]": "sex"})
    rows = {r["metric"]: r["value"] for r in fold_metrics(fold, {}, ["sex"]) if r["attribute"] == "sex"}
    in_fold = two_group_gaps(fold.p_decision, fold.y_true, group_indicator(fold.sex)[0])
    assert rows["dpd"] == pytest.approx(float(in_fold["dpd"]))
    assert rows["deodds"] == pytest.approx(float(in_fold["deodds"]))
    draws = prediction_floor_draws(fold, fold.sex, n_draws=200)
    assert draws["dpd"][0] == pytest.approx(rows["dpd"]) and np.median(draws["dpd"][1]) > 0


def test_the_floor_of_a_randomised_rule_fires_for_an_unfair_rule_and_not_for_a_blind_one():
    fired = {}
    for shift in (0.0, 0.8):
        hits = []
        for seed in range(40):
            frame = _cohort(100 + seed, n=500, shift=shift)
            floors = gap_floor(
                frame.y_true, frame.p_decision, frame["group[sex]"], frame.fold, n_draws=300, seed=seed
            ).set_index("gap")
            hits.append(floors.loc[["dpd", "deodds"], "above_floor"].any())
        fired[shift] = np.mean(hits)
    # two gaps tested per cohort: at most about 10 % false alarms
    assert fired[0.0] <= 0.2, fired
    assert fired[0.8] >= 0.9, fired


def test_paired_gap_differences_of_randomised_rows_compare_decision_probabilities():
    frame = _cohort(1, shift=0.6)
    redrawn = frame.assign(y_pred=1 - frame.y_pred)  # any other draw: the decisions differ everywhere
    table = paired_pooled({"a": frame, "b": redrawn}, [["a", "b"]], {}, ["sex"], n_boot=100)
    assert (table.difference == 0).all() and (table.ci_low == 0).all() and (table.ci_high == 0).all()
    blind = _cohort(1, shift=0.0)
    table = paired_pooled({"a": frame, "b": blind}, [["a", "b"]], {}, ["sex"], n_boot=200).set_index("gap")
    assert table.at["dpd", "ci_low"] > 0  # the unfair randomised rule: larger expected DPD


def test_table1_labels_a_randomised_row_gap_of_expected_rates_and_expected_gap_over_draws():
    from neurolip.evaluation.tables import build_table
    from neurolip.methods import Method

    pooled = pooled_metrics({"m_rand": _cohort(2, shift=0.6)}, ["sex"], n_boot=20, floor_draws=100)
    summary = pd.DataFrame([{"method": "m_rand", "metric": "auc", "attribute": "", "mean": 0.8, "std": 0.1}])
    table = build_table(summary, [Method("m_rand", label="M")], ["sex"], pooled=pooled)
    rows = pooled.set_index("metric")
    dpd, drawn = rows.loc["dpd"], rows.loc["dpd_expected"]
    cell = table.loc[0, "Pooled DPD (sex)"]
    # the headline is the gap of the expected rates, the second figure the exact expected gap over draws:
    # the cell names which is which (issue 31: a gap of expected rates printed as "expected" read as the
    # expected gap)
    assert cell.startswith(
        f"gap of expected rates {100 * dpd.value:.2f} (floor {100 * dpd.floor_median:.2f}; p95 "
    )
    assert cell.endswith(
        f"; expected gap over draws {100 * drawn.value:.2f} "
        f"[{100 * drawn.draw_p05:.2f}–{100 * drawn.draw_p95:.2f}]"
    )
    # the two quantities differ (E max(|TPR gap|, |FPR gap|) ≥ max(|E TPR gap|, |E FPR gap|)): a label is
    # needed, in the DEOdds cell too
    deodds, drawn = rows.loc["deodds"], rows.loc["deodds_expected"]
    assert drawn.value > deodds.value
    assert table.loc[0, "Pooled DEOdds (sex)"].startswith(f"gap of expected rates {100 * deodds.value:.2f} ")
    assert f"; expected gap over draws {100 * drawn.value:.2f} [" in table.loc[0, "Pooled DEOdds (sex)"]


def _scores_with_sex_but_fair_decisions(seed, n=600, shift=1.5):
    """Decisions independent of sex (perfect), P(disease) shifted by sex within each diagnosis class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    female = (rng.random(n) < 0.3).astype(int)
    score = 4 * (y - 0.5) + 0.3 * rng.normal(size=n) + shift * female * 0.3
    return pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(n)],
            "y_true": y,
            "p_disease": special.expit(score),
            "y_pred": y,
            "fold": np.arange(n) % 5,
            "repeat": 0,
            "group[sex]": np.where(female == 1, "female", "male"),
        }
    )


def test_every_row_has_a_score_leakage_and_a_decision_leakage_each_with_its_floor():
    leaky, blind = _scores_with_sex_but_fair_decisions(3), _scores_with_sex_but_fair_decisions(3, shift=0.0)
    table = pooled_metrics({"leaky": leaky, "blind": blind}, ["sex"], n_boot=20, floor_draws=300)
    table = table.set_index(["method", "metric", "attribute"])
    # the score carries sex within diagnosis (above its floor); the decisions do not (AUC exactly 0.5)
    assert table.loc[("leaky", "score_leakage", "sex"), "value"] > 0.75
    assert table.loc[("leaky", "score_leakage", "sex"), "above_floor"] == 1.0
    assert table.loc[("leaky", "decision_leakage", "sex"), "value"] == pytest.approx(0.5)
    assert table.loc[("leaky", "decision_leakage", "sex"), "above_floor"] == 0.0
    assert table.loc[("blind", "score_leakage", "sex"), "above_floor"] == 0.0
    for method in ("leaky", "blind"):
        assert table.loc[(method, "score_leakage", "sex"), "floor_p95"] > 0.5
        # decisions constant within a class: every permutation reads exactly 0.5
        assert table.loc[(method, "decision_leakage", "sex"), "floor_p95"] == pytest.approx(0.5)
    # a thresholded row: decisions from p_decision (here: sex itself), its score leakage from p_disease
    thresholded = blind.assign(p_decision=(blind["group[sex]"] == "male").astype(float))
    table = pooled_metrics({"t": thresholded}, ["sex"], n_boot=20, floor_draws=300).set_index("metric")
    assert table.at["decision_leakage", "value"] == pytest.approx(1.0)
    assert table.at["score_leakage", "above_floor"] == 0.0
    # per fold: both figures and both floors
    fold = leaky[leaky.fold == 0].rename(columns={"group[sex]": "sex"})
    rows = {r["metric"]: r["value"] for r in fold_metrics(fold, {}, ["sex"]) if r["attribute"] == "sex"}
    assert rows["score_leakage"] > 0.75 and rows["decision_leakage"] == pytest.approx(0.5)
    draws = prediction_floor_draws(fold, fold.sex, n_draws=200)
    for metric in ("score_leakage", "decision_leakage"):
        observed, null = draws[metric]
        assert observed == pytest.approx(rows[metric])
        assert np.percentile(null, 95) >= np.median(null) >= 0.5


def test_pooled_leakage_is_fold_stratified_so_fold_calibration_does_not_read_as_leakage():
    """Two folds whose calibrations differ (a shift of the whole fold's scores) and whose sex ratios differ:
    pooling the raw scores makes sex predictable although no score depends on sex within a fold."""
    rng = np.random.default_rng(4)
    n = 800
    fold = np.arange(n) % 2
    female = (rng.random(n) < np.where(fold == 0, 0.7, 0.15)).astype(int)
    y = rng.integers(0, 2, n)
    score = 1.5 * y + rng.normal(size=n) + 2.0 * fold  # fold 1's calibration sits higher
    naive = np.mean([safe_auc(female[y == c], score[y == c]) for c in (0, 1)])
    assert naive < 0.3  # the trap: the pooled raw AUC "finds" sex
    floor = decision_leakage_floor(score, female, y, fold, n_draws=500, seed=0)
    assert floor["observed"] < floor["floor_p95"] and not floor["above_floor"]
    pooled = decision_leakage(score, female, y, fold)
    pooled = pooled[pooled.scope == "pooled"]
    assert pooled.auc.to_numpy() == pytest.approx([floor["observed"]] * 2, abs=0.2)
    assert (pooled.leakage_auc < 0.6).all()
    # positive control: a within-fold sex shift still fires
    unfair = decision_leakage_floor(score + 0.8 * female, female, y, fold, n_draws=500, seed=0)
    assert unfair["above_floor"] and unfair["observed"] > 0.65


def test_the_stratified_auc_of_one_stratum_is_the_plain_auc_ties_included():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    sex = (rng.random(300) < 0.3).astype(int)
    score = np.round(rng.normal(size=300), 1)  # many ties
    table = decision_leakage(score, sex, y).set_index("diagnosis")
    for c in (0, 1):
        assert table.at[c, "auc"] == pytest.approx(safe_auc(sex[y == c], score[y == c]))


def test_leakage_of_a_class_without_both_groups_is_nan_and_logged(caplog):
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    sex = pd.Series(["M", "M", "M", "M", "F", "M", "F"])  # no female patient
    score = np.array([0.9, 0.8, 0.7, 0.1, 0.6, 0.2, 0.5])
    with caplog.at_level(logging.WARNING):
        value = decision_leakage_value(score, y, sex, attribute="sex", metric="score_leakage")
    assert np.isnan(value)
    assert "score_leakage of sex" in caplog.text and "class(es) [0]" in caplog.text
    # both classes with both groups: the mean over the classes
    sex = pd.Series(["M", "F", "M", "M", "F", "M", "F"])
    assert decision_leakage_value(score, y, sex) == pytest.approx(
        np.mean([max(a, 1 - a) for a in (safe_auc([0, 1, 0], score[:3]), safe_auc([0, 1, 0, 1], score[3:]))])
    )


def test_attribute_codes_map_each_label_to_one_code_across_splits():
    from neurolip.training.leakage import attribute_codes

    cohort = pd.DataFrame({"handedness": ["L", "R", "A", "R", "A", None]}, index=[f"s{i}" for i in range(6)])
    # a split without "A": "L" and "R" keep the codes they have in the whole cohort (A=0, L=1, R=2)
    np.testing.assert_array_equal(attribute_codes(cohort, ["s0", "s1", "s3"], "handedness"), [1, 2, 2])
    np.testing.assert_array_equal(attribute_codes(cohort, ["s2", "s1", "s5"], "handedness"), [0, 2, -1])


def test_leakage_per_fold_copies_no_probe_onto_thresholded_rows(tmp_path):
    path = tmp_path / "leak.csv"
    # two models' probe scores of four test subjects (two per diagnosis), and the diagnosis probe's
    scores = pd.DataFrame(
        {
            "fold": 0,
            "seed": [0] * 4 + [1] * 4,
            "attribute": "sex",
            "subject_id": ["a", "b", "c", "d"] * 2,
            "code": [1, 0, 1, 0] * 2,
            "diagnosis": [0, 0, 1, 1] * 2,
            "probe_score": [0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.8, 0.2],
        }
    )
    pd.concat([scores, scores.assign(attribute="diagnosis")]).to_csv(path, index=False)
    rows = leakage_per_fold({("m", 0): path})
    # within diagnosis: model 0 reads 1.0 in both classes, model 1 0.0 then 1.0: the fold reads 0.75
    assert rows.method.tolist() == ["m"] and rows.value.tolist() == [pytest.approx(0.75)]
    pd.DataFrame({"attribute": ["sex"], "probe_auc": [0.6]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="no per-subject probe scores"):
        leakage_per_fold({("m", 0): path})
    with pytest.raises(TypeError):
        leakage_per_fold({("m", 0): path}, {"m_fairthr_eo": "m"})
