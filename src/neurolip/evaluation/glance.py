"""Results at a glance (issue 34): one compact table per run — each method's pooled AUC with its interval,
its pooled DPD and DEOdds on the primary attribute each beside its sex-blind floor, and its held-out probe
beside the probe's floor — printed on the console at the end of the run and written as
``results/<dataset>/summary.md``. Every number comes from ``metrics/pooled.csv``; nothing is recomputed."""

from __future__ import annotations

import math

import pandas as pd

COLUMNS = ("Method", "AUC [95% CI]", "DPD", "DEOdds", "Probe AUC")


def _row(pooled: pd.DataFrame, method: str, metric: str, attribute: str | None) -> pd.Series | None:
    rows = pooled[(pooled["method"] == method) & (pooled["metric"] == metric)]
    if attribute is not None:
        rows = rows[rows["attribute"].astype(str) == attribute]
    return None if rows.empty else rows.iloc[0]


def _number(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _beside_floor(row: pd.Series | None) -> str:
    """``value (floor p95 x: within | ABOVE)``; a value without a floor is shown alone."""
    if row is None:
        return "–"
    text = _number(row["value"])
    floor = row.get("floor_p95")
    if floor is None or pd.isna(floor):
        return text
    verdict = "ABOVE" if row.get("above_floor") == 1 else "within"
    mde = row.get("mde")
    # the held-out probe's row says the smallest within-diagnosis AUC its test would have seen
    detectable = "" if mde is None or pd.isna(mde) else f"; MDE {_number(mde)}"
    return f"{text} (floor {_number(floor)}: {verdict}{detectable})"


def glance_table(
    pooled: pd.DataFrame, methods: list[str], labels: dict[str, str], attribute: str
) -> pd.DataFrame:
    """One row per method of ``methods`` (in that order) with pooled metrics in ``pooled``."""
    rows = []
    for method in methods:
        auc = _row(pooled, method, "auc", None)
        if auc is None:
            continue
        interval = f"{_number(auc['value'])} [{_number(auc['ci_low'])}, {_number(auc['ci_high'])}]"
        rows.append(
            {
                "Method": labels.get(method, method),
                "AUC [95% CI]": interval,
                "DPD": _beside_floor(_row(pooled, method, "dpd", attribute)),
                "DEOdds": _beside_floor(_row(pooled, method, "deodds", attribute)),
                "Probe AUC": _beside_floor(_row(pooled, method, "probe_auc", attribute)),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def glance_markdown(table: pd.DataFrame, dataset: str, attribute: str) -> str:
    """The table as Markdown under a heading that says what the columns are."""
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    body = "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in table.itertuples(index=False))
    return (
        f"# NeuroLIP results at a glance: {dataset}\n\n"
        f"Pooled out-of-fold test predictions. DPD, DEOdds and the held-out probe are on **{attribute}**, each "
        f"beside the 95th percentile of its {attribute}-blind floor (`within`: no gap the floor would not "
        "produce by chance; that is not proof of no gap, see docs/results.md). The probe is the fold mean of "
        "its within-diagnosis AUCs, tested exactly (sex permuted within diagnosis × fold), with the smallest "
        "AUC that test detects with 80 % power (MDE). "
        "Every row with its intervals: `metrics/pooled.csv`; the paper's tables: `tables/`.\n\n"
        + header
        + body
    )
