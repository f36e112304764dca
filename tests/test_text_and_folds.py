import numpy as np
import pandas as pd

from neurolip.folds import make_folds
from neurolip.text import class_prompts, render_text

SEGMENTS = [
    {
        "field": "diagnosis",
        "role": "disease",
        "template": "Diagnosis: {value}.",
        "values": {1: "autism", 0: "typical development"},
    },
    {"field": "sex", "role": "sensitive", "template": "Sex: {value}."},
    {"field": "age", "role": "other", "template": "Age: {value} years.", "decimals": 0},
    {
        "field": "srs",
        "role": "sensitive",
        "template": "Social responsiveness: {value}.",
        "bins": [60, 90],
        "labels": ["low", "moderate", "high"],
    },
]


def test_spans_carry_roles_and_slice_the_text():
    item = render_text("s1", {"diagnosis": 1, "sex": "female", "age": 12.4, "srs": 95}, SEGMENTS)
    assert item.text == "Diagnosis: autism. Sex: female. Age: 12 years. Social responsiveness: high."
    roles = {s.field: s.role for s in item.segments}
    assert roles == {"diagnosis": "disease", "sex": "sensitive", "age": "other", "srs": "sensitive"}
    for seg in item.segments:
        assert item.text[seg.start : seg.end] == seg.text
    assert item.spans("disease") == [(0, 18)]


def test_missing_fields_render_as_unknown():
    item = render_text("s2", {"diagnosis": 0, "sex": np.nan, "age": None, "srs": float("nan")}, SEGMENTS)
    assert "Sex: unknown." in item.text and "Age: unknown years." in item.text
    assert "Social responsiveness: unknown." in item.text


def test_class_prompts_hold_only_the_diagnosis():
    prompts = class_prompts(SEGMENTS)
    assert [p.text for p in prompts] == ["Diagnosis: typical development.", "Diagnosis: autism."]


def test_folds_are_stratified_disjoint_and_reproducible(rng):
    n = 200
    table = pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(n)],
            "diagnosis": rng.integers(0, 2, n),
            "site": rng.choice(list("ABCD"), n),
        }
    )
    folds = make_folds(table, n_folds=5, val_fraction=0.2, seed=3)
    assert folds.equals(make_folds(table, n_folds=5, val_fraction=0.2, seed=3))
    tests = folds[folds.split == "test"]
    assert sorted(tests.subject_id) == sorted(table.subject_id)  # each subject tested exactly once
    for fold in range(5):
        part = folds[folds.fold == fold]
        sets = {s: set(part[part.split == s].subject_id) for s in ("train", "val", "test")}
        assert (
            not (sets["train"] & sets["test"])
            and not (sets["val"] & sets["test"])
            and not (sets["train"] & sets["val"])
        )
        assert len(sets["train"]) + len(sets["val"]) + len(sets["test"]) == n
        test_rate = table.set_index("subject_id").loc[list(sets["test"]), "diagnosis"].mean()
        assert abs(test_rate - table.diagnosis.mean()) < 0.08


def test_fairness_metrics_with_fairlearn_and_single_class_groups(caplog):
    from neurolip.evaluation.per_fold import fold_metrics

    predictions = pd.DataFrame(
        {
            "y_true": [1, 1, 0, 0, 1, 1, 1, 0],
            "p_disease": [0.9, 0.8, 0.2, 0.6, 0.7, 0.4, 0.9, 0.1],
            "y_pred": [1, 1, 0, 1, 1, 0, 1, 0],
            "sex": ["male", "male", "male", "male", "female", "female", "female", "female"],
            "age": [10, 12, 30, 40, 11, 13, np.nan, 50],
            "site": ["A", "A", "A", "A", "B", "B", "B", "B"],
        }
    )
    rows = fold_metrics(predictions, {"age": np.array([10, 20, 30, 40])}, ["sex", "age", "site"])
    table = {(r["metric"], r["attribute"]): r["value"] for r in rows}
    # selection rates: male 3/4, female 2/4
    assert table[("dpd", "sex")] == 0.25
    assert table[("auc[male]", "sex")] == 1.0
    assert table[("split_value", "age")] == 25.0  # median of the training fold, not of the test subjects
    assert table[("n[above median]", "age")] == 3 and table[("n[at or below median]", "age")] == 4
    assert np.isclose(table[("accuracy", "")], 6 / 8)
    overall = table[("auc", "")]
    gaps = abs(overall - table[("auc[male]", "sex")]) + abs(overall - table[("auc[female]", "sex")])
    assert np.isclose(table[("es_auc", "sex")], overall / (1 + gaps))
    single = predictions.assign(sex=["male"] * 3 + ["female"] * 5, y_true=[1, 1, 1, 0, 1, 0, 1, 0])
    rows = fold_metrics(single, {}, ["sex"])
    table = {(r["metric"], r["attribute"]): r["value"] for r in rows}
    assert np.isnan(table[("auc[male]", "sex")])  # one class only: missing, not a crash
    assert "holds a single class" in caplog.text


def test_repeated_cross_validation_tests_every_subject_once_per_repeat():
    import numpy as np
    import pandas as pd

    from neurolip.folds import make_folds

    rng = np.random.default_rng(0)
    cohort = pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(60)],
            "diagnosis": rng.integers(0, 2, 60),
            "site": rng.choice(["A", "B"], 60),
        }
    )
    single = make_folds(cohort, n_folds=3, seed=4)
    repeated = make_folds(cohort, n_folds=3, seed=4, n_repeats=2)
    assert sorted(repeated.fold.unique()) == list(range(6))
    # repeat 0 is the single split itself
    pd.testing.assert_frame_equal(repeated[repeated.repeat == 0].reset_index(drop=True), single)
    for repeat, part in repeated.groupby("repeat"):
        tested = part[part.split == "test"].subject_id
        assert sorted(tested) == sorted(cohort.subject_id) and tested.is_unique
        assert set(part.fold) == {3 * repeat + k for k in range(3)}
    first = repeated[(repeated.fold == 0) & (repeated.split == "test")].subject_id
    second = repeated[(repeated.fold == 3) & (repeated.split == "test")].subject_id
    assert set(first) != set(second)  # another shuffle
