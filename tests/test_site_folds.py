"""Leave-site-out folds (cv.scheme: leave_site_out) and site harmonisation fitted on training subjects only
(connectivity.harmonize): no test label reaches a harmonisation fit."""

import numpy as np
import pandas as pd
import pytest

from neurolip.folds import fold_sites, make_folds, make_site_folds, site_groups
from neurolip.harmonize import harmonization_covariates, harmonize_features, harmonize_matrices


def cohort(sizes, seed=0, all_male=(), one_class=()):
    """Phenotype rows: ``sizes`` {site: n}; sites in ``all_male`` only male, in ``one_class`` only patients."""
    rng = np.random.default_rng(seed)
    rows = []
    for site, n in sizes.items():
        for i in range(n):
            rows.append(
                {
                    "subject_id": f"{site}_{i:03d}",
                    "site": site,
                    "diagnosis": 1 if site in one_class else i % 2,
                    "sex": "M" if site in all_male or rng.random() < 0.8 else "F",
                    "age": float(rng.uniform(7, 40)),
                }
            )
    return pd.DataFrame(rows)


SIZES = {"A": 60, "B": 50, "C": 40, "D": 8, "E": 1, "F": 30}


def test_each_large_site_is_a_test_fold_and_small_sites_merge():
    table = cohort(SIZES, one_class=("F",))
    folds = make_site_folds(table, n_folds=4, val_fraction=0.15, seed=0)
    site_of = table.set_index("subject_id")["site"]
    tests = {f: set(site_of[p["subject_id"]]) for f, p in folds[folds["split"] == "test"].groupby("fold")}
    # A, B, C alone; D (8 < 20 subjects), E (1 subject) and F (one diagnosis) merged, last
    assert tests == {0: {"A"}, 1: {"B"}, 2: {"C"}, 3: {"D", "E", "F"}}
    for fold, part in folds.groupby("fold"):
        trained = set(site_of[part.loc[part["split"] != "test", "subject_id"]])
        assert trained.isdisjoint(tests[fold])  # validation drawn from the training sites only
        assert len(part) == len(table)
    assert folds.equals(make_site_folds(table, n_folds=4, val_fraction=0.15, seed=0))
    record = fold_sites(folds, table, scheme="leave_site_out")
    assert record.loc[record["fold"] == 3, "test_group"].unique().tolist() == ["small_sites"]


def test_train_only_sites_are_never_tested_and_recorded_with_their_reason():
    table = cohort(SIZES, one_class=("F",))
    settings = {"small_sites": "train_only"}
    folds = make_site_folds(table, n_folds=3, settings=settings)
    tested = set(folds.loc[folds["split"] == "test", "subject_id"].str[0])
    assert tested == {"A", "B", "C"}
    record = fold_sites(folds, table, settings, scheme="leave_site_out")
    skipped = record[record["test_group"] == "train_only"].set_index("site")["reason"]
    assert sorted(skipped.index) == ["D", "E", "F"]
    assert "fewer than cv.leave_site_out.min_site_size" in skipped["E"] and "both diagnoses" in skipped["F"]


def test_impossible_sites_are_clear_errors_naming_site_and_option():
    table = cohort(SIZES, all_male=("C",))
    with pytest.raises(
        ValueError, match=r"site 'C' cannot be a test fold.*all 40 subjects have sex.*small_sites"
    ):
        site_groups(table, {"small_sites": "error", "min_site_size": 2, "require_groups_of": ["sex"]})
    with pytest.raises(ValueError, match=r"makes 5 test groups.*set cv.n_folds: 5"):
        make_site_folds(table, n_folds=4)
    with pytest.raises(ValueError, match="needs two test groups"):
        make_site_folds(cohort({"A": 50, "D": 5}, one_class=("D",)), n_folds=1)


def test_merged_group_that_fails_trains_only():
    # the small sites together hold one diagnosis: no test group of them, their subjects train only
    table = cohort({"A": 40, "B": 40, "C": 40, "D": 5, "E": 6}, one_class=("D", "E"))
    groups, skipped = site_groups(table)
    assert [g for g, _ in groups] == ["A", "B", "C"]
    assert sorted(skipped["site"]) == ["D", "E"]
    assert skipped["reason"].str.contains("merged group 'small_sites'").all()


def test_stratified_scheme_keeps_its_folds():
    # the default scheme is make_folds, untouched: same table as before this option existed
    table = cohort({"A": 60, "B": 50, "C": 40})
    folds = make_folds(table, n_folds=5, seed=0)
    assert folds["fold"].nunique() == 5
    assert (fold_sites(folds, table)["test_group"] == "mixed").all()


def site_cohort(seed=0):
    rng = np.random.default_rng(seed)
    table = cohort({"A": 40, "B": 40, "C": 30}, seed=seed)
    offsets = {"A": 0.0, "B": 1.5, "C": -1.0}
    edges = rng.standard_normal((len(table), 12)) + table["site"].map(offsets).to_numpy()[:, None]
    edges[:, 0] += 0.8 * table["diagnosis"].to_numpy()
    return table, edges


@pytest.mark.parametrize("method", ["site_standardize", "combat"])
def test_no_test_label_reaches_a_harmonisation_fit(method):
    table, edges = site_cohort()
    ids = table["subject_id"].tolist()
    # leave-site-out: C is the test site, unseen in training
    train = table.loc[table["site"] != "C", "subject_id"].tolist()
    harmonised, fitted = harmonize_features(edges, ids, train, table, method, ["age", "sex"])
    flipped = table.copy()
    test = flipped["site"] == "C"
    flipped.loc[test, "diagnosis"] = 1 - flipped.loc[test, "diagnosis"]
    again, refitted = harmonize_features(edges, ids, train, flipped, method, ["age", "sex"])
    np.testing.assert_array_equal(harmonised, again)  # training and test features alike
    for key, value in fitted.state().items():
        np.testing.assert_array_equal(value, refitted.state()[key])
    # and the only table a fit reads holds site and covariates, no diagnosis
    covars = harmonization_covariates(table, ids, ["age", "sex"])
    assert list(covars.columns) == ["site", "age", "sex"]
    with pytest.raises(ValueError, match="must not see labels"):
        harmonization_covariates(table, ids, ["age", "diagnosis"])
    # a training subject's features do not depend on the test site's edges either
    shifted = edges.copy()
    shifted[test.to_numpy()] += 5.0
    moved, _ = harmonize_features(shifted, ids, train, table, method, ["age", "sex"])
    np.testing.assert_allclose(moved[~test.to_numpy()], harmonised[~test.to_numpy()])


@pytest.mark.parametrize("method", ["site_standardize", "combat"])
def test_harmonisation_removes_site_offsets(method):
    table, edges = site_cohort(1)
    ids = table["subject_id"].tolist()
    train = table.loc[table["site"] != "C", "subject_id"].tolist()
    harmonised, _ = harmonize_features(edges, ids, train, table, method, ["age", "sex"])
    site_means = pd.DataFrame(harmonised[:, 1:]).groupby(table["site"].to_numpy()).mean().mean(axis=1)
    raw_means = pd.DataFrame(edges[:, 1:]).groupby(table["site"].to_numpy()).mean().mean(axis=1)
    assert np.ptp(raw_means) > 2.0  # planted: offsets 1.5 and -1.0 around site A
    assert np.ptp(site_means) < 0.15  # removed, the unseen test site C included


def test_harmonised_matrices_stay_symmetric():
    table, edges = site_cohort()
    n = len(table)
    matrices = np.zeros((n, 5, 5), dtype=np.float32)
    rows, cols = np.triu_indices(5, k=1)
    matrices[:, rows, cols] = edges[:, :10]
    matrices[:, cols, rows] = edges[:, :10]
    train = table.loc[table["site"] != "C", "subject_id"].tolist()
    out, _ = harmonize_matrices(matrices, table["subject_id"].tolist(), train, table, "site_standardize")
    np.testing.assert_array_equal(out, np.swapaxes(out, 1, 2))
    np.testing.assert_array_equal(np.diagonal(out, axis1=1, axis2=2), 0)


def test_site_standardize_removes_planted_site_effects_and_leaves_pseudo_sites_alone():
    """linear_fc's model (C chosen on validation) under leave-site-out folds on simulated cohorts
    (benchmarks/site_harmonization.py, where the figures over seeds are printed): with planted site effects
    site_standardize lifts the pooled AUC by far; on one site dealt into random pseudo-sites (no site effect)
    it changes little. Thresholds: docs/benchmarks.md (Site harmonisation)."""
    import sys

    from conftest import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    from site_harmonization import cohort_lift

    none, standardised = cohort_lift("site_effect", 0, "leave_site_out", n_subjects=200, n_rois=24)
    assert standardised - none >= 0.10, (none, standardised)
    none, standardised = cohort_lift("no_site_effect", 0, "leave_site_out", n_subjects=200, n_rois=24)
    assert abs(standardised - none) <= 0.05, (none, standardised)


def test_default_scheme_writes_the_folds_file_of_before(tmp_path):
    """cv without the new keys (as before) and cv with scheme: stratified write the same bytes."""
    from neurolip.data_stage import write_folds

    table = cohort({"A": 60, "B": 50, "C": 40})
    table["srs"] = np.nan
    path = tmp_path / "cohort.tsv"
    table.to_csv(path, sep="\t", index=False)
    before = {"n_folds": 5, "n_repeats": 1, "val_fraction": 0.15, "seed": 0}
    write_folds(before, path, tmp_path / "before.tsv")
    write_folds({**before, "scheme": "stratified", "leave_site_out": {}}, path, tmp_path / "now.tsv")
    assert (tmp_path / "before.tsv").read_bytes() == (tmp_path / "now.tsv").read_bytes()
    expected = make_folds(table, n_folds=5, val_fraction=0.15, seed=0)
    assert pd.read_csv(tmp_path / "now.tsv", sep="\t", dtype={"subject_id": str}).equals(expected)


# ABIDE I PCP cc200's sites and sizes (1035 subjects; five sites all male)
ABIDE_SITES = {
    "CALTECH": 37, "CMU": 27, "KKI": 48, "LEUVEN_1": 29, "LEUVEN_2": 34, "MAX_MUN": 52, "NYU": 175, "OHSU": 26,
    "OLIN": 34, "PITT": 56, "SBL": 30, "SDSU": 36, "STANFORD": 39, "TRINITY": 47, "UCLA_1": 72, "UCLA_2": 26,
    "UM_1": 106, "UM_2": 34, "USM": 71, "YALE": 56,
}  # fmt: skip


def test_abide_sized_cohort_makes_twenty_site_folds():
    table = cohort(ABIDE_SITES, all_male=("LEUVEN_1", "OHSU", "SBL", "TRINITY", "USM"))
    folds = make_site_folds(table, n_folds=20)
    record = fold_sites(folds, table, scheme="leave_site_out")
    assert record["test_group"].tolist() == sorted(ABIDE_SITES)
    assert record["n_test"].tolist() == [ABIDE_SITES[s] for s in sorted(ABIDE_SITES)]
    # require_groups_of: [sex] merges the all-male sites, whose group is all male too: they train only
    groups, skipped = site_groups(table, {"require_groups_of": ["sex"]})
    assert len(groups) == 15 and sorted(skipped["site"]) == ["LEUVEN_1", "OHSU", "SBL", "TRINITY", "USM"]


def test_combat_transform_of_training_subjects_is_neurocombats_own_output():
    """The fitted ComBat applied to its training subjects gives neuroCombat's harmonised data: the
    covariate effects recovered from its estimates and the per-site EB location/scale are its own."""
    from neuroCombat import neuroCombat

    table, edges = site_cohort(2)
    ids = table["subject_id"].tolist()
    harmonised, _ = harmonize_features(edges, ids, ids, table, "combat", ["age", "sex"])
    covars = harmonization_covariates(table, ids, ["age", "sex"])
    reference = neuroCombat(
        dat=edges.T, covars=covars, batch_col="site", categorical_cols=["sex"], continuous_cols=["age"]
    )["data"].T
    np.testing.assert_allclose(harmonised, reference, rtol=1e-6, atol=1e-6)
