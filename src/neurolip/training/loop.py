"""The epoch loop: early stopping on a validation score, per-epoch safetensors checkpoints (a killed job
resumes where it stopped and ends as an uninterrupted run would), progress bar and a CSV log.

It knows nothing about methods: a ``step`` callable returns the loss terms of one batch, a ``validate``
callable the score to maximise.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..progress import progress_bar
from .checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights

log = logging.getLogger(__name__)
GRADIENT_CLIP = 5.0


@dataclass(frozen=True)
class LoopSettings:
    max_epochs: int
    min_epochs: int
    patience: int
    batch_size: int


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The epoch's shuffle and torch's global RNG depend only on (seed, epoch): a resumed run replays it."""
    torch.manual_seed(seed * 100003 + epoch)
    generator = torch.Generator().manual_seed(seed * 7919 + epoch)
    return torch.randperm(n, generator=generator)


def train_epoch(model, optimizer, step, n_train, settings, seed, epoch, after_step=None) -> dict[str, float]:
    """One pass over the training subjects in batches; returns the mean of each loss term and of the total."""
    model.train()
    order = epoch_order(n_train, seed, epoch)
    totals, n_batches = {}, 0
    for start in range(0, len(order), settings.batch_size):
        batch = order[start : start + settings.batch_size]
        if len(batch) < 2:  # contrastive losses need a partner
            continue
        parts = step(batch)
        loss = sum(parts.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRADIENT_CLIP)
        optimizer.step()
        if after_step is not None:
            after_step()
        for key, value in {"loss": loss, **parts}.items():
            totals[key] = totals.get(key, 0.0) + float(value.detach())
        n_batches += 1
    return {k: v / max(1, n_batches) for k, v in totals.items()}


def fit(
    model,
    optimizer,
    step: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    validate: Callable[[], float],
    *,
    n_train: int,
    settings: LoopSettings,
    seed: int,
    work_dir: Path,
    fingerprint: dict | None = None,
    after_step: Callable[[], None] | None = None,
    description: str = "",
) -> dict:
    """Train until ``settings.patience`` epochs pass without a better ``validate()`` (after at least
    ``min_epochs``), resuming from ``work_dir/checkpoint`` when its fingerprint matches; leaves ``model`` at
    its best validation epoch and returns the loop state (epoch, best_val, best_epoch, ...)."""
    work_dir = Path(work_dir)
    checkpoint_dir = work_dir / "checkpoint"
    metrics_file = work_dir / "epochs.csv"
    state = load_checkpoint(checkpoint_dir, model, optimizer, fingerprint)
    if state is None:
        state = {"epoch": 0, "best_val": -1.0, "best_epoch": 0, "bad_epochs": 0, "done": False}
        metrics_file.unlink(missing_ok=True)
    else:
        log.info("resuming %s from epoch %d", description, state["epoch"])
        _drop_rows_after(metrics_file, state["epoch"])
    progress = progress_bar(total=settings.max_epochs, initial=state["epoch"], desc=description, unit="epoch")
    while not state["done"] and state["epoch"] < settings.max_epochs:
        epoch = state["epoch"]
        started = time.perf_counter()
        losses = train_epoch(model, optimizer, step, n_train, settings, seed, epoch, after_step)
        val_score = validate()
        state["epoch"] = epoch + 1
        if val_score > state["best_val"]:
            state.update(best_val=val_score, best_epoch=epoch + 1, bad_epochs=0)
            save_weights(checkpoint_dir / "best.safetensors", model)
        else:
            state["bad_epochs"] += 1
        state["done"] = state["bad_epochs"] >= settings.patience and state["epoch"] >= settings.min_epochs
        row = {"epoch": epoch + 1, **losses, "val_auc": val_score, "seconds": time.perf_counter() - started}
        _log_metrics(metrics_file, row)
        save_checkpoint(checkpoint_dir, model, optimizer, state, fingerprint)
        progress.update(1)
        progress.set_postfix(loss=f"{losses['loss']:.3f}", val_auc=f"{val_score:.3f}")
    progress.close()
    load_weights(checkpoint_dir / "best.safetensors", model)
    return state


def _drop_rows_after(path, epoch):
    """Keep the rows of epochs up to ``epoch`` (the checkpoint's): a job killed after writing an epoch's row
    but before saving its checkpoint replays that epoch, which must not be logged twice."""
    if not path.exists():
        return
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [row for row in rows[1:] if row and int(row[0]) <= epoch]
    if len(kept) < len(rows):
        with open(path, "w", newline="") as handle:
            csv.writer(handle).writerows(kept)


def _log_metrics(path, row):
    exists = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=list(row))
        if not exists:
            out.writeheader()
        out.writerow(row)
