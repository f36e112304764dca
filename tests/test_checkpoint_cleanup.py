"""Disk: a finished fold drops its resume tensors; a rerun then trains nothing, and a method that reads the
models (``models_from``) still finds them. An unfinished checkpoint (a killed job's resume point) stays whole."""

import json

import pytest
import torch

from neurolip.training.checkpoint import load_finished, remove_resume_tensors
from neurolip.training.loop import LoopSettings, fit

SETTINGS = LoopSettings(max_epochs=4, min_epochs=1, patience=10, batch_size=8)
FINGERPRINT = {"training": {"max_epochs": SETTINGS.max_epochs}, "seed": 0}


def train(work_dir, settings=SETTINGS, fingerprint=FINGERPRINT):
    """A tiny regression trained by the project's loop; returns the model, its state and how many batches ran."""
    torch.manual_seed(0)
    x, y = torch.randn(32, 5), torch.randn(32, 1)
    model = torch.nn.Linear(5, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    calls = {"steps": 0}
    scores = iter([0.1, 0.3, 0.2, 0.4, 0.5, 0.6])

    def step(batch):
        calls["steps"] += 1
        return {"mse": torch.nn.functional.mse_loss(model(x[batch]), y[batch])}

    state = fit(
        model,
        optimizer,
        step,
        lambda: next(scores),
        n_train=len(x),
        settings=settings,
        seed=0,
        work_dir=work_dir,
        fingerprint=fingerprint,
    )
    return model, state, calls["steps"]


def test_finished_fold_keeps_what_reruns_and_readers_need(tmp_path):
    work = tmp_path / "fold0"
    model, state, steps = train(work / "seed0")
    assert steps > 0 and state["epoch"] == SETTINGS.max_epochs
    checkpoint = work / "seed0" / "checkpoint"
    last_size = (checkpoint / "last.safetensors").stat().st_size

    freed = remove_resume_tensors(work)

    assert freed == last_size
    assert not (checkpoint / "last.safetensors").exists()
    assert (checkpoint / "best.safetensors").exists() and (checkpoint / "last.json").exists()
    assert remove_resume_tensors(work) == 0  # nothing left to remove
    # a rerun of the same training: no batch runs, and the model is the best epoch's, as before the cleanup
    rerun, rerun_state, rerun_steps = train(work / "seed0")
    assert rerun_steps == 0
    assert rerun_state["best_epoch"] == state["best_epoch"] == 4
    for before, after in zip(model.state_dict().values(), rerun.state_dict().values()):
        assert torch.equal(before, after)
    # a method reading these models (models_from) loads the same weights
    reader = torch.nn.Linear(5, 1)
    read_state = load_finished(checkpoint, reader, FINGERPRINT)
    assert read_state["best_epoch"] == 4
    assert torch.equal(reader.weight, model.weight)


def test_other_settings_still_retrain_after_the_cleanup(tmp_path):
    work = tmp_path / "fold0"
    train(work / "seed0")
    remove_resume_tensors(work)
    longer = LoopSettings(max_epochs=5, min_epochs=1, patience=10, batch_size=8)
    _, state, steps = train(work / "seed0", longer, {"training": {"max_epochs": 5}, "seed": 0})
    assert steps > 0 and state["epoch"] == 5
    with pytest.raises(ValueError, match="trained otherwise"):
        load_finished(work / "seed0" / "checkpoint", torch.nn.Linear(5, 1), FINGERPRINT)


def test_unfinished_checkpoint_is_left_whole(tmp_path):
    """A resume point whose run did not end (a killed job's) keeps its tensors: removing them would retrain."""
    work = tmp_path / "fold0"
    train(work / "seed0")
    state_file = work / "seed0" / "checkpoint" / "last.json"
    state = json.loads(state_file.read_text())
    state.update(epoch=2, done=False)  # as if killed after epoch 2 of 4
    state_file.write_text(json.dumps(state))
    assert remove_resume_tensors(work) == 0
    assert (work / "seed0" / "checkpoint" / "last.safetensors").exists()
