"""Results at a glance (issue 34): one compact table per run — each method's pooled AUC with its interval,
its pooled DPD and DEOdds on the primary attribute each beside its sex-blind floor, and its held-out probe
beside the probe's floor — printed on the console at the end of the run and written as
``results/<dataset>/summary.md``. Every number comes from ``metrics/pooled.csv``; nothing is recomputed.
Fairness across sites (issue 33), from ``metrics/per_site.csv`` where given: the worst site's AUC beside the
null 5th percentile of the worst-site AUC, and ES-AUC over sites beside its null median with the
heterogeneity test's p."""

from __future__ import annotations

import math
import re

import pandas as pd

from .per_site import glance_cells
from .power import non_rejection_text

COLUMNS = ("Method", "AUC [95% CI]", "DPD", "DEOdds", "Probe AUC")
SITE_COLUMNS = ("Worst site AUC", "ES-AUC (site)")


def _row(pooled: pd.DataFrame, method: str, metric: str, attribute: str | None) -> pd.Series | None:
    rows = pooled[(pooled["method"] == method) & (pooled["metric"] == metric)]
    if attribute is not None:
        rows = rows[rows["attribute"].astype(str) == attribute]
    return None if rows.empty else rows.iloc[0]


def _number(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _beside_floor(row: pd.Series | None) -> str:
    """``value (floor p95 x: within | ABOVE)``; a value without a floor is shown alone. A row within its floor
    says what that rules out where ``metrics/pooled.csv`` has its MDE (:func:`.power.non_rejection_text`)."""
    if row is None:
        return "–"
    text = _number(row["value"])
    floor = row.get("floor_p95")
    if floor is None or pd.isna(floor):
        return text
    verdict = "ABOVE" if row.get("above_floor") == 1 else "within"
    mde = row.get("mde")
    if verdict == "within" and mde is not None and not pd.isna(mde) and math.isfinite(mde):
        verdict += f"; {non_rejection_text(mde, digits=3)}"
    return f"{text} (floor {_number(floor)}: {verdict})"


def glance_table(
    pooled: pd.DataFrame,
    methods: list[str],
    labels: dict[str, str],
    attribute: str,
    per_site: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per method of ``methods`` (in that order) with pooled metrics in ``pooled``; with
    ``per_site`` (``metrics/per_site.csv``) also its fairness across sites (:data:`SITE_COLUMNS`)."""
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
                **(glance_cells(per_site, method) if per_site is not None else {}),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS) + (list(SITE_COLUMNS) if per_site is not None else []))


def _legend(table: pd.DataFrame, attribute: str, code: str, strong: str) -> str:
    """What the columns are, in Markdown (``code`` = a backtick) or reStructuredText (two)."""

    def literal(text: str) -> str:
        return f"{code}{text}{code}"

    return (
        f"Pooled out-of-fold test predictions. DPD, DEOdds and the held-out probe are on {strong}{attribute}{strong}, "
        f"each beside the 95th percentile of its {attribute}-blind floor ({literal('within')}: no gap the floor would "
        "not produce by chance; that is not proof of no gap, see docs/results.md; "
        f"{literal('an effect ≥ x would have been seen with 80 % power')}: the minimum detectable effect at this "
        "run's sizes, a shift of the statistic beyond its floor). The probe is the fold mean of its "
        "within-diagnosis AUCs, tested exactly (sex permuted within diagnosis × fold × part), its MDE the smallest "
        f"AUC that test detects with 80 % power. Every row with its intervals: {literal('metrics/pooled.csv')}; the "
        f"paper's tables: {literal('tables/')}."
        + (
            " Worst site AUC: the lowest site AUC beside the 5th percentile the worst site reaches by chance "
            "(site labels permuted within diagnosis); ES-AUC (site): the paper's equity-scaled AUC with site "
            "as the attribute, beside its null median, with p_Q of the across-site heterogeneity test; every "
            f"site: {literal('metrics/per_site.csv')}."
            if "ES-AUC (site)" in table.columns
            else ""
        )
    )


def glance_markdown(table: pd.DataFrame, dataset: str, attribute: str) -> str:
    """The table as Markdown under a heading that says what the columns are."""
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    body = "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in table.itertuples(index=False))
    return (
        f"# NeuroLIP results at a glance: {dataset}\n\n"
        + _legend(table, attribute, code="`", strong="**")
        + "\n\n"
        + header
        + body
    )


def _rst_text(value) -> str:
    """A cell's text with reStructuredText's inline markup characters escaped (labels hold ``_`` and ``*``)."""
    return re.sub(r"([\\`*_|])", r"\\\1", str(value))


def glance_rst(table: pd.DataFrame, attribute: str) -> str:
    """The same table as a reStructuredText list-table under its legend: the report's landing page includes
    it (workflow/report/workflow.rst), so the report opens on the results rather than on the job graph."""
    lines = [_legend(table, attribute, code="``", strong="**"), "", ".. list-table::", "   :header-rows: 1"]
    lines += ["   :class: glance", ""]
    for row in [tuple(table.columns), *table.itertuples(index=False)]:
        cells = [_rst_text(value) for value in row]
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {cell}" for cell in cells[1:])
    return "\n".join(lines) + "\n"
