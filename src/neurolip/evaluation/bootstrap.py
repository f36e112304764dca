"""95 % bootstrap intervals of the pooled metrics: subjects resampled within diagnosis
(:func:`neurolip.stats.stratified_bootstrap`), AUC, accuracy, DPD and DEOdds of every resample."""

from functools import partial

import numpy as np
from sklearn.metrics import accuracy_score

from ..stats import safe_auc, stratified_bootstrap
from .frame import decision_values, group_codes
from .gaps import pooled_deodds, pooled_dpd, rate_gap


def bootstrap_rows(frame, attributes, rng, n_boot):
    """AUC and accuracy of one pooled frame and the DPD and DEOdds of each attribute with two or more groups
    (``group[<attribute>]`` columns), each with its interval over ``n_boot`` resamples drawn with ``rng``."""
    y = frame["y_true"].to_numpy().astype(int)
    p = frame["p_disease"].to_numpy().astype(float)
    predicted = frame["y_pred"].to_numpy().astype(int)
    decision = decision_values(frame)  # gaps of a randomised rule: of its expected decisions
    # one row per metric: its value on every subject and its statistic of resampled subject indices
    rows = [
        {"metric": "auc", "attribute": "", "value": safe_auc(y, p)},
        {"metric": "accuracy", "attribute": "", "value": accuracy_score(y, predicted)},
    ]
    statistics = [
        lambda idx: safe_auc(y[idx], p[idx]),
        lambda idx: accuracy_score(y[idx], predicted[idx]),
    ]
    for attribute in attributes:
        column = f"group[{attribute}]"
        if column not in frame.columns:
            continue
        groups = frame[column].to_numpy(dtype=object)
        codes = group_codes(groups)
        if codes.max(initial=-1) < 1:
            continue  # fewer than two groups: no gap
        rows.append({"metric": "dpd", "attribute": attribute, "value": pooled_dpd(decision, groups)})
        rows.append(
            {
                "metric": "deodds",
                "attribute": attribute,
                "value": pooled_deodds(y, decision, groups),
            }
        )
        statistics += [partial(resampled_dpd, decision, codes), partial(resampled_deodds, y, decision, codes)]
    # subjects resampled within diagnosis
    for row, (low, high) in zip(rows, stratified_bootstrap(statistics, y, n_boot, rng)):
        row.update(ci_low=low, ci_high=high)
    return rows


def resampled_dpd(decision, codes, idx):
    return rate_gap(decision[idx], codes[idx])


def resampled_deodds(y, decision, codes, idx):
    """:func:`.gaps.pooled_deodds` of the subjects ``idx`` (group codes, -1 unknown)."""
    idx = idx[codes[idx] >= 0]
    positive, negative = y[idx] == 1, y[idx] == 0
    gaps = [
        rate_gap(decision[idx][positive], codes[idx][positive]),
        rate_gap(decision[idx][negative], codes[idx][negative]),
    ]
    return np.nan if np.isnan(gaps).any() else float(max(gaps))
