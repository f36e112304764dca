"""Checkpoints in safetensors plus a small JSON state: no pickle is ever loaded."""

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def _atomic_write(path, write):
    tmp = Path(str(path) + ".tmp")
    write(tmp)
    os.replace(tmp, path)  # a job killed mid-write leaves the previous checkpoint intact


def save_checkpoint(directory, model, optimizer, state):
    """Write ``last.safetensors`` (model + optimizer tensors) then ``last.json`` (epoch, counters, param groups)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optim_state = optimizer.state_dict()
    for index, values in optim_state["state"].items():
        for key, value in values.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    _atomic_write(directory / "last.safetensors", lambda p: save_file(tensors, str(p)))
    payload = {**state, "param_groups": optim_state["param_groups"]}
    _atomic_write(directory / "last.json", lambda p: p.write_text(json.dumps(payload, indent=1)))


def load_checkpoint(directory, model, optimizer):
    """Restore model and optimizer from ``last.*``; return the JSON state, or None when there is none."""
    directory = Path(directory)
    if not (directory / "last.json").is_file() or not (directory / "last.safetensors").is_file():
        return None
    state = json.loads((directory / "last.json").read_text())
    tensors = load_file(str(directory / "last.safetensors"))
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    optim_state = {"state": {}, "param_groups": state.pop("param_groups")}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            optim_state["state"].setdefault(int(index), {})[name] = value
    optimizer.load_state_dict(optim_state)
    return state


def save_weights(path, model):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(Path(path), lambda p: save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(p)))


def load_weights(path, model):
    model.load_state_dict(load_file(str(path)))
