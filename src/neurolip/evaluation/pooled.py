"""Metrics on the pooled out-of-fold predictions of every subject: bootstrap intervals
(:mod:`.bootstrap`), the floor of every gap and leakage (:mod:`.floors`, :mod:`.probes`), the report of a
randomised threshold rule (``metrics/pooled.csv``; the held-out probe's rows: :mod:`.probe_test`)."""

import numpy as np
import pandas as pd

from .bootstrap import bootstrap_rows
from .floors import gap_floor
from .frame import (
    decision_values,
    score_values,
    two_group_codes,
)
from .power import gap_mde, leakage_mde
from .probes import decision_leakage, decision_leakage_floor
from .thresholds import randomised, randomised_threshold_report

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
    "mde",
    "draw_p05",
    "draw_p95",
]


def pooled_metrics(prediction_files, attributes, n_boot=1000, seed=0, floor_draws=1000, n_draws=200):
    """Metrics on the pooled out-of-fold predictions of every subject, with 95 % bootstrap intervals
    (subjects resampled within diagnosis, ``n_boot`` times, seeded; :func:`neurolip.stats.stratified_bootstrap`,
    i.e. ``scipy.stats.bootstrap``), DPD and DEOdds with fairlearn.

    AUC ranks the calibrated P(disease) (comparable across folds, unlike the per-fold raw scores).
    Continuous attributes are split at each fold's training median, as in the per-fold metrics; the groups
    are those :class:`~.frame.GroupFrame` put each subject in (:attr:`.metrics.Evaluation.pooled`).
    ``prediction_files``: {method: DataFrame of all folds' test predictions, with a ``group[<attr>]`` column
    per attribute}.

    For every two-group attribute, each gap (DPD, DEOdds and the signed TPR/FPR gaps, ``floors.GAPS``) gets
    its sex-blind floor (:func:`~neurolip.evaluation.floors.gap_floor`: the attribute permuted within
    diagnosis × fold, ``floor_draws`` times; ``floor_median``, ``floor_p95``, ``p_floor``, ``above_floor``),
    the score leakage (``score_leakage``, from P(disease); ``score_auc[y=<class>]`` per diagnosis) and the
    decision leakage (``decision_leakage``, from the decision :func:`.frame.decision_values`;
    ``decision_auc[y=<class>]``), each fold-stratified and beside its floor (permuted within diagnosis ×
    fold). The gaps, their floors and bootstrap intervals are those of :func:`.frame.decision_values`: for a
    method with randomised decisions (``p_decision`` strictly between 0 and 1 for some subject) the gaps of
    the expected group rates, not one draw. Such a method also gets the exact expectation over draws of the
    realised gaps (``<gap>_expected``) with their 5–95 % range over ``n_draws`` randomisation draws
    (``draw_p05``, ``draw_p95``) and ``randomised_share[<group>]``. Every floored row carries ``mde``: the
    smallest effect of its kind its floor detects with 80 % power at these sizes (:mod:`.power`; a rate
    difference for the gaps, a leakage AUC for the leakages; the held-out probe's is left empty here). Returns a long table
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
                bootstrap_rows(part, attributes, rng, n_boot)
                + instrument_rows(part, attributes, seed, floor_draws, n_draws)
            ).astype({"value": float})
            for _, part in frame.groupby(repeats.to_numpy(), sort=True)
        ]
        per_repeat = [merge_floor_rows(part) for part in per_repeat]
        merged = pd.concat(per_repeat).groupby(["metric", "attribute"], sort=False).mean().reset_index()
        rows += [{"method": method, **row} for row in merged.to_dict("records")]
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)


def instrument_rows(frame, attributes, seed, floor_draws, n_draws):
    """Floors of every gap, decision-level leakage and the randomised-threshold report of one pooled frame,
    as rows to merge with :func:`.bootstrap.bootstrap_rows`' (the DPD and DEOdds rows get their floor columns there)."""
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
        # the smallest gap the floor detects with 80 % power at these sizes (.power): what "within" rules out
        mdes = gap_mde(y_k, decision[known], groups_k, folds[known], n_draws=floor_draws, seed=seed)
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
                    "mde": mdes[record["gap"]],
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
                    "mde": leakage_mde(
                        values[known], groups_k, y_k, folds[known], n_draws=floor_draws, seed=seed
                    ),
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
