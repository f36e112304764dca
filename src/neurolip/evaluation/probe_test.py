"""The exact test of the held-out probe (issue 31 item 1) and the pair of probes per method (issue 32 item 3).

**Statistic.** The trainer writes, per model and test subject, the score of a probe cross-fitted over the
subjects the model did not train on (``training/stages/probe.py``). A fold's figure is the *within-diagnosis*
AUC of the attribute from those scores: the Mann–Whitney U summed over the fold's two diagnosis classes over
their pairs (only subjects of the same fold and diagnosis are compared, so a probe that reads sex through the
diagnosis, where most patients are male, reads 0.5), averaged over the fold's models (the mean of their
within-stratum ranks: U is linear in the ranks). The statistic is the mean of the folds' figures, which is the
per-fold ``probe_auc`` of ``metrics/per_fold.csv`` averaged over folds.

**Parts.** The test fold is scored part by part, part j by a probe fitted on the validation subjects and parts
0 … j − 1 (``training.stages.probe.cross_fitted_scores``); scores of different parts come from different
probes, so only subjects of the same part are compared. Chained, part j's AUC given the earlier parts is a
Mann–Whitney draw of its own labels, so the permutation of the fixed scores has the null's variance:
false alarms 5.5 % [3.7, 8.2] of 400 null cohorts at ABIDE's sizes, power 95.5 % at a residual
within-diagnosis AUC of 0.66 (``benchmarks/probe_exact_test.py``, docs/benchmarks.md). Symmetric
cross-fitting (every other part in the fit set) made the parts' AUCs covary and fired in 8.0–11.3 % of
null cohorts.

**Floor.** The attribute permuted within diagnosis × fold × part against the probe's own scores, ``n_draws`` times,
the same statistic each time; one-sided p = (1 + #{null ≥ observed}) / (B + 1) (a probe fitted to read the
attribute reads it in its own direction; below 0.5 is no leakage). Under "the scores say nothing about the
attribute beyond the diagnosis" the labels are exchangeable within those strata, which is what the draws do.
Exact within one fold for one model with untied scores; across folds approximately valid, not exact (a
fold's validation subjects are other folds' test subjects, and erasers and fairness terms are fitted on
labels that other folds test; averaging seeds' ranks couples the parts a little): measured, not assumed.

**MDE.** :func:`probe_mde`: the smallest statistic the test detects with 80 % power at α = 0.05, from the
Mann–Whitney null variance of each stratum, 0.5 + (z₀.₉₅ + z₀.₈₀)·σ₀: 0.565 at ABIDE's sizes, where the
benchmark's power curve reaches 80 % at a mean statistic of 0.571 (a planted oracle within-diagnosis AUC of
0.634; the probe, fitted on a few hundred subjects, reads less than the oracle).

The diagnosis probe (what the representation keeps) is tested the same way with strata = fold (its chance
floor: the diagnosis permuted within fold). :func:`probe_pairs` puts each method's two probes side by side
with its unerased counterpart's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata

DIAGNOSIS = "diagnosis"
# the z-values of a one-sided α = 0.05 test at 80 % power
_Z = norm.ppf(0.95) + norm.ppf(0.80)


def _strata(frame: pd.DataFrame, within_diagnosis: bool) -> np.ndarray:
    """fold × (diagnosis) × part: subjects scored by the same probe (``part`` of the cross-fit) only."""
    keys = frame["fold"].astype(str) + ("|" + frame["diagnosis"].astype(str) if within_diagnosis else "")
    if "part" in frame.columns:
        keys = keys + "|" + frame["part"].astype(str)
    return np.unique(keys.to_numpy(), return_inverse=True)[1]


def _subject_table(scores: pd.DataFrame, within_diagnosis: bool) -> pd.DataFrame:
    """One row per (fold, subject) with a known code: its code, stratum, fold and the mean over the fold's
    models of its within-stratum rank (the fold's models share its parts)."""
    known = scores[scores["code"] >= 0].copy()
    known["stratum"] = _strata(known, within_diagnosis)
    model = ["seed", "model"] if "model" in known.columns else ["seed"]
    known["rank"] = known.groupby(["stratum", *model])["probe_score"].transform(rankdata)
    return (
        known.groupby(["fold", "subject_id"], sort=True)
        .agg(code=("code", "first"), stratum=("stratum", "first"), rank=("rank", "mean"))
        .reset_index()
    )


def _fold_mean_auc(second: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """The statistic, vectorised over the leading axes of ``second`` (0/1 labels, permutations): per fold,
    U summed over the fold's strata over their pairs; the mean over folds with a pair."""
    ranks, strata, folds = table["rank"].to_numpy(), table["stratum"].to_numpy(), table["fold"].to_numpy()
    per_fold = []
    for fold in np.unique(folds):
        u, pairs = 0.0, 0
        for stratum in np.unique(strata[folds == fold]):
            members = strata == stratum
            n1 = int(np.ravel(second[..., members].sum(-1))[0])  # permutations keep a stratum's counts
            n0 = int(members.sum()) - n1
            if n1 and n0:
                u = u + (second[..., members] * ranks[members]).sum(-1) - n1 * (n1 + 1) / 2
                pairs += n1 * n0
        if pairs:
            per_fold.append(np.asarray(u, dtype=float) / pairs)
    return np.mean(per_fold, axis=0) if per_fold else np.full(second.shape[:-1], np.nan)


def per_fold_probe_auc(scores: pd.DataFrame, within_diagnosis: bool = True) -> pd.Series:
    """{fold: the fold's within-diagnosis (or, without ``within_diagnosis``, plain) AUC of the code from the
    probe scores, averaged over the fold's models}; folds without a pair are left out."""
    out = {}
    for fold, part in scores.groupby("fold", sort=True):
        table = _subject_table(part, within_diagnosis)
        value = float(_fold_mean_auc(table["code"].to_numpy() == 1, table))
        if np.isfinite(value):
            out[fold] = value
    return pd.Series(out, dtype=float)


def probe_mde(table: pd.DataFrame, power: float = 0.80, alpha: float = 0.05) -> float:
    """The statistic the exact test detects with ``power`` at one-sided ``alpha``: 0.5 + (z₁₋α + z_power)·σ₀,
    σ₀ the null standard deviation of the fold mean of within-stratum AUCs (Mann–Whitney: Var U = n₁n₀(n+1)/12
    per stratum, untied)."""
    second, strata, folds = (
        table["code"].to_numpy() == 1,
        table["stratum"].to_numpy(),
        table["fold"].to_numpy(),
    )
    variances = []
    for fold in np.unique(folds):
        var_u, pairs = 0.0, 0
        for stratum in np.unique(strata[folds == fold]):
            members = strata == stratum
            n1, n = int(second[members].sum()), int(members.sum())
            var_u += n1 * (n - n1) * (n + 1) / 12
            pairs += n1 * (n - n1)
        if pairs:
            variances.append(var_u / pairs**2)
    if not variances:
        return np.nan
    sigma = np.sqrt(np.sum(variances)) / len(variances)
    return float(0.5 + (norm.ppf(1 - alpha) + norm.ppf(power)) * sigma)


def probe_exact_test(
    scores: pd.DataFrame, within_diagnosis: bool = True, n_draws: int = 1000, seed: int = 0
) -> dict:
    """The exact test of one method's probe of one target. ``scores``: rows of the trainer's leakage files
    (fold, seed, subject_id, code 0/1 or -1 unknown, diagnosis, probe_score). Returns ``value`` (the fold
    mean of within-diagnosis AUCs), ``floor_median``, ``floor_p95``, ``p_floor``, ``above_floor``
    (p ≤ 0.05), ``mde`` and the null ``draws``; NaN where no stratum holds both groups."""
    table = _subject_table(scores, within_diagnosis)
    second = table["code"].to_numpy() == 1
    value = float(_fold_mean_auc(second, table))
    if not np.isfinite(value):
        nan = {k: np.nan for k in ("value", "floor_median", "floor_p95", "p_floor", "above_floor", "mde")}
        return {**nan, "draws": np.full(n_draws, np.nan)}
    rng = np.random.default_rng(seed)
    permuted = np.tile(second, (n_draws, 1))
    strata = table["stratum"].to_numpy()
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        permuted[:, members] = rng.permuted(permuted[:, members], axis=1)
    draws = _fold_mean_auc(permuted, table)
    p = float((1 + np.sum(draws >= value - 1e-12)) / (1 + n_draws))
    return {
        "value": value,
        "floor_median": float(np.median(draws)),
        "floor_p95": float(np.percentile(draws, 95)),
        "p_floor": p,
        "above_floor": float(p <= 0.05),
        "mde": probe_mde(table),
        "draws": draws,
    }


def read_leakage(leakage_files) -> pd.DataFrame:
    """The trainer's leakage files ({(method, fold): path}) as one frame with a ``method`` column; a file
    without rows (no probe: a thresholded method, no two-group attribute) adds nothing. A file in the
    per-model layout of an older run (no ``probe_score``) is an error naming it."""
    frames = []
    for (method, fold), path in leakage_files.items():
        frame = pd.read_csv(path, dtype={"subject_id": str})
        if frame.empty:
            continue
        missing = {"subject_id", "code", "diagnosis", "probe_score"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"{path}: no per-subject probe scores (columns {sorted(missing)} missing; a leakage file of an "
                "older run: retrain the method)"
            )
        frames.append(frame.assign(method=method, fold=fold))
    columns = ["method", "fold", "seed", "attribute", "subject_id", "code", "diagnosis", "probe_score"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def pooled_probe_rows(leakage: pd.DataFrame, columns, n_draws: int = 1000) -> pd.DataFrame:
    """``metrics/pooled.csv`` rows (metric ``probe_auc``) of each method's sensitive-attribute probes: the fold
    mean of within-diagnosis AUCs beside its exact floor, p and MDE (:func:`probe_exact_test`)."""
    rows = []
    probes = leakage[leakage["attribute"] != DIAGNOSIS]
    for (method, attribute), part in probes.groupby(["method", "attribute"], sort=False):
        test = probe_exact_test(part, n_draws=n_draws, seed=0)
        if np.isnan(test["value"]):
            continue
        rows.append(
            {"method": method, "metric": "probe_auc", "attribute": attribute}
            | {k: v for k, v in test.items() if k != "draws"}
        )
    return pd.DataFrame(rows).reindex(columns=columns)


PAIR_COLUMNS = [
    "method",
    "attribute",
    "attribute_probe_auc",
    "attribute_floor_p95",
    "attribute_p",
    "attribute_mde",
    "diagnosis_probe_auc",
    "diagnosis_floor_p95",
    "diagnosis_p",
    "reference",
    "reference_attribute_probe_auc",
    "reference_diagnosis_probe_auc",
]


def probe_pairs(leakage: pd.DataFrame, references: dict, n_draws: int = 1000) -> pd.DataFrame:
    """``metrics/probe_pairs.csv``: per method and attribute, what the representation gives away (the
    attribute probe's within-diagnosis AUC beside its exact floor, p and MDE) and what it keeps (the diagnosis
    probe's fold-mean AUC beside its chance floor and p), with the figures of the method's unerased counterpart
    (``references``: {method: unerased method}; blank without one)."""
    tests = {}
    for (method, attribute), part in leakage.groupby(["method", "attribute"], sort=False):
        tests[(method, attribute)] = probe_exact_test(
            part, within_diagnosis=attribute != DIAGNOSIS, n_draws=n_draws, seed=0
        )
    rows = []
    for (method, attribute), test in tests.items():
        if attribute == DIAGNOSIS:
            continue
        kept = tests.get((method, DIAGNOSIS), {})
        reference = references.get(method, "")
        rows.append(
            {
                "method": method,
                "attribute": attribute,
                "attribute_probe_auc": test["value"],
                "attribute_floor_p95": test["floor_p95"],
                "attribute_p": test["p_floor"],
                "attribute_mde": test["mde"],
                "diagnosis_probe_auc": kept.get("value", np.nan),
                "diagnosis_floor_p95": kept.get("floor_p95", np.nan),
                "diagnosis_p": kept.get("p_floor", np.nan),
                "reference": reference,
                "reference_attribute_probe_auc": tests.get((reference, attribute), {}).get("value", np.nan),
                "reference_diagnosis_probe_auc": tests.get((reference, DIAGNOSIS), {}).get("value", np.nan),
            }
        )
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def probe_pairs_figure(pairs: pd.DataFrame, labels: dict, attribute: str, png, pdf) -> None:
    """One point per method: the attribute probe's within-diagnosis AUC (what it gives away; dashed: the
    median of its methods' floors' 95th percentiles) against the diagnosis probe's AUC (what it keeps;
    dotted: its chance floor's 95th percentile), an
    arrow from each erased method's unerased counterpart. Written as a 300-dpi PNG and a PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = pairs[pairs["attribute"] == attribute].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    if rows.empty:
        ax.text(0.5, 0.5, f"no method has a held-out {attribute} probe", ha="center", va="center")
        ax.set_axis_off()
    else:
        floor = float(np.nanmedian(rows["attribute_floor_p95"]))
        ax.axvline(0.5, color="0.6", lw=0.8)
        ax.axvline(floor, color="0.3", ls="--", lw=0.8, label=f"{attribute} floor p95 (median) {floor:.3f}")
        ax.axhline(0.5, color="0.6", lw=0.8, label="chance (0.5)")
        kept_floor = float(np.nanmedian(rows["diagnosis_floor_p95"]))
        ax.axhline(
            kept_floor,
            color="0.3",
            ls=":",
            lw=0.8,
            label=f"diagnosis chance floor p95 (median) {kept_floor:.3f}",
        )
        colours = plt.get_cmap("tab10")
        for i, r in rows.iterrows():
            marker = "o" if r["attribute_p"] <= 0.05 else "s"
            ax.scatter(
                r["attribute_probe_auc"],
                r["diagnosis_probe_auc"],
                color=colours(i % 10),
                marker=marker,
                s=45,
                zorder=3,
                label=labels.get(r["method"], r["method"]),
            )
            if r["reference"] and np.isfinite(r["reference_attribute_probe_auc"]):
                ax.annotate(
                    "",
                    xy=(r["attribute_probe_auc"], r["diagnosis_probe_auc"]),
                    xytext=(r["reference_attribute_probe_auc"], r["reference_diagnosis_probe_auc"]),
                    arrowprops={"arrowstyle": "->", "color": colours(i % 10), "lw": 1.0},
                )
        ax.margins(0.08)  # no point on the frame
        ax.set_xlabel(f"{attribute} probe: within-diagnosis AUC (what the representation gives away)")
        ax.set_ylabel("diagnosis probe: AUC (what it keeps)")
        ax.set_title(
            f"Held-out probes per method (circle: {attribute} above its floor, p ≤ 0.05; square: not)\n"
            "arrows: from the unerased model to its erased counterpart",
            fontsize=9,
        )
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.savefig(png, dpi=300, bbox_inches="tight")
    fig.savefig(pdf, bbox_inches="tight")
    plt.close(fig)
