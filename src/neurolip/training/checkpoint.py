"""Checkpoints in safetensors plus a small JSON state: no pickle is ever loaded.

Each checkpoint records the fingerprint of what made it (method, model, training settings, text encoder,
the fold's subjects, digests of the inputs): a checkpoint made by anything else is never resumed.

A checkpoint directory holds ``last.json`` (epoch counters, fingerprint), ``last.safetensors`` (model and
optimizer tensors of the last epoch, what a killed job resumes from; about three times the model with Adam)
and ``best.safetensors`` (the weights of the best validation epoch). Once training is finished,
:func:`remove_resume_tensors` drops ``last.safetensors``: the finished state and the best weights are all a
rerun (which then trains nothing) and a method that reads these models (``models_from``) need.
"""

import hashlib
import json
import logging
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

log = logging.getLogger(__name__)
# set in last.json once last.safetensors of a finished run was removed (remove_resume_tensors)
RESUME_TENSORS_REMOVED = "resume_tensors_removed"


def file_digest(path, chunk=1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_digest(fingerprint) -> str:
    """A short, stable digest of a JSON-serialisable fingerprint."""
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _differences(stored, wanted, prefix=""):
    """Keys whose values differ between two fingerprints (for the log)."""
    if not isinstance(stored, dict) or not isinstance(wanted, dict):
        return [prefix or "fingerprint"] if stored != wanted else []
    out = []
    for key in sorted(set(stored) | set(wanted), key=str):
        out += _differences(stored.get(key), wanted.get(key), f"{prefix}.{key}" if prefix else str(key))
    return out


def _atomic_write(path, write):
    tmp = Path(str(path) + ".tmp")
    write(tmp)
    os.replace(tmp, path)  # a job killed mid-write leaves the previous checkpoint intact


def save_checkpoint(directory, model, optimizer, state, fingerprint=None):
    """Write ``last.safetensors`` (model + optimizer tensors) then ``last.json`` (epoch, counters, param
    groups, fingerprint)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optim_state = optimizer.state_dict()
    for index, values in optim_state["state"].items():
        for key, value in values.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    _atomic_write(directory / "last.safetensors", lambda p: save_file(tensors, str(p)))
    payload = {**state, "param_groups": optim_state["param_groups"], "fingerprint": fingerprint}
    _atomic_write(directory / "last.json", lambda p: p.write_text(json.dumps(payload, indent=1)))


def load_checkpoint(directory, model, optimizer, fingerprint=None):
    """Restore model and optimizer from ``last.*``; return the JSON state, or None when there is none or
    when it was made by anything other than ``fingerprint`` (logged with the keys that differ)."""
    directory = Path(directory)
    if not (directory / "last.json").is_file():
        return None
    state = json.loads((directory / "last.json").read_text())
    removed = state.pop(RESUME_TENSORS_REMOVED, False)
    if not removed and not (directory / "last.safetensors").is_file():
        return None
    stored = state.pop("fingerprint", None)
    if stored != json.loads(json.dumps(fingerprint, default=str)):
        changed = _differences(stored, json.loads(json.dumps(fingerprint, default=str)))
        log.warning(
            "checkpoint %s was made by other settings (%s): starting fresh",
            directory,
            ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else ""),
        )
        return None
    if removed:
        # a finished run without its last-epoch tensors: nothing is left to train, the best weights are the model
        if not (directory / "best.safetensors").is_file():
            return None
        load_weights(directory / "best.safetensors", model)
        state.pop("param_groups", None)
        return state
    tensors = load_file(str(directory / "last.safetensors"))
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")})
    optim_state = {"state": {}, "param_groups": state.pop("param_groups")}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            optim_state["state"].setdefault(int(index), {})[name] = value
    optimizer.load_state_dict(optim_state)
    return state


def load_finished(directory, model, fingerprint):
    """Load the best weights of a *finished* training run made by ``fingerprint``, for a method that reads
    another's models (``models_from``); any other state is an error naming what differs."""
    directory = Path(directory)
    if not (directory / "last.json").is_file():
        raise FileNotFoundError(f"no finished training in {directory}: train the source method first")
    state = json.loads((directory / "last.json").read_text())
    state.pop(RESUME_TENSORS_REMOVED, None)
    stored = json.loads(json.dumps(state.pop("fingerprint", None), default=str))
    wanted = json.loads(json.dumps(fingerprint, default=str))
    if stored != wanted:
        raise ValueError(
            f"the models in {directory} were trained otherwise ({', '.join(_differences(stored, wanted)[:8])})"
        )
    if not state.get("done") and state.get("epoch", 0) < state.get("max_epochs", float("inf")):
        log.info("%s: training stopped at epoch %d (max_epochs)", directory, state["epoch"])
    load_weights(directory / "best.safetensors", model)
    state.pop("param_groups", None)
    return state


def save_weights(path, model):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(
        Path(path),
        lambda p: save_file(
            {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(p)
        ),
    )


def load_weights(path, model):
    model.load_state_dict(load_file(str(path)))


def _finished(state) -> bool:
    """Whether a checkpoint's training ended: stopped early (``done``) or at ``max_epochs`` of its
    fingerprint. Unknown (no fingerprint) counts as unfinished."""
    if state.get("done"):
        return True
    max_epochs = ((state.get("fingerprint") or {}).get("training") or {}).get("max_epochs")
    return max_epochs is not None and state.get("epoch", 0) >= max_epochs


def remove_resume_tensors(work_dir) -> int:
    """Delete ``last.safetensors`` (last-epoch model and optimizer tensors) of every *finished* checkpoint
    under ``work_dir`` (seeds, cross-fitting's inner folds); return the bytes freed.

    Kept: ``last.json`` (marked, so :func:`load_checkpoint` restores the finished state from the best
    weights and a rerun trains nothing) and ``best.safetensors`` (the model, read by :func:`load_finished`
    for ``models_from`` methods). An unfinished checkpoint (a killed job's resume point) is left whole.
    """
    freed = 0
    for state_file in sorted(Path(work_dir).glob("**/checkpoint/last.json")):
        directory = state_file.parent
        tensors = directory / "last.safetensors"
        state = json.loads(state_file.read_text())
        if not tensors.is_file() or not (directory / "best.safetensors").is_file() or not _finished(state):
            continue
        if not state.get(RESUME_TENSORS_REMOVED):
            # mark first: a job killed between the two steps leaves a marked state that still loads
            state[RESUME_TENSORS_REMOVED] = True
            _atomic_write(state_file, lambda p, state=state: p.write_text(json.dumps(state, indent=1)))
        freed += tensors.stat().st_size
        tensors.unlink()
    return freed


def clean_finished(work_dirs, keep_checkpoints: bool = False) -> int:
    """After a finished job: unless the config's ``keep_checkpoints`` says so, a finished fold keeps what a
    rerun and ``models_from`` readers need (best weights, final state), not the last epoch's model and
    optimizer tensors. Logs and returns the bytes freed."""
    if keep_checkpoints:
        return 0
    freed = sum(remove_resume_tensors(d) for d in work_dirs)
    log.info("removed resume checkpoints: %.1f MB freed", freed / 1e6)
    return freed
