"""Per-fold classification and fairness metrics with fairlearn (long rows: metric, attribute, value), the
held-out probe's per-fold rows, and their summary over folds (the floors of the fold means of the gaps and
leakages come from :mod:`.fold_mean`; the probe's from :func:`.probe_test.pooled_probe_rows`).

A group holding a single class has no AUC: the value is missing and a warning is logged, the run goes on.
"""

import logging
import warnings

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from sklearn.metrics import accuracy_score, recall_score

from ..stats import safe_auc
from .frame import (
    CONTINUOUS,
    attribute_groups,
    decision_values,
    score_values,
    training_median,
    two_group_codes,
)
from .gaps import pooled_deodds, pooled_dpd
from .probe_test import DIAGNOSIS, per_fold_probe_auc, read_leakage
from .probes import decision_leakage
from .thresholds import expected_gaps, randomised

log = logging.getLogger(__name__)


def specificity(y_true, y_pred):
    return recall_score(y_true, y_pred, pos_label=0, zero_division=np.nan)


def sensitivity(y_true, y_pred):
    return recall_score(y_true, y_pred, pos_label=1, zero_division=np.nan)


def overall_metrics(y_true, p, y_pred):
    return {
        "auc": safe_auc(y_true, p),
        "accuracy": accuracy_score(y_true, y_pred),
        "sensitivity": sensitivity(y_true, y_pred),
        "specificity": specificity(y_true, y_pred),
    }


def fairness_metrics(attribute, y_true, p, y_pred, groups):
    """DPD, DEOdds, ES-AUC and per-group AUC for one attribute; rows of (metric, value). ``y_pred``: the
    decisions (0/1), or decision probabilities: the gaps are then those of the expected group rates."""
    known = groups.notna().to_numpy()
    y_true, p, y_pred, groups = y_true[known], p[known], y_pred[known], groups[known].astype(str).to_numpy()
    if len(np.unique(groups)) < 2:
        log.warning(
            "attribute %s has fewer than two groups among the test subjects: no fairness metrics", attribute
        )
        return [("dpd", np.nan), ("deodds", np.nan), ("es_auc", np.nan)]
    auc_frame = MetricFrame(metrics=safe_auc, y_true=y_true, y_pred=p, sensitive_features=groups)
    by_group = auc_frame.by_group
    for group, value in by_group.items():
        if np.isnan(value):
            log.warning("group %s=%s holds a single class: its AUC is missing", attribute, group)
    overall = auc_frame.overall
    gaps = np.nansum(np.abs(overall - by_group.to_numpy(dtype=float)))
    rows = [
        ("dpd", pooled_dpd(np.asarray(y_pred, dtype=float), groups)),
        # fairlearn's equalized_odds_difference counts a group without patients (or controls) with a rate
        # of 0, turning a fold where one group holds one class into DEOdds 1.0: that class's gap is left out
        ("deodds", pooled_deodds(np.asarray(y_true), np.asarray(y_pred), groups)),
        ("es_auc", overall / (1 + gaps)),
    ]
    rows += [(f"auc[{group}]", value) for group, value in by_group.items()]
    rows += [(f"n[{group}]", int((groups == group).sum())) for group in by_group.index]
    return rows


def fold_metrics(predictions, training_values, attributes, continuous=CONTINUOUS):
    """All metrics of one (method, fold) prediction table, its groups coded from ``training_values``
    ({attribute: the fold's training subjects' values}); long rows (metric, attribute, value).
    :meth:`~neurolip.evaluation.frame.GroupFrame.groups` codes them from the cohort and folds instead."""
    groups = {
        a: attribute_groups(a, predictions[a], training_values.get(a, []), continuous)
        for a in attributes
        if a in predictions.columns
    }
    split_values = {a: training_median(training_values.get(a, [])) for a in groups if a in continuous}
    return grouped_fold_metrics(predictions, groups, split_values)


def grouped_fold_metrics(predictions, groups, split_values) -> list[dict]:
    """All metrics of one (method, fold) prediction table; long rows (metric, attribute, value).

    Parameters
    ----------
    predictions : pandas.DataFrame
        The fold's test predictions.
    groups : dict
        {attribute: group label of each row (None unknown)}, in the order the rows are written.
    split_values : dict
        {continuous attribute: the training median its groups split at}, written as metric ``split_value``.
    """
    y_true = predictions["y_true"].to_numpy().astype(int)
    # AUCs rank the read-out's own score: calibration is monotone but can saturate at 0 or 1 when the
    # validation split separates perfectly, turning distinct scores into ties
    p = predictions["score" if "score" in predictions.columns else "p_disease"].to_numpy().astype(float)
    y_pred = predictions["y_pred"].to_numpy().astype(int)
    decision = decision_values(predictions)
    rows = [{"metric": m, "attribute": "", "value": v} for m, v in overall_metrics(y_true, p, y_pred).items()]
    for attribute, labels in groups.items():
        if attribute in split_values:
            rows.append({"metric": "split_value", "attribute": attribute, "value": split_values[attribute]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            for metric, value in fairness_metrics(attribute, y_true, p, decision, labels):
                rows.append({"metric": metric, "attribute": attribute, "value": value})
        for metric, values in (("score_leakage", score_values(predictions)), ("decision_leakage", decision)):
            leakage = decision_leakage_value(values, y_true, labels, attribute=attribute, metric=metric)
            if leakage is not None:
                rows.append({"metric": metric, "attribute": attribute, "value": leakage})
        rows += expected_gap_rows(predictions, y_true, labels, attribute)
    return rows


def expected_gap_rows(predictions, y_true, groups, attribute) -> list[dict]:
    """For randomised decisions (``p_decision`` strictly between 0 and 1 for some subject) and a two-group
    attribute: the exact expected DPD and DEOdds over randomisation draws (``dpd_expected``,
    ``deodds_expected``); the reported ``dpd``/``deodds`` are one draw."""
    if "p_decision" not in predictions.columns:
        return []
    p_decision = predictions["p_decision"].to_numpy(dtype=float)
    codes = two_group_codes(groups)
    if codes is None or not randomised(p_decision).any():
        return []
    known = codes >= 0
    try:
        expected = expected_gaps(p_decision[known], y_true[known], codes[known])
    except ValueError:  # a group without patients or controls: the gap is undefined
        return []
    return [
        {"metric": f"{gap}_expected", "attribute": attribute, "value": expected[gap]}
        for gap in ("dpd", "deodds")
    ]


def decision_leakage_value(
    scores, y_true, groups, folds=None, attribute="", metric="decision_leakage"
) -> float | None:
    """Leakage of a two-group attribute from ``scores`` (a score, or the decisions): the AUC of the attribute
    within each diagnosis class, as max(AUC, 1 − AUC), averaged over the two classes (fold-stratified over
    ``folds`` when given, else the subjects as one fold); None for an attribute without exactly two groups.
    NaN, with a warning naming the classes that had both groups, when a class lacks one of the groups: a
    one-class figure is not comparable with a two-class one."""
    codes = two_group_codes(groups)
    if codes is None:
        return None
    table = decision_leakage(scores, codes, y_true, folds)
    pooled = table[table.scope == "pooled"]
    entered = pooled.loc[pooled.leakage_auc.notna(), "diagnosis"].tolist()
    if len(entered) < 2:
        log.warning(
            "%s of %s: NaN, both groups present in diagnosis class(es) %s only (group counts per class: %s)",
            metric,
            attribute,
            entered,
            {int(r.diagnosis): (r.n - r.n_second_group, r.n_second_group) for r in pooled.itertuples()},
        )
        return np.nan
    return float(pooled.leakage_auc.mean())


def leakage_per_fold(leakage_files) -> pd.DataFrame:
    """Per-fold rows (metric ``probe_auc``) of the sensitive-attribute probe on each method's predicting
    representation: the within-diagnosis AUC of the attribute from the probe's out-of-sample scores of the
    fold's test subjects, averaged over the fold's models (:func:`.probe_test.per_fold_probe_auc`).
    ``leakage_files``: {(method, fold): path}, or the frame :func:`.probe_test.read_leakage` made of them. A
    group-threshold row has no file rows of its own and gets no probe (its decisions use the attribute
    itself; its decision leakage says what it carries). The exact test of the fold mean is a pooled row
    (:func:`.probe_test.pooled_probe_rows`); the diagnosis probe is in ``metrics/probe_pairs.csv``."""
    leakage = leakage_files if isinstance(leakage_files, pd.DataFrame) else read_leakage(leakage_files)
    frames = []
    probes = leakage[leakage["attribute"] != DIAGNOSIS]
    for (method, attribute), part in probes.groupby(["method", "attribute"], sort=False):
        frames += [
            {"method": method, "fold": fold, "metric": "probe_auc", "attribute": attribute, "value": value}
            for fold, value in per_fold_probe_auc(part).items()
        ]
    # float even when empty (no two-group attribute): an object column would break every statistic after it
    return pd.DataFrame(frames, columns=["method", "fold", "metric", "attribute", "value"]).astype(
        {"value": float}
    )


def summarize(per_fold, fold_mean_floors=None):
    """Mean, SD and count over folds of each (method, metric, attribute); ``fold_mean_floors``
    (:func:`.fold_mean.fold_mean_rows`, already in this shape) are appended."""
    grouped = per_fold.groupby(["method", "metric", "attribute"], sort=False)["value"]
    summary = grouped.agg(mean="mean", std="std", n_folds="count").reset_index()
    if fold_mean_floors is None or fold_mean_floors.empty:
        return summary
    return pd.concat([summary, fold_mean_floors], ignore_index=True)
