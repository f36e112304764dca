"""Learning curves: what each trained network did, epoch by epoch (issue 34).

Every model of a fold logs one row per epoch in ``training/<method>/fold<k>/[inner<j>/]seed<s>/epochs.csv``
(the loss, each loss term, the validation AUC of the direct read-out that early stopping watches); its
``selection.json`` names the epoch whose weights were kept (``best_epoch`` per seed). This module reads those
logs into one long table and draws one figure per method: one panel per loss term and one for the validation
AUC, a line per model (fold × seed or inner fold), the kept epoch marked on every line, so a reader sees
whether a model trained, overfitted or stopped early. No experiment tracker: the CSV logs are the record
(any tracker can read them), and a run needs no server, account or network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

# columns of epochs.csv that are not loss terms
NOT_TERMS = ("epoch", "val_auc", "seconds")


def read_epoch_logs(work_dirs: dict[int, Path]) -> pd.DataFrame:
    """One long table of every model's epochs for ``work_dirs`` ({fold: training/<method>/fold<k>}):
    columns ``fold``, ``model`` (``seed<s>`` or ``inner<j>/seed<s>``), ``seed``, ``epoch``, the loss terms,
    ``val_auc`` and ``best`` (True on the epoch whose weights the fold kept, from its selection.json)."""
    frames = []
    for fold, work_dir in work_dirs.items():
        work_dir = Path(work_dir)
        selection = json.loads((work_dir / "selection.json").read_text())
        kept = {int(entry["seed"]): entry.get("best_epoch") for entry in selection.get("seeds", [])}
        for log in sorted(work_dir.glob("**/seed*/epochs.csv")):
            model = log.parent.relative_to(work_dir).as_posix()
            seed = int(re.fullmatch(r"seed(\d+)", log.parent.name).group(1))
            frame = pd.read_csv(log)
            if frame.empty:
                continue
            frame.insert(0, "fold", int(fold))
            frame.insert(1, "model", model)
            frame.insert(2, "seed", seed)
            frame["best"] = frame["epoch"] == kept.get(seed, -1)
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["fold", "model", "seed", "epoch", "val_auc", "best"])
    return pd.concat(frames, ignore_index=True)


def loss_terms(epochs: pd.DataFrame) -> list[str]:
    """The loss columns of ``epochs`` (total ``loss`` first), without terms that are zero in every epoch or
    equal to the total (the only term of an objective)."""
    terms = [c for c in epochs.columns if c not in (*NOT_TERMS, "fold", "model", "seed", "best")]
    terms = [t for t in terms if epochs[t].notna().any() and not np.allclose(epochs[t].fillna(0), 0)]
    # a single term equal to the total would draw the same panel twice
    same = [t for t in terms if t != "loss" and "loss" in terms and np.allclose(epochs[t], epochs["loss"])]
    return sorted((t for t in terms if t not in same), key=lambda t: (t != "loss", t))


def learning_curve_figure(epochs: pd.DataFrame, path, label: str):
    """One panel per loss term and one for the validation AUC; a line per model, coloured by fold; the kept
    epoch of each model marked (filled circle), its last epoch (where it stopped) as the line's end."""
    from .figures._style import _save, plt

    if epochs.empty:
        raise ValueError(f"{label}: no epochs.csv under its training folders: nothing to draw")
    terms = loss_terms(epochs)
    panels = [*terms[:1], "val_auc", *terms[1:]]  # the total loss beside what early stopping watched
    columns = min(3, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    folds = sorted(epochs["fold"].unique())
    colours = dict(zip(folds, plt.get_cmap("tab10")(np.arange(len(folds)) % 10), strict=True))
    for ax, panel in zip(axes.flat, panels, strict=False):
        for (fold, _model), curve in epochs.groupby(["fold", "model"], sort=True):
            ax.plot(curve["epoch"], curve[panel], color=colours[fold], lw=1.0, alpha=0.8)
            kept = curve[curve["best"]]
            ax.plot(kept["epoch"], kept[panel], "o", color=colours[fold], ms=5, mec="black", mew=0.6)
        ax.set_title("validation AUC (early stopping)" if panel == "val_auc" else f"training {panel}")
        ax.set_xlabel("epoch")
        if panel == "val_auc":
            ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=colours[f], lw=1.5, label=f"fold {f}") for f in folds]
    handles.append(plt.Line2D([], [], ls="", marker="o", color="white", mec="black", label="epoch kept"))
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 7), bbox_to_anchor=(0.5, 1.0))
    n_models = epochs.groupby(["fold", "model"]).ngroups
    fig.suptitle(f"{label}: learning curves ({n_models} models)", y=1.05)
    fig.tight_layout()
    _save(fig, path)
