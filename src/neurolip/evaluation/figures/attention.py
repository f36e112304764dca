"""Attention figures: planted-region recovery by TTCA attention (rule ``attention_recovery``) and the
overlap of disease-word and sensitive-word attention maps (rule ``attention_overlap``)."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from ._style import _legend_below, _save, maps_of, reused_note, seeded_jitter

# bars this low are hard to see: each bar gets a marker at its top and, below it, its value written out
SMALL_BAR = 0.05


def recovery_figure(table, path, title="Planted-region recovery by TTCA attention", note=None):
    """AUROC of each fold's map against the planted mask, one bar per (map, measure), with a marker at every
    bar's top (a bar at AUROC 0 is a marker on the axis, not nothing) and the value written on bars lower
    than :data:`SMALL_BAR`; a missing value is written "n/a". ``note``: a line under the title (e.g. that
    the maps are another method's)."""
    fig, ax = plt.subplots(figsize=(7, 4.3 if note else 4))
    groups = list(table.groupby(["map", "measure"], sort=False))
    width = 0.8 / len(groups)
    folds = sorted(table["fold"].unique(), key=str)
    for i, ((label, measure), part) in enumerate(groups):
        part = part.set_index("fold").reindex(folds)
        x = np.arange(len(folds)) + width * i
        values = part["auroc"].to_numpy(dtype=float)
        ax.bar(x, values, width=width, label=f"{label}: {measure}", color=f"C{i}")
        # the bar's top as a marker, drawn over the axis line: visible at AUROC 0
        ax.plot(x, values, ls="none", marker="o", ms=3.5, c=f"C{i}", mec="black", mew=0.5, clip_on=False)
        for xi, value in zip(x, values):
            if not np.isfinite(value):
                ax.text(xi, 0.01, "n/a", ha="center", va="bottom", fontsize=5, rotation=90)
            elif value < SMALL_BAR:
                ax.text(xi, value + 0.02, f"{value:.2f}", ha="center", va="bottom", fontsize=5, rotation=90)
    ax.set_xticks(np.arange(len(folds)) + 0.4 - width / 2, [f"fold {f}" for f in folds])
    ax.axhline(0.5, ls="--", c="grey", lw=0.8, label="chance")
    ax.set(ylim=(0, 1.02), ylabel="AUROC vs planted regions")
    ax.set_title(title + ("\n" + textwrap.fill(note, 90) if note else ""), fontsize=9 if note else None)
    fig.tight_layout()
    _legend_below(fig, ax, ncol=2)  # below the bars, not over them
    _save(fig, path, tight=False)


def overlap_figure(table, path, registry=None, models_from=None, seed=0):
    """Overlap of the disease-word and sensitive-word maps per model, one point per model and method.
    ``models_from``: {method: source} of read-out-only methods, whose maps are their source's: their rows
    say so. The jitter of the points is seeded (``seed``)."""
    import seaborn as sns

    # long labels wrapped: they would squeeze the panels to nothing
    table = table.assign(
        label=[textwrap.fill(maps_of(registry, m, models_from), 40) for m in table["method"]]
    )
    fig, axes = plt.subplots(
        1, 2, figsize=(10, 0.6 * max(4, table["method"].nunique() * 2) + 1.5), sharey=True
    )
    for ax, metric, name in zip(axes, ("spearman", "jaccard_top_k"), ("Spearman", "top-k Jaccard")):
        with seeded_jitter(seed):
            sns.stripplot(data=table, y="label", x=metric, hue="fields", ax=ax, dodge=True, orient="h")
        ax.set(xlabel=name, ylabel="")
        ax.tick_params(axis="y", labelsize=7)
    title = "Overlap of the disease words' and the sensitive words' attention maps, per model"
    note = reused_note(registry, models_from, shown=set(table["method"]))
    fig.suptitle(title + ("\n" + textwrap.fill(note, 130) if note else ""), fontsize=9)
    fig.tight_layout()
    _legend_below(fig, axes[0], ncol=2, title="maps compared", title_fontsize=7)
    _save(fig, path, tight=False)
