"""The generalised Pareto tail of the max-statistic null (map_null.gpd_tail_fit / tail_p_values) and the
simulated cohort's realistic signal setting: calibrated on pure-null draws, finer than 1 / (1 + N) at 40
null models, non-increasing, falling back to the empirical p when the fit is rejected."""

import numpy as np
import pytest
from scipy.stats import binomtest

from neurolip.datasets.simulated import (
    simulate_cohort,
    simulated_connectome_arrays,
    simulated_connectomes,
)
from neurolip.evaluation.map_null import gpd_tail_fit, max_statistic_test, tail_p_values


def _null_p_values(n_null, reps, seed):
    """p of one exchangeable draw against n_null others: maxima over 200 regions, as the max-T null."""
    rng = np.random.default_rng(seed)
    p = []
    for rep in range(reps):
        draws = rng.standard_normal((n_null + 1, 200)).max(1)
        p.append(float(tail_p_values(draws[1:], draws[:1], seed=rep)[0]))
    return np.array(p)


def test_tail_p_is_calibrated_and_finer_than_the_permutation_floor():
    p = _null_p_values(40, 600, seed=3)
    for level in (0.05, 0.1):
        interval = binomtest(int((p <= level).sum()), len(p)).proportion_ci(0.99, method="exact")
        assert interval.low <= level <= interval.high, (level, (p <= level).mean())
    # the empirical p cannot go below 1/41; the tail does, for about the share of draws it should
    assert 0 < (p < 1 / 41).mean() < 0.06


def test_tail_p_is_non_increasing_and_meets_the_empirical_p_at_the_threshold():
    rng = np.random.default_rng(0)
    null = rng.gumbel(size=100)
    fit = gpd_tail_fit(null)
    assert fit is not None and fit["n_tail"] == 25
    grid = np.linspace(null.min() - 1, null.max() + 3, 400)
    p = tail_p_values(null, grid, fit=fit)
    assert np.all(np.diff(p) <= 1e-15)
    empirical = (1 + (null[:, None] >= grid[None, :]).sum(0)) / 101
    below = grid <= fit["threshold"]
    np.testing.assert_allclose(p[below], empirical[below])
    assert np.all(p[~below] <= 26 / 101 + 1e-12) and p[-1] < 1 / 101


def test_rejected_fit_falls_back_to_the_empirical_p():
    # a tail of ties and one far outlier: no generalised Pareto fits it
    null = np.concatenate([np.linspace(0, 1, 30), np.full(9, 2.0), [50.0]])
    assert gpd_tail_fit(null) is None
    observed = np.array([0.5, 2.0, 3.0, 60.0])
    np.testing.assert_allclose(tail_p_values(null, observed), (1 + (null[:, None] >= observed).sum(0)) / 41)
    assert gpd_tail_fit(np.arange(8.0)) is None  # too few null values for a tail of 10


def test_max_statistic_test_with_tail_reports_both_p_values():
    rng = np.random.default_rng(1)
    null = rng.standard_normal((40, 50))
    observed = rng.standard_normal(50)
    observed[:3] += [3.0, 5.0, 8.0]
    table = max_statistic_test(observed, null, tail_approximation=True)
    assert table["tail_fit"].iloc[0] == "gpd"
    assert table["p_fwer_empirical"].min() == pytest.approx(1 / 41)
    assert table["p_fwer"].iloc[:3].max() < 1 / 41
    assert np.all(np.diff(table.sort_values("z")["p_fwer"].to_numpy()) <= 1e-15)
    plain = max_statistic_test(observed, null)
    np.testing.assert_allclose(plain["p_fwer"], table["p_fwer_empirical"])


def test_realistic_signal_shares_edge_variance_and_leaves_generous_cohort_alone(tmp_path):
    kwargs = {"n_subjects": 80, "n_rois": 30, "seed": 4}
    truth, edges, y, site, sex = simulated_connectome_arrays(**kwargs)
    simulate_cohort(tmp_path / "g", **kwargs)
    written, y_written, *_ = simulated_connectomes(tmp_path / "g")
    np.testing.assert_allclose(edges, written, atol=1e-3)  # files hold 5 decimals
    np.testing.assert_array_equal(y, y_written)
    real_truth, real_edges, real_y, *_ = simulated_connectome_arrays(signal="realistic", **kwargs)
    assert real_truth["disease_regions"] == truth["disease_regions"] and "signal" not in truth
    assert real_truth["signal"] == "realistic" and real_truth["disease_effect"] < 0.25
    np.testing.assert_array_equal(real_y, y)  # same subjects, labels and sites: only the series differ

    def first_component_share(x):
        x = (x - x.mean(0)) / x.std(0)
        s = np.linalg.svd(x, compute_uv=False) ** 2
        return s[0] / s.sum()

    assert first_component_share(real_edges) > first_component_share(edges) + 0.03
    with pytest.raises(ValueError, match="signal"):
        simulate_cohort(tmp_path / "x", signal="modest", **kwargs)
