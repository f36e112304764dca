"""Figures: ROC curves, fairness-accuracy trade-off, per-group bars, brain maps, stability, recovery.

Every figure is written twice: the PNG its rule names (300 dpi) and a vector PDF beside it (same name,
``.pdf``; fonts embedded as TrueType so the text stays editable). Methods are shown by their display
names (``MethodRegistry.label``); regions by their atlas names (:func:`.brainmaps.region_names`)."""

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from .brainmaps import NEAREST_AAL, reading_weight  # noqa: E402
from .map_null import NULL_COLUMNS  # noqa: E402

DPI = 300
VECTOR_SUFFIX = ".pdf"
plt.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"})
# what the brain maps of TTCA attention plot: the reading weight relative to uniform
RATIO_LABEL = "N·|A − 1/N|"
RATIO_MEANING = "reading weight × N (0: attended as uniform)"


def vector_path(path):
    """The vector copy written beside a figure's PNG."""
    return Path(path).with_suffix(VECTOR_SUFFIX)


def _save(fig, path, tight=True):
    """PNG (300 dpi) and PDF of ``fig``; the bounding box grows to hold every title and legend."""
    if tight:
        fig.tight_layout()
    for target, dpi in ((path, DPI), (vector_path(path), None)):
        fig.savefig(target, dpi=dpi, bbox_inches="tight", pad_inches=0.05)
    plt.close(fig)


def _label(registry, method):
    return registry.label(method) if registry is not None else method


def _legend_below(fig, ax, ncol=3, **kwargs):
    """One legend for the figure, under its axes (outside them: it covers no data), from ``ax``'s entries;
    the axes' own legends are removed."""
    handles, labels = ax.get_legend_handles_labels()
    for each in fig.axes:
        if each.get_legend() is not None:
            each.get_legend().remove()
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=ncol,
        fontsize=7,
        frameon=False,
        **kwargs,
    )


def _clipped_sd(low=0.0, high=1.0):
    """Seaborn error bar: mean ± SD over folds, cut at the metric's range (DPD, DEOdds, AUC lie in [0, 1];
    a plain SD bar would reach below 0)."""

    def interval(values):
        values = np.asarray(values, dtype=float)
        mean, sd = values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0
        return max(low, mean - sd), min(high, mean + sd)

    return interval


def roc_figure(predictions, path, registry):
    """``predictions``: {method: DataFrame of all folds' test predictions}; the reference method is drawn
    thicker."""
    fig, ax = plt.subplots(figsize=(5, 5))
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
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8, label="chance")
    ax.set(
        xlabel="False positive rate",
        ylabel="True positive rate",
        title="ROC, test folds pooled",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
    )
    # beside the axes, not over the curves
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False)
    _save(fig, path, tight=False)  # the saved box grows to hold the legend; the axes keep their size


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
            errorbar=_clipped_sd(),
            linestyle="none",
            markers="D",
            markersize=5,
            capsize=0.2,
            err_kws={"linewidth": 1},
        )
        ax.set(title=title, xlabel="", ylabel="")
        low, high = ax.get_xlim()
        ax.set_xlim(max(low, -0.02), min(high, 1.02))
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
            loc="upper center",
            ncol=2,
            bbox_to_anchor=(0.5, 0.0),
            frameon=False,
        )
    fig.suptitle(
        f"Accuracy and fairness ({attribute}) per method: mean ± SD over folds (cut at 0 and 1), dots are folds",
        fontsize=9,
    )
    fig.tight_layout()
    _save(fig, path, tight=False)
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
            errorbar=_clipped_sd(),
            linestyle="none",
            markersize=4,
            capsize=0.15,
            err_kws={"linewidth": 1},
            ax=ax,
        )
        ax.axvline(0.5, ls="--", c="grey", lw=0.8)
        # a little room past 1: markers at AUC 1.0 are drawn whole
        ax.set(
            title=f"AUC per {attribute} group", xlabel="AUC (mean ± SD over folds)", ylabel="", xlim=(0, 1.04)
        )
        ax.legend(
            fontsize=6,
            title=attribute,
            title_fontsize=6,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12 - 0.3 / max(1, len(order))),
            ncol=min(4, part.group.nunique()),
            frameon=False,
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
    ax.legend(
        title="fold", fontsize=6, title_fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False
    )
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
            {"label": textwrap.fill(registry.label(method), 32), "predicted": p, "observed": o}
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
        facet_kws={"xlim": (-0.02, 1.02), "ylim": (-0.02, 1.02)},  # markers at 0 and 1 drawn whole
    )
    for ax in grid.axes.flat:
        ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    grid.set_titles("{col_name}", size=7)
    grid.set_axis_labels("calibrated P(disease)", "fraction of patients")
    grid.figure.suptitle(
        f"Calibration on pooled test folds ({n_bins} quantile bins; diagonal = calibrated)", fontsize=9
    )
    _save(grid.figure, path)
    sns.reset_orig()


def _region_tick(roi, name, source):
    """A region's axis label: its atlas name, or its number with the nearest AAL region (marked ≈)."""
    if not name:
        return str(roi)
    return f"{roi} ≈{name}" if source.startswith(NEAREST_AAL) else str(name)


def _names_note(names):
    """The line saying where region names come from (None when they are the atlas's own labels)."""
    if names is None or not len(names):
        return None
    source = str(names["region_name_source"].iloc[0])
    if source.startswith(NEAREST_AAL):
        return "≈ name: nearest AAL-116 region centroid (this atlas has no region labels)"
    if source == "no atlas coordinates":
        return "regions by number (no atlas coordinates)"
    return None


def _brain_markers(fig, rect, values, coords, cmap, vmin, vmax, sizes, title, colorbar_label):
    """Glass brain (nilearn) with one marker per region in ``rect`` of ``fig``, and a labelled colour bar."""
    from matplotlib import colors
    from matplotlib.cm import ScalarMappable
    from nilearn import plotting

    left, bottom, width, height = rect
    plotting.plot_markers(
        values,
        coords,
        node_size=sizes,
        node_cmap=cmap,
        node_vmin=vmin,
        node_vmax=vmax,
        display_mode="lzr",
        figure=fig,
        axes=(left, bottom, width * 0.92, height),
        title=None,
        colorbar=False,
        alpha=0.85,
    )
    cax = fig.add_axes((left + width * 0.93, bottom + height * 0.12, width * 0.015, height * 0.76))
    bar = fig.colorbar(ScalarMappable(norm=colors.Normalize(vmin, vmax), cmap=cmap), cax=cax)
    bar.set_label(colorbar_label, fontsize=7)
    bar.ax.tick_params(labelsize=6)
    if title:
        fig.text(left + width / 2, bottom + height + 0.01, title, ha="center", va="bottom", fontsize=8)


def brain_map_figure(weight, coordinates, title, path, html_path=None, names=None, k=5):
    """Glass brain with one marker per ROI centroid, colour and size by the reading weight relative to
    uniform, N·|A − 1/N| (0: attended exactly as an average region), the ``k`` largest regions named beside
    it. ``names``: :func:`.brainmaps.region_names` of the coordinates."""
    from nilearn import plotting

    coords = coordinates[["x_mni", "y_mni", "z_mni"]].to_numpy()
    ratio = weight * len(weight)
    top = max(1e-6, float(ratio.max()))
    sizes = 8 + 70 * ratio / top
    fig = plt.figure(figsize=(11, 3.6))
    _brain_markers(
        fig,
        (0.0, 0.04, 0.74, 0.8),
        ratio,
        coords,
        "magma_r",
        0.0,
        top,
        sizes,
        None,
        f"{RATIO_LABEL}\n({RATIO_MEANING})",
    )
    fig.suptitle(title, fontsize=9, y=0.98)
    order = np.argsort(ratio)[::-1][:k]
    rois = coordinates["roi"].to_numpy()
    lines = [f"largest {RATIO_LABEL}:"]
    region_name = names["region_name"].to_numpy() if names is not None else [""] * len(rois)
    name_source = names["region_name_source"].to_numpy() if names is not None else [""] * len(rois)
    for rank, i in enumerate(order, 1):
        lines.append(f"{rank}. {_region_tick(rois[i], region_name[i], name_source[i])}  {ratio[i]:.2f}")
    note = _names_note(names)
    if note:
        lines += ["", textwrap.fill(note, 34)]
    fig.text(0.78, 0.82, "\n".join(lines), va="top", ha="left", fontsize=7, family="DejaVu Sans")
    _save(fig, path, tight=False)
    if html_path:
        labels = [
            f"ROI {r}{' ' + _region_tick(r, n, src) if n else ''}: {RATIO_LABEL} = {v:.2f}"
            for r, n, src, v in zip(rois, region_name, name_source, ratio)
        ]
        view = plotting.view_markers(
            coords,
            marker_color=plt.cm.magma_r(ratio / top),
            marker_size=sizes / 6,
            marker_labels=labels,
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
    ax.set(
        xlabel="region (column index of the ROI time series)",
        ylabel=f"{RATIO_LABEL}\n({RATIO_MEANING})",
        title=title,
    )
    ax.text(0.99, 0.97, textwrap.fill(note, 70), transform=ax.transAxes, ha="right", va="top", fontsize=7)
    ax.set_ylim(0, ratio[order].max() * 1.35 if len(order) else 1)
    plt.setp(ax.get_xticklabels(), rotation=90, fontsize=7)
    _save(fig, path)
    if html_path:
        rows = "".join(f"<tr><td>{i + 1}</td><td>{ratio[i]:.3f}</td></tr>" for i in order)
        Path(html_path).write_text(
            f"<html><body><h3>{title}</h3><p>{note}</p><table><tr><th>region</th><th>{RATIO_LABEL}</th></tr>"
            f"{rows}</table></body></html>"
        )


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


def region_significance_figure(regions, coordinates, title, path, stability=None, k=20, names=None):
    """A method's map with its permutation null: the ``k`` regions of largest value as bars (filled where
    the region beats the null family-wise: ``beats_null``, its z against its own null above the null maps'
    largest z, map_null.max_statistic_test; hollow otherwise), the null models' largest raw value as a line,
    and, given atlas coordinates, a glass brain of the regions that beat it (when none does: the top
    regions unthresholded, said so in its title). ``stability`` (a line of text) says how well the map
    reproduces, so the reader sees at a glance whether it can be read. ``names``: region names
    (:func:`.brainmaps.region_names`), used for the bar labels."""
    values = regions["observed"].to_numpy()
    significant = regions["beats_null"].to_numpy(dtype=bool)
    order = np.argsort(values)[::-1][:k]
    region_ids = regions["region"].to_numpy()
    if names is not None and len(names) == len(values):
        labels = [
            _region_tick(region_ids[i], names["region_name"].iloc[i], names["region_name_source"].iloc[i])
            for i in order
        ]
    else:
        labels = [str(r) for r in region_ids[order]]
    has_brain = coordinates is not None and len(coordinates) == len(values)
    fig = plt.figure(figsize=(13 if has_brain else 8, 5.2))
    ax = fig.add_axes((0.06, 0.36, 0.38, 0.5)) if has_brain else fig.add_axes((0.1, 0.36, 0.85, 0.5))
    colours = ["#b2182b" if significant[i] else "white" for i in order]
    ax.bar(range(len(order)), values[order], color=colours, edgecolor="#b2182b", label="map value")
    ax.set_xticks(range(len(order)), labels, rotation=90, fontsize=6)
    ax.set_xlim(-0.6, len(order) - 0.4)
    top = float(values[order].max()) if len(order) else 1.0
    null_max = np.nan
    tested = "null_max" in regions and np.isfinite(regions["null_max"]).any()
    if tested:
        null_max = float(regions["null_max"].max())
        ax.axhline(null_max, ls="--", c="grey", lw=1, label="largest null value (raw; tested: z)")
    # head room above the bars and the null line: the legend sits there, over nothing
    ax.set_ylim(0, 1.3 * max(top, null_max if np.isfinite(null_max) else 0.0))
    ax.legend(fontsize=7, loc="upper right", frameon=False, ncol=2)
    n_sig = int(significant.sum())
    if not tested:
        verdict = "no permutation null: largest regions, untested"
    elif n_sig:
        verdict = f"{n_sig} region(s) beat the null (region z vs null max z, family-wise)"
    else:
        verdict = "no region beats the permutation null"
    ax.set(ylabel="map value", title=verdict)
    ax.title.set_fontsize(8)
    fig.suptitle(title, fontsize=9, y=0.98)
    captions = [line for line in (stability, _names_note(names)) if line]
    if captions:
        fig.text(0.01, 0.01, "\n".join(textwrap.fill(c, 150) for c in captions), fontsize=7, va="bottom")
    if has_brain:
        coords = coordinates[["x_mni", "y_mni", "z_mni"]].to_numpy()
        if n_sig:
            shown, brain_title, cmap = significant, "regions beating the null", "Reds"
        else:
            shown = np.zeros(len(values), dtype=bool)
            shown[order[: max(1, k // 2)]] = True
            brain_title = (
                f"no region beats the null: the {int(shown.sum())} largest shown, unthresholded"
                if tested
                else f"the {int(shown.sum())} largest regions (no permutation null to test them)"
            )
            cmap = "Greys"
        # the light end of the colour map left out: the smallest shown region stays visible on white
        cmap = matplotlib.colors.LinearSegmentedColormap.from_list(
            cmap, plt.get_cmap(cmap)(np.linspace(0.35, 1.0, 256))
        )
        vmin, vmax = float(values[shown].min()), float(values[shown].max())
        _brain_markers(
            fig,
            (0.5, 0.3, 0.48, 0.55),
            values[shown],
            coords[shown],
            cmap,
            vmin if vmax > vmin else 0.0,
            vmax if vmax > vmin else vmax + 1e-6,
            40,
            brain_title,
            "map value",
        )
    _save(fig, path, tight=False)


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
