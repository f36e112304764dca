"""The group-aware frame of the evaluation: groups coded once, the same codes the probe and the metrics read."""

import numpy as np
import pandas as pd

from neurolip.evaluation.frame import GroupFrame
from neurolip.evaluation.per_fold import fold_metrics, grouped_fold_metrics
from neurolip.training.leakage import attribute_codes


def _cohort_and_folds(rng, n=40):
    cohort = pd.DataFrame(
        {
            "subject_id": [f"s{i:02d}" for i in range(n)],
            "diagnosis": np.arange(n) % 2,
            "sex": np.where(rng.random(n) < 0.4, "female", "male").astype(object),
            "age": rng.uniform(8, 30, n).round(1),
        }
    )
    cohort.loc[4, "sex"] = None  # one subject of unknown sex
    fold = (np.arange(n) // 2) % 2  # both diagnoses in every fold
    folds = pd.concat(
        [
            pd.DataFrame(
                {
                    "subject_id": cohort["subject_id"],
                    "fold": f,
                    "split": np.where(fold == f, "test", "train"),
                    "repeat": 0,
                }
            )
            for f in (0, 1)
        ],
        ignore_index=True,
    )
    return cohort, folds


def test_cohort_wide_codes_are_those_the_probe_reads(rng):
    cohort, folds = _cohort_and_folds(rng)
    frame = GroupFrame(cohort, folds, ["sex", "age"], continuous=("age",))
    ids = cohort["subject_id"].iloc[:10].tolist()
    expected = attribute_codes(cohort.set_index("subject_id"), ids, "sex")
    np.testing.assert_array_equal(frame.codes("sex", ids), expected)
    assert frame.codes("sex", ids)[4] == -1


def test_frame_groups_split_at_the_fold_training_median_and_give_the_same_metrics(rng):
    cohort, folds = _cohort_and_folds(rng)
    frame = GroupFrame(cohort, folds, ["sex", "age"], continuous=("age",))
    test = cohort[folds.query("fold == 0").split.eq("test").to_numpy()].reset_index(drop=True)
    predictions = test.assign(
        y_true=test.diagnosis, p_disease=rng.random(len(test)), y_pred=rng.integers(0, 2, len(test))
    )
    groups, split_values = frame.groups(predictions, 0)
    median = cohort.loc[folds.query("fold == 0 and split != 'test'").index, "age"].median()
    assert split_values == {"age": median}
    above = (predictions["age"] > median).to_numpy()
    assert (groups["age"][above] == "above median").all() and (groups["age"][~above] != "above median").all()
    assert groups["sex"][2] is None  # subject s04, the third of fold 0
    training_values = frame.training_values(0)
    legacy = fold_metrics(predictions, training_values, ["sex", "age"], continuous=("age",))
    assert grouped_fold_metrics(predictions, groups, split_values) == legacy


def test_repeat_of_a_fold(rng):
    cohort, folds = _cohort_and_folds(rng)
    folds.loc[folds.fold == 1, "repeat"] = 1
    frame = GroupFrame(cohort, folds, ["sex"])
    assert (frame.repeat(0), frame.repeat(1)) == (0, 1)
    assert GroupFrame(cohort, folds.drop(columns="repeat"), ["sex"]).repeat(1) == 0
