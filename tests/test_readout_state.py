"""A group-threshold variant fitted on its base's kept read-out (neurolip.training.readout_state) gives
exactly what reading the models again gives, reads no connectome, and falls back to reading the models
when the kept read-out belongs to another selection or another recipe."""

import logging

import numpy as np
import pytest
from cohort import TINY_MODEL, build_tiny_cohort, method_specs, train

from neurolip.config import section_defaults
from neurolip.methods import Method
from neurolip.training.readout_state import STATE_NAME, matching_state
from neurolip.training.trainer import TrainingConfig

TRAINING = {"max_epochs": 3, "min_epochs": 2, "patience": 2, "batch_size": 16, "lr": 0.002, "seed": 0}
MODEL = {**TINY_MODEL, "local_tokens": "input", "ttca_keys": "region", "linear_path": True}
FILES = ("pred.csv", "val.csv", "seed_scores.csv", "leakage.csv", "work/selection.json")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return build_tiny_cohort(tmp_path_factory.mktemp("cohort"))


def run(cohort, name, spec, out, models_from=None, readout_from=None, connectomes=None):
    method = Method.from_entry(name, spec)
    train(
        cohort,
        name,
        out,
        entry=spec,
        training=TRAINING,
        model=MODEL,
        validation=True,
        seed_scores=True,
        leakage=True,
        sensitive=("sex",),
        models_from=models_from,
        readout_from=readout_from,
        connectomes=connectomes,
    )
    return method


def base_files(out, attention=False):
    files = {"selection": out / "work" / "selection.json", "seed_scores": out / "seed_scores.csv"}
    return {**files, "attention": out / "attention.npz"} if attention else files


@pytest.mark.parametrize(
    ("base_spec", "mode"),
    [
        ({"objective": "linear", "cross_fit": 3, "erase_attribute": "sex"}, "deterministic"),
        ({"objective": "linear", "cross_fit": 3, "erase_attribute": "sex"}, "randomised"),
        (method_specs()["neurolip"], "deterministic"),
    ],
    ids=["linear-crossfit-erased-deterministic", "linear-crossfit-erased-randomised", "neurolip-ttca"],
)
def test_a_variant_on_the_kept_read_out_equals_reading_the_models(cohort, tmp_path, base_spec, mode, caplog):
    base = run(cohort, "base", base_spec, tmp_path / "base")
    assert (tmp_path / "base" / "work" / STATE_NAME).exists()
    variant = {
        **base_spec,
        "models_from": "base",
        "group_thresholds": {"constraint": "equalized_odds", "mode": mode},
    }
    run(cohort, "variant", variant, tmp_path / "slow", models_from=tmp_path / "base" / "work")
    with caplog.at_level(logging.INFO, logger="neurolip.training.readout_state"):
        run(
            cohort,
            "variant",
            variant,
            tmp_path / "fast",
            models_from=tmp_path / "base" / "work",
            readout_from=base_files(tmp_path / "base", base.writes_attention),
            connectomes=tmp_path / "no_such_connectomes.npz",  # the kept read-out needs no connectome
        )
    assert "group thresholds on the kept read-out of base" in caplog.text
    for name in FILES:
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "slow" / name).read_bytes(), name
    if base.writes_attention:
        slow, fast = (
            np.load(tmp_path / "slow" / "attention.npz"),
            np.load(tmp_path / "fast" / "attention.npz"),
        )
        assert sorted(slow.files) == sorted(fast.files)
        for key in slow.files:
            np.testing.assert_array_equal(slow[key], fast[key])


def test_a_kept_read_out_of_another_selection_or_recipe_is_not_used(cohort, tmp_path, caplog):
    spec = {"objective": "linear", "cross_fit": 3}
    run(cohort, "base", spec, tmp_path / "base")
    settings = TrainingConfig.from_dict(section_defaults("training", TRAINING))
    selection = tmp_path / "base" / "work" / "selection.json"
    thresholds = {"group_thresholds": {"constraint": "equalized_odds"}}
    variant = Method.from_entry("variant", {**spec, "models_from": "base", **thresholds})
    assert matching_state(selection, variant=variant, settings=settings) is not None  # positive control
    other_recipe = Method.from_entry(
        "v2", {**spec, "erase_attribute": "sex", "models_from": "base", **thresholds}
    )
    with caplog.at_level(logging.INFO, logger="neurolip.training.readout_state"):
        assert matching_state(selection, variant=other_recipe, settings=settings) is None
        other_settings = TrainingConfig.from_dict(section_defaults("training", {**TRAINING, "seed": 1}))
        assert matching_state(selection, variant=variant, settings=other_settings) is None
        selection.write_text(selection.read_text() + "\n")  # the base was read out again since
        assert matching_state(selection, variant=variant, settings=settings) is None
    assert "recipe or stages differ" in caplog.text and "training settings differ" in caplog.text
    assert "written with another selection.json" in caplog.text
    # the fallback reads the models again and still gives the variant's predictions
    run(
        cohort,
        "variant",
        dict(variant.spec),
        tmp_path / "fallback",
        models_from=tmp_path / "base" / "work",
        readout_from=base_files(tmp_path / "base"),
    )
    assert (tmp_path / "fallback" / "pred.csv").exists()
