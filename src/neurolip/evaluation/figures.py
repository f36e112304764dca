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


def _method_frame(per_fold, registry, metric, attribute=""):
    """Per-fold values of one metric, one row per (method, fold), with display columns: the method's label
    and its decision rule (calibrated threshold, or group thresholds for post-processed versions)."""
    rows = per_fold[(per_fold.metric == metric) & (per_fold.attribute.fillna("") == attribute)].copy()
    rows["label"] = [registry.label(m) for m in rows.method]
    rows["decisions"] = [
        "group thresholds" if m in registry.postprocessed else "calibrated threshold" for m in rows.method
    ]
    return rows


def _label_order(per_fold, registry):
    """Methods by mean AUC (best first), each group-threshold version right under its base method."""
    auc = per_fold[(per_fold.metric == "auc") & (per_fold.attribute.fillna("") == "")]
    means = auc.groupby("method")["value"].mean()
    trained = [m for m in means.sort_values(ascending=False).index if m not in registry.postprocessed]
    order = []
    for method in trained:
        order.append(method)
        order += [v for v, base in registry.postprocessed.items() if base == method and v in means.index]
    return [registry.label(m) for m in order]


def fairness_accuracy_figure(per_fold, attribute, path, registry):
    """Accuracy and fairness side by side, one row per method (mean ± SD over folds, folds as dots): AUC
    (higher is better) and DPD on ``attribute`` (lower is fairer); group-threshold versions in their own
    colour under their base method. Readable with many methods, unlike one scatter of error bars."""
    import seaborn as sns

    order = _label_order(per_fold, registry)
    panels = [
        ("auc", "", "AUC (higher is better)"),
        ("dpd", attribute, f"DPD, {attribute} (lower is fairer)"),
        ("deodds", attribute, f"DEOdds, {attribute} (lower is fairer)"),
    ]
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 0.45 * len(order) + 1.6), sharey=True)
    palette = {"calibrated threshold": "#1f77b4", "group thresholds": "#d62728"}
    for ax, (metric, attr, title) in zip(axes, panels):
        frame = _method_frame(per_fold, registry, metric, attr)
        if frame.empty:
            ax.set_visible(False)
            continue
        common = {
            "data": frame,
            "x": "value",
            "y": "label",
            "hue": "decisions",
            "order": order,
            "palette": palette,
        }
        sns.stripplot(**common, ax=ax, size=3, alpha=0.45, legend=False, jitter=0.15)
        sns.pointplot(
            **common,
            ax=ax,
            errorbar="sd",
            linestyle="none",
            markers="D",
            markersize=5,
            capsize=0.2,
            err_kws={"linewidth": 1},
        )
        ax.set(title=title, xlabel="", ylabel="")
        if ax is not axes[-1] and ax.get_legend() is not None:
            ax.get_legend().remove()
    legend = axes[-1].get_legend()
    if legend is not None:
        handles, labels = axes[-1].get_legend_handles_labels()
        legend.remove()
        fig.legend(
            handles,
            labels,
            title="decisions",
            fontsize=7,
            title_fontsize=7,
            loc="lower center",
            ncol=2,
            bbox_to_anchor=(0.5, 0.0),
        )
    fig.suptitle(
        f"Accuracy and fairness ({attribute}) per method: mean ± SD over folds, dots are folds", fontsize=9
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    sns.reset_orig()


def group_bars_figure(per_fold, attributes, path, registry):
    """AUC within each group of every sensitive attribute, per method (mean ± SD over folds)."""
    import seaborn as sns

    order = _label_order(per_fold, registry)
    rows = per_fold[per_fold.metric.str.startswith("auc[") & per_fold.attribute.isin(attributes)].copy()
    present = [a for a in attributes if a in set(rows.attribute)]
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(
        1,
        max(1, len(present)),
        figsize=(4.2 * max(1, len(present)), 0.4 * len(order) + 1.6),
        sharey=True,
        squeeze=False,
    )
    for ax, attribute in zip(axes[0], present):
        part = rows[rows.attribute == attribute].copy()
        part["group"] = part.metric.str.slice(4, -1)
        part["label"] = [registry.label(m) for m in part.method]
        sns.pointplot(
            data=part,
            x="value",
            y="label",
            hue="group",
            order=order,
            dodge=0.4,
            errorbar="sd",
            linestyle="none",
            markersize=4,
            capsize=0.15,
            err_kws={"linewidth": 1},
            ax=ax,
        )
        ax.axvline(0.5, ls="--", c="grey", lw=0.8)
        ax.set(title=f"AUC per {attribute} group", xlabel="AUC", ylabel="", xlim=(0, 1))
        ax.legend(
            fontsize=6,
            title=attribute,
            title_fontsize=6,
            loc="lower left",
            ncol=1 + part.group.nunique() // 8,
        )
    if not present:
        axes[0][0].set_visible(False)
    _save(fig, path)
    sns.reset_orig()


def fold_auc_figure(per_fold, path, registry):
    """Every fold's test AUC per method (dots) with the mean: how much a method's AUC moves between folds."""
    import seaborn as sns

    order = _label_order(per_fold, registry)
    frame = _method_frame(per_fold, registry, "auc")
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * len(order) + 1.4))
    sns.stripplot(
        data=frame,
        x="value",
        y="label",
        hue="fold",
        order=order,
        palette="viridis",
        size=5,
        ax=ax,
        jitter=0.1,
    )
    sns.pointplot(
        data=frame,
        x="value",
        y="label",
        order=order,
        color="black",
        errorbar=None,
        linestyle="none",
        markers="|",
        markersize=12,
        ax=ax,
    )
    ax.set(xlabel="test AUC", ylabel="", title="AUC per cross-validation fold (| = mean)")
    ax.legend(title="fold", fontsize=6, title_fontsize=6, loc="lower left")
    _save(fig, path)
    sns.reset_orig()


def calibration_figure(predictions, path, registry, n_bins=8):
    """Reliability curves of the calibrated P(disease) on the test folds (pooled), one line per method,
    and how the predictions spread: does 0.7 mean 70 %?"""
    import pandas as pd
    import seaborn as sns
    from sklearn.calibration import calibration_curve

    rows = []
    for method, frame in predictions.items():
        observed, predicted = calibration_curve(
            frame["y_true"], frame["p_disease"], n_bins=n_bins, strategy="quantile"
        )
        rows += [
            {"label": registry.label(method), "predicted": p, "observed": o}
            for p, o in zip(predicted, observed)
        ]
    curves = pd.DataFrame(rows, columns=["label", "predicted", "observed"])
    sns.set_theme(style="whitegrid", context="paper")
    # one small panel per method: with many methods, one axes of overlapping lines cannot be read
    grid = sns.relplot(
        data=curves,
        x="predicted",
        y="observed",
        col="label",
        col_wrap=min(4, max(1, len(predictions))),
        kind="line",
        marker="o",
        markersize=4,
        height=2.4,
        aspect=1,
        facet_kws={"xlim": (0, 1), "ylim": (0, 1)},
    )
    for ax in grid.axes.flat:
        ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    grid.set_titles("{col_name}", size=7)
    grid.set_axis_labels("calibrated P(disease)", "fraction of patients")
    grid.figure.suptitle(
        f"Calibration on pooled test folds ({n_bins} quantile bins; diagonal = calibrated)", fontsize=9
    )
    grid.figure.tight_layout()
    grid.figure.savefig(path, dpi=130)
    plt.close(grid.figure)
    sns.reset_orig()


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


def region_significance_figure(regions, coordinates, title, path, stability=None, k=20):
    """A method's map with its permutation null: the ``k`` regions of largest value as bars (filled where
    the region beats the null family-wise, hollow otherwise), the null models' largest value as a line,
    and, given atlas coordinates, a glass brain of the regions that beat it. ``stability`` (a line of text)
    says how well the map reproduces, so the reader sees at a glance whether it can be read."""
    from nilearn import plotting

    values = regions["observed"].to_numpy()
    significant = regions["beats_null"].to_numpy(dtype=bool)
    order = np.argsort(values)[::-1][:k]
    labels = [str(r) for r in regions["region"].to_numpy()[order]]
    has_brain = coordinates is not None and len(coordinates) == len(values)
    fig = plt.figure(figsize=(12 if has_brain else 8, 4.2))
    ax = fig.add_subplot(1, 2, 1) if has_brain else fig.add_subplot(1, 1, 1)
    colours = ["#b2182b" if significant[i] else "white" for i in order]
    ax.bar(labels, values[order], color=colours, edgecolor="#b2182b")
    if "null_max" in regions and np.isfinite(regions["null_max"]).any():
        ax.axhline(float(regions["null_max"].max()), ls="--", c="grey", lw=1, label="largest null value")
        ax.legend(fontsize=7, loc="upper right")
    n_sig = int(significant.sum())
    verdict = f"{n_sig} region(s) beat the null" if n_sig else "no region beats the permutation null"
    ax.set(ylabel="map value", xlabel="region", title=f"{title}\n{verdict}")
    plt.setp(ax.get_xticklabels(), rotation=90, fontsize=7)
    if stability:
        ax.text(0.01, 0.98, stability, transform=ax.transAxes, va="top", fontsize=7)
    if has_brain:
        brain_ax = fig.add_subplot(1, 2, 2)
        shown = significant if n_sig else np.zeros(len(values), dtype=bool)
        coords = coordinates[["x_mni", "y_mni", "z_mni"]].to_numpy()
        if shown.any():
            plotting.plot_markers(
                values[shown],
                coords[shown],
                node_size=40,
                node_cmap="Reds",
                display_mode="lzr",
                axes=brain_ax,
                colorbar=False,
                title="regions beating the null",
            )
        else:
            plotting.plot_glass_brain(
                None, display_mode="lzr", axes=brain_ax, title="no region beats the null"
            )
    _save(fig, path)


def map_stability_figure(table, path):
    """Mean Spearman and top-k Jaccard of model maps, per method and estimator, same-fold seed pairs and
    fold pairs side by side, with the chance level of random maps as a line."""
    import seaborn as sns

    shown = table[(table["split"] == "test") & (table["method"] != "random")].copy()
    shown["map"] = shown["method"] + " · " + shown["estimator"]
    chance = table[table["method"] == "random"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.5 * max(4, shown["map"].nunique()) + 1.5), sharey=True)
    for ax, metric, name in zip(axes, ("spearman", "jaccard_top_k"), ("Spearman", "top-k Jaccard")):
        sns.barplot(data=shown, y="map", x=metric, hue="pair", ax=ax, orient="h")
        if not chance.empty:
            ax.axvline(float(chance[metric].iloc[0]), ls="--", c="grey", lw=1, label="random maps")
        ax.set(xlabel=name, ylabel="", title=f"{name} between model maps (test subjects)")
        ax.legend(fontsize=7, loc="lower right")
    _save(fig, path)


def overlap_figure(table, path):
    """Overlap of the disease-word and sensitive-word maps per model, one point per model and method."""
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * max(4, table["method"].nunique() * 2) + 1.5))
    for ax, metric, name in zip(axes, ("spearman", "jaccard_top_k"), ("Spearman", "top-k Jaccard")):
        sns.stripplot(data=table, y="method", x=metric, hue="fields", ax=ax, dodge=True, orient="h")
        ax.set(xlabel=name, ylabel="", title=f"{name}: disease vs sensitive words' maps")
        ax.legend(fontsize=7)
    _save(fig, path)
