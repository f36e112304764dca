"""Attention brain-map summaries: reading weight, top-k table, stability and planted-region recovery."""

import numpy as np
import pandas as pd

from neurolip.evaluation.brainmaps import reading_weight, recovery, stability, top_regions


def _coordinates(n):
    return pd.DataFrame({"roi": np.arange(1, n + 1), "x_mni": np.arange(n), "y_mni": 0.0, "z_mni": 0.0})


def test_reading_weight_counts_attention_below_uniform_as_read():
    focused = np.full(10, 0.05)
    focused[[2, 7]] = 0.3  # two regions attended 3x more than uniform (0.1)
    suppressed = np.full(10, 0.125)
    suppressed[[2, 7]] = 0.0  # the same two regions attended less
    for attention in (focused, suppressed):
        weight = reading_weight(attention)
        assert set(np.argsort(weight)[-2:]) == {2, 7}
    table = recovery({0: focused, 1: suppressed}, planted_regions=[2, 7], n_rois=10)
    by = table.set_index(["fold", "measure"])["auroc"]
    assert by[(0, "reading weight |A - 1/N|")] == 1.0 and by[(1, "reading weight |A - 1/N|")] == 1.0
    # the raw attention tells the two apart: planted regions on top (1.0) or at the bottom (0.0)
    assert by[(0, "attention A")] == 1.0 and by[(1, "attention A")] == 0.0


def test_top_regions_add_up_folds_that_read_a_region_in_opposite_directions():
    uniform = np.full(5, 0.2)
    focused = np.array([0.1, 0.6, 0.1, 0.1, 0.1])  # fold 0 attends to ROI 2 (index 1) more
    suppressed = np.array([0.25, 0.0, 0.25, 0.25, 0.25])  # fold 1 reads the same region by attending less
    table = top_regions({0: focused, 1: suppressed, 2: uniform}, _coordinates(5), k=3)
    assert table.loc[0, "roi"] == 2 and table.loc[0, "folds_above_uniform"] == "1/3"
    # mean over folds of N*|A - 1/N|: (2.0 + 1.0 + 0) / 3
    assert np.isclose(table.loc[0, "reading_weight_ratio_to_uniform"], 1.0)
    assert (np.diff(table["reading_weight_ratio_to_uniform"]) <= 0).all()


def test_stability_of_identical_and_unrelated_maps():
    rng = np.random.default_rng(0)
    a = rng.dirichlet(np.ones(30))
    same = stability({0: a, 1: a.copy()}, k=5)
    assert same.loc[0, "jaccard_top_k"] == 1.0 and np.isclose(same.loc[0, "spearman"], 1.0)
    other = stability({0: a, 1: rng.dirichlet(np.ones(30))}, k=5)
    assert other.loc[0, "jaccard_top_k"] < 1.0 and other.loc[0, "spearman"] < 0.9


def _edges(matrices):
    from neurolip.connectivity import upper_triangle

    return upper_triangle(matrices)


def test_activation_pattern_finds_the_regions_a_linear_score_reads():
    from neurolip.evaluation.brainmaps import region_pattern

    rng = np.random.default_rng(0)
    n, n_rois = 300, 12
    matrices = rng.normal(size=(n, n_rois, n_rois))
    matrices = (matrices + matrices.transpose(0, 2, 1)) / 2
    score = matrices[:, 3, :].sum(1) - matrices[:, 3, 3]  # reads every edge of region 3
    pattern = region_pattern(_edges(matrices), score, n_rois)
    assert int(np.argmax(pattern)) == 3 and pattern[3] > 2 * np.median(pattern)
    # the scale of the score does not matter (correlations), a constant score reads nothing
    np.testing.assert_allclose(region_pattern(_edges(matrices), 7 * score + 2, n_rois), pattern)
    assert not region_pattern(_edges(matrices), np.ones(n), n_rois).any()


def test_pattern_maps_one_per_model_and_split():
    from neurolip.evaluation.brainmaps import pattern_maps

    rng = np.random.default_rng(1)
    ids = [f"s{i}" for i in range(40)]
    matrices = {s: rng.normal(size=(6, 6)) for s in ids}
    scores = pd.DataFrame(
        {
            "subject_id": ids * 2,
            "fold": [0] * 40 + [1] * 40,
            "split": (["val"] * 20 + ["test"] * 20) * 2,
            "seed": 0,
            "p_disease": rng.uniform(0.1, 0.9, 80),
        }
    )
    maps = pattern_maps(lambda sids: _edges(np.array([matrices[s] for s in sids])), scores, "test", 6)
    assert sorted(maps) == [(0, 0), (1, 0)] and all(m.shape == (6,) for m in maps.values())


def test_pairs_are_labelled_and_random_maps_agree_at_chance():
    from neurolip.evaluation.brainmaps import pair_agreement, random_agreement, summarise_agreement

    rng = np.random.default_rng(2)
    shared = rng.random(50)
    maps = {(0, 0): shared, (0, 1): shared + 0.01 * rng.random(50), (1, 0): rng.random(50)}
    pairs = pair_agreement(maps, k=5)
    same_fold = pairs[pairs.pair == "same fold, other seed"]
    assert len(same_fold) == 1 and same_fold.spearman.iloc[0] > 0.95
    assert (pairs.pair == "other fold").sum() == 2
    summary = summarise_agreement(pairs)
    assert set(summary.pair) == {"same fold, other seed", "other fold"}
    chance = random_agreement(100, k=10, n_pairs=3000)
    assert abs(chance["spearman"]) < 0.02
    # E|top-10 overlap| = 1 region of 100: Jaccard about 1/19
    assert 0.04 < chance["jaccard_top_k"] < 0.07


def test_permutation_test_reports_only_regions_above_every_null_model():
    from neurolip.evaluation.brainmaps import permutation_test

    rng = np.random.default_rng(3)
    null = rng.random((20, 30))
    observed = rng.random(30)
    observed[4] = 5.0  # far above every null model's largest value
    table = permutation_test(observed, null, alpha=0.05)
    assert table.beats_null.tolist() == [i == 4 for i in range(30)]
    assert table.p_fwer[4] == 1 / 21 and (table.p_fwer <= 1).all()
    # a map drawn from the null itself: nothing passes
    assert not permutation_test(null[0], null[1:]).beats_null.any()


def test_disease_and_sensitive_map_overlap():
    from neurolip.evaluation.brainmaps import field_overlap

    rng = np.random.default_rng(4)
    same = rng.dirichlet(np.ones(20), size=6)
    attention = {
        "fold": np.array([0, 0, 0, 1, 1, 1]),
        "seed": np.zeros(6, dtype=int),
        "diagnosis": same,
        "sex": same,
        "srs": rng.dirichlet(np.ones(20), size=6),
    }
    identical = field_overlap(attention, "diagnosis", "sex", k=5)
    assert (
        len(identical) == 2 and np.allclose(identical.spearman, 1) and np.allclose(identical.jaccard_top_k, 1)
    )
    assert (field_overlap(attention, "diagnosis", "srs", k=5).spearman < 0.9).all()


def test_null_models_shuffle_training_and_validation_connectomes_only():
    import torch

    from neurolip.training.fold_io import FoldData, permute_connectomes

    x = {
        s: torch.arange(n, dtype=torch.float).reshape(n, 1, 1).expand(n, 2, 2).clone()
        for s, n in (("train", 30), ("val", 10), ("test", 10))
    }
    data = FoldData({s: [] for s in x}, {s: v.clone() for s, v in x.items()}, {}, pd.DataFrame())
    permute_connectomes(data, 0)
    assert torch.equal(data.x["test"], x["test"])
    for split in ("train", "val"):
        assert not torch.equal(data.x[split], x[split])
        assert sorted(data.x[split][:, 0, 0].tolist()) == sorted(x[split][:, 0, 0].tolist())
    again = FoldData({s: [] for s in x}, {s: v.clone() for s, v in x.items()}, {}, pd.DataFrame())
    permute_connectomes(again, 0)
    assert torch.equal(again.x["train"], data.x["train"])


def test_a_null_on_a_fold_the_run_lacks_is_refused_at_parse_time():
    import pytest

    from neurolip.config import check_consistency

    config = {
        "dataset": {"sensitive_attributes": ["sex"]},
        "cv": {"n_folds": 3, "n_repeats": 2},
        "training": {"methods": ["linear_fc"]},
        "methods": {"linear_fc": {"objective": "linear"}},
        "evaluation": {"maps": {"permutations": 5, "null_fold": 6, "null_methods": ["linear_fc"]}},
    }
    with pytest.raises(ValueError, match="null_fold 6 is not a fold"):
        check_consistency(config)
    config["evaluation"]["maps"]["null_fold"] = 5  # repeat 1's last fold
    check_consistency(config)


def test_max_statistic_test_agrees_with_nilearn_permuted_ols():
    """Where both apply (a mass-univariate OLS t per region, nulls from permuting the regressor), the
    family-wise p-values are nilearn's: the same max-statistic formula on the same null maxima, and on
    nulls of our own permutations the same regions pass with p-values within Monte-Carlo error."""
    import warnings

    from nilearn.mass_univariate import permuted_ols

    from neurolip.evaluation.brainmaps import permutation_test

    rng = np.random.default_rng(5)
    n, regions = 80, 25
    x = rng.normal(size=(n, 1))
    target = rng.normal(size=(n, regions))
    target[:, 3] += 0.8 * x[:, 0]  # one region tracks the regressor
    target[:, 7] += 0.3 * x[:, 0]  # one weakly

    def t_map(regressor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return permuted_ols(regressor, target, n_perm=0, two_sided_test=False, verbose=0)["t"][0]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nilearn = permuted_ols(
            x, target, n_perm=999, two_sided_test=False, random_state=0, n_jobs=1, verbose=0
        )
    observed = nilearn["t"][0]
    np.testing.assert_allclose(observed, t_map(x))
    p_nilearn = 10 ** -nilearn["logp_max_t"][0]
    # same null maxima (all the max statistic uses): identical family-wise p-values
    maxima = nilearn["h0_max_t"][0]
    same_null = permutation_test(observed, np.repeat(maxima[:, None], regions, axis=1))
    np.testing.assert_allclose(same_null["p_fwer"], p_nilearn)
    # nulls from our own permutations of the regressor: the same verdict, p-values within Monte-Carlo error
    own_null = np.array([t_map(rng.permutation(x)) for _ in range(999)])
    ours = permutation_test(observed, own_null, alpha=0.05)
    assert ours["beats_null"].tolist() == (p_nilearn <= 0.05).tolist()
    assert ours["beats_null"][3]
    np.testing.assert_allclose(ours["p_fwer"], p_nilearn, atol=0.04)


def test_null_models_shuffle_connectomes_within_site_only():
    import torch

    from neurolip.training.fold_io import FoldData, permute_connectomes_within_site

    sizes = {"train": 40, "val": 12, "test": 10}
    ids = {s: [f"{s}{i}" for i in range(n)] for s, n in sizes.items()}
    cohort = pd.DataFrame(
        {"site": [f"site{i % 3}" for s in ids for i in range(len(ids[s]))]},
        index=[i for s in ids for i in ids[s]],
    )
    x = {
        s: torch.arange(n, dtype=torch.float).reshape(n, 1, 1).expand(n, 2, 2).clone()
        for s, n in sizes.items()
    }
    data = FoldData(ids, {s: v.clone() for s, v in x.items()}, {}, cohort)
    permute_connectomes_within_site(data, 3)
    assert torch.equal(data.x["test"], x["test"])
    for split in ("train", "val"):
        moved_from = data.x[split][:, 0, 0].long().numpy()
        assert not np.array_equal(moved_from, np.arange(sizes[split]))
        # every subject got the connectome of a subject of its own site
        np.testing.assert_array_equal(moved_from % 3, np.arange(sizes[split]) % 3)
    again = FoldData(ids, {s: v.clone() for s, v in x.items()}, {}, cohort)
    permute_connectomes_within_site(again, 3)
    assert torch.equal(again.x["train"], data.x["train"])
