"""Cross-fitting (method key ``cross_fit``): one model per inner fold of the training portion, so every
training subject gets an out-of-fold score (for calibration and group thresholds) and the test fold is
scored by the inner models' mean."""

import json

import numpy as np
import pandas as pd
import pytest
from cohort import TINY_MODEL, build_tiny_cohort, method_specs
from scipy import special

from neurolip.config import section_defaults
from neurolip.methods import Method
from neurolip.training.fold_io import load_fold
from neurolip.training.linear import standardised_logit
from neurolip.training.readout import combine_cross_fitted
from neurolip.training.recipes import inner_folds
from neurolip.training.trainer import FoldInputs, FoldOutputs, train_fold

TRAINING = {"max_epochs": 4, "min_epochs": 2, "patience": 2, "batch_size": 16, "lr": 0.002, "seed": 0}
MODEL = {**TINY_MODEL, "local_tokens": "input", "ttca_keys": "region", "linear_path": True}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return build_tiny_cohort(tmp_path_factory.mktemp("cohort"))


def run(cohort, name, entry, out, models_from=None):
    method = Method.from_entry(name, entry)
    train_fold(
        method=method,
        fold=0,
        training=section_defaults("training", TRAINING),
        model=section_defaults("model", MODEL),
        text_encoder=section_defaults("text_encoder", {}),
        inputs=FoldInputs(
            cohort["connectomes"], cohort["text_features"], cohort["folds"], cohort["cohort"], models_from
        ),
        outputs=FoldOutputs(
            work_dir=out / "work",
            predictions=out / "pred.csv",
            validation=out / "val.csv",
            seed_scores=out / "seed_scores.csv",
            leakage=out / "leakage.csv",
            attention=out / "attention.npz" if method.writes_attention else None,
        ),
        sensitive_attributes=("sex",),
    )
    read = {
        name: pd.read_csv(out / f"{name}.csv", dtype={"subject_id": str})
        for name in ("pred", "val", "seed_scores", "leakage")
    }
    read["selection"] = json.loads((out / "work" / "selection.json").read_text())
    return read


def portion_and_test(cohort, fold=0):
    folds = pd.read_csv(cohort["folds"], sep="\t", dtype={"subject_id": str})
    part = folds[folds.fold == fold]
    return set(part[part.split != "test"].subject_id), set(part[part.split == "test"].subject_id)


def test_inner_folds_cut_the_training_portion_and_keep_the_test_fold(cohort):
    data = load_fold(cohort["connectomes"], cohort["folds"], cohort["cohort"], 0)
    portion, test = portion_and_test(cohort)
    parts = inner_folds(data, 3, seed=0)
    held_out = [set(p.subject_ids["val"]) for p in parts]
    assert set().union(*held_out) == portion and sum(map(len, held_out)) == len(portion)
    for part, val in zip(parts, held_out, strict=True):
        assert set(part.subject_ids["train"]) == portion - val
        assert set(part.subject_ids["test"]) == test
        assert set(part.y["val"]) == {0, 1}
        assert part.x["train"].shape[0] == len(part.subject_ids["train"])
    with pytest.raises(ValueError, match="cross_fit 1"):
        inner_folds(data, 1, seed=0)


def test_combining_puts_each_model_on_its_own_validation_scale():
    rng = np.random.default_rng(0)
    sharp = {
        "head": {"val": special.expit(8 * rng.normal(size=20)), "test": special.expit(8 * rng.normal(size=5))}
    }
    flat = {
        "head": {
            "val": special.expit(0.1 * rng.normal(size=30)),
            "test": special.expit(0.1 * rng.normal(size=5)),
        }
    }
    validation, test = combine_cross_fitted([sharp, flat])
    z_val = special.logit(validation["head"])
    assert len(z_val) == 50
    # each model's out-of-fold block is standardised on its own: a temperature does not decide the ranks
    assert abs(z_val[:20].std() - 1) < 1e-6 and abs(z_val[20:].std() - 1) < 1e-6
    expected = np.mean(
        [standardised_logit(m["head"]["test"], m["head"]["val"]) for m in (sharp, flat)], axis=0
    )
    np.testing.assert_allclose(special.logit(test["head"]), expected, atol=1e-8)
    assert "ensemble" not in validation  # one candidate: nothing to ensemble
    two = [{"a": m["head"], "b": m["head"]} for m in (sharp, flat)]
    assert "ensemble" in combine_cross_fitted(two)[0]


def test_cross_fitted_linear_baseline_scores_every_training_subject_out_of_fold(cohort, tmp_path):
    entry = {"objective": "linear", "cross_fit": 3}
    out = run(cohort, "linear_cf", entry, tmp_path)
    portion, test = portion_and_test(cohort)
    assert sorted(out["val"].subject_id) == sorted(portion)  # the whole portion, once each
    assert set(out["pred"].subject_id) == test
    selection = out["selection"]
    assert selection["cross_fit"] == 3 and [m["seed"] for m in selection["seeds"]] == [0, 1, 2]
    scores = out["seed_scores"]
    for _, rows in scores.groupby("seed"):
        # each inner model scores its own held-out third and the test fold, never a subject it trained on
        held_out = set(rows[rows.split == "val"].subject_id)
        assert 0 < len(held_out) < len(portion)
        assert set(rows[rows.split == "test"].subject_id) == test
    val_sets = [set(r[r.split == "val"].subject_id) for _, r in scores.groupby("seed")]
    assert sum(map(len, val_sets)) == len(set().union(*val_sets)) == len(portion)
    # the test score is the mean of the inner models' standardised logits
    z = []
    for _, rows in scores.groupby("seed"):
        val = rows[rows.split == "val"].p_disease.to_numpy()
        test_rows = rows[rows.split == "test"].set_index("subject_id").loc[out["pred"].subject_id]
        z.append(standardised_logit(test_rows.p_disease.to_numpy(), val))
    np.testing.assert_allclose(special.logit(out["pred"].score), np.mean(z, axis=0), atol=1e-6)
    assert sorted(out["leakage"].seed.unique()) == [0, 1, 2]
    # same scale: P(disease) is the mean of the calibration applied to each model's own standardised
    # test score (the scale it was fitted on), not the calibration of the K-model mean (less spread)
    calibration = out["selection"]["calibration"]
    own = [calibration["slope"] * zk + calibration["intercept"] for zk in z]
    np.testing.assert_allclose(out["pred"].p_disease, np.mean(special.expit(own), axis=0), atol=1e-6)
    assert np.std(np.mean(z, axis=0)) < np.mean([np.std(zk) for zk in z])  # the mismatch avoided
    # the held-out probe: fitted on each inner model's out-of-fold subjects and the other parts of the test
    # fold, every test subject scored once per model and target by a probe not fitted on it
    leakage = out["leakage"]
    out_of_fold = scores[scores.split == "val"].groupby("seed").size()
    for (seed, _), rows in leakage.groupby(["seed", "attribute"]):
        assert sorted(rows.subject_id.astype(str)) == sorted(test)
        assert (rows.n_fit > out_of_fold[seed]).all() and rows.probe_score.notna().all()


def test_cross_fitted_network_and_a_read_out_variant_of_its_models(cohort, tmp_path):
    entry = {**method_specs()["neurolip"], "cross_fit": 2}
    out = run(cohort, "neurolip_cf", entry, tmp_path / "source")
    portion, test = portion_and_test(cohort)
    assert sorted(out["val"].subject_id) == sorted(portion)
    for k in range(2):
        assert (
            tmp_path / "source" / "work" / f"inner{k}" / f"seed{k}" / "checkpoint" / "best.safetensors"
        ).exists()
    assert out["selection"]["cross_fit"] == 2 and [s["seed"] for s in out["selection"]["seeds"]] == [0, 1]
    attention = np.load(tmp_path / "source" / "attention.npz")
    assert sorted(set(attention["seed"])) == [0, 1] and len(attention["seed"]) == 2 * len(test)
    # a method that reads the same models (models_from) trains nothing and reproduces them exactly
    reader = run(
        cohort,
        "reader",
        {**entry, "models_from": "neurolip_cf"},
        tmp_path / "reader",
        tmp_path / "source" / "work",
    )
    pd.testing.assert_frame_equal(reader["pred"], out["pred"])
    assert not list((tmp_path / "reader" / "work").rglob("epochs.csv"))


def test_a_read_out_only_variant_added_by_config_trains_nothing_and_reaches_the_tables(cohort, tmp_path):
    """An existing recipe + erasure + group thresholds, written as one config entry: it reads the source's
    models (no epoch is trained), its stages act (erased read-outs, group-threshold decisions) and the
    registry lists it in the table its entry names."""
    from neurolip.evaluation.frame import GroupFrame
    from neurolip.evaluation.metrics import evaluate
    from neurolip.evaluation.tables import build_table
    from neurolip.methods import MethodRegistry
    from neurolip.phenotypes import read_phenotypes

    config = {
        "methods": {
            "clip": {"global_loss": "clip", "label": "CLIP", "tables": ["table1"]},
            "clip_fair": {
                "models_from": "clip",
                "erase_attribute": "sex",
                "group_thresholds": {"constraint": "equalized_odds"},
                "label": "CLIP, sex erased + group thresholds",
                "tables": ["table1"],
            },
        },
        "training": {"methods": ["clip", "clip_fair"]},
    }
    registry = MethodRegistry.from_config(config)
    assert [m.name for m in registry.table("table1")] == ["clip", "clip_fair"]
    variant = registry["clip_fair"]
    assert [s.kind for s in variant.stages] == ["erase", "choose_readout", "calibrate", "group_thresholds"]
    source = run(cohort, "clip", dict(registry["clip"].spec), tmp_path / "clip")
    out = run(cohort, "clip_fair", dict(variant.spec), tmp_path / "clip_fair", tmp_path / "clip" / "work")
    assert not list((tmp_path / "clip_fair" / "work").rglob("epochs.csv"))  # trained nothing
    assert not list((tmp_path / "clip_fair" / "work").rglob("*.safetensors"))
    assert out["pred"].decision.notna().all() and out["selection"]["group_thresholds"]["fitted"]
    assert not np.allclose(out["pred"].score, source["pred"].score)  # the erasure changed the read-out
    files = {(name, 0): tmp_path / name / "pred.csv" for name in ("clip", "clip_fair")}
    folds = pd.read_csv(cohort["folds"], sep="\t", dtype={"subject_id": str})
    summary = evaluate(files, GroupFrame(read_phenotypes(cohort["cohort"]), folds, ["sex"], [])).summary
    table = build_table(summary, registry.table("table1"), ["sex"])
    assert "CLIP, sex erased + group thresholds" in set(table["Method"])


def test_linear_baseline_with_erasure_and_thresholds_cross_fitted(cohort, tmp_path):
    """``linear_fc_erase_crossfit``: LEACE on the connectome features of each inner model's training
    subjects, then the logistic regression; its group-threshold variant decides with sex and so has no
    representation probe (decision-level leakage is the evaluation's)."""
    plain = run(cohort, "linear_cf", {"objective": "linear", "cross_fit": 3}, tmp_path / "plain")
    entry = {"objective": "linear", "cross_fit": 3, "erase_attribute": "sex"}
    erased = run(cohort, "linear_erase_cf", entry, tmp_path / "erased")
    assert not np.allclose(erased["pred"].score, plain["pred"].score)
    assert (
        sorted(erased["leakage"].seed.unique()) == [0, 1, 2] and erased["leakage"].probe_score.notna().all()
    )
    for mode in ("deterministic", "randomised"):
        variant = {**entry, "group_thresholds": {"constraint": "equalized_odds", "mode": mode}}
        out = run(cohort, f"thr_{mode}", variant, tmp_path / mode)
        pd.testing.assert_series_equal(out["pred"].p_disease, erased["pred"].p_disease)
        assert out["leakage"].empty and "p_decision" in out["pred"].columns
        assert out["pred"].p_decision.between(0, 1).all()
        if mode == "deterministic":
            assert set(out["pred"].p_decision.unique()) <= {0.0, 1.0}
            assert (out["pred"].p_decision == out["pred"].y_pred).all()
