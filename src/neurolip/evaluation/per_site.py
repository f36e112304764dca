"""Per-site results (issue 33): each test site's AUC with its interval, the pooled AUC, the spread of the
per-site AUCs, the worst site, ES-AUC over sites, and a test of whether AUC differs across sites beyond
chance (``metrics/per_site.csv``).

Works on the pooled out-of-fold predictions of a method, whatever the folds: under stratified folds a
site's subjects are spread over the test folds and its AUC ranks their pooled calibrated P(disease) (as the
pooled AUC does); under leave-site-out a site is one test fold. A site's AUC ranks its own subjects only.

* Interval: percentile bootstrap within the site, subjects resampled within diagnosis (``n_boot`` resamples,
  seeded), computed exactly from the site's patient × control comparison matrix.
* ES-AUC over sites: the paper's equity-scaled AUC with site as the attribute, as for sex
  (:func:`.per_fold.fairness_metrics`): pooled AUC / (1 + Σ_sites |pooled AUC − site AUC|).
* Heterogeneity: Cochran's Q of the per-site AUCs, each weighted by its inverse Hanley–McNeil variance
  (``q``), and the plain SD of the per-site AUCs (``auc_sd``), each against the null that permutes the site
  labels within diagnosis over the pooled predictions (``n_perm`` draws; each site keeps its numbers of
  patients and controls): ``p_q``, ``p_sd``. The same draws give the null 5th percentile of the worst-site
  AUC and the null median of ES-AUC over sites, printed beside them: with sites of 20 subjects the worst
  site is far below the pooled AUC by chance alone. Power and false alarms at ABIDE's sizes:
  ``benchmarks/per_site.py`` (docs/benchmarks.md).

A site whose subjects hold one class has no AUC: it is written with ``auc`` missing and a ``reason``, and is
left out of the across-site figures (whose ``n_sites_with_auc`` says how many sites they rest on).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..permutations import within_block_permutations
from .frame import score_values

ALL_SITES = "all sites"
MIN_CLASS = 5  # below this many patients or controls a site's AUC is flagged as resting on too few
SITE_COLUMNS = [
    "method",
    "site",
    "n",
    "n_control",
    "n_patient",
    "n_folds",
    "auc",
    "ci_low",
    "ci_high",
    "reason",
    "n_sites",
    "n_sites_with_auc",
    "auc_sd",
    "auc_range",
    "worst_site",
    "worst_site_auc",
    "worst_site_null_p05",
    "es_auc_site",
    "es_auc_site_null_median",
    "q",
    "q_null_p95",
    "p_q",
    "sd_null_p95",
    "p_sd",
    "n_perm",
    "interval",
]
INTERVAL = "bootstrap within site and diagnosis (percentile, 95 %)"


def site_aucs(scores, y, codes, n_sites: int) -> np.ndarray:
    """AUC of every site for one or more labelings of the subjects: ``codes`` (n,) or (B, n) site codes
    0..n_sites-1 (-1 unknown) → (B, n_sites) AUCs (ties count one half; NaN where a site lacks a class).
    Vectorised over labelings: the Mann–Whitney count of each patient against the controls of its site below
    it in one sort of the scores."""
    scores, y = np.asarray(scores, dtype=float), np.asarray(y).astype(int)
    codes = np.atleast_2d(codes)
    order = np.argsort(scores, kind="stable")
    s, yy, c = scores[order], y[order], codes[:, order]
    first = np.r_[True, s[1:] != s[:-1]]
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(s)]  # exclusive
    block = np.cumsum(first) - 1
    positive = np.flatnonzero(yy == 1)
    below, through = starts[block[positive]], ends[block[positive]]
    rows = np.arange(len(c))[:, None]
    out = np.full((len(c), n_sites), np.nan)
    for site in range(n_sites):
        in_site = c == site
        controls = np.concatenate([np.zeros((len(c), 1)), np.cumsum(in_site & (yy == 0), axis=1)], axis=1)
        less, less_equal = controls[rows, below[None]], controls[rows, through[None]]
        wins = np.where(in_site[:, positive], less + 0.5 * (less_equal - less), 0.0).sum(axis=1)
        n1, n0 = in_site[:, positive].sum(axis=1), controls[:, -1]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, site] = np.where(n1 * n0 > 0, wins / (n1 * n0), np.nan)
    return out


def bootstrap_auc_interval(scores, y, n_boot: int, rng, confidence=0.95) -> tuple[float, float]:
    """Percentile interval of the AUC, subjects resampled with replacement within diagnosis; exact for each
    resample (multinomial counts of patients and controls against the comparison matrix)."""
    scores, y = np.asarray(scores, dtype=float), np.asarray(y).astype(int)
    s1, s0 = scores[y == 1], scores[y == 0]
    if len(s1) == 0 or len(s0) == 0:
        return np.nan, np.nan
    wins = (s1[:, None] > s0[None]) + 0.5 * (s1[:, None] == s0[None])
    w1 = rng.multinomial(len(s1), np.full(len(s1), 1 / len(s1)), size=n_boot)
    w0 = rng.multinomial(len(s0), np.full(len(s0), 1 / len(s0)), size=n_boot)
    draws = ((w1 @ wins) * w0).sum(axis=1) / (len(s1) * len(s0))
    tail = 50 * (1 - confidence)
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def hanley_mcneil_variance(auc, n_patient, n_control) -> np.ndarray:
    """:func:`neurolip.stats.auc_standard_error` squared, vectorised (a site without patients or controls
    counts as one of each: its AUC is NaN and left out)."""
    n1, n0 = np.maximum(n_patient, 1), np.maximum(n_control, 1)
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)
    return np.maximum(variance, 1e-12) / (n1 * n0)


def cochran_q(aucs, n_patient, n_control) -> np.ndarray:
    """Cochran's Q of per-site AUCs ((B, S), NaN left out) with Hanley–McNeil variances from each site's
    numbers of patients and controls (the AUC clipped to [0.01, 0.99] for its variance: a site at AUC 1 would
    otherwise weigh infinitely)."""
    aucs = np.atleast_2d(aucs)
    variance = hanley_mcneil_variance(np.clip(np.nan_to_num(aucs, nan=0.5), 0.01, 0.99), n_patient, n_control)
    weights = np.where(np.isnan(aucs), 0.0, 1 / variance)
    filled = np.nan_to_num(aucs)
    mean = (weights * filled).sum(axis=1, keepdims=True) / weights.sum(axis=1, keepdims=True)
    return (weights * (filled - mean) ** 2).sum(axis=1)


def spread_statistics(aucs, pooled_auc, n_patient, n_control) -> dict:
    """The across-site figures of per-site AUCs ((B, S); NaN sites left out): SD, range, worst, ES-AUC over
    sites and Cochran's Q, each an array over the B rows."""
    aucs = np.atleast_2d(aucs)
    defined = np.isfinite(aucs).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.nansum((aucs - np.nanmean(aucs, axis=1, keepdims=True)) ** 2, axis=1) / (defined - 1))
    return {
        "auc_sd": np.where(defined >= 2, sd, np.nan),
        "auc_range": np.nanmax(aucs, axis=1) - np.nanmin(aucs, axis=1),
        "worst_site_auc": np.nanmin(aucs, axis=1),
        "es_auc_site": pooled_auc / (1 + np.nansum(np.abs(pooled_auc - aucs), axis=1)),
        "q": cochran_q(aucs, n_patient, n_control),
    }


def null_site_codes(codes, y, n_perm: int, seed: int = 0) -> np.ndarray:
    """(n_perm, n) site codes permuted within diagnosis: every site keeps its numbers of patients and
    controls, and its subjects' scores are drawn from the whole cohort's of their diagnosis."""
    return np.asarray(codes)[within_block_permutations(np.asarray(y), n_perm, seed=seed)]


def site_heterogeneity(scores, y, codes, n_sites, n_perm=1000, seed=0, pooled_auc=None) -> dict:
    """Observed across-site figures and their null (site labels permuted within diagnosis, ``n_perm``
    draws): {figure: observed} plus ``q_null_p95``, ``p_q``, ``sd_null_p95``, ``p_sd``,
    ``worst_site_null_p05``, ``es_auc_site_null_median``. Subjects of unknown site (code -1) stay out."""
    known = np.asarray(codes) >= 0
    scores, y, codes = (
        np.asarray(scores, float)[known],
        np.asarray(y).astype(int)[known],
        np.asarray(codes)[known],
    )
    if pooled_auc is None:
        pooled_auc = float(site_aucs(scores, y, np.zeros(len(y), int), 1)[0, 0])
    observed = site_aucs(scores, y, codes, n_sites)
    n_patient = np.bincount(codes[y == 1], minlength=n_sites)
    n_control = np.bincount(codes[y == 0], minlength=n_sites)
    stats = {k: float(v[0]) for k, v in spread_statistics(observed, pooled_auc, n_patient, n_control).items()}
    defined = int(np.isfinite(observed).sum())
    if defined < 2 or n_perm < 1:
        return {**stats, "n_sites_with_auc": defined, "per_site": observed[0]}
    null_codes = null_site_codes(codes, y, n_perm, seed)
    null = {k: [] for k in stats}
    for chunk in np.array_split(null_codes, max(1, n_perm // 100)):
        for k, v in spread_statistics(
            site_aucs(scores, y, chunk, n_sites), pooled_auc, n_patient, n_control
        ).items():
            null[k].append(v)
    null = {k: np.concatenate(v) for k, v in null.items()}

    def p_value(key):
        return float((1 + np.sum(null[key] >= stats[key] - 1e-12)) / (1 + n_perm))

    return {
        **stats,
        "n_sites_with_auc": defined,
        "per_site": observed[0],
        "q_null_p95": float(np.percentile(null["q"], 95)),
        "p_q": p_value("q"),
        "sd_null_p95": float(np.percentile(null["auc_sd"], 95)),
        "p_sd": p_value("auc_sd"),
        "worst_site_null_p05": float(np.percentile(null["worst_site_auc"], 5)),
        "es_auc_site_null_median": float(np.median(null["es_auc_site"])),
        "n_perm": n_perm,
    }


def pooled_predictions(files: dict, cohort: pd.DataFrame, folds: pd.DataFrame) -> dict:
    """{method: its test predictions of every fold}, from ``files`` ({(method, fold): path}), each row with
    its subject's ``site`` as the cohort codes it (a categorical attribute, as :class:`.frame.GroupFrame` uses
    it: unknown stays missing) and its fold's ``repeat``. A subject the cohort lacks is an error naming it."""
    if "site" not in cohort.columns:
        raise ValueError("the cohort has no site column: no per-site results (dataset.columns must map site)")
    sites = cohort.set_index(cohort["subject_id"].astype(str))["site"]
    repeat_of = folds.groupby("fold")["repeat"].first() if "repeat" in folds.columns else None
    pooled = {}
    for (method, fold), path in sorted(files.items()):
        frame = pd.read_csv(path, dtype={"subject_id": str})
        missing = sorted(set(frame["subject_id"]) - set(sites.index))
        if missing:
            raise ValueError(
                f"{path}: subjects not in the cohort, no site for them: {', '.join(missing[:5])}"
            )
        frame["site"] = sites.loc[frame["subject_id"]].astype(object).to_numpy()
        frame["fold"] = fold
        frame["repeat"] = int(repeat_of[fold]) if repeat_of is not None else 0
        pooled.setdefault(method, []).append(frame)
    return {method: pd.concat(frames, ignore_index=True) for method, frames in pooled.items()}


def _reason(n_patient, n_control):
    if n_patient == 0 or n_control == 0:
        return f"one class only ({n_patient} patients, {n_control} controls): AUC undefined"
    if min(n_patient, n_control) < MIN_CLASS:
        return f"fewer than {MIN_CLASS} patients or controls: AUC rests on too few"
    return ""


def method_site_rows(frame: pd.DataFrame, method: str, n_boot=1000, n_perm=1000, seed=0) -> list[dict]:
    """Rows of ``metrics/per_site.csv`` for one method's pooled test predictions of one repeat (``site``,
    ``y_true``, ``fold`` and P(disease) columns): one per site, then one for all sites."""
    y = frame["y_true"].to_numpy().astype(int)
    scores = score_values(frame)
    if not np.isfinite(scores).all():
        bad = (
            frame.loc[~np.isfinite(scores), "subject_id"].astype(str).tolist()
            if "subject_id" in frame
            else []
        )
        raise ValueError(f"method {method!r}: predictions without a finite P(disease): {', '.join(bad[:5])}")
    sites = frame["site"].astype(object).where(frame["site"].notna(), None)
    labels = sorted({str(s) for s in sites.dropna()})
    codes = np.array([labels.index(str(s)) if s is not None else -1 for s in sites])
    rng = np.random.default_rng(seed)
    pooled_auc = float(site_aucs(scores, y, np.zeros(len(y), int), 1)[0, 0])
    rows = []
    for code, site in enumerate(labels):
        where = codes == code
        n1, n0 = int(y[where].sum()), int((y[where] == 0).sum())
        low, high = bootstrap_auc_interval(scores[where], y[where], n_boot, rng)
        rows.append(
            {
                "site": site,
                "n": int(where.sum()),
                "n_control": n0,
                "n_patient": n1,
                "n_folds": int(frame.loc[where, "fold"].nunique()),
                "ci_low": low,
                "ci_high": high,
                "reason": _reason(n1, n0),
            }
        )
    het = site_heterogeneity(scores, y, codes, len(labels), n_perm=n_perm, seed=seed, pooled_auc=pooled_auc)
    for row, auc in zip(rows, het.pop("per_site"), strict=True):
        row["auc"] = float(auc)
    defined = [r for r in rows if np.isfinite(r["auc"])]
    worst = min(defined, key=lambda r: r["auc"])["site"] if defined else ""
    low, high = bootstrap_auc_interval(scores, y, n_boot, rng)
    rows.append(
        {
            "site": ALL_SITES,
            "n": len(y),
            "n_control": int((y == 0).sum()),
            "n_patient": int(y.sum()),
            "n_folds": int(frame["fold"].nunique()),
            "auc": pooled_auc,
            "ci_low": low,
            "ci_high": high,
            "reason": ""
            if len(defined) >= 2
            else f"{len(defined)} site(s) with an AUC: no spread across sites",
            "n_sites": len(labels),
            "worst_site": worst,
            **het,
        }
    )
    return [{"method": method, "interval": INTERVAL, **row} for row in rows]


def per_site_metrics(pooled: dict, n_boot=1000, n_perm=1000, seed=0) -> pd.DataFrame:
    """``metrics/per_site.csv`` of every method ({method: its pooled test predictions with ``site``,
    ``fold`` and, for repeated CV, ``repeat``}). Every method draws the same resamples and permutations
    (same seed). Repeated CV: each repeat's figures, averaged over repeats (the worst site: of the averaged
    per-site AUCs)."""
    out = []
    for method, frame in pooled.items():
        if "site" not in frame.columns:
            raise ValueError(f"predictions of method {method!r} have no site column: no per-site results")
        repeats = frame["repeat"] if "repeat" in frame.columns else pd.Series(0, index=frame.index)
        parts = [
            pd.DataFrame(method_site_rows(part, method, n_boot, n_perm, seed))
            for _, part in frame.groupby(repeats.to_numpy(), sort=True)
        ]
        table = parts[0] if len(parts) == 1 else _average_repeats(parts)
        out.append(table)
    return pd.concat(out, ignore_index=True).reindex(columns=SITE_COLUMNS)


def _average_repeats(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Repeated CV: figures averaged over repeats; the p-values combined as twice their mean (capped at 1), a
    valid p-value for any dependence between repeats (a plain mean of p-values is not one); the worst site is
    named only where every repeat has the same one (``worst_site_auc`` is the mean of the repeats' minima)."""
    frame = pd.concat(parts, ignore_index=True)
    text = ["method", "site", "reason", "worst_site", "interval"]
    numeric = frame.drop(columns=text).groupby(frame["site"], sort=False).mean()
    for column in ("p_q", "p_sd"):
        if column in numeric.columns:
            numeric[column] = (2 * numeric[column]).clip(upper=1.0)
    first = frame.groupby("site", sort=False)[text].first()
    table = first.join(numeric.drop(columns="site", errors="ignore")).reset_index(drop=True)
    worst = set(frame.loc[frame["site"] == ALL_SITES, "worst_site"].dropna())
    if len(worst) > 1:
        table.loc[table["site"] == ALL_SITES, "worst_site"] = "varies over repeats: " + ", ".join(
            sorted(worst)
        )
    return table


def glance_cells(per_site: pd.DataFrame, method: str) -> dict:
    """The glance table's site cells of ``method``: worst-site AUC beside its null 5th percentile, and ES-AUC
    over sites beside its null median ('–' where there is none)."""
    row = per_site[(per_site["method"] == method) & (per_site["site"] == ALL_SITES)]
    if row.empty or pd.isna(row["worst_site_auc"].iloc[0]):
        return {"Worst site AUC": "–", "ES-AUC (site)": "–"}
    r = row.iloc[0]
    worst = f"{r['worst_site_auc']:.3f} ({r['worst_site']}; null p05 {r['worst_site_null_p05']:.3f})"
    es = f"{r['es_auc_site']:.3f} (null median {r['es_auc_site_null_median']:.3f}; p_Q {r['p_q']:.3f})"
    return {"Worst site AUC": worst, "ES-AUC (site)": es}
