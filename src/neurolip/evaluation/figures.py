"""Figures: ROC curves, fairness-accuracy trade-off, per-group bars, brain maps, stability, recovery."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from .brainmaps import reading_weight  # noqa: E402


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def roc_figure(predictions, path, registry):
    """``predictions``: {method: DataFrame of all folds' test predictions}; the reference method is drawn
    thicker."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    from sklearn.metrics import roc_auc_score

    for method, frame in predictions.items():
        score = frame["score"] if "score" in frame.columns else frame["p_disease"]  # see metrics.fold_metrics
        fpr, tpr, _ = roc_curve(frame["y_true"], score)
        auc = roc_auc_score(frame["y_true"], score)
        ax.plot(
            fpr,
            tpr,
            label=f"{registry.label(method)} (pooled AUC {auc:.3f})",
            lw=2.2 if method == registry.reference else 1.2,
        )
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC, test folds pooled")
    ax.legend(fontsize=7, loc="lower right")
    _save(fig, path)


def fairness_accuracy_figure(summary, attribute, path, registry):
    """AUC against DPD per method; an arrow joins a method to its group-threshold version (same AUC)."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    points = {}
    for method in summary["method"].unique():
        auc = summary[(summary.method == method) & (summary.metric == "auc") & (summary.attribute == "")]
        dpd = summary[
            (summary.method == method) & (summary.metric == "dpd") & (summary.attribute == attribute)
        ]
        if auc.empty or dpd.empty:
            continue
        points[method] = (dpd["mean"].iloc[0], auc["mean"].iloc[0])
        ax.errorbar(
            *points[method],
            xerr=dpd["std"].iloc[0],
            yerr=auc["std"].iloc[0],
            fmt="D" if method in registry.postprocessed else "o",
            capsize=3,
            label=registry.label(method),
        )
    for method, end in points.items():
        start = points.get(registry.postprocessed[method]) if method in registry.postprocessed else None
        if start is not None:
            ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "grey", "lw": 0.8})
    ax.set(
        xlabel=f"DPD ({attribute}) — lower is fairer",
        ylabel="AUC — higher is better",
        title=f"Accuracy vs fairness ({attribute}), mean ± std over folds",
    )
    ax.legend(fontsize=7)
    _save(fig, path)


def group_bars_figure(summary, attributes, path, registry):
    rows = summary[summary.metric.str.startswith("auc[") & summary.attribute.isin(attributes)]
    fig, axes = plt.subplots(
        1, max(1, len(attributes)), figsize=(4.5 * max(1, len(attributes)), 4), squeeze=False
    )
    for ax, attribute in zip(axes[0], attributes):
        part = rows[rows.attribute == attribute]
        if part.empty:
            ax.set_visible(False)
            continue
        wide = part.pivot_table(index="method", columns="metric", values="mean")
        errors = part.pivot_table(index="method", columns="metric", values="std")
        wide.index = [registry.label(m) for m in wide.index]
        errors.index = wide.index
        wide.plot.bar(ax=ax, yerr=errors, capsize=2, rot=45)
        ax.set(title=f"AUC per {attribute} group", ylabel="AUC", ylim=(0, 1))
        ax.axhline(0.5, ls="--", c="grey", lw=0.8)
        ax.legend(fontsize=6, ncol=1 + len(wide.columns) // 6, loc="lower left")
        plt.setp(ax.get_xticklabels(), ha="right", fontsize=7)
    _save(fig, path)


def brain_map_figure(weight, coordinates, title, path, html_path=None):
    """Glass brain with one marker per ROI centroid (nilearn), colour and size by reading weight relative to
    uniform, N * |A - 1/N| (0: attended exactly as an average region)."""
    from nilearn import plotting

    coords = coordinates[["x_mni", "y_mni", "z_mni"]].to_numpy()
    ratio = weight * len(weight)
    top = max(1e-6, float(ratio.max()))
    sizes = 8 + 70 * ratio / top
    display = plotting.plot_markers(
        ratio,
        coords,
        node_size=sizes,
        node_cmap="magma_r",
        node_vmin=0.0,
        node_vmax=top,
        title=title,
        display_mode="lzr",
        colorbar=True,
        alpha=0.85,
    )
    display.savefig(path, dpi=130)
    display.close()
    if html_path:
        view = plotting.view_markers(
            coords,
            marker_color=plt.cm.magma_r(ratio / top),
            marker_size=sizes / 6,
            marker_labels=[f"ROI {r}: {v:.2f}" for r, v in zip(coordinates["roi"], ratio)],
            title=title,
        )
        view.save_as_html(html_path)


def region_index_figure(weight, title, path, html_path=None, k=20, note=""):
    """Without atlas coordinates: the ``k`` regions of largest reading weight by their index, as bars
    (and the same as an HTML table), with ``note`` saying why there is no brain."""
    ratio = weight * len(weight)
    order = np.argsort(ratio)[::-1][:k]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([str(i + 1) for i in order], ratio[order], color="#7b3294")
    ax.axhline(0, c="grey", lw=0.8)
    ax.set(xlabel="region (column index of the ROI time series)", ylabel="N·|A − 1/N|", title=title)
    ax.text(0.99, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=7, wrap=True)
    plt.setp(ax.get_xticklabels(), rotation=90, fontsize=7)
    _save(fig, path)
    if html_path:
        rows = "".join(f"<tr><td>{i + 1}</td><td>{ratio[i]:.3f}</td></tr>" for i in order)
        Path(html_path).write_text(
            f"<html><body><h3>{title}</h3><p>{note}</p><table><tr><th>region</th><th>N·|A − 1/N|</th></tr>"
            f"{rows}</table></body></html>"
        )


def stability_figure(table, maps, path):
    folds = sorted(maps)
    matrix = np.corrcoef(np.array([reading_weight(maps[f]) for f in folds]))
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    image = axes[0].imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    axes[0].set(
        xticks=range(len(folds)),
        yticks=range(len(folds)),
        xticklabels=folds,
        yticklabels=folds,
        title="Pearson r between fold maps\n(reading weight |A - 1/N|)",
        xlabel="fold",
        ylabel="fold",
    )
    fig.colorbar(image, ax=axes[0])
    axes[1].bar(
        ["Jaccard top-k", "Spearman"],
        [table["jaccard_top_k"].mean(), table["spearman"].mean()],
        yerr=[table["jaccard_top_k"].std(), table["spearman"].std()],
        capsize=4,
        color=["#4c72b0", "#dd8452"],
    )
    axes[1].set(ylim=(min(0, table["spearman"].min()), 1), title="Mean over fold pairs")
    _save(fig, path)


def recovery_figure(table, path):
    """AUROC of each fold's map against the planted mask, one bar per (map, measure)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    groups = list(table.groupby(["map", "measure"], sort=False))
    width = 0.8 / len(groups)
    folds = sorted(table["fold"].unique())
    for i, ((label, measure), part) in enumerate(groups):
        part = part.set_index("fold").reindex(folds)
        ax.bar(np.arange(len(folds)) + width * i, part["auroc"], width=width, label=f"{label}: {measure}")
    ax.set_xticks(np.arange(len(folds)) + 0.4 - width / 2, [f"fold {f}" for f in folds])
    ax.axhline(0.5, ls="--", c="grey", lw=0.8)
    ax.set(ylim=(0, 1), ylabel="AUROC vs planted regions", title="Planted-region recovery by TTCA attention")
    ax.legend(fontsize=7, loc="lower right")
    _save(fig, path)
