"""Paired comparisons of methods: per-fold differences with the (Nadeau-Bengio corrected) paired t-test, and
paired bootstrap differences of pooled gaps between a method and its baseline."""

import logging

import numpy as np
import pandas as pd
from scipy import stats

from .floors import paired_gap_difference, paired_gap_permutation
from .frame import (
    decision_values,
    two_group_codes,
)
from .power import paired_mde

log = logging.getLogger(__name__)


def test_train_ratio(folds):
    """Mean over folds of n_test / n_train, training counting the training and validation splits."""
    counts = folds.groupby(["fold", folds["split"] == "test"]).size().unstack()
    return float((counts[True] / counts[False]).mean())


# the columns of metrics/paired_comparison.csv, written even when there is no comparison (a header, not an
# empty file that no CSV reader opens)
PAIRED_COLUMNS = [
    "metric",
    "attribute",
    "reference",
    "baseline",
    "mean_difference",
    "ci_low",
    "ci_high",
    "p_value",
    "ci_low_corrected",
    "ci_high_corrected",
    "p_value_corrected",
    "n_folds",
]


def paired_comparison(
    per_fold, reference, metrics=(("auc", ""), ("dpd", "sex")), confidence=0.95, test_train_ratio=None
):
    """Per-fold differences reference - baseline: mean, t-interval over folds and the paired t-test p-value,
    and, with ``test_train_ratio`` (test over training subjects per fold), the Nadeau-Bengio corrected
    resampled t-test: cross-validation folds share training subjects, so the plain t-test overstates
    significance; the corrected variance is (1/J + n_test/n_train) * s^2 (Nadeau & Bengio 2003).
    ``reference``: the registry's reference method (None: no comparison, an empty table)."""
    rows = []
    if reference is None:
        return pd.DataFrame(rows, columns=PAIRED_COLUMNS)
    for metric, attribute in metrics:
        table = per_fold[(per_fold["metric"] == metric) & (per_fold["attribute"] == attribute)]
        wide = table.astype({"value": float}).pivot_table(index="fold", columns="method", values="value")
        if reference not in wide.columns or wide[reference].isna().all():
            if attribute:  # e.g. an all-male cohort, or attributes of more than two groups (no probe)
                log.warning(
                    "no fairness comparison of %s on %s: no per-fold values (fewer than two groups among the "
                    "test subjects, or no two-group attribute for the leakage probe)",
                    metric,
                    attribute,
                )
            continue
        for baseline in wide.columns:
            if baseline == reference:
                continue
            diff = (wide[reference] - wide[baseline]).dropna()
            n = len(diff)
            mean = diff.mean() if n else np.nan
            if n > 1:
                half = stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n)
                p_value = stats.ttest_rel(
                    wide.loc[diff.index, reference], wide.loc[diff.index, baseline]
                ).pvalue
            else:
                half, p_value = np.nan, np.nan
            corrected = _corrected_t(diff, confidence, test_train_ratio)
            rows.append(
                {
                    "metric": metric,
                    "attribute": attribute,
                    "reference": reference,
                    "baseline": baseline,
                    "mean_difference": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "p_value": p_value,
                    **corrected,
                    "n_folds": n,
                }
            )
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def _corrected_t(diff, confidence, test_train_ratio):
    """Nadeau-Bengio corrected interval and two-sided p-value of the mean of per-fold differences."""
    n = len(diff)
    if test_train_ratio is None or n < 2:
        return {"ci_low_corrected": np.nan, "ci_high_corrected": np.nan, "p_value_corrected": np.nan}
    se = np.sqrt((1.0 / n + test_train_ratio) * diff.var(ddof=1))
    mean = diff.mean()
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * se
    p_value = 2 * stats.t.sf(abs(mean) / se, n - 1) if se > 0 else np.nan
    return {"ci_low_corrected": mean - half, "ci_high_corrected": mean + half, "p_value_corrected": p_value}


def paired_pooled(pooled, pairs, postprocessed, attributes, n_boot=1000, seed=0) -> pd.DataFrame:
    """Paired bootstrap (subjects resampled jointly, within diagnosis) of pooled gap differences between a
    method and its baseline with the same post-processing: each ``pairs`` entry [method, baseline], and each
    group-threshold variant of the method (``postprocessed``: {variant: base}) against the baseline's
    variant of the same suffix, when both were evaluated. ``pooled``: {method: pooled test predictions, with
    ``group[<attribute>]`` columns}. Repeated CV: pooled within each repeat, averaged over repeats. Each row
    carries ``mde`` (the smallest difference the interval excludes 0 for with 80 % power at these sizes,
    :func:`.power.paired_mde`) and ``p_permutation`` (:func:`.floors.paired_gap_permutation`)."""
    comparisons = []
    for method, baseline in pairs:
        comparisons.append((method, baseline))
        for variant, base in postprocessed.items():
            if base == method:
                suffix = variant[len(method) :]
                comparisons.append((variant, baseline + suffix))
    columns = ["method", "baseline", "attribute", "gap", "gap_a", "gap_b", "difference", "ci_low", "ci_high"]
    columns += ["mde", "p_permutation"]
    rows = []
    for method, baseline in comparisons:
        if method not in pooled or baseline not in pooled:
            log.warning(
                "evaluation.gap_pairs: no paired gap difference of %s and %s (not both evaluated)",
                method,
                baseline,
            )
            continue
        key = ["subject_id", "repeat"]
        # a randomised rule is compared by its decision probabilities (expected rates), not one draw
        a = pooled[method].assign(
            repeat=pooled[method].get("repeat", 0), decision=decision_values(pooled[method])
        )
        b = pooled[baseline].assign(
            repeat=pooled[baseline].get("repeat", 0), decision=decision_values(pooled[baseline])
        )
        joined = a.merge(b[key + ["decision"]], on=key, suffixes=("", "_baseline"), validate="one_to_one")
        for attribute in attributes:
            column = f"group[{attribute}]"
            if column not in joined.columns:
                continue
            parts = []
            for _, part in joined.groupby("repeat", sort=True):
                codes = two_group_codes(part[column].to_numpy(dtype=object))
                if codes is None:
                    continue
                known = codes >= 0
                arrays = (
                    part["y_true"].to_numpy()[known],
                    part["decision"].to_numpy()[known],
                    part["decision_baseline"].to_numpy()[known],
                    codes[known],
                )
                boot = paired_gap_difference(*arrays, n_boot=n_boot, seed=seed)
                # beside the interval: the smallest difference it excludes 0 for with 80 % power (.power),
                # and the per-subject swap permutation test (benchmarks/power.py compares the two)
                boot["mde"] = boot["gap"].map(paired_mde(*arrays, n_boot=n_boot, seed=seed))
                permutation = paired_gap_permutation(*arrays, n_draws=n_boot, seed=seed)
                boot["p_permutation"] = permutation["p_permutation"].to_numpy()
                parts.append(boot)
            if parts:
                mean = pd.concat(parts).groupby("gap", sort=False).mean(numeric_only=True).reset_index()
                rows += [
                    {"method": method, "baseline": baseline, "attribute": attribute, **r}
                    for r in mean.to_dict("records")
                ]
    return pd.DataFrame(rows, columns=columns + ["n_boot"])
