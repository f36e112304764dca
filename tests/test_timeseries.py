import numpy as np
import pytest

from neurolip.errors import NeuroLIPInputError
from neurolip.timeseries import read_roi_timeseries, zero_variance_rois


def write_abide(path, values):
    header = "\t".join(f"#{k + 1}" for k in range(values.shape[1]))
    np.savetxt(path, values, delimiter="\t", header=header, comments="", fmt="%.6f")


def test_reads_abide_pcp_layout(tmp_path, rng):
    values = rng.standard_normal((50, 6))
    write_abide(tmp_path / "s_rois.1D", values)
    out = read_roi_timeseries(tmp_path / "s_rois.1D", subject_id="s", n_rois=6)
    np.testing.assert_allclose(out, values, atol=1e-6)


def test_reads_athena_layout_dropping_label_columns(tmp_path, rng):
    values = rng.standard_normal((30, 4))
    lines = ["File\tSub-brick\t" + "\t".join(f"Mean_{k + 1}" for k in range(4))]
    lines += [
        f"/x/sfnwmrda1_session_1_rest_1.nii.gz\t{t}[?]\t" + "\t".join(f"{v:.6f}" for v in row)
        for t, row in enumerate(values)
    ]
    (tmp_path / "a_TCs.1D").write_text("\n".join(lines) + "\n")
    np.testing.assert_allclose(read_roi_timeseries(tmp_path / "a_TCs.1D", n_rois=4), values, atol=1e-6)


def test_wrong_column_count_names_file_and_subject(tmp_path, rng):
    write_abide(tmp_path / "s.1D", rng.standard_normal((20, 5)))
    with pytest.raises(
        NeuroLIPInputError, match=r"s\.1D.*subject sub7.*wrong column count: 5 ROI columns, the atlas has 6"
    ):
        read_roi_timeseries(tmp_path / "s.1D", subject_id="sub7", n_rois=6)


def test_nan_is_reported_with_position(tmp_path, rng):
    values = rng.standard_normal((20, 3))
    values[4, 2] = np.nan
    write_abide(tmp_path / "s.1D", values)
    with pytest.raises(NeuroLIPInputError, match="NaN or infinite value at volume 5, ROI 3"):
        read_roi_timeseries(tmp_path / "s.1D", subject_id="x")


def test_text_in_data_is_reported(tmp_path):
    (tmp_path / "s.1D").write_text("#1\t#2\n0.1\t0.2\n0.3\tabc\n")
    with pytest.raises(NeuroLIPInputError, match="non-numeric value 'abc' at data row 2, ROI column 2"):
        read_roi_timeseries(tmp_path / "s.1D", subject_id="x")


def test_ragged_rows_and_missing_file(tmp_path):
    (tmp_path / "s.1D").write_text("0.1 0.2\n0.3 0.4 0.5\n")
    with pytest.raises(NeuroLIPInputError, match="different numbers of columns"):
        read_roi_timeseries(tmp_path / "s.1D", subject_id="x")
    with pytest.raises(NeuroLIPInputError, match="does not exist"):
        read_roi_timeseries(tmp_path / "nope.1D", subject_id="x")


def test_zero_variance_rois(rng):
    values = rng.standard_normal((40, 5))
    values[:, [1, 3]] = 0.0
    assert zero_variance_rois(values).tolist() == [1, 3]
