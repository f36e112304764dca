"""The trained null models of network methods (evaluation.maps.permutations): null model k of EVERY fold reads
one cohort-wide permutation k (within site × outer test fold), so the folds' null models share their
brain-label pairs as the observed models share their labels; the workflow trains K of them on every fold."""

import numpy as np
import pandas as pd
import pytest
import torch

from neurolip.folds import make_folds
from neurolip.permutations import cohort_permutation
from neurolip.training.fold_io import FoldData, cohort_donors, cohort_wide_permuter


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(0)
    n = 120
    table = pd.DataFrame(
        {
            "subject_id": [f"s{i:03d}" for i in range(n)],
            "diagnosis": rng.integers(0, 2, n),
            "site": rng.choice(["A", "B", "C"], n),
        }
    )
    folds = make_folds(table, n_folds=5, val_fraction=0.2, seed=0, n_repeats=2)
    return table.set_index("subject_id"), folds


def _fold_data(cohort, folds, fold):
    """A fold whose 'connectome' of each subject is its own number (so whose brain a subject got is readable)."""
    part = folds[folds["fold"] == fold]
    ids = {
        split: part.loc[part["split"] == split, "subject_id"].tolist() for split in ("train", "val", "test")
    }
    x = {split: torch.tensor([float(s[1:]) for s in ids[split]]).reshape(-1, 1, 1) for split in ids}
    y = {split: cohort.loc[ids[split], "diagnosis"].to_numpy() for split in ids}
    return FoldData(ids, x, y, cohort, fold)


def _received(data):
    return {
        s: f"s{int(v):03d}"
        for split in ("train", "val", "test")
        for s, v in zip(data.subject_ids[split], data.x[split].flatten().tolist(), strict=True)
    }


def test_null_model_k_of_every_fold_pairs_the_same_brains_and_labels(cohort, tmp_path):
    table, folds = cohort
    path = tmp_path / "folds.tsv"
    folds.to_csv(path, sep="\t", index=False)
    permute = cohort_wide_permuter(path, seed=3)
    received = {}
    for fold in range(10):
        data = _fold_data(table, folds, fold)
        permute(data, 7)
        received[fold] = _received(data)
        test = data.subject_ids["test"]
        assert all(received[fold][s] == s for s in test)  # test subjects keep their own brain
        moved = [s for s in received[fold] if received[fold][s] != s]
        assert len(moved) > 0.5 * len(data.subject_ids["train"])
        # a donor is of the receiver's site, never a test subject of the fold
        assert all(table.loc[s, "site"] == table.loc[received[fold][s], "site"] for s in moved)
        assert not set(received[fold][s] for s in moved) & set(test)
    # the same brain-label pairs on every fold of a repeat where two folds share a subject: one permutation k
    for repeat in (0, 1):
        for a in range(5 * repeat, 5 * repeat + 5):
            for b in range(a + 1, 5 * repeat + 5):
                shared = set(folds.loc[(folds.fold == a) & (folds.split != "test"), "subject_id"]) & set(
                    folds.loc[(folds.fold == b) & (folds.split != "test"), "subject_id"]
                )
                assert shared and all(received[a][s] == received[b][s] for s in shared)
    # another permutation number (or seed) pairs them otherwise
    other = _fold_data(table, folds, 0)
    permute(other, 8)
    assert _received(other) != received[0]


def test_a_null_from_one_fold_only_or_per_fold_permutations_would_fail(cohort):
    """What the shared null rules out: per-fold draws (each fold its own permutation k) disagree."""
    table, folds = cohort
    donors = {f: cohort_donors(folds, table, f, 4, seed=0) for f in range(5)}
    own = {f: cohort_donors(folds, table, f, 4 + 100 * f, seed=0) for f in range(5)}
    shared = donors[0].index.intersection(donors[1].index)
    assert (donors[0][shared] == donors[1][shared]).all()
    assert (own[0][shared] != own[1][shared]).any()


def test_permutation_k_is_drawn_alone_within_site_and_test_fold():
    sites = np.repeat(["A", "B"], 50)
    test_fold = np.tile(np.arange(5), 20)
    index = cohort_permutation(sites, test_fold, 2, seed=1)
    assert sorted(index) == list(range(100))
    assert (sites[index] == sites).all() and (test_fold[index] == test_fold).all()
    np.testing.assert_array_equal(index, cohort_permutation(sites, test_fold, 2, seed=1))
    assert (index != cohort_permutation(sites, test_fold, 3, seed=1)).any()
    assert (index != cohort_permutation(sites, test_fold, 2, seed=2)).any()


@pytest.mark.parametrize("change", ["tested twice", "never tested"])
def test_folds_that_do_not_partition_the_cohort_are_refused(cohort, change):
    table, folds = cohort
    broken = folds.copy()
    first = broken.index[(broken.fold == 0) & (broken.split == "train")][0]
    if change == "tested twice":
        broken.loc[first, "split"] = "test"  # also tested in its own test fold
        fold = 0
    else:
        subject = broken.loc[first, "subject_id"]
        broken = broken[~((broken.subject_id == subject) & (broken.split == "test"))]
        fold = 0
    with pytest.raises(ValueError, match=f"{change}: \\['s"):
        cohort_donors(broken, table, fold, 0, seed=0)
