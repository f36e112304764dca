"""Attention figures: planted-region recovery by TTCA attention (rule ``attention_recovery``) and the
overlap of disease-word and sensitive-word attention maps (rule ``attention_overlap``)."""

import matplotlib.pyplot as plt
import numpy as np

from ._style import _label, _legend_below, _save


def recovery_figure(table, path, title="Planted-region recovery by TTCA attention"):
    """AUROC of each fold's map against the planted mask, one bar per (map, measure)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    groups = list(table.groupby(["map", "measure"], sort=False))
    width = 0.8 / len(groups)
    folds = sorted(table["fold"].unique(), key=str)
    for i, ((label, measure), part) in enumerate(groups):
        part = part.set_index("fold").reindex(folds)
        ax.bar(np.arange(len(folds)) + width * i, part["auroc"], width=width, label=f"{label}: {measure}")
    ax.set_xticks(np.arange(len(folds)) + 0.4 - width / 2, [f"fold {f}" for f in folds])
    ax.axhline(0.5, ls="--", c="grey", lw=0.8, label="chance")
    ax.set(ylim=(0, 1.02), ylabel="AUROC vs planted regions", title=title)
    fig.tight_layout()
    _legend_below(fig, ax, ncol=2)  # below the bars, not over them
    _save(fig, path, tight=False)


def overlap_figure(table, path, registry=None):
    """Overlap of the disease-word and sensitive-word maps per model, one point per model and method."""
    import seaborn as sns

    table = table.assign(label=[_label(registry, m) for m in table["method"]])
    fig, axes = plt.subplots(
        1, 2, figsize=(10, 0.45 * max(4, table["method"].nunique() * 2) + 1.5), sharey=True
    )
    for ax, metric, name in zip(axes, ("spearman", "jaccard_top_k"), ("Spearman", "top-k Jaccard")):
        sns.stripplot(data=table, y="label", x=metric, hue="fields", ax=ax, dodge=True, orient="h")
        ax.set(xlabel=name, ylabel="")
    fig.suptitle(
        "Overlap of the disease words' and the sensitive words' attention maps, per model", fontsize=9
    )
    fig.tight_layout()
    _legend_below(fig, axes[0], ncol=2, title="maps compared", title_fontsize=7)
    _save(fig, path, tight=False)
