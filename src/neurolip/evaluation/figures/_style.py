"""What every figure shares: the Agg backend, 300 dpi PNGs with a vector PDF beside them (fonts embedded as
TrueType so the text stays editable), method labels from the registry, one legend under the axes, seeded
jitter (the same inputs give the same PNG) and how a read-out-only method's maps are said to be another's."""

import contextlib
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
# the seed of the random jitter of strip plots (seaborn draws it from numpy's global generator)
JITTER_SEED = 0


@contextlib.contextmanager
def seeded_jitter(seed=JITTER_SEED):
    """Seaborn's strip-plot jitter from a generator seeded with ``seed`` (numpy's global state, which seaborn
    draws from, is restored afterwards): the same inputs give the same points, so the same PNG."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def maps_of(registry, method, models_from):
    """A method's display label, saying whose models' maps it shows when it reads another method's models
    (``models_from``: {method: source method} of the read-out-only methods; their attention is the source's)."""
    label = _label(registry, method)
    source = (models_from or {}).get(method)
    return f"{label} [maps of {_label(registry, source)}'s models]" if source else label


def reused_note(registry, models_from, shown=None):
    """A line for a figure: which methods' maps are another method's (read-out-only methods reuse the trained
    models, so their attention maps are the source's, identical), or None when none is."""
    pairs = [(m, s) for m, s in (models_from or {}).items() if s and (shown is None or m in shown)]
    if not pairs:
        return None
    return "; ".join(
        f"{_label(registry, m)} reads the models of {_label(registry, s)}: its attention maps are that "
        "method's (identical)"
        for m, s in pairs
    )


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
