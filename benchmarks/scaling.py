"""How training time grows with subjects and ROIs: seconds per NeuroLIP epoch on synthetic inputs.

    .venv/bin/python benchmarks/scaling.py [--device cuda] [--threads 2]

Connectomes are random symmetric Fisher-z-like matrices and texts come from the frozen encoder's real
features of a template, so the shapes (and so the cost) are those of a real cohort of that size.
"""

import argparse
import time

import numpy as np
import pandas as pd
import torch
import yaml

from _measure import machine, peak_rss_mb
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def synthetic_fold(n_subjects, n_rois, rng):
    from neurolip.training.trainer import FoldData

    x = rng.standard_normal((n_subjects, n_rois, n_rois)).astype(np.float32) * 0.3
    x = (x + x.transpose(0, 2, 1)) / 2
    ids = [f"s{i}" for i in range(n_subjects)]
    y = rng.integers(0, 2, n_subjects)
    cohort = pd.DataFrame({"sex": rng.choice(["male", "female"], n_subjects)}, index=ids)
    return FoldData({"train": ids}, {"train": torch.from_numpy(x)}, {"train": y}, cohort)


def fake_text_features(n_subjects, rng):
    """Minimal stand-in with the real shapes: 4 segments, 24 tokens, 384 hidden (MiniLM)."""

    class Features:
        segment_fields = ["diagnosis", "sex", "age", "srs"]
        segment_roles = ["disease", "sensitive", "other", "sensitive"]

        def __init__(self):
            self.states = torch.randn(n_subjects, 24, 384)
            self.mask = torch.ones(n_subjects, 24, dtype=torch.bool)
            masks = torch.zeros(n_subjects, 4, 24, dtype=torch.bool)
            for k in range(4):
                masks[:, k, 1 + 5 * k : 5 + 5 * k] = True
            self.segment_masks = masks
            self.segment_value_ids = torch.from_numpy(rng.integers(0, 3, (n_subjects, 4)))
            self.distinct_states = self.states

        def batch(self, positions):
            return self.states[positions], self.mask[positions], self.segment_masks[positions]

        def segments_with_role(self, role):
            return [k for k, r in enumerate(self.segment_roles) if r == role]

    return Features()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--grid", default="250x200,1000x200,4000x200,1000x100,1000x400")
    args = parser.parse_args()
    from neurolip.models import ModelConfig, NeuroLIP
    from neurolip.training.trainer import FoldTrainer, MethodSpec, TrainingConfig, pick_device

    torch.set_num_threads(args.threads)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    device = pick_device(args.device)
    rng = np.random.default_rng(0)
    print(f"machine: {machine()}; device {device}; threads {args.threads}")
    print(f"{'subjects':>8s} {'ROIs':>5s} {'s/epoch':>8s} {'subjects/s':>11s} {'peak MB':>8s}")
    for item in args.grid.split(","):
        n_subjects, n_rois = map(int, item.split("x"))
        data = synthetic_fold(n_subjects, n_rois, rng)
        texts = fake_text_features(n_subjects, rng)
        trainer = FoldTrainer("neurolip", MethodSpec.from_dict(config["methods"]["neurolip"]),
                              TrainingConfig.from_dict(config["training"]), config["model"], "/tmp")
        model = NeuroLIP(ModelConfig.from_dict(config["model"], n_rois=n_rois, text_hidden=384)).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        positions = torch.arange(n_subjects)
        groups = torch.from_numpy(rng.integers(0, 2, n_subjects))
        times = []
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for epoch in range(args.epochs):
            started = time.perf_counter()
            trainer._train_epoch(model, optimizer, data, texts, positions, groups, epoch, 0, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        per_epoch = min(times)
        peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else peak_rss_mb()
        print(f"{n_subjects:8d} {n_rois:5d} {per_epoch:8.2f} {n_subjects / per_epoch:11.0f} {peak:8.0f}", flush=True)


if __name__ == "__main__":
    main()
