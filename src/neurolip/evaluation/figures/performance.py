"""Classification and fairness figures of the evaluated methods: ROC curves, calibration, the
fairness-accuracy trade-off, per-group AUC bars and per-fold AUC (rule ``figures``)."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from ._style import _clipped_sd, _save, seeded_jitter

# a group with fewer patients or controls than this in a test fold has no AUC worth drawing as reliable
MIN_CLASS = 5


def roc_figure(predictions, path, registry):
    """``predictions``: {method: DataFrame of all folds' test predictions}; the reference method is drawn
    thicker. The folds are pooled on the calibrated P(disease), as ``metrics/pooled.csv`` and the glance
    table pool them: each fold's raw scores have their own scale, so their pooled ROC would be another curve
    with another AUC than the one the tables print."""
    fig, ax = plt.subplots(figsize=(5, 5))
    from sklearn.metrics import roc_auc_score

    for method, frame in predictions.items():
        score = frame["p_disease"]
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


def fairness_accuracy_figure(per_fold, attribute, path, registry, seed=0):
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
        with seeded_jitter(seed):
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


def group_class_counts(predictions, per_fold, attributes):
    """Patients and controls of every sensitive group in every test fold (all methods share the folds'
    test subjects): columns attribute, group, fold, patients, controls. A continuous attribute's groups are
    split at the fold's training median (metric ``split_value`` of ``per_fold``), as the evaluation split
    them; unknown values are in no group."""
    split = per_fold[per_fold.metric == "split_value"].drop_duplicates(["fold", "attribute"])
    split = split.set_index(["fold", "attribute"])["value"]
    rows = []
    for fold, part in predictions.groupby("fold"):
        for attribute in attributes:
            if attribute not in part.columns:
                continue
            if (fold, attribute) in split.index:
                numeric = pd.to_numeric(part[attribute], errors="coerce")
                groups = pd.Series(
                    np.where(numeric > split[(fold, attribute)], "above median", "at or below median"),
                    index=part.index,
                ).where(numeric.notna())
            else:
                groups = part[attribute].astype(object).where(part[attribute].notna())
            for group, rows_of in part.groupby(groups.astype(str).where(groups.notna())):
                y = rows_of["y_true"].to_numpy()
                rows.append(
                    {
                        "attribute": attribute,
                        "group": group,
                        "fold": fold,
                        "patients": int((y == 1).sum()),
                        "controls": int((y == 0).sum()),
                    }
                )
    return pd.DataFrame(rows, columns=["attribute", "group", "fold", "patients", "controls"])


def _group_sizes(counts, attribute, groups):
    """{group: (smallest patients, smallest controls) over the test folds}; a group absent from a fold counts
    0 there."""
    if counts is None:
        return dict.fromkeys(groups, (None, None))
    part = counts[counts.attribute == attribute]
    folds = sorted(set(part.fold))
    sizes = {}
    for group in groups:
        rows = part[part.group == group].set_index("fold").reindex(folds).fillna(0)
        sizes[group] = (
            (int(rows["patients"].min()), int(rows["controls"].min())) if len(rows) else (None, None)
        )
    return sizes


def group_bars_figure(per_fold, attributes, path, registry, counts=None, min_class=MIN_CLASS):
    """AUC within each group of every sensitive attribute, per method (mean ± SD over folds), each group's
    size beside its markers: patients/controls of its smallest test fold (``counts``:
    :func:`group_class_counts`). A group with fewer than ``min_class`` patients or controls in some fold is
    drawn hollow with a dotted bar and said to be too small for an AUC (its AUC of 1.0 on two patients is
    not a result); without ``counts`` the sizes are unknown and said so."""
    import seaborn as sns

    order = _label_order(per_fold, registry)
    rows = per_fold[per_fold.metric.str.startswith("auc[") & per_fold.attribute.isin(attributes)].copy()
    present = [a for a in attributes if a in set(rows.attribute)]
    n_groups = max([rows[rows.attribute == a].metric.nunique() for a in present] or [1])
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(
        1,
        max(1, len(present)),
        # each row holds one marker (and one size label) per group, apart enough to read
        figsize=(4.8 * max(1, len(present)), max(0.45, 0.16 * n_groups) * len(order) + 2.0),
        sharey=True,
        squeeze=False,
    )
    interval = _clipped_sd()
    for ax, attribute in zip(axes[0], present):
        part = rows[rows.attribute == attribute].copy()
        part["group"] = part.metric.str.slice(4, -1)
        part["label"] = [registry.label(m) for m in part.method]
        groups = sorted(part.group.unique(), key=str)
        sizes = _group_sizes(counts, attribute, groups)
        offsets = np.linspace(-0.28, 0.28, len(groups)) if len(groups) > 1 else np.zeros(1)
        for j, group in enumerate(groups):
            colour = f"C{j}"
            patients, controls = sizes[group]
            small = counts is not None and (patients is None or min(patients, controls) < min_class)
            size_text = f"{patients}/{controls}" if patients is not None else "n ?"
            name = f"{group} (n {size_text})" + (" — too small for an AUC" if small else "")
            values = part[part.group == group].groupby("label")["value"]
            xs, ys, lows, highs = [], [], [], []
            for i, label in enumerate(order):
                if label not in values.groups:
                    continue
                v = values.get_group(label).dropna()
                if v.empty:
                    continue
                low, high = interval(v)
                xs.append(float(v.mean()))
                ys.append(i + offsets[j])
                lows.append(low)
                highs.append(high)
            xs, ys = np.array(xs), np.array(ys)
            if len(xs):
                ax.hlines(ys, lows, highs, colors=colour, lw=1, ls=":" if small else "-")
                ax.plot(
                    xs,
                    ys,
                    ls="none",
                    marker="o",
                    ms=4.5,
                    mfc="white" if small else colour,
                    mec=colour,
                    mew=1.2,
                    label=name,
                    gid=f"group:{group}",
                )
                for y in ys:
                    ax.text(
                        1.06,
                        y,
                        size_text,
                        fontsize=5,
                        color=colour,
                        va="center",
                        ha="left",
                        gid=f"n:{group}",
                        transform=ax.get_yaxis_transform(),
                        clip_on=False,
                    )
        ax.axvline(0.5, ls="--", c="grey", lw=0.8)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        # a little room past 1: markers at AUC 1.0 are drawn whole
        ax.set(
            title=f"AUC per {attribute} group",
            xlabel="AUC (mean ± SD over folds)\nright: patients/controls of the smallest test fold",
            ylabel="",
            xlim=(0, 1.04),
        )
        ax.legend(
            fontsize=6,
            title=f"{attribute} (hollow, dotted: < {min_class} patients or controls in a fold)",
            title_fontsize=6,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16 - 0.3 / max(1, len(order))),
            ncol=1 if len(groups) > 2 else len(groups),
            frameon=False,
        )
    if not present:
        axes[0][0].set_visible(False)
    _save(fig, path)
    sns.reset_orig()


def fold_auc_figure(per_fold, path, registry, seed=0):
    """Every fold's test AUC per method (dots) with the mean: how much a method's AUC moves between folds."""
    import seaborn as sns

    order = _label_order(per_fold, registry)
    frame = _method_frame(per_fold, registry, "auc")
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * len(order) + 1.4))
    with seeded_jitter(seed):
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
