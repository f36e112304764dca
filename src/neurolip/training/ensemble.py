"""Several networks of one fold trained at once, as one ensemble: their parameters stacked along a member
dimension (``torch.func.stack_module_state``) and one vmapped forward and backward per batch
(``functional_call`` under ``vmap``), instead of one model after the other.

Each member keeps what makes it its own model: its initialisation (its seed), its data order (its own
shuffle of its own training subjects each epoch, gathered per member), its AdamW state (elementwise, so
one optimiser over stacked parameters is one optimiser per member), its gradient clipping (per-member norm),
its temperature clamps, its early stopping (a finished member leaves the ensemble) and its checkpoint: the
same ``checkpoint/`` files and ``epochs.csv`` as :func:`neurolip.training.loop.fit` writes, so a killed job
resumes and a read-out-only method (``models_from``) reads its models as before.

What differs from training the members one at a time: dropout draws (one vmapped draw per step for all
members), and the order of floating-point sums. An ensemble's models are therefore equal in distribution,
not bit for bit, to sequential ones; the trainer never uses an ensemble of one (its members train on the
sequential path and give exactly the sequential numbers) and records ``ensemble`` in a member's checkpoint
fingerprint, so a sequential checkpoint is never resumed by an ensemble or the reverse.

The win is where one small model leaves the device idle (a GPU): on a CPU, a stacked step costs about what
its members cost one at a time (measured in benchmarks/ensemble.py), so ``training.ensemble: auto`` batches
on a GPU only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.attention
from torch.func import functional_call, stack_module_state, vmap

from .checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from .loop import GRADIENT_CLIP, LoopSettings, _drop_rows_after, _log_metrics, epoch_order

log = logging.getLogger(__name__)


@dataclass
class Member:
    """One model of an ensemble: its module and optimiser (where it lives between epochs and what its
    checkpoint holds), its training data and how it is validated."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    seed: int
    work_dir: Path
    fingerprint: dict | None
    x_train: torch.Tensor  # (n, N, N)
    y_train: torch.Tensor  # (n,)
    validate: Callable[[], float]
    description: str = ""
    state: dict = field(default_factory=dict)


def should_batch(setting, device: torch.device) -> bool:
    """``training.ensemble``: true, false, or "auto" (batch on a GPU, where it pays)."""
    if setting == "auto":
        return device.type == "cuda"
    return bool(setting)


class _Terms(torch.nn.Module):
    """A member's loss terms as a module's forward, for functional_call over stacked parameters."""

    def __init__(self, model, terms):
        super().__init__()
        self.model = model
        self._terms = terms

    def forward(self, x, y):
        return self._terms(self.model, x, y)


def fit_ensemble(
    members: list[Member],
    terms: Callable,
    settings: LoopSettings,
    device: torch.device,
    temperatures: tuple[str, ...] = (),
    temperature_max: float | None = None,
) -> list[dict]:
    """Train ``members`` (same architecture, same number of training subjects) together until each stops
    early or reaches ``max_epochs``; leave each model at its best validation epoch and return each loop
    state. ``terms(model, x, y)``: {name: loss} of one member's batch; ``temperatures``: parameter names
    clamped to [0, ``temperature_max``] after every step."""
    n_train = {len(m.y_train) for m in members}
    if len(n_train) != 1:
        raise ValueError(f"an ensemble's members must have as many training subjects each, not {n_train}")
    n_train = n_train.pop()
    for m in members:
        checkpoint_dir = Path(m.work_dir) / "checkpoint"
        state = load_checkpoint(checkpoint_dir, m.model, m.optimizer, m.fingerprint)
        if state is None:
            state = {"epoch": 0, "best_val": -1.0, "best_epoch": 0, "bad_epochs": 0, "done": False}
            (Path(m.work_dir) / "epochs.csv").unlink(missing_ok=True)
        else:
            log.info("resuming %s from epoch %d", m.description, state["epoch"])
            _drop_rows_after(Path(m.work_dir) / "epochs.csv", state["epoch"])
        m.state = state
    while True:
        active = [m for m in members if not m.state["done"] and m.state["epoch"] < settings.max_epochs]
        if not active:
            break
        # members killed between their checkpoints can stand at different epochs: the laggards catch up
        epoch = min(m.state["epoch"] for m in active)
        cohort = [m for m in active if m.state["epoch"] == epoch]
        started = time.perf_counter()
        losses = _train_epoch(cohort, terms, settings, n_train, epoch, device, temperatures, temperature_max)
        seconds = (time.perf_counter() - started) / len(cohort)
        for m, member_losses in zip(cohort, losses, strict=True):
            _end_epoch(m, member_losses, epoch, settings, seconds)
    for m in members:
        load_weights(Path(m.work_dir) / "checkpoint" / "best.safetensors", m.model)
    return [m.state for m in members]


def _train_epoch(cohort, terms, settings, n_train, epoch, device, temperatures, temperature_max):
    """One pass of every member of ``cohort`` over its own shuffle of its training subjects."""
    base = _Terms(cohort[0].model, terms)
    wrapped = [_Terms(m.model, terms) for m in cohort]
    for w in wrapped:
        w.train()
    params, buffers = stack_module_state(wrapped)
    names = list(params)
    optimizer = _stacked_optimizer(cohort, params, names)
    orders = torch.stack([epoch_order(n_train, m.seed, epoch) for m in cohort])
    # dropout: one vmapped draw per step, replayed by a resumed run of the same members
    torch.manual_seed(cohort[0].seed * 100003 + epoch)

    def member_terms(p, b, x, y):
        return functional_call(base, (p, b), (x, y))

    batched = vmap(member_terms, randomness="different")
    # as the sequential path: bfloat16 autocast on a GPU; attention through the math kernel (the CPU flash
    # kernel has no vmap batching rule and would run member by member)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else torch.autocast("cpu", enabled=False)
    )
    totals, n_batches = [{} for _ in cohort], 0
    for start in range(0, n_train, settings.batch_size):
        batch = orders[:, start : start + settings.batch_size]
        if batch.shape[1] < 2:  # contrastive losses need a partner
            continue
        # each member's own subjects (seeds share one tensor; null models each have their permuted one)
        x = torch.stack([m.x_train[rows] for m, rows in zip(cohort, batch, strict=True)]).to(device)
        y = torch.stack([m.y_train[rows] for m, rows in zip(cohort, batch, strict=True)]).to(device)
        with autocast, torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
            parts = batched(params, buffers, x, y)  # {name: (M,)}
        loss = sum(parts.values())  # (M,)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()  # members share no parameter: each gets its own gradient
        _clip_per_member([params[k] for k in names], GRADIENT_CLIP)
        optimizer.step()
        with torch.no_grad():
            for name in names:
                if name.rsplit(".", 1)[-1] in temperatures:
                    params[name].clamp_(0, temperature_max)
        for i in range(len(cohort)):
            for key, value in {"loss": loss, **parts}.items():
                totals[i][key] = totals[i].get(key, 0.0) + float(value[i].detach())
        n_batches += 1
    _unstack(cohort, params, names, optimizer)
    return [{k: v / max(1, n_batches) for k, v in t.items()} for t in totals]


def _stacked_optimizer(cohort, params, names):
    """One AdamW over the stacked parameters: the members' hyper-parameters, their states stacked."""
    optimizer = torch.optim.AdamW([params[k] for k in names])
    template = cohort[0].optimizer.state_dict()
    if len(template["param_groups"]) != 1:
        raise ValueError("an ensemble trains one parameter group (no fine-tuned text backbone)")
    groups = [{**template["param_groups"][0], "params": optimizer.state_dict()["param_groups"][0]["params"]}]
    states = [m.optimizer.state_dict()["state"] for m in cohort]
    stacked = {}
    for index in states[0]:  # parameters the objective never reaches have no state
        per_member = [s[index] for s in states]
        stacked[index] = {
            "step": per_member[0]["step"],
            **{k: torch.stack([s[k] for s in per_member]) for k in ("exp_avg", "exp_avg_sq")},
        }
    optimizer.load_state_dict({"state": stacked, "param_groups": groups})
    return optimizer


def _clip_per_member(params, max_norm):
    """clip_grad_norm_ of each member on its own slice of the stacked gradients."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    norms = torch.stack([g.reshape(g.shape[0], -1).pow(2).sum(1) for g in grads]).sum(0).sqrt()
    factor = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(factor.view(-1, *([1] * (g.dim() - 1))))


def _unstack(cohort, params, names, optimizer):
    """Copy each member's slice of the stacked parameters and optimiser state back into its own module
    and optimiser (what its checkpoint and validation read)."""
    state = optimizer.state_dict()["state"]
    for i, m in enumerate(cohort):
        own = dict(m.model.named_parameters())
        with torch.no_grad():
            for name in names:
                own[name[len("model.") :]].copy_(params[name][i])
        member_state = {
            index: {
                "step": values["step"].clone(),
                "exp_avg": values["exp_avg"][i].clone(),
                "exp_avg_sq": values["exp_avg_sq"][i].clone(),
            }
            for index, values in state.items()
        }
        m.optimizer.load_state_dict(
            {"state": member_state, "param_groups": m.optimizer.state_dict()["param_groups"]}
        )


def _end_epoch(m: Member, losses, epoch, settings, seconds):
    """What loop.fit does after an epoch, for one member: validate, keep the best weights, stop early,
    log the epoch and checkpoint."""
    m.model.eval()
    val_score = m.validate()
    state = m.state
    checkpoint_dir = Path(m.work_dir) / "checkpoint"
    state["epoch"] = epoch + 1
    if val_score > state["best_val"]:
        state.update(best_val=val_score, best_epoch=epoch + 1, bad_epochs=0)
        save_weights(checkpoint_dir / "best.safetensors", m.model)
    else:
        state["bad_epochs"] += 1
    state["done"] = state["bad_epochs"] >= settings.patience and state["epoch"] >= settings.min_epochs
    row = {"epoch": epoch + 1, **losses, "val_auc": val_score, "seconds": seconds}
    _log_metrics(Path(m.work_dir) / "epochs.csv", row)
    save_checkpoint(checkpoint_dir, m.model, m.optimizer, state, m.fingerprint)
