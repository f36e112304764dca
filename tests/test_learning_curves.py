"""Learning curves read every model's epochs.csv and mark the epoch its fold kept (issue 34)."""

import json

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from neurolip.evaluation.learning_curves import learning_curve_figure, loss_terms, read_epoch_logs  # noqa: E402


def _fold(tmp_path, fold, models, kept):
    """A training/<method>/fold<k> folder: ``models`` {relative dir: n epochs}, ``kept`` {seed: best epoch}."""
    work = tmp_path / f"fold{fold}"
    for model, n in models.items():
        (work / model).mkdir(parents=True)
        pd.DataFrame(
            {
                "epoch": range(1, n + 1),
                "loss": [1.0 / e for e in range(1, n + 1)],
                "global": [0.5] * n,
                "attn": [0.0] * n,  # a term that is off: no panel
                "val_auc": [0.5 + 0.01 * e for e in range(1, n + 1)],
                "seconds": [0.1] * n,
            }
        ).to_csv(work / model / "epochs.csv", index=False)
    seeds = [{"seed": s, "best_epoch": e} for s, e in kept.items()]
    (work / "selection.json").write_text(json.dumps({"seeds": seeds}))
    return work


def test_each_model_is_read_and_its_kept_epoch_marked(tmp_path):
    dirs = {
        0: _fold(tmp_path, 0, {"seed0": 6, "seed1": 4}, {0: 3, 1: 4}),
        1: _fold(tmp_path, 1, {"inner0/seed0": 5, "inner1/seed1": 7}, {0: 2, 1: 7}),
    }
    epochs = read_epoch_logs(dirs)
    assert epochs.groupby(["fold", "model"]).ngroups == 4
    assert len(epochs) == 6 + 4 + 5 + 7
    kept = epochs[epochs["best"]].set_index(["fold", "model"])["epoch"].to_dict()
    assert kept == {(0, "seed0"): 3, (0, "seed1"): 4, (1, "inner0/seed0"): 2, (1, "inner1/seed1"): 7}
    assert loss_terms(epochs) == ["loss", "global"]
    # an objective's only term is its total: one panel, not two
    only = (
        epochs.assign(global_=epochs["loss"])
        .drop(columns=["global"])
        .rename(columns={"global_": "cross_entropy"})
    )
    assert loss_terms(only) == ["loss"]


def test_the_figure_draws_a_line_and_a_kept_marker_per_model_in_every_panel(tmp_path, monkeypatch):
    from neurolip.evaluation import learning_curves

    epochs = read_epoch_logs({0: _fold(tmp_path, 0, {"seed0": 6, "seed1": 4}, {0: 3, 1: 4})})
    drawn = {}
    import matplotlib.pyplot as plt

    original = plt.subplots

    def spy(*args, **kwargs):
        fig, axes = original(*args, **kwargs)
        drawn["axes"] = axes
        return fig, axes

    monkeypatch.setattr(plt, "subplots", spy)
    learning_curves.learning_curve_figure(epochs, tmp_path / "curves.png", "demo")
    assert (tmp_path / "curves.png").is_file() and (tmp_path / "curves.pdf").is_file()
    visible = [ax for ax in drawn["axes"].flat if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [
        "training loss",
        "validation AUC (early stopping)",
        "training global",
    ]
    for ax in visible:
        markers = [line for line in ax.get_lines() if line.get_marker() == "o"]
        assert len(markers) == 2 and [len(m.get_xdata()) for m in markers] == [1, 1]
        assert sorted(float(m.get_xdata()[0]) for m in markers) == [3.0, 4.0]


def test_a_method_without_logs_is_a_clear_error(tmp_path):
    (tmp_path / "fold0").mkdir()
    (tmp_path / "fold0" / "selection.json").write_text("{}")
    with pytest.raises(ValueError, match="no epochs.csv"):
        learning_curve_figure(read_epoch_logs({0: tmp_path / "fold0"}), tmp_path / "x.png", "linear")
