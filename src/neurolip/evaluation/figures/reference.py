"""Agreement of the methods' disease maps with one reference map, beside its spatial and shuffle nulls."""

import numpy as np

from ._style import _label, _save, plt


def reference_agreement_figure(table, name, path, registry=None, alpha=0.05):
    """Spearman (left) and top-k Jaccard (right) of each method's maps with reference ``name``: every fold's
    map (small dots), the mean over folds and the pooled map (large dots, p of the spatial null beside),
    each row's spatial-null 95th percentile (black bar) and, for Spearman, the shuffle null's (grey bar)."""
    rows = table[table["reference"] == name]
    groups = list(rows.groupby(["method", "estimator"], sort=False))
    fig, axes = plt.subplots(1, 2, figsize=(9, 1.2 + 0.55 * max(len(groups), 1)), sharey=True)
    labels, seen = [], set()

    def once(label):
        """A legend entry the first time it is drawn."""
        if label in seen:
            return None
        seen.add(label)
        return label

    for y, ((method, estimator), part) in enumerate(groups):
        labels.append(f"{_label(registry, method)}\n{estimator}")
        folds = part[~part["fold"].isin(["mean over folds", "pooled over models"])]
        summary = part[part["fold"].isin(["mean over folds", "pooled over models"])]
        for ax, value, null, p in (
            (axes[0], "spearman", "null_spatial_p95", "p_spatial"),
            (axes[1], "jaccard_top_k", "jaccard_null_p95", "jaccard_p_spatial"),
        ):
            ax.scatter(
                folds[value],
                np.full(len(folds), y + 0.15),
                s=10,
                color="tab:blue",
                alpha=0.6,
                label=once("one fold's map"),
            )
            for offset, (_, row) in zip((-0.1, -0.3), summary.iterrows(), strict=False):
                marker = "D" if row["fold"] == "pooled over models" else "o"
                ax.scatter(
                    row[value],
                    y + offset,
                    s=36,
                    marker=marker,
                    color="tab:red" if row[p] < alpha else "tab:orange",
                    label=once(str(row["fold"])),
                    zorder=3,
                )
                ax.plot(
                    [row[null]] * 2,
                    [y + offset - 0.1, y + offset + 0.1],
                    color="black",
                    lw=2,
                    label=once("spatial null, 95th pct."),
                )
                if value == "spearman":
                    ax.plot(
                        [row["null_shuffle_p95"]] * 2,
                        [y + offset - 0.1, y + offset + 0.1],
                        color="0.6",
                        lw=2,
                        label=once("shuffle null, 95th pct."),
                    )
                ax.annotate(
                    f"p={row[p]:.3f}",
                    (row[value], y + offset),
                    xytext=(4, -3),
                    textcoords="offset points",
                    fontsize=6,
                )
    k = int(rows["top_k"].iloc[0]) if len(rows) else 0
    n = int(rows["n_surrogates"].iloc[0]) if len(rows) else 0
    axes[0].set_xlabel("Spearman correlation with the reference")
    axes[1].set_xlabel(f"Jaccard overlap of the top {k} regions")
    if len(rows):
        low = min(rows["spearman"].min(), rows["null_shuffle_p95"].min(), 0)
        axes[0].set_xlim(low - 0.05, max(rows["spearman"].max(), rows["null_shuffle_p95"].max()) + 0.15)
    axes[1].set_xlim(-0.03, 1.2)
    axes[0].axvline(0, color="0.8", lw=0.8, zorder=0)
    axes[0].set_yticks(range(len(labels)), labels, fontsize=7)
    axes[0].invert_yaxis()
    fig.suptitle(
        f"Reference map '{name}': agreement of each method's disease map (red: p < {alpha:g} against "
        f"{n} variogram-matched surrogates)",
        fontsize=8,
    )
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(
        handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=5, fontsize=7, frameon=False
    )
    _save(fig, path)
