"""How training time grows with subjects and ROIs: seconds per epoch of the reference method (NeuroLIP in the
shipped config) on synthetic inputs.

    .venv/bin/python benchmarks/scaling.py [--device cuda] [--threads 2]

Connectomes are random symmetric Fisher-z-like matrices and texts come from the frozen encoder's real
features of a template, so the shapes (and so the cost) are those of a real cohort of that size.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from _measure import machine, peak_rss_mb

REPO = Path(__file__).resolve().parents[1]


FIELDS = ("diagnosis", "sex", "age", "srs")
ROLES = ("disease", "sensitive", "other", "sensitive")


def synthetic_batch_source(n_subjects, n_rois, rng):
    """Connectomes, labels, groups and texts with the real shapes: 4 segments, 24 tokens, 384 hidden (MiniLM)."""
    from neurolip.models.text_encoder import TokenBatch

    x = rng.standard_normal((n_subjects, n_rois, n_rois)).astype(np.float32) * 0.3
    x = torch.from_numpy((x + x.transpose(0, 2, 1)) / 2)
    y = torch.from_numpy(rng.integers(0, 2, n_subjects))
    groups = torch.from_numpy(rng.integers(0, 2, n_subjects))
    masks = torch.zeros(n_subjects, 4, 24, dtype=torch.bool)
    for k in range(4):
        masks[:, k, 1 + 5 * k : 5 + 5 * k] = True
    tokens = TokenBatch(torch.randn(n_subjects, 24, 384), torch.ones(n_subjects, 24, dtype=torch.bool), masks)
    value_ids = torch.from_numpy(rng.integers(0, 3, (n_subjects, 4)))
    return x, y, groups, tokens, value_ids


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--grid", default="250x200,1000x200,4000x200,1000x100,1000x400")
    parser.add_argument("--method", help="a method of config/config.yaml (default: the reference method)")
    args = parser.parse_args()
    from neurolip.config import section_defaults
    from neurolip.losses.objectives import TrainingBatch
    from neurolip.methods import MethodRegistry
    from neurolip.models import ModelConfig, NeuroLIP
    from neurolip.models.text_encoder import TokenBatch
    from neurolip.training.loop import LoopSettings, train_epoch
    from neurolip.training.trainer import pick_device

    torch.set_num_threads(args.threads)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    registry = MethodRegistry.from_config(config)
    method = args.method or registry.reference
    device = pick_device(args.device)
    rng = np.random.default_rng(0)
    print(f"machine: {machine()}; method {method}; device {device}; threads {args.threads}")
    print(f"{'subjects':>8s} {'ROIs':>5s} {'s/epoch':>8s} {'subjects/s':>11s} {'peak MB':>8s}")
    for item in args.grid.split(","):
        n_subjects, n_rois = map(int, item.split("x"))
        x, y, groups, tokens, value_ids = synthetic_batch_source(n_subjects, n_rois, rng)
        objective = registry[method].objective
        model_config = section_defaults("model", config["model"])
        model = NeuroLIP(ModelConfig.from_dict(model_config, n_rois=n_rois, text_hidden=384)).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        settings = LoopSettings(1, 1, 1, config["training"]["batch_size"])

        def step(
            batch,
            model=model,
            objective=objective,
            x=x,
            y=y,
            groups=groups,
            tokens=tokens,
            value_ids=value_ids,
        ):
            part = TokenBatch(tokens.states[batch], tokens.mask[batch], tokens.segment_masks[batch]).to(
                device
            )
            return objective.terms(
                model,
                TrainingBatch(
                    x=x[batch].to(device),
                    y=y[batch].to(device),
                    tokens=part,
                    segment_value_ids=value_ids[batch].to(device),
                    segment_fields=FIELDS,
                    segment_roles=ROLES,
                    groups=groups[batch].to(device),
                ),
            )

        times = []
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for epoch in range(args.epochs):
            started = time.perf_counter()
            train_epoch(model, optimizer, step, n_subjects, settings, 0, epoch, model.clamp_temperatures)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        per_epoch = min(times)
        peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else peak_rss_mb()
        print(
            f"{n_subjects:8d} {n_rois:5d} {per_epoch:8.2f} {n_subjects / per_epoch:11.0f} {peak:8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
