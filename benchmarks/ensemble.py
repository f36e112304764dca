"""Time per member-epoch of a stacked ensemble (neurolip.training.ensemble) against today's one-at-a-time
path, and the floating-point operations of an epoch against the measured time.

    PYTHONPATH=src .venv/bin/python benchmarks/ensemble.py                      # ABIDE and demo sizes
    PYTHONPATH=src .venv/bin/python benchmarks/ensemble.py --sizes demo --members 1 5 --threads 1

Synthetic connectomes of ABIDE's size (703 training subjects, 200 ROIs) and of the demo cohort's
(config/simulated.yaml: 240 subjects, 100 ROIs, 144 of them training a fold's model), the default model
config (the workflow schema's ``model`` defaults) and the supervised objective (BrainNetTF: the encoder
every method trains, and the objective that runs under vmap). One epoch = one pass over the training
subjects in batches of 64, forward, backward, per-member gradient clipping and AdamW, as in training.

Printed per size, thread count and ensemble size M: seconds per member-epoch of the ensemble, of the
sequential path (one model's epoch, loop.train_epoch), their ratio, and GFLOP/s (FLOPs of one model's
epoch counted by torch.utils.flop_counter.FlopCounterMode, times M, over the measured time).
Also printed: a training job's start-up (Python, torch and neurolip imports) measured in a subprocess.
"""

import argparse
import subprocess
import sys
import time
import warnings

import torch

SIZES = {"abide": (703, 200), "demo": (144, 100)}
BATCH = 64


def models_and_data(n_train, n_rois, members, seed=0):
    from neurolip.config import section_defaults
    from neurolip.models import ModelConfig, NeuroLIP

    config = ModelConfig.from_dict(section_defaults("model", {}), n_rois=n_rois, text_hidden=32)
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(n_train, n_rois, 32, generator=generator)
    x = torch.tanh(a @ a.transpose(1, 2) / 32)  # symmetric, correlation-like
    y = torch.randint(0, 2, (n_train,), generator=generator)
    models = [NeuroLIP(config, seed=s) for s in range(members)]
    return models, x, y


def settings(epochs):
    from neurolip.training.loop import LoopSettings

    return LoopSettings(max_epochs=epochs, min_epochs=epochs, patience=epochs, batch_size=BATCH)


def terms(model, x, y):
    from neurolip.losses.objectives import SupervisedObjective, TrainingBatch

    return SupervisedObjective({}).terms(model, TrainingBatch(x=x, y=y))


def sequential_epoch_seconds(n_train, n_rois, epochs):
    from neurolip.training.loop import train_epoch

    (model,), x, y = models_and_data(n_train, n_rois, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)

    def step(batch):
        return terms(model, x[batch], y[batch])

    train_epoch(model, optimizer, step, n_train, settings(1), 0, 0, model.clamp_temperatures)  # warm-up
    started = time.perf_counter()
    for epoch in range(epochs):
        train_epoch(model, optimizer, step, n_train, settings(1), 0, epoch + 1, model.clamp_temperatures)
    return (time.perf_counter() - started) / epochs


def ensemble_epoch_seconds(n_train, n_rois, members, epochs):
    from neurolip.models.neurolip import MAX_LOGIT_SCALE, TEMPERATURES
    from neurolip.training.ensemble import Member, _train_epoch

    models, x, y = models_and_data(n_train, n_rois, members)
    cohort = [
        Member(
            model=m,
            optimizer=torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=1e-4),
            seed=i,
            work_dir=None,
            fingerprint=None,
            x_train=x,
            y_train=y,
            validate=lambda: 0.0,
        )
        for i, m in enumerate(models)
    ]
    device = torch.device("cpu")
    run = [cohort, terms, settings(1), n_train]
    _train_epoch(*run, 0, device, TEMPERATURES, MAX_LOGIT_SCALE)  # warm-up
    started = time.perf_counter()
    for epoch in range(epochs):
        _train_epoch(*run, epoch + 1, device, TEMPERATURES, MAX_LOGIT_SCALE)
    return (time.perf_counter() - started) / epochs


def epoch_flops(n_train, n_rois):
    """FLOPs of one model's training epoch: forward and backward of every batch (AdamW's elementwise work
    is not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    (model,), x, y = models_and_data(n_train, n_rois, 1)
    model.train()
    total = 0
    for start in range(0, n_train, BATCH):
        rows = slice(start, min(start + BATCH, n_train))
        if rows.stop - rows.start < 2:
            continue
        counter = FlopCounterMode(display=False)
        with counter:
            loss = sum(terms(model, x[rows], y[rows]).values())
            loss.backward()
        total += counter.get_total_flops()
        model.zero_grad()
    return total


def start_up_seconds():
    code = "import torch, neurolip.training.trainer"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--members", nargs="+", type=int, default=[1, 5, 20, 40])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument(
        "--epochs", type=int, default=1, help="timed epochs per measurement (after a warm-up)"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    print(f"job start-up (python -c 'import torch, neurolip.training.trainer'): {start_up_seconds():.2f} s")
    print(
        "size   threads  M   ensemble s/member-epoch  sequential s/epoch  ratio  GFLOP/epoch  GFLOP/s ens  seq"
    )
    for size in args.sizes:
        n_train, n_rois = SIZES[size]
        flops = epoch_flops(n_train, n_rois)
        for threads in args.threads:
            torch.set_num_threads(threads)
            sequential = sequential_epoch_seconds(n_train, n_rois, args.epochs)
            for members in args.members:
                per_member = ensemble_epoch_seconds(n_train, n_rois, members, args.epochs) / members
                print(
                    f"{size:6s} {threads:7d} {members:3d} {per_member:24.3f} {sequential:19.3f} "
                    f"{per_member / sequential:6.2f} {flops / 1e9:12.1f} {flops / 1e9 / per_member:11.1f} "
                    f"{flops / 1e9 / sequential:5.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
