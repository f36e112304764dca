import numpy as np
import pytest

from neurolip.connectivity import ConnectomeBuilder, upper_triangle


def test_correlation_matches_numpy_with_fisher_z(rng):
    series = [rng.standard_normal((120, 6)) for _ in range(3)]
    matrices = ConnectomeBuilder().fit(series).transform(series)
    expected = np.arctanh(np.corrcoef(series[0].T))
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(matrices[0], expected, atol=1e-4)
    assert matrices.dtype == np.float32


def test_zero_variance_rois_are_zeroed_and_counted(rng):
    series = [rng.standard_normal((80, 5)) for _ in range(2)]
    series[1][:, 2] = 0.0
    builder = ConnectomeBuilder()
    matrices = builder.fit(series).transform(series)
    assert builder.n_zero_variance_.tolist() == [0, 1]
    assert np.all(matrices[1][2, :] == 0) and np.all(matrices[1][:, 2] == 0)
    assert np.all(np.isfinite(matrices))
    assert np.abs(matrices[1][0, 1]) > 0


@pytest.mark.parametrize("kind", ["partial correlation", "tangent"])
def test_other_kinds_are_finite_and_symmetric(rng, kind):
    series = [rng.standard_normal((100, 4)) for _ in range(4)]
    series[0][:, 1] = 0
    matrices = ConnectomeBuilder(kind=kind).fit(series).transform(series)
    assert matrices.shape == (4, 4, 4) and np.all(np.isfinite(matrices))
    np.testing.assert_allclose(matrices, np.swapaxes(matrices, 1, 2), atol=1e-5)


def test_unknown_kind_raises(rng):
    with pytest.raises(ValueError, match="unknown connectivity kind"):
        ConnectomeBuilder(kind="coherence").fit([rng.standard_normal((10, 3))])


def test_upper_triangle_length():
    assert upper_triangle(np.zeros((2, 5, 5))).shape == (2, 10)
