"""Stability figures: the agreement of one method's fold maps (rule ``brain_maps``) and the agreement of
every method's model maps beside its null models' (rule ``map_stability``)."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..brainmaps import reading_weight
from ..map_null import NULL_COLUMNS
from ._style import _label, _save


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
        fig.suptitle(title, fontsize=9)
    _save(fig, path)


def map_stability_figure(table, path, registry=None):
    """Agreement of model maps on the test subjects (Spearman, top-k Jaccard), one bar per method, estimator
    and pair type, each beside its chance level: the agreement of the method's null models' maps (black
    tick at the mean, grey line to the 95th percentile; bars hatched where the method has no null models),
    with uniform random maps as a dashed line. Bars are solid only where they beat their null (p ≤ 0.05)."""
    shown = table[(table["split"] == "test") & (table["method"] != "random")].reset_index(drop=True)
    for column in NULL_COLUMNS:
        if column not in shown.columns:
            shown[column] = np.nan
    labels = [
        f"{_label(registry, m)} · {e} · {p}"
        for m, e, p in zip(shown["method"], shown["estimator"], shown["pair"])
    ]
    chance = table[table["method"] == "random"]
    colours = {pair: f"C{i}" for i, pair in enumerate(sorted(shown["pair"].unique()))}
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.32 * max(6, len(shown)) + 1.6), sharey=True)
    y = np.arange(len(shown))
    for ax, metric, null, p_column, name in zip(
        axes,
        ("spearman", "jaccard_top_k"),
        ("null_agreement", "null_jaccard"),
        ("p_vs_null", "p_vs_null_jaccard"),
        ("Spearman", "top-k Jaccard"),
    ):
        for i, row in shown.iterrows():
            has_null = np.isfinite(row[null])
            beats = has_null and row[p_column] <= 0.05
            ax.barh(
                y[i],
                row[metric],
                color=colours[row["pair"]] if beats else "white",
                edgecolor=colours[row["pair"]],
                hatch="" if has_null else "///",
                height=0.7,
            )
            if has_null:
                ax.plot([row[null], row[f"{null}_p95"]], [y[i], y[i]], c="grey", lw=2)
                ax.plot([row[null]], [y[i]], marker="|", c="black", ms=12, mew=2)
        if not chance.empty:
            ax.axvline(float(chance[metric].iloc[0]), ls="--", c="grey", lw=1)
        ax.set(xlabel=f"{name} between model maps", ylabel="")
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    handles = [Patch(facecolor=c, edgecolor=c, label=pair) for pair, c in colours.items()] + [
        Patch(facecolor="white", edgecolor="black", label="not above its null (p > 0.05)"),
        Patch(facecolor="white", edgecolor="black", hatch="///", label="no null models"),
        Line2D([], [], c="grey", lw=2, marker="|", mec="black", ms=10, label="null models: mean to p95"),
        Line2D([], [], c="grey", ls="--", lw=1, label="uniform random maps"),
    ]
    fig.suptitle(
        "Agreement of model maps on the test subjects, each beside its null models' agreement", fontsize=9
    )
    fig.tight_layout()
    fig.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False
    )
    _save(fig, path, tight=False)
