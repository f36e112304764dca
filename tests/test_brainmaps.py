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
