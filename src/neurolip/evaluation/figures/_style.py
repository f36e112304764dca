"""What every figure shares: the Agg backend, 300 dpi PNGs with a vector PDF beside them (fonts embedded as
TrueType so the text stays editable), method labels from the registry, one legend under the axes."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: figures are drawn in jobs without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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
