"""Stability figures: the agreement of one method's fold maps (rule ``brain_maps``) and the agreement of
every method's model maps beside its null models' (rule ``map_stability``)."""

import re
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..brainmaps import reading_weight
from ..map_null import NULL_COLUMNS
from ._style import _label, _save, maps_of

ALPHA = 0.05
# the hatch of each kind of bar of the map-stability figure
_HATCH = {"above": "", "not above": "", "too small": "xx", "no null": "///"}


def stability_figure(table, maps, path, title=None):
    """Agreement of the fold maps (reading weights |A − 1/N|): Pearson r between every pair of folds, and
    the mean top-k Jaccard and Spearman over fold pairs."""
    folds = sorted(maps)
    matrix = np.corrcoef(np.array([reading_weight(maps[f]) for f in folds]))
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    image = axes[0].imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    axes[0].set(
        xticks=range(len(folds)),
        yticks=range(len(folds)),
        xticklabels=folds,
        yticklabels=folds,
        title="Pearson r between fold maps\n(reading weight |A − 1/N|)",
        xlabel="fold",
        ylabel="fold",
    )
    fig.colorbar(image, ax=axes[0], label="Pearson r")
    axes[1].bar(
        ["Jaccard top-k", "Spearman"],
        [table["jaccard_top_k"].mean(), table["spearman"].mean()],
        yerr=[table["jaccard_top_k"].std(), table["spearman"].std()],
        capsize=4,
        color=["#4c72b0", "#dd8452"],
    )
    axes[1].set(
        ylim=(min(0, table["spearman"].min()), 1),
        ylabel="mean ± SD over fold pairs",
        title="Mean over fold pairs",
    )
    if title:
        fig.suptitle(textwrap.fill(title, 110), fontsize=9)  # a long title would widen the figure
    _save(fig, path)


def reachable_p(n_null, null_source, alpha=ALPHA, p_resolution=np.nan):
    """The smallest p a row's null can give: its ``p_resolution`` column where the table has one, else
    1 / (1 + replicates), the replicates being the null models (``n_null``) or, for null models drawn in
    groups ("groups of G" in ``null_source``, tables of the former fold-0 design), the disjoint groups."""
    if np.isfinite(p_resolution):
        return float(p_resolution)
    if not np.isfinite(n_null) or n_null <= 0:
        return np.nan
    groups = re.search(r"groups of (\d+)", str(null_source))
    replicates = int(n_null) // int(groups.group(1)) if groups else int(n_null)
    return 1.0 / (1 + replicates)


def _resolution(row):
    return reachable_p(
        row.get("n_null", np.nan), row.get("null_source", ""), p_resolution=row.get("p_resolution", np.nan)
    )


def _bar_kind(row, p_column, null_column, alpha=ALPHA):
    """What a bar of :func:`map_stability_figure` is: "above" its null, "not above", "too small" (its null
    cannot give p ≤ alpha) or "no null"."""
    if not np.isfinite(row[null_column]):
        return "no null"
    if row[p_column] <= alpha:
        return "above"
    if _resolution(row) > alpha:
        return "too small"
    return "not above"


def map_stability_figure(table, path, registry=None, alpha=ALPHA, models_from=None):
    """Agreement of model maps on the test subjects (Spearman, top-k Jaccard), one bar per method, estimator
    and pair type (edge colour: the pair type), each beside its chance level: the agreement of the method's
    null models' maps (black tick at the mean, grey line to the 95th percentile), with uniform random maps as
    a dashed line. A bar is filled where it is above its null (p ≤ ``alpha``), hollow where not, hatched
    "///" where the method has no null models and "xx" where its null is too small to give p ≤ ``alpha``
    (20 null models in groups of 5: p ≥ 1/5). The legend lists what is drawn, nothing else."""
    shown = table[(table["split"] == "test") & (table["method"] != "random")].reset_index(drop=True)
    for column in NULL_COLUMNS:
        if column not in shown.columns:
            shown[column] = np.nan
    # a read-out-only method's attention maps are its source's (``models_from``): its attention rows say so
    # (long labels wrapped: they would squeeze the panels)
    labels = [
        textwrap.fill(
            f"{maps_of(registry, m, models_from) if e == 'attention' else _label(registry, m)} · {e} · {p}",
            70,
        )
        for m, e, p in zip(shown["method"], shown["estimator"], shown["pair"])
    ]
    chance = table[table["method"] == "random"]
    colours = {pair: f"C{i}" for i, pair in enumerate(sorted(shown["pair"].unique()))}
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.32 * max(6, len(shown)) + 1.6), sharey=True)
    y = np.arange(len(shown))
    drawn, min_ps = set(), []
    for ax, metric, null, p_column, name in zip(
        axes,
        ("spearman", "jaccard_top_k"),
        ("null_agreement", "null_jaccard"),
        ("p_vs_null", "p_vs_null_jaccard"),
        ("Spearman", "top-k Jaccard"),
    ):
        for i, row in shown.iterrows():
            kind = _bar_kind(row, p_column, null, alpha)
            drawn.add(kind)
            if kind == "too small":
                min_ps.append(_resolution(row))
            ax.barh(
                y[i],
                row[metric],
                color=colours[row["pair"]] if kind == "above" else "white",
                edgecolor=colours[row["pair"]],
                hatch=_HATCH[kind],
                height=0.7,
                gid=f"bar:{kind}",
            )
            if kind != "no null":
                ax.plot([row[null], row[f"{null}_p95"]], [y[i], y[i]], c="grey", lw=2, gid="null range")
                ax.plot([row[null]], [y[i]], marker="|", c="black", ms=12, mew=2, gid="null range")
                drawn.add("null range")
            # each bar's p beside it with its resolution (the smallest p its null can give)
            note = (
                "no null: not tested"
                if kind == "no null"
                else f"p {row[p_column]:.3f} (res. {_resolution(row):.3f})"
            )
            right = np.nanmax([row[metric], row.get(f"{null}_p95", np.nan), 0.0])
            ax.text(right + 0.02, y[i], note, fontsize=5.5, va="center", gid="p value")
        if not chance.empty:
            ax.axvline(float(chance[metric].iloc[0]), ls="--", c="grey", lw=1, gid="random")
            drawn.add("random")
        ax.set(xlabel=f"{name} between model maps", ylabel="")
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    handles = [
        Patch(facecolor="white", edgecolor=c, lw=2, label=f"edge colour: {pair}")
        for pair, c in colours.items()
    ]
    names = {
        "above": f"filled: above its null (p ≤ {alpha:g})",
        "not above": f"hollow: not above its null (p > {alpha:g})",
        "too small": "cross-hatched: null too small to reject (min p = "
        + ", ".join(f"{p:.2f}" for p in sorted(set(np.round(min_ps, 2))))
        + ")",
        "no null": "hatched: no null: not tested",
    }
    for kind in ("above", "not above", "too small", "no null"):
        if kind in drawn:
            handles.append(
                Patch(
                    facecolor="grey" if kind == "above" else "white",
                    edgecolor="black",
                    hatch=_HATCH[kind],
                    label=names[kind],
                    gid=f"bar:{kind}",
                )
            )
    if "null range" in drawn:
        handles.append(
            Line2D([], [], c="grey", lw=2, marker="|", mec="black", ms=10, label="null models: mean to p95")
        )
    if "random" in drawn:
        handles.append(Line2D([], [], c="grey", ls="--", lw=1, label="uniform random maps"))
    fig.suptitle(
        "Agreement of model maps on the test subjects, each beside its null models' agreement", fontsize=9
    )
    fig.tight_layout()
    fig.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False
    )
    _save(fig, path, tight=False)
