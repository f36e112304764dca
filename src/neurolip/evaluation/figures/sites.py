"""Per-site forest plot (issue 33): each test site a row, its AUC with the 95 % bootstrap interval, one panel
per method, the method's pooled AUC as a vertical line; ``metrics/per_site.csv`` is all it reads."""

import textwrap

import numpy as np
import pandas as pd

from ..per_site import ALL_SITES, MIN_CLASS
from ._style import _label, _save, plt

PANELS_PER_ROW = 4


def per_site_forest_figure(per_site: pd.DataFrame, path, registry=None, methods=None):
    """One panel per method (at most :data:`PANELS_PER_ROW` a row, sharing the site axis): each site's AUC
    with its interval (hollow: fewer than ``MIN_CLASS`` patients or controls; a site with one class is
    written 'no AUC' at 0.5), the pooled AUC (solid line) and chance (dotted). Sites are ordered by size,
    labelled with their n (patients/controls); each panel's title gives the pooled AUC, the worst site and
    the heterogeneity test's p."""
    methods = list(methods) if methods is not None else list(dict.fromkeys(per_site["method"]))
    methods = [m for m in methods if (per_site["method"] == m).any()]
    sites = per_site[per_site["site"] != ALL_SITES]
    order = sites.drop_duplicates("site").sort_values(["n", "site"], ascending=[False, True])["site"].tolist()
    first = sites.drop_duplicates("site").set_index("site")
    labels = [
        f"{s} (n={int(first.at[s, 'n'])}; {int(first.at[s, 'n_patient'])}/{int(first.at[s, 'n_control'])})"
        for s in order
    ]
    n_cols = min(len(methods), PANELS_PER_ROW)
    n_rows = int(np.ceil(len(methods) / n_cols))
    height = max(0.22 * len(order) + 1.3, 2.6)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(2.4 * n_cols + 1.8, height * n_rows), sharey=True, squeeze=False
    )
    y = np.arange(len(order))[::-1]
    position = dict(zip(order, y, strict=True))
    for ax in axes.flat[len(methods) :]:
        ax.set_visible(False)
    for ax, method in zip(axes.flat, methods, strict=False):
        rows = sites[sites["method"] == method].set_index("site")
        summary = per_site[(per_site["method"] == method) & (per_site["site"] == ALL_SITES)].iloc[0]
        ax.axvline(0.5, color="0.6", linestyle=":", linewidth=0.8)
        ax.axvline(summary["auc"], color="C3", linewidth=1.0, label="pooled AUC")
        for site, row in rows.iterrows():
            yy = position[site]
            if pd.isna(row["auc"]):
                ax.text(0.5, yy, "no AUC (one class)", fontsize=5, color="0.4", va="center", ha="center")
                continue
            small = min(row["n_patient"], row["n_control"]) < MIN_CLASS
            ax.plot(
                [row["ci_low"], row["ci_high"]],
                [yy, yy],
                color="0.2",
                linewidth=0.9,
                linestyle=":" if small else "-",
            )
            ax.plot(
                row["auc"], yy, "o", markersize=3.2, color="C0", markerfacecolor="white" if small else "C0"
            )
        title = f"{_label(registry, method)}\npooled {summary['auc']:.2f}"
        if pd.notna(summary.get("p_q")):
            title += f"; worst {summary['worst_site_auc']:.2f}; p_Q {summary['p_q']:.3f}"
        ax.set_title(
            "\n".join(textwrap.wrap(title.split("\n")[0], 42)) + "\n" + title.split("\n")[1], fontsize=7
        )
        ax.set_xlim(0, 1.02)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.tick_params(axis="x", labelsize=6)
        ax.grid(axis="x", color="0.9", linewidth=0.5)
        ax.set_xlabel("AUC (95 % bootstrap CI)", fontsize=6)
    for ax in axes[:, 0]:
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=6)
        ax.set_ylim(-0.7, len(order) - 0.3)
    fig.tight_layout()
    # the key under the panels (outside them: it covers no data, and no panel title)
    fig.text(
        0.5,
        0.0,
        "Test AUC per site (n: patients/controls); red line: pooled AUC; dotted: chance; hollow, dotted bar: "
        f"fewer than {MIN_CLASS} patients or controls\np_Q: does AUC differ across sites beyond chance "
        "(Cochran's Q of the site AUCs against site labels permuted within diagnosis)",
        ha="center",
        va="top",
        fontsize=6,
    )
    _save(fig, path, tight=False)
