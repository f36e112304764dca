"""The text-robustness table (docs/method.md, "Text robustness"): for every method and text variant, the
change in AUC, DPD and DEOdds (primary sensitive attribute) and the agreement of the disease attention map
with the unchanged run, each beside the seed-to-seed spread of the unchanged method.

Every figure is taken per model (seed) and fold: a seed's metric under the variant minus the same seed's
metric with the unchanged texts, averaged over seeds and folds (``delta``), beside the mean over folds of the
range of the unchanged metric across the fold's seeds (``seed_spread``). Each change also has a paired 95 % t
interval over its (fold, seed) units (``delta_ci_low``/``delta_ci_high``, ``p_delta``): a change is
"detected" only where that interval excludes 0, and it is a finding only where it is also larger than the
spread ("beyond the seed spread"); a detected change within the spread is systematic but no larger than
what reseeding alone does. A map's agreement is the Spearman
correlation of a seed's variant map with its own unchanged map, beside the mean Spearman correlation of two
seeds' unchanged maps of the same fold (``seed_spread`` for maps): an agreement at least as high is inside.
With one model per fold (the demo) the yardstick is the variation across folds instead (``spread_basis``
``fold SD``: the fold-to-fold SD of the unchanged metric; for maps ``fold agreement``: the mean Spearman
correlation of two folds' unchanged maps), a coarser one, named in the verdict ("... the fold spread (one
seed)"); with one seed and one fold there is none (``no spread: one seed, one fold``). ``delta_reported``
is the same change of the fold's reported prediction (its models combined and calibrated), for reading
beside Table 1; ``fold_sd`` the fold-to-fold SD of the unchanged reported metric.

A trained variant (a method trained on other texts, e.g. paraphrased templates) is a row too: the variant
method's seed s read with the unchanged texts minus the base method's seed s (same seed, same fold).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..group_rates import two_group_gaps
from ..stats import safe_auc

UNCHANGED = "unchanged"
FOLD_LEVEL = -1
METRICS = ("auc", "dpd", "deodds")
NO_SPREAD = "no spread: one seed, one fold"
NO_CHANGE = "no change detected (paired 95 % interval includes 0)"
INSIDE, OUTSIDE = "change detected, within the seed spread", "change detected, beyond the seed spread"
FOLD_INSIDE = "change detected, within the fold spread (one seed)"
FOLD_OUTSIDE = "change detected, beyond the fold spread (one seed)"
MAP_INSIDE, MAP_OUTSIDE = "agreement at least the seed-to-seed one", "agreement below the seed-to-seed one"
MAP_FOLD_INSIDE = "agreement at least the fold-to-fold one (one seed)"
MAP_FOLD_OUTSIDE = "agreement below the fold-to-fold one (one seed)"
SEED_RANGE, FOLD_SD, FOLD_AGREEMENT = "seed range", "fold SD", "fold agreement"


def metrics_of(frame: pd.DataFrame, groups) -> dict[str, float]:
    """AUC of ``p_disease`` and the decisions' DPD and DEOdds between the two groups (``groups``: a label per
    row, None unknown; NaN gaps with other than two groups)."""
    y, decision = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(dtype=float)
    out = {"auc": safe_auc(y, frame["p_disease"].to_numpy())}
    groups = pd.Series(list(groups), dtype=object)
    known = groups.notna().to_numpy()
    labels = sorted(set(groups[known].astype(str)))
    if len(labels) != 2:
        return {**out, "dpd": np.nan, "deodds": np.nan}
    second = groups[known].astype(str).to_numpy() == labels[1]
    gaps = two_group_gaps(decision[known], y[known], second)
    return {**out, "dpd": float(gaps["dpd"]), "deodds": float(gaps["deodds"])}


def metric_rows(rescored: pd.DataFrame, group_frame, attribute: str) -> pd.DataFrame:
    """One row per method, fold, variant and seed (``seed`` -1: the fold's reported prediction) with its
    AUC, DPD and DEOdds; groups of the primary ``attribute`` from ``group_frame``
    (:class:`~neurolip.evaluation.frame.GroupFrame`: continuous ones split at the fold's training median)."""
    rows = []
    for (method, fold, variant, seed), frame in rescored.groupby(["method", "fold", "variant", "seed"]):
        groups, _ = group_frame.groups(frame.reset_index(drop=True), int(fold))
        labels = groups.get(attribute, [None] * len(frame))
        rows.append(
            {"method": method, "fold": int(fold), "variant": variant, "seed": int(seed)}
            | metrics_of(frame, labels)
        )
    return pd.DataFrame(rows)


def _spearman(a, b) -> float:
    return float(scipy_stats.spearmanr(a, b)[0])


def _verdict(inside: bool | None, basis: str | None) -> str:
    """A map's verdict: its agreement against the seed-to-seed (or fold-to-fold) agreement."""
    if basis is None or inside is None:
        return NO_SPREAD
    if basis == SEED_RANGE:
        return MAP_INSIDE if inside else MAP_OUTSIDE
    return MAP_FOLD_INSIDE if inside else MAP_FOLD_OUTSIDE


def paired_interval(units) -> tuple[float, float, float]:
    """95 % t interval and two-sided p of the mean of the paired changes ``units`` (one per fold and seed);
    changes that are all equal give a zero-width interval (p 1 when they are 0, else 0); one unit: NaN."""
    units = np.asarray(units, dtype=float)
    units = units[np.isfinite(units)]
    if units.size < 2:
        return np.nan, np.nan, np.nan
    mean, sd = units.mean(), units.std(ddof=1)
    if sd == 0:
        return mean, mean, 1.0 if mean == 0 else 0.0
    half = scipy_stats.t.ppf(0.975, units.size - 1) * sd / np.sqrt(units.size)
    return mean - half, mean + half, float(scipy_stats.ttest_1samp(units, 0.0).pvalue)


def _change_verdict(low, high, delta, spread, basis) -> str:
    """A metric's verdict: is the change systematic over the (fold, seed) units (paired interval without 0),
    and is it larger than the variation that is there anyway (``spread``)? A change inside the spread is no
    finding; an interval with 0 detects none, which is not proof of none (its width says what it could see)."""
    if basis is None or not np.isfinite(low):
        return NO_SPREAD
    if low <= 0 <= high:
        return NO_CHANGE
    beyond = abs(delta) > spread
    if basis == SEED_RANGE:
        return OUTSIDE if beyond else INSIDE
    return FOLD_OUTSIDE if beyond else FOLD_INSIDE


def _scalar_rows(per_seed, per_fold, base_key, changed_key, method, variant, n_seeds):
    """Rows of AUC, DPD, DEOdds for one (changed vs base) comparison. ``per_seed``/``per_fold``: metric
    frames indexed by (method, variant, fold, seed) / (method, variant, fold)."""
    rows = []
    base_seeds, changed_seeds = per_seed.loc[base_key], per_seed.loc[changed_key]
    base_fold, changed_fold = per_fold.loc[base_key], per_fold.loc[changed_key]
    for metric in METRICS:
        units = changed_seeds[metric] - base_seeds[metric]
        delta = units.mean()
        low, high, p_delta = paired_interval(units)
        ranges = base_seeds[metric].groupby(level="fold").agg(lambda v: v.max() - v.min())
        fold_sd = float(base_fold[metric].std(ddof=1)) if base_fold[metric].size > 1 else np.nan
        if n_seeds >= 2:
            spread, basis = float(ranges.mean()), SEED_RANGE
        else:
            spread, basis = fold_sd, (FOLD_SD if np.isfinite(fold_sd) else None)
        rows.append(
            {
                "method": method,
                "variant": variant,
                "metric": metric,
                "unchanged": float(base_seeds[metric].mean()),
                "changed": float(changed_seeds[metric].mean()),
                "delta": float(delta),
                "delta_ci_low": low,
                "delta_ci_high": high,
                "p_delta": p_delta,
                "seed_spread": spread,
                "delta_reported": float((changed_fold[metric] - base_fold[metric]).mean()),
                "fold_sd": fold_sd,
                "spread_basis": basis,
                "n_seeds": n_seeds,
                "n_folds": int(base_fold[metric].size),
                "verdict": _change_verdict(low, high, delta, spread, basis),
            }
        )
    return rows


def _map_row(maps, base, changed, method, variant, folds, seeds):
    """Agreement of each seed's changed map with its base map, beside the seed-to-seed agreement."""
    if not all(f"{base[1]}/seed{s}" in maps.get((base[0], f), {}) for f in folds for s in seeds):
        return []
    agreement = [
        _spearman(maps[(changed[0], f)][f"{changed[1]}/seed{s}"], maps[(base[0], f)][f"{base[1]}/seed{s}"])
        for f in folds
        for s in seeds
    ]
    between = (
        []
        if len(seeds) < 2
        else [
            np.mean(
                [
                    _spearman(
                        maps[(base[0], f)][f"{base[1]}/seed{a}"], maps[(base[0], f)][f"{base[1]}/seed{b}"]
                    )
                    for a, b in itertools.combinations(seeds, 2)
                ]
            )
            for f in folds
        ]
    )
    if len(seeds) >= 2:
        spread, basis = float(np.mean(between)), SEED_RANGE
    elif len(folds) >= 2:
        # one seed: how well two folds' unchanged maps agree (other subjects, other models)
        first = f"{base[1]}/seed{seeds[0]}"
        spread = float(
            np.mean(
                [
                    _spearman(maps[(base[0], a)][first], maps[(base[0], b)][first])
                    for a, b in itertools.combinations(folds, 2)
                ]
            )
        )
        basis = FOLD_AGREEMENT
    else:
        spread, basis = np.nan, None
    value = float(np.mean(agreement))
    return [
        {
            "method": method,
            "variant": variant,
            "metric": "map_agreement",
            "unchanged": 1.0,
            "changed": value,
            "delta": value - 1.0,
            "delta_ci_low": np.nan,
            "delta_ci_high": np.nan,
            "p_delta": np.nan,
            "seed_spread": spread,
            "delta_reported": np.nan,
            "fold_sd": np.nan,
            "spread_basis": basis,
            "n_seeds": len(seeds),
            "n_folds": len(folds),
            "verdict": _verdict(None if np.isnan(spread) else value >= spread, basis),
        }
    ]


def robustness_table(metrics: pd.DataFrame, maps: dict, trained_variants=()) -> pd.DataFrame:
    """``metrics``: :func:`metric_rows`; ``maps``: {(method, fold): {"<variant>/seed<s>": map}};
    ``trained_variants``: [(variant method, base method)] both in ``metrics``. One row per method, variant
    and metric (AUC, DPD, DEOdds, map agreement), then the trained variants' rows (method = the base,
    variant = ``trained:<variant method>``)."""
    per_seed = metrics[metrics["seed"] != FOLD_LEVEL].set_index(["method", "variant", "fold", "seed"])
    per_seed = per_seed.sort_index()
    per_fold = metrics[metrics["seed"] == FOLD_LEVEL].set_index(["method", "variant", "fold"]).sort_index()
    rows = []
    for method in dict.fromkeys(metrics["method"]):
        own = per_seed.loc[method]
        if UNCHANGED not in own.index.get_level_values("variant"):
            raise ValueError(f"text robustness: {method} has no '{UNCHANGED}' read-out")
        seeds = sorted(set(own.loc[UNCHANGED].index.get_level_values("seed")))
        folds = sorted(set(own.loc[UNCHANGED].index.get_level_values("fold")))
        for variant in dict.fromkeys(own.index.get_level_values("variant")):
            if variant == UNCHANGED:
                continue
            rows += _scalar_rows(
                per_seed, per_fold, (method, UNCHANGED), (method, variant), method, variant, len(seeds)
            )
            rows += _map_row(maps, (method, UNCHANGED), (method, variant), method, variant, folds, seeds)
    for variant_method, base in trained_variants:
        seeds = sorted(set(per_seed.loc[(base, UNCHANGED)].index.get_level_values("seed")))
        folds = sorted(set(per_seed.loc[(base, UNCHANGED)].index.get_level_values("fold")))
        name = f"trained:{variant_method}"
        rows += _scalar_rows(
            per_seed, per_fold, (base, UNCHANGED), (variant_method, UNCHANGED), base, name, len(seeds)
        )
        rows += _map_row(maps, (base, UNCHANGED), (variant_method, UNCHANGED), base, name, folds, seeds)
    return pd.DataFrame(rows)
