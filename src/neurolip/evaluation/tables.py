"""The paper's Table 1 (methods x metrics) and Table 2 (ablations), as CSV, Markdown and LaTeX,
with the published numbers in labelled rows beside ours (values in percent, mean ± std over folds).
Which methods a table lists, their labels and published numbers come from the method registry."""

import numpy as np
import pandas as pd

from .power import non_rejection_text

OVERALL = [("auc", "AUC"), ("accuracy", "ACC"), ("sensitivity", "SEN"), ("specificity", "SPE")]
FAIRNESS = [
    ("dpd", "DPD"),
    ("deodds", "DEOdds"),
    ("es_auc", "ES-AUC"),
    ("probe_auc", "Probe AUC"),
    ("score_leakage", "Score leakage AUC"),
    ("decision_leakage", "Decision leakage AUC"),
]
# pooled gaps printed beside their sex-blind floor (metrics/pooled.csv)
POOLED_GAPS = [("dpd", "Pooled DPD"), ("deodds", "Pooled DEOdds")]


def _pooled_cell(pooled, method, metric, attribute):
    """The pooled gap (percent) beside its floor's median and 95th percentile, marked ``*`` above the floor.
    For a randomised rule the gap and its floor are those of the expected decisions, labelled "gap of
    expected rates", and the cell adds the exact expected gap over randomisation draws with the 5–95 %
    range of the realised gap (``<gap>_expected``, ``draw_p05``/``draw_p95``): the two differ, since the
    mean of an absolute difference is not the absolute difference of the means."""
    rows = pooled[(pooled["method"] == method) & (pooled["attribute"] == attribute)].set_index("metric")
    if metric not in rows.index or "floor_median" not in rows.columns or np.isnan(rows.at[metric, "value"]):
        return ""
    row = rows.loc[metric]
    if np.isnan(row["floor_median"]):
        return f"{100 * row['value']:.2f}"
    mark = " *" if row["above_floor"] >= 0.5 else ""
    randomised = f"{metric}_expected" in rows.index
    cell = (
        ("gap of expected rates " if randomised else "")
        + f"{100 * row['value']:.2f} (floor {100 * row['floor_median']:.2f}; p95 {100 * row['floor_p95']:.2f}"
        + _mde_text(row.get("mde"), not mark)
        + f"){mark}"
    )
    if randomised:
        e = rows.loc[f"{metric}_expected"]
        cell += (
            f"; expected gap over draws {100 * e['value']:.2f} "
            f"[{100 * e['draw_p05']:.2f}–{100 * e['draw_p95']:.2f}]"
        )
    return cell


def _mde_text(mde, within: bool) -> str:
    """``; MDE x`` (percent; :mod:`.power`: the smallest effect the floor detects with 80 % power), and for
    a row within its floor what that rules out (:func:`.power.non_rejection_text`)."""
    if mde is None or pd.isna(mde) or not np.isfinite(mde):
        return ""
    return f"; MDE {100 * mde:.2f}" + (f" — within: {non_rejection_text(mde, scale=100)}" if within else "")


def _row(summary, method, metric, attribute):
    return summary[
        (summary["method"] == method) & (summary["metric"] == metric) & (summary["attribute"] == attribute)
    ]


def _mean(summary, method, metric, attribute):
    row = _row(summary, method, metric, attribute)
    return (np.nan, np.nan) if row.empty else (row["mean"].iloc[0], row["std"].iloc[0])


def _fold_mean_floor(summary, pooled, method, metric, attribute):
    """(median, p95, p, folds) of the floor of a per-fold figure's fold mean: ``<metric>_fold_mean_floor_*``
    rows of the summary (:mod:`.fold_mean`), or for the held-out probe its ``metrics/pooled.csv`` row (the
    exact test of its fold mean of within-diagnosis AUCs, :func:`.probe_test.pooled_probe_rows`); None where
    there is none."""
    median = _row(summary, method, f"{metric}_fold_mean_floor_median", attribute)
    if not median.empty:
        p95, p = (_mean(summary, method, f"{metric}_fold_mean_floor_{k}", attribute)[0] for k in ("p95", "p"))
        return median["mean"].iloc[0], p95, p, _folds(median)
    if metric != "probe_auc" or pooled is None or "p_floor" not in pooled.columns:
        return None
    row = pooled[
        (pooled["method"] == method) & (pooled["metric"] == metric) & (pooled["attribute"] == attribute)
    ]
    if row.empty or np.isnan(row["floor_median"].iloc[0]):
        return None
    return row["floor_median"].iloc[0], row["floor_p95"].iloc[0], row["p_floor"].iloc[0], None


def _cell(summary, method, metric, attribute, n_folds=None, pooled=None):
    """mean ± std over folds (percent); a per-fold gap or leakage also shows the sex-blind floor of that
    fold mean (median; 95th percentile of the folds' null draws averaged draw by draw, :mod:`.fold_mean`),
    ``*`` where p ≤ 0.05 against it. A cell that rests on fewer folds than the run's ``n_folds`` (a fold
    whose test subjects hold one group has no gap) says so, and so does a floor over fewer folds than the
    mean beside it."""
    mean, std = _mean(summary, method, metric, attribute)
    if np.isnan(mean):
        return ""
    cell = f"{100 * mean:.2f} ± {100 * std:.2f}" if not np.isnan(std) else f"{100 * mean:.2f}"
    row = _row(summary, method, metric, attribute)
    floor = _fold_mean_floor(summary, pooled, method, metric, attribute)
    if floor is not None:
        median, p95, p, floor_folds = floor
        mean_folds = _folds(row)
        over = f" over {floor_folds} folds" if floor_folds and mean_folds and floor_folds < mean_folds else ""
        # the smallest effect this floor detects with 80 % power (.power; the probe's: metrics/pooled.csv)
        mde = _mean(summary, method, f"{metric}_fold_mean_floor_mde", attribute)[0]
        if np.isnan(mde) and pooled is not None and "mde" in pooled.columns:
            probe = _row(pooled, method, metric, attribute)
            mde = probe["mde"].iloc[0] if not probe.empty else np.nan
        cell += (
            f" (fold-mean floor {100 * median:.2f}; p95 {100 * p95:.2f}{over}"
            + _mde_text(mde, p > 0.05)
            + ")"
            + (" *" if p <= 0.05 else "")
        )
    if n_folds and _folds(row) and _folds(row) < n_folds:
        cell += f" [{_folds(row)} of {n_folds} folds]"
    return cell


def _folds(row):
    """The ``n_folds`` of a summary row, None where the summary has none."""
    if "n_folds" not in row.columns or row.empty or pd.isna(row["n_folds"].iloc[0]):
        return None
    return int(row["n_folds"].iloc[0])


def threshold_notes(predictions: dict, labels: dict) -> list[str]:
    """A note per group-threshold method whose thresholds were not fitted in every fold (``predictions``:
    {method: its test predictions of every fold, with the ``decision`` column}): in a fold without them
    every decision is the calibrated one, so a row fitted in no fold repeats its plain method's decisions."""
    notes = []
    for method, frame in predictions.items():
        fitted = frame.groupby("fold")["decision"].apply(lambda d: (d == "group thresholds").any())
        if fitted.all():
            continue
        said = (
            "its thresholds were fitted in no fold: the row repeats the plain method's decisions"
            if not fitted.any()
            else f"its thresholds were fitted in {int(fitted.sum())} of {len(fitted)} folds (the others keep "
            "the calibrated decisions)"
        )
        notes.append(f"{labels.get(method, method)}: {said}")
    return notes


# the sensitive attribute of each published fairness number (arXiv 2503.21964): SRS on ABIDE, sex on ADHD-200
PAPER_ATTRIBUTE = {"abide": "srs", "adhd200": "sex"}


def build_table(
    summary, methods, attributes, paper_key=None, fairness_only=False, pooled=None, pooled_gaps=True
):
    """One row per method (ours), then the published rows of those methods, labelled as such.

    ``methods``: :class:`~neurolip.methods.Method` objects (``MethodRegistry.table(...)``); each carries its
    label and published numbers (``paper``, per ``paper_key``). ``pooled`` (``metrics/pooled.csv``): gives
    the probe's cell the floor of its fold mean and, with ``pooled_gaps``, adds per attribute the pooled
    DPD and DEOdds beside their sex-blind floors."""
    columns = [] if fairness_only else list(OVERALL)
    columns = [(m, label, "") for m, label in columns]
    for attribute in attributes:
        columns += [(m, f"{label} ({attribute})", attribute) for m, label in FAIRNESS]
    pooled_columns = []
    if pooled is not None and pooled_gaps:
        pooled_columns = [(m, f"{label} ({a})", a) for a in attributes for m, label in POOLED_GAPS]
    present = set(summary["method"])
    n_folds = int(summary["n_folds"].max()) if "n_folds" in summary.columns and len(summary) else None
    rows = []
    for method in methods:
        if method.name not in present:
            continue
        row = {"Method": method.label, "Source": "this run"}
        row.update(
            {
                label: _cell(summary, method.name, metric, attribute, n_folds, pooled)
                for metric, label, attribute in columns
            }
        )
        row.update(
            {
                label: _pooled_cell(pooled, method.name, metric, attribute)
                for metric, label, attribute in pooled_columns
            }
        )
        rows.append(row)
    for method in methods:
        values = method.paper.get(paper_key, {}) if paper_key else {}
        if not values:
            continue
        row = {"Method": method.label, "Source": "paper (published)"}
        # the paper reports one DPD, on its own sensitive attribute: shown under that attribute's column only
        # (a run whose tables are on another attribute, e.g. config/abide_age_swap.yaml, has no published DPD)
        paper_attribute = PAPER_ATTRIBUTE.get(paper_key, attributes[0] if attributes else "")
        for _metric, label, attribute in columns:
            short = label.split(" (")[0]
            if short in values and (attribute in ("", paper_attribute)):
                row[label] = f"{values[short]:.2f}"
            else:
                row.setdefault(label, "")
        rows.append(row)
    labels = [label for _, label, _ in columns + pooled_columns]
    return pd.DataFrame(rows, columns=["Method", "Source"] + labels).fillna("")


def proxy_notes(cohort: pd.DataFrame, attributes, continuous) -> list[str]:
    """A note per continuous attribute of the tables that is close to the diagnosis: how many subjects have
    it, at how many sites it is missing, and how often its median split agrees with the diagnosis. A
    fairness gap on a diagnosis proxy (e.g. SRS in autism) measures accuracy as much as bias."""
    notes = []
    for attribute in attributes:
        if attribute not in continuous or attribute not in cohort.columns:
            continue
        values = pd.to_numeric(cohort[attribute], errors="coerce")
        known = values.notna()
        if known.sum() < 2:
            continue
        high = (values[known] > values[known].median()).astype(int)
        agreement = float((high == cohort.loc[known, "diagnosis"].astype(int)).mean())
        agreement = max(agreement, 1 - agreement)
        sites = ""
        if "site" in cohort.columns:
            missing_sites = cohort.groupby("site")[attribute].apply(lambda v: v.notna().sum() == 0)
            sites = f", missing at {int(missing_sites.sum())} of {len(missing_sites)} sites"
        notes.append(
            f"{attribute}: known for {int(known.sum())} of {len(cohort)} subjects{sites}; its median split "
            f"agrees with the diagnosis for {100 * agreement:.0f} % of them"
            + (
                " — a diagnosis proxy: an accurate model cannot have a small gap on it"
                if agreement >= 0.75
                else ""
            )
        )
    return notes


def paper_columns(table: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """The columns of the paper's Table 1 (Method, Source, AUC, ACC, SEN, SPE, and DPD, DEOdds, ES-AUC on
    ``attribute``): what the report shows; the full table stays in the CSV."""
    wanted = ["Method", "Source", *(label for _, label in OVERALL)]
    wanted += [
        f"{label} ({attribute})" for metric, label in FAIRNESS if metric in ("dpd", "deodds", "es_auc")
    ]
    return table[[c for c in wanted if c in table.columns]]


def write_table(table, stem, caption):
    """Write ``stem``.csv, .md and .tex."""
    table.to_csv(f"{stem}.csv", index=False)
    with open(f"{stem}.md", "w") as handle:
        handle.write(f"{caption}\n\n")
        handle.write("| " + " | ".join(table.columns) + " |\n")
        handle.write("|" + "---|" * len(table.columns) + "\n")
        for _, row in table.iterrows():
            handle.write("| " + " | ".join(str(v) for v in row.to_numpy()) + " |\n")
    latex = table.replace({"±": r"$\\pm$", "−": "-", "L_attn": r"$L_{attn}$"}, regex=True)
    latex_caption = caption.replace("%", r"\%").replace("\n\n", " ")
    latex.to_latex(f"{stem}.tex", index=False, caption=latex_caption, escape=False, na_rep="")
