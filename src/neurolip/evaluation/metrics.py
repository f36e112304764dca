"""Per-fold classification and fairness metrics with fairlearn, aggregated over folds.

Sensitive attributes: categorical ones (sex, site) are used as they are; continuous ones (age, SRS) are
split at the median of the *training* subjects of the same fold (train + val splits), so the test fold
never shapes its own groups. Subjects whose attribute is unknown are left out of that attribute's
fairness metrics (and only of those). A group holding a single class has no AUC: the value is missing
and a warning is logged, the run goes on.
"""

import logging
import warnings
from functools import partial

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, demographic_parity_difference
from scipy import stats
from sklearn.metrics import accuracy_score, recall_score

from ..stats import safe_auc, stratified_bootstrap
from .floors import gap_floor, paired_gap_difference
from .probes import decision_leakage, decision_leakage_floor, probe_auc_floor
from .thresholds import expected_gaps, randomised, randomised_threshold_report

log = logging.getLogger(__name__)
# attributes split at the training median unless the dataset says otherwise (dataset.continuous_attributes)
CONTINUOUS = ("age", "srs")


def specificity(y_true, y_pred):
    return recall_score(y_true, y_pred, pos_label=0, zero_division=np.nan)


def sensitivity(y_true, y_pred):
    return recall_score(y_true, y_pred, pos_label=1, zero_division=np.nan)


def training_median(train_values):
    return float(np.nanmedian(pd.to_numeric(pd.Series(train_values), errors="coerce")))


def attribute_groups(attribute, test_values, train_values, continuous=CONTINUOUS):
    """Group labels of the test subjects for one attribute; NaN where unknown."""
    test_values = pd.Series(test_values).reset_index(drop=True)
    if attribute in continuous:
        numeric = pd.to_numeric(test_values, errors="coerce")
        threshold = training_median(train_values)
        # stable names across folds (each fold has its own median, recorded as metric "split_value")
        labels = np.where(
            numeric.isna(), None, np.where(numeric > threshold, "above median", "at or below median")
        )
        return pd.Series(labels, dtype=object)
    return test_values.astype(object).where(test_values.notna(), None)


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
    """All metrics of one (method, fold) prediction table; long rows (metric, attribute, value)."""
    y_true = predictions["y_true"].to_numpy().astype(int)
    # AUCs rank the read-out's own score: calibration is monotone but can saturate at 0 or 1 when the
    # validation split separates perfectly, turning distinct scores into ties
    p = predictions["score" if "score" in predictions.columns else "p_disease"].to_numpy().astype(float)
    y_pred = predictions["y_pred"].to_numpy().astype(int)
    decision = decision_values(predictions)
    rows = [{"metric": m, "attribute": "", "value": v} for m, v in overall_metrics(y_true, p, y_pred).items()]
    for attribute in attributes:
        if attribute not in predictions.columns:
            continue
        groups = attribute_groups(
            attribute, predictions[attribute], training_values.get(attribute, []), continuous
        )
        if attribute in continuous:
            rows.append(
                {
                    "metric": "split_value",
                    "attribute": attribute,
                    "value": training_median(training_values.get(attribute, [])),
                }
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            for metric, value in fairness_metrics(attribute, y_true, p, decision, groups):
                rows.append({"metric": metric, "attribute": attribute, "value": value})
        for metric, values in (("score_leakage", score_values(predictions)), ("decision_leakage", decision)):
            leakage = decision_leakage_value(values, y_true, groups, attribute=attribute, metric=metric)
            if leakage is not None:
                rows.append({"metric": metric, "attribute": attribute, "value": leakage})
        rows += fold_floor_rows(score_values(predictions), y_true, decision, groups, attribute)
        rows += expected_gap_rows(predictions, y_true, groups, attribute)
    return rows


def fold_floor_rows(scores, y_true, decisions, groups, attribute, n_draws=1000, seed=0) -> list[dict]:
    """The sex-blind floor of one test fold's DPD, DEOdds, score leakage (of ``scores``) and decision leakage
    (of ``decisions``: 0/1, or decision probabilities) (``<metric>_floor_median``, ``<metric>_floor_p95``: the
    attribute permuted within diagnosis, ``n_draws`` times), for a two-group attribute present in both
    classes: a per-fold gap means something only beside what a classifier blind to the attribute shows at
    the fold's group sizes."""
    codes = two_group_codes(groups)
    if codes is None:
        return []
    known = codes >= 0
    y_k, codes_k = y_true[known], codes[known]
    if min(len(np.unique(codes_k[y_k == c])) for c in (0, 1)) < 2:
        return []
    decisions = np.asarray(decisions, dtype=float)
    floors = gap_floor(y_k, decisions[known], codes_k, n_draws=n_draws, seed=seed).set_index("gap")
    values = {
        "dpd": (floors.at["dpd", "floor_median"], floors.at["dpd", "floor_p95"]),
        "deodds": (floors.at["deodds", "floor_median"], floors.at["deodds", "floor_p95"]),
    }
    for metric, source in (("score_leakage", scores), ("decision_leakage", decisions)):
        leakage = decision_leakage_floor(np.asarray(source)[known], codes_k, y_k, n_draws=n_draws, seed=seed)
        values[metric] = (leakage["floor_median"], leakage["floor_p95"])
    return [
        {"metric": f"{metric}_floor_{name}", "attribute": attribute, "value": float(value)}
        for metric, pair in values.items()
        for name, value in zip(("median", "p95"), pair, strict=True)
    ]


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


def decision_values(predictions) -> np.ndarray:
    """The decision every method makes, per subject: its decision probability ``p_decision`` where the
    predictions have one (group thresholds: 0/1 for a deterministic rule, in between for a subject of
    fairlearn's randomised rule whose decision is a coin flip), else the decision ``y_pred``. Gaps and
    leakage of these values are those of the expected decisions, not of one randomisation draw."""
    column = "p_decision" if "p_decision" in predictions.columns else "y_pred"
    return predictions[column].to_numpy(dtype=float)


def score_values(predictions) -> np.ndarray:
    """The continuous score every method outputs, per subject: the calibrated P(disease) (thresholded rows
    keep their base method's), or, in a file without it, the read-out's score."""
    column = next(c for c in ("p_disease", "score") if c in predictions.columns)
    return predictions[column].to_numpy(dtype=float)


def two_group_codes(groups):
    """0/1 codes of a two-group attribute (sorted labels; -1 unknown), or None for any other number of
    groups."""
    groups = pd.Series(groups, dtype=object).reset_index(drop=True)
    known = groups.notna().to_numpy()
    labels = np.unique(groups[known].astype(str))
    if len(labels) != 2:
        return None
    codes = np.full(len(groups), -1)
    codes[known] = np.searchsorted(labels, groups[known].astype(str).to_numpy())
    return codes


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


def evaluate(prediction_files, cohort, folds, attributes, continuous=CONTINUOUS, pooled=None):
    """``prediction_files``: {(method, fold): path}. Returns (per-fold long table, summary table).

    With ``pooled`` (a dict), it also receives {method: all folds' test predictions}, each with a
    ``group[<attribute>]`` column holding the group the fold's evaluation put the subject in (for
    :func:`pooled_metrics`)."""
    cohort = cohort.set_index("subject_id")
    # repeated cross-validation (cv.n_repeats): which repeat each fold belongs to (folds files without the
    # column come from a single split)
    repeat_of = folds.groupby("fold")["repeat"].first() if "repeat" in folds.columns else None
    rows = []
    for (method, fold), path in sorted(prediction_files.items()):
        categorical = {a: str for a in attributes if a not in continuous}
        predictions = pd.read_csv(path, dtype={"subject_id": str, **categorical})
        train_ids = folds.loc[(folds["fold"] == fold) & (folds["split"] != "test"), "subject_id"].astype(str)
        training_values = {a: cohort.loc[train_ids, a].to_numpy() for a in attributes if a in cohort.columns}
        for row in fold_metrics(predictions, training_values, attributes, continuous):
            rows.append({"method": method, "fold": fold, **row})
        if pooled is not None:
            for attribute in attributes:
                if attribute in predictions.columns:
                    predictions[f"group[{attribute}]"] = attribute_groups(
                        attribute, predictions[attribute], training_values.get(attribute, []), continuous
                    ).to_numpy()
            predictions["repeat"] = int(repeat_of[fold]) if repeat_of is not None else 0
            pooled.setdefault(method, []).append(predictions)
    if pooled is not None:
        for method in list(pooled):
            pooled[method] = pd.concat(pooled[method], ignore_index=True)
    per_fold = pd.DataFrame(rows, columns=["method", "fold", "metric", "attribute", "value"])
    return per_fold, summarize(per_fold)


def leakage_per_fold(leakage_files, *, test_groups=None) -> pd.DataFrame:
    """Per-fold rows (metric ``probe_auc``) of the sensitive-attribute probe on each method's predicting
    representation, averaged over the fold's seeds. ``leakage_files``: {(method, fold): path}. A
    group-threshold row has no file of its own and gets no probe (its decisions use the attribute itself;
    its decision leakage says what it carries). ``test_groups`` ({(fold, attribute): (codes, diagnoses) of
    the fold's test subjects}) adds the probe's floor at the fold's group sizes, through the diagnosis
    (``probe_auc_floor_median``, ``_p95``: :func:`~neurolip.evaluation.probes.probe_auc_floor`)."""
    frames = []
    for (method, fold), path in leakage_files.items():
        frame = pd.read_csv(path)
        if frame.empty:
            continue
        means = frame.groupby("attribute", sort=False)["probe_auc"].mean()
        for attribute, value in means.items():
            frames.append(
                {
                    "method": method,
                    "fold": fold,
                    "metric": "probe_auc",
                    "attribute": attribute,
                    "value": value,
                }
            )
            groups = (test_groups or {}).get((fold, attribute))
            if groups is None:
                continue
            floor = probe_auc_floor(*groups, seed=int(fold))
            frames += [
                {
                    "method": method,
                    "fold": fold,
                    "metric": f"probe_auc_{k}",
                    "attribute": attribute,
                    "value": floor[k],
                }
                for k in ("floor_median", "floor_p95")
            ]
    # float even when empty (no two-group attribute): an object column would break every statistic after it
    return pd.DataFrame(frames, columns=["method", "fold", "metric", "attribute", "value"]).astype(
        {"value": float}
    )


def pooled_probe_rows(per_fold: pd.DataFrame, test_groups, n_draws: int = 1000) -> pd.DataFrame:
    """``metrics/pooled.csv`` rows of the held-out probe: its mean over folds beside the floor of that mean
    (each fold's draws of :func:`~neurolip.evaluation.probes.probe_auc_floor`, averaged over the folds),
    ``p_floor`` and ``above_floor`` (above the floor's 95th percentile)."""
    rows = []
    probes = per_fold[per_fold["metric"] == "probe_auc"]
    for (method, attribute), part in probes.groupby(["method", "attribute"], sort=False):
        folds = [f for f in part["fold"] if (f, attribute) in test_groups]
        if not folds:
            continue
        value = float(part.set_index("fold").loc[folds, "value"].mean())
        draws = np.mean(
            [
                probe_auc_floor(*test_groups[(f, attribute)], n_draws=n_draws, seed=int(f))["draws"]
                for f in folds
            ],
            axis=0,
        )
        if np.isnan(draws).all():
            continue
        p95 = float(np.nanpercentile(draws, 95))
        rows.append(
            {
                "method": method,
                "metric": "probe_auc",
                "attribute": attribute,
                "value": value,
                "floor_median": float(np.nanmedian(draws)),
                "floor_p95": p95,
                "p_floor": float((1 + np.sum(draws >= value - 1e-12)) / (1 + n_draws)),
                "above_floor": float(value > p95),
            }
        )
    return pd.DataFrame(rows).reindex(columns=POOLED_COLUMNS)


def summarize(per_fold):
    grouped = per_fold.groupby(["method", "metric", "attribute"], sort=False)["value"]
    summary = grouped.agg(mean="mean", std="std", n_folds="count").reset_index()
    return summary


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
        return pd.DataFrame(rows)
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
    return pd.DataFrame(rows)


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


def _rate_gap(decisions, group_codes):
    """Largest difference between groups in the rate of positive decisions: fairlearn's demographic parity
    difference, computed with ``np.bincount`` because the bootstrap and the floor evaluate it thousands of
    times (fairlearn's MetricFrame costs about 1.5 ms per group and call; tests/test_postprocessing.py checks
    both agree). Unknown groups (code -1) are left out; NaN with fewer than two groups."""
    known = group_codes >= 0
    counts = np.bincount(group_codes[known], minlength=1)
    positives = np.bincount(group_codes[known], weights=decisions[known], minlength=1)
    present = counts > 0
    if present.sum() < 2:
        return np.nan
    rates = positives[present] / counts[present]
    return float(rates.max() - rates.min())


def pooled_dpd(decision, groups):
    """Demographic parity difference of the pooled decisions (fairlearn), subjects of unknown group (None)
    left out; NaN with fewer than two groups. Decision probabilities (not all 0/1: a randomised rule) give
    the largest difference of the groups' expected rates (fairlearn's selection rate counts only p = 1)."""
    known = np.array([g is not None and g == g for g in groups], dtype=bool)
    if len(set(np.asarray(groups, dtype=object)[known])) < 2:
        return np.nan
    groups = np.asarray(groups, dtype=object)[known].astype(str)
    decision = np.asarray(decision)[known]
    if not np.isin(decision, (0, 1)).all():
        return _rate_gap(decision.astype(float), np.unique(groups, return_inverse=True)[1])
    return float(demographic_parity_difference(decision, decision, sensitive_features=groups))


def pooled_deodds(y, decision, groups):
    """Equalized-odds difference of the pooled decisions: the larger of the demographic parity differences
    among the patients (TPR gap) and among the controls (FPR gap), with fairlearn. This is fairlearn's
    ``equalized_odds_difference`` except that a group without patients (or controls) is left out of that
    gap rather than counted with a rate of 0; NaN when either class holds fewer than two groups (one of the
    two gaps is undefined, e.g. SRS, which nearly splits by diagnosis)."""
    gaps = [pooled_dpd(decision[y == c], np.asarray(groups, dtype=object)[y == c]) for c in (1, 0)]
    return np.nan if np.isnan(gaps).any() else float(max(gaps))


def test_train_ratio(folds):
    """Mean over folds of n_test / n_train, training counting the training and validation splits."""
    counts = folds.groupby(["fold", folds["split"] == "test"]).size().unstack()
    return float((counts[True] / counts[False]).mean())


POOLED_COLUMNS = [
    "method",
    "metric",
    "attribute",
    "value",
    "ci_low",
    "ci_high",
    "floor_median",
    "floor_p95",
    "p_floor",
    "above_floor",
    "draw_p05",
    "draw_p95",
]


def pooled_metrics(prediction_files, attributes, n_boot=1000, seed=0, floor_draws=1000, n_draws=200):
    """Metrics on the pooled out-of-fold predictions of every subject, with 95 % bootstrap intervals
    (subjects resampled within diagnosis, ``n_boot`` times, seeded; :func:`neurolip.stats.stratified_bootstrap`,
    i.e. ``scipy.stats.bootstrap``), DPD and DEOdds with fairlearn.

    AUC ranks the calibrated P(disease) (comparable across folds, unlike the per-fold raw scores).
    Continuous attributes are split at each fold's training median, as in :func:`fold_metrics`; the groups
    are taken from the per-fold labels written by the evaluation (``prediction_files`` values are frames).
    ``prediction_files``: {method: DataFrame of all folds' test predictions, with a ``group[<attr>]`` column
    per attribute}.

    For every two-group attribute, each gap (DPD, DEOdds and the signed TPR/FPR gaps, ``floors.GAPS``) gets
    its sex-blind floor (:func:`~neurolip.evaluation.floors.gap_floor`: the attribute permuted within
    diagnosis × fold, ``floor_draws`` times; ``floor_median``, ``floor_p95``, ``p_floor``, ``above_floor``),
    the score leakage (``score_leakage``, from P(disease); ``score_auc[y=<class>]`` per diagnosis) and the
    decision leakage (``decision_leakage``, from the decision :func:`decision_values`;
    ``decision_auc[y=<class>]``), each fold-stratified and beside its floor (permuted within diagnosis ×
    fold). The gaps, their floors and bootstrap intervals are those of :func:`decision_values`: for a
    method with randomised decisions (``p_decision`` strictly between 0 and 1 for some subject) the gaps of
    the expected group rates, not one draw. Such a method also gets the exact expectation over draws of the
    realised gaps (``<gap>_expected``) with their 5–95 % range over ``n_draws`` randomisation draws
    (``draw_p05``, ``draw_p95``) and ``randomised_share[<group>]``. Returns a long table
    (:data:`POOLED_COLUMNS`); ``above_floor`` of repeated CV is the share of repeats above the floor.
    """
    rows = []
    for method, frame in prediction_files.items():
        # every method draws the same resamples and shuffles (one generator per method, same seed): its
        # intervals do not depend on which other methods the run evaluates, and differ between methods by
        # their predictions only
        rng = np.random.default_rng(seed)
        # repeated CV tests every subject once per repeat: pool within a repeat, average over repeats
        repeats = frame["repeat"] if "repeat" in frame.columns else pd.Series(0, index=frame.index)
        per_repeat = [
            pd.DataFrame(
                _pooled_rows(part, attributes, rng, n_boot)
                + _instrument_rows(part, attributes, seed, floor_draws, n_draws)
            ).astype({"value": float})
            for _, part in frame.groupby(repeats.to_numpy(), sort=True)
        ]
        per_repeat = [merge_floor_rows(part) for part in per_repeat]
        merged = pd.concat(per_repeat).groupby(["metric", "attribute"], sort=False).mean().reset_index()
        rows += [{"method": method, **row} for row in merged.to_dict("records")]
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)


def _instrument_rows(frame, attributes, seed, floor_draws, n_draws):
    """Floors of every gap, decision-level leakage and the randomised-threshold report of one pooled frame,
    as rows to merge with :func:`_pooled_rows`' (the DPD and DEOdds rows get their floor columns there)."""
    rows = []
    y = frame["y_true"].to_numpy().astype(int)
    decision = decision_values(frame)  # randomised rules: the expected decisions, not one draw
    folds = frame["fold"].to_numpy()
    p_decision = frame["p_decision"].to_numpy(dtype=float) if "p_decision" in frame.columns else None
    for attribute in attributes:
        column = f"group[{attribute}]"
        if column not in frame.columns:
            continue
        codes = two_group_codes(frame[column].to_numpy(dtype=object))
        if codes is None:
            continue
        known = codes >= 0
        y_k, groups_k = y[known], codes[known]
        if min(len(np.unique(groups_k[y_k == c])) for c in (0, 1)) < 2:
            continue  # a gap needs both groups in both classes
        floors = gap_floor(y_k, decision[known], groups_k, folds[known], n_draws=floor_draws, seed=seed)
        for record in floors.to_dict("records"):
            rows.append(
                {
                    "metric": record["gap"],
                    "attribute": attribute,
                    "value": record["observed"],
                    "floor_median": record["floor_median"],
                    "floor_p95": record["floor_p95"],
                    "p_floor": record["p_floor"],
                    "above_floor": float(record["above_floor"]),
                }
            )
        # score leakage (the continuous P(disease), every row has it) and decision leakage (the decision
        # every row makes): both fold-stratified, their floors permuted within diagnosis x fold
        for metric, values in (("score_leakage", score_values(frame)), ("decision_leakage", decision)):
            leakage = decision_leakage(values[known], groups_k, y_k, folds[known])
            pooled = leakage[leakage.scope == "pooled"]
            floor = decision_leakage_floor(
                values[known], groups_k, y_k, folds[known], n_draws=floor_draws, seed=seed
            )
            rows.append(
                {
                    "metric": metric,
                    "attribute": attribute,
                    "value": float(floor["observed"]),
                    **{k: float(floor[k]) for k in ("floor_median", "floor_p95", "p_floor", "above_floor")},
                }
            )
            prefix = metric.split("_")[0]
            rows += [
                {"metric": f"{prefix}_auc[y={r.diagnosis}]", "attribute": attribute, "value": r.auc}
                for r in pooled.itertuples()
            ]
        if p_decision is not None and randomised(p_decision[known]).any():
            gaps, share = randomised_threshold_report(p_decision[known], y_k, groups_k, n_draws, seed)
            rows += [
                {
                    "metric": f"{r.gap}_expected",
                    "attribute": attribute,
                    "value": r.expected,
                    "draw_p05": r.draw_p05,
                    "draw_p95": r.draw_p95,
                }
                for r in gaps.itertuples()
            ]
            labels = np.unique(frame[column][known].astype(str))
            rows += [
                {
                    "metric": f"randomised_share[{labels[int(r.group)]}]",
                    "attribute": attribute,
                    "value": r.randomised_share,
                }
                for r in share.itertuples()
            ]
    return rows


def merge_floor_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (metric, attribute): the floor columns of a gap's instrument row joined onto its
    bootstrap row (DPD, DEOdds)."""
    return rows.groupby(["metric", "attribute"], sort=False).first().reset_index()


def paired_pooled(pooled, pairs, postprocessed, attributes, n_boot=1000, seed=0) -> pd.DataFrame:
    """Paired bootstrap (subjects resampled jointly, within diagnosis) of pooled gap differences between a
    method and its baseline with the same post-processing: each ``pairs`` entry [method, baseline], and each
    group-threshold variant of the method (``postprocessed``: {variant: base}) against the baseline's
    variant of the same suffix, when both were evaluated. ``pooled``: {method: pooled test predictions, with
    ``group[<attribute>]`` columns}. Repeated CV: pooled within each repeat, averaged over repeats."""
    comparisons = []
    for method, baseline in pairs:
        comparisons.append((method, baseline))
        for variant, base in postprocessed.items():
            if base == method:
                suffix = variant[len(method) :]
                comparisons.append((variant, baseline + suffix))
    columns = ["method", "baseline", "attribute", "gap", "gap_a", "gap_b", "difference", "ci_low", "ci_high"]
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
                parts.append(
                    paired_gap_difference(
                        part["y_true"].to_numpy()[known],
                        part["decision"].to_numpy()[known],
                        part["decision_baseline"].to_numpy()[known],
                        codes[known],
                        n_boot=n_boot,
                        seed=seed,
                    )
                )
            if parts:
                mean = pd.concat(parts).groupby("gap", sort=False).mean(numeric_only=True).reset_index()
                rows += [
                    {"method": method, "baseline": baseline, "attribute": attribute, **r}
                    for r in mean.to_dict("records")
                ]
    return pd.DataFrame(rows, columns=columns + ["n_boot"])


def _pooled_rows(frame, attributes, rng, n_boot):
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
        known = np.array([g is not None and g == g for g in groups])
        if len({g for g, k in zip(groups, known) if k}) < 2:
            continue
        codes = np.full(len(groups), -1)
        codes[known] = np.unique(groups[known].astype(str), return_inverse=True)[1]
        rows.append({"metric": "dpd", "attribute": attribute, "value": pooled_dpd(decision, groups)})
        rows.append(
            {
                "metric": "deodds",
                "attribute": attribute,
                "value": pooled_deodds(y, decision, groups),
            }
        )
        statistics += [partial(_dpd, decision, codes), partial(_deodds, y, decision, codes)]
    # subjects resampled within diagnosis
    for row, (low, high) in zip(rows, stratified_bootstrap(statistics, y, n_boot, rng)):
        row.update(ci_low=low, ci_high=high)
    return rows


def _dpd(decision, codes, idx):
    return _rate_gap(decision[idx], codes[idx])


def _deodds(y, decision, codes, idx):
    """:func:`pooled_deodds` of the subjects ``idx`` (group codes, -1 unknown)."""
    idx = idx[codes[idx] >= 0]
    positive, negative = y[idx] == 1, y[idx] == 0
    gaps = [
        _rate_gap(decision[idx][positive], codes[idx][positive]),
        _rate_gap(decision[idx][negative], codes[idx][negative]),
    ]
    return np.nan if np.isnan(gaps).any() else float(max(gaps))
