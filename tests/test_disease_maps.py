"""The disease-map policy (neurolip.evaluation.disease_maps): which null each map and each agreement is
compared with, and what a region table holds without one."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from neurolip.evaluation.disease_maps import (
    AGREEMENT_COLUMNS,
    STABILITY_COLUMNS,
    DiseaseMaps,
    MapSettings,
    region_labels,
    region_table,
)
from neurolip.evaluation.map_null import NULL_COLUMNS, fold_null_replicates

N_ROIS = 6


def _maps(method="m", null_methods=("m",), folds=(0, 1, 2)):
    settings = MapSettings(
        method=method,
        folds=list(folds),
        top_k=2,
        null_fold=0,
        seed=0,
        alpha=0.05,
        null_methods=list(null_methods),
        linear_permutations=5,
    )
    scores = pd.DataFrame({"subject_id": ["a", "b"], "fold": [0, 0], "split": ["test", "test"]})
    return DiseaseMaps(settings, scores, SimpleNamespace(n_rois=N_ROIS))


def _row(pair="other fold", estimator="pattern", split="test", spearman=0.5):
    return SimpleNamespace(pair=pair, estimator=estimator, split=split, spearman=spearman, jaccard_top_k=0.3)


def test_region_table_without_a_null_keeps_the_observed_map_and_marks_no_region(rng):
    observed = rng.random(N_ROIS)
    table = region_table(observed, np.empty((2, N_ROIS)), alpha=0.05)
    np.testing.assert_array_equal(table["observed"], observed)
    assert table[["null_mean", "z", "p_fwer", "q_fdr"]].isna().all().all()
    assert not table["beats_null"].any()


def test_region_table_with_a_null_tests_every_region(rng):
    null = rng.normal(0, 1, (50, N_ROIS))
    observed = np.zeros(N_ROIS)
    observed[2] = 10.0  # far above its null
    table = region_table(observed, null, alpha=0.05)
    np.testing.assert_allclose(table["null_max"], null.max(0))
    assert table["beats_null"].tolist() == [i == 2 for i in range(N_ROIS)]
    assert (table["q_fdr"] >= table["p_uncorrected"] - 1e-12).all()
    assert "region" not in table.columns


def test_region_table_with_the_tail_approximation_reaches_below_the_permutation_floor(rng):
    null = rng.normal(0, 1, (50, N_ROIS))
    observed = np.zeros(N_ROIS)
    observed[2] = 10.0
    table = region_table(observed, null, alpha=0.05, tail_approximation=True)
    assert table.loc[2, "p_fwer_empirical"] == pytest.approx(1 / 51)
    assert table.loc[2, "p_fwer"] < 1 / 51 and table["tail_fit"].iloc[0] == "gpd"
    assert table["beats_null"].tolist() == [i == 2 for i in range(N_ROIS)]


def test_coordinates_of_another_atlas_are_not_used():
    coordinates = pd.DataFrame({"roi": [10, 11], "x": [0, 1], "y": [0, 1], "z": [0, 1]})
    used, region_ids, names = region_labels(coordinates, N_ROIS)
    assert used is None
    assert region_ids.tolist() == list(range(1, N_ROIS + 1))
    assert (names["region_name"] == "").all()


@pytest.mark.parametrize(
    ("kwargs", "row", "reason"),
    [
        ({}, _row(pair="same fold, other seed", spearman=1.0), "identical"),
        ({"null_methods": ()}, _row(), "not in evaluation.maps.null_methods"),
        ({}, _row(pair="same fold, other seed"), "the seeds share their labels"),
        ({}, _row(split="val"), "mapped on test subjects only (val)"),
        ({}, _row(), "null models of 1 fold(s)"),
    ],
)
def test_an_agreement_without_a_null_says_why(kwargs, row, reason):
    # null models of one fold only: no fold-0 stand-in for the across-fold null
    trained_null = {("pattern", "test"): {0: np.zeros((3, N_ROIS))}}
    columns = _maps(**kwargs).null_columns(row, {}, trained_null)
    assert set(columns) == {"null_source"} and reason in columns["null_source"]


def test_an_agreement_beside_trained_null_models_compares_null_map_k_of_every_fold(rng):
    null = {f: rng.random((9, N_ROIS)) for f in (0, 1, 2)}
    columns = _maps().null_columns(_row(spearman=0.2), {}, {("pattern", "test"): null})
    assert columns["null_source"].startswith("9 trained null models per fold (cohort-wide permutation k")
    assert set(columns) <= set(NULL_COLUMNS)
    replicates = fold_null_replicates(null, k=2)[0]
    assert columns["p_vs_null"] == pytest.approx((1 + np.sum(replicates >= 0.2 - 1e-12)) / 10)
    assert columns["p_resolution"] == pytest.approx(1 / 10) and columns["n_null"] == 9


def test_null_columns_are_added_in_their_order_to_an_empty_agreement():
    agreement = _maps().with_null_columns(pd.DataFrame(columns=AGREEMENT_COLUMNS), {}, {})
    assert agreement.columns.tolist() == AGREEMENT_COLUMNS + NULL_COLUMNS


def test_every_fold_model_is_tested_against_its_own_folds_null_models(rng):
    model_maps = {(0, 0): rng.random(N_ROIS), (1, 0): rng.random(N_ROIS)}
    null = {0: rng.random((4, N_ROIS)), 1: rng.random((4, N_ROIS))}
    runs = _maps().null_runs("pattern", model_maps, {}, {("pattern", "test"): null})
    assert sorted(runs) == [0, 1]
    for fold, (observed, null_maps, mapped_on) in runs.items():
        assert mapped_on == "test subjects, trained null models of this fold"
        np.testing.assert_array_equal(observed, model_maps[(fold, 0)])
        np.testing.assert_array_equal(null_maps, null[fold])
    # without the null fold's model (seed 0): the map pooled over models, and no null to test it against
    runs = _maps().null_runs("pattern", {(1, 0): model_maps[(1, 0)]}, {}, {("pattern", "test"): null})
    observed, null_maps, _ = runs[0]
    np.testing.assert_array_equal(observed, model_maps[(1, 0)])
    assert len(null_maps) == 0 and len(runs[1][1]) == 4


def test_trained_null_maps_pair_permutation_k_across_folds(tmp_path):
    """Null map k of every fold is the file of fold<f>/perm<k>; folds with other permutations are refused."""
    maps = _maps()
    maps.fold_pattern_maps = lambda scores, split: {(int(scores["fold"].iloc[0]), 0): scores["v"].to_numpy()}
    paths = []
    for fold in (0, 1):
        for perm in (1, 0):  # files in any order: rows follow the permutation number
            path = tmp_path / f"fold{fold}" / f"perm{perm}" / "seed_scores.csv"
            path.parent.mkdir(parents=True)
            pd.DataFrame({"subject_id": ["a"] * N_ROIS, "fold": fold, "v": 10 * fold + perm}).to_csv(path)
            paths.append(path)
    null = maps.trained_null_maps(paths)[("pattern", "test")]
    assert sorted(null) == [0, 1]
    np.testing.assert_array_equal(null[1][:, 0], [10, 11])
    np.testing.assert_array_equal(null[0][:, 0], [0, 1])
    with pytest.raises(ValueError, match="not the same permutations"):
        maps.trained_null_maps(paths[:3])


def test_regions_of_every_test_map_and_the_figure_of_the_null_fold(rng):
    maps = {
        ("pattern", "val"): {(0, 0): rng.random(N_ROIS)},
        ("pattern", "test"): {(0, 0): rng.random(N_ROIS), (1, 0): rng.random(N_ROIS)},
        ("attention", "test"): {(0, 0): rng.random(N_ROIS)},
    }
    agreement = pd.DataFrame(
        [
            {
                "estimator": "pattern",
                "split": "test",
                "pair": "other fold",
                "spearman": 0.25,
                "jaccard_top_k": 0.5,
            }
        ]
    )
    trained_null = {("pattern", "test"): {0: rng.random((5, N_ROIS)), 1: rng.random((5, N_ROIS))}}
    regions, stability, figure = _maps().regions(
        maps, agreement, {}, trained_null, pd.DataFrame({"roi": [1]}), "Method"
    )
    assert regions.groupby("estimator").size().to_dict() == {"attention": N_ROIS, "pattern": 2 * N_ROIS}
    assert (regions["method"] == "m").all()
    assert regions.set_index("estimator").loc["pattern", "n_null_models"].eq(5).all()
    assert regions.set_index("estimator").loc["attention", "n_null_models"].eq(0).all()
    np.testing.assert_allclose(
        regions.loc[(regions.estimator == "pattern") & (regions.fold == 0), "pooled_over_models"],
        np.mean(list(maps[("pattern", "test")].values()), axis=0),
    )
    # every fold's map against its own fold's null models; the folds' stability beside null maps k's
    assert sorted(regions.loc[regions.estimator == "pattern", "fold"].unique()) == [0, 1]
    assert stability.columns.tolist() == STABILITY_COLUMNS
    assert stability["maps"].tolist() == ["raw", "standardised"]
    assert (stability["n_null"] == 5).all() and np.allclose(stability["p_resolution"], 1 / 6)
    assert (
        figure["title"]
        == "Method: activation pattern of the disease read-out (fold 0; test subjects; null: 5 trained null "
        "models of this fold (cohort-wide permutations within site × outer fold))"
    )
    assert figure["stability"] == "other fold: Spearman 0.25, Jaccard 0.50"
