"""Per-fold gaps beside their floors, decision leakage beside its floor, and per-fold DEOdds when a group
holds one class only."""

import numpy as np
import pandas as pd

from neurolip.evaluation.per_fold import fairness_metrics, fold_floor_rows
from neurolip.evaluation.probes import decision_leakage_floor
from neurolip.evaluation.tables import _cell


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


def test_per_fold_floor_rows_and_their_table_cells():
    rng = np.random.default_rng(3)
    y, sex, score = _cohort(rng, 120, 0.0)
    groups = pd.Series(np.where(sex == 1, "F", "M"))
    rows = fold_floor_rows(score, y, (score > 0.5).astype(int), groups, "sex")
    metrics = {r["metric"]: r["value"] for r in rows}
    for metric in ("dpd", "deodds", "decision_leakage"):
        assert metrics[f"{metric}_floor_p95"] >= metrics[f"{metric}_floor_median"] > 0
    summary = pd.DataFrame(
        [{"method": "m", "metric": "dpd", "attribute": "sex", "mean": 0.1, "std": 0.02}]
        + [
            {"method": "m", "metric": k, "attribute": "sex", "mean": v, "std": 0.0}
            for k, v in metrics.items()
        ]
    )
    cell = _cell(summary, "m", "dpd", "sex")
    assert cell.startswith("10.00 ± 2.00 (floor ") and "p95" in cell
    # a three-group attribute gets no floor rows (the floors are for two groups)
    assert fold_floor_rows(score, y, y, pd.Series(rng.choice(["a", "b", "c"], len(y))), "site") == []
