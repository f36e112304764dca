"""Reading and validating ROI time-series files (ABIDE PCP ``.1D``, Athena ``_TCs.1D``, TSV, ``.npy``)."""

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import NeuroLIPInputError


def _is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_roi_timeseries(path, *, subject_id=None, n_rois=None):
    """Read one subject's ROI time series as a float array of shape (n_volumes, n_rois).

    Understands the ABIDE PCP layout (tab-separated, header ``#1 #2 ...``), the Athena ADHD-200 layout
    (header ``File Sub-brick Mean_1 ...``, two label columns per row), headerless whitespace- or
    comma-separated text and ``.npy`` arrays. Any problem raises :class:`NeuroLIPInputError` naming the
    file, the subject and the problem: a missing file, text where a number belongs, a ragged row, NaN or
    infinite values, or a column count other than ``n_rois``.
    """
    path = Path(path)
    if not path.is_file():
        raise NeuroLIPInputError("time-series file does not exist", path=path, subject=subject_id)
    if path.suffix == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except Exception as exc:  # a corrupt array file is reported, not re-raised from deep inside numpy
            raise NeuroLIPInputError(f"unreadable .npy file ({exc})", path=path, subject=subject_id) from exc
        values = np.asarray(values, dtype=float)
    else:
        values = _read_text_timeseries(path, subject_id)
    return validate_timeseries(values, path=path, subject_id=subject_id, n_rois=n_rois)


def _read_text_timeseries(path, subject_id):
    try:
        # utf-8-sig: a byte-order mark some editors write is read as one, not as part of the first value
        with open(path, encoding="utf-8-sig", errors="strict") as handle:
            first_line = handle.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise NeuroLIPInputError(f"unreadable file ({exc})", path=path, subject=subject_id) from exc
    separator = "," if first_line.count(",") > 0 else r"\s+"
    tokens = [t for t in (first_line.split(",") if separator == "," else first_line.split()) if t.strip()]
    if not tokens:
        raise NeuroLIPInputError("file is empty", path=path, subject=subject_id)
    has_header = not all(_is_number(t) for t in tokens)
    n_label_columns = 2 if has_header and [t.strip() for t in tokens[:2]] == ["File", "Sub-brick"] else 0
    try:
        frame = pd.read_csv(
            path, sep=separator, header=None, skiprows=int(has_header), engine="c", encoding="utf-8-sig"
        )
    except pd.errors.ParserError as exc:
        raise NeuroLIPInputError(
            f"rows have different numbers of columns ({exc})", path=path, subject=subject_id
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise NeuroLIPInputError("file has a header but no data rows", path=path, subject=subject_id) from exc
    except UnicodeDecodeError as exc:  # a corrupt byte anywhere, not only in the first line
        raise NeuroLIPInputError(f"not a UTF-8 text file ({exc})", path=path, subject=subject_id) from exc
    frame = frame.iloc[:, n_label_columns:]
    if has_header and n_label_columns == 0 and len(tokens) != frame.shape[1]:
        raise NeuroLIPInputError(
            f"header names {len(tokens)} columns but the data rows have {frame.shape[1]}",
            path=path,
            subject=subject_id,
        )
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & frame.notna()
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise NeuroLIPInputError(
            f"non-numeric value {frame.iat[row, col]!r} at data row {row + 1}, ROI column {col + 1}",
            path=path,
            subject=subject_id,
        )
    return numeric.to_numpy(dtype=float)


def validate_timeseries(values, *, path=None, subject_id=None, n_rois=None):
    """Check shape and finiteness; return the array unchanged."""
    if values.ndim != 2 or values.shape[0] == 0:
        raise NeuroLIPInputError(
            f"expected a 2-D array (volumes x ROIs), got shape {values.shape}", path=path, subject=subject_id
        )
    if n_rois is not None and values.shape[1] != n_rois:
        raise NeuroLIPInputError(
            f"wrong column count: {values.shape[1]} ROI columns, the atlas has {n_rois}",
            path=path,
            subject=subject_id,
        )
    finite = np.isfinite(values)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise NeuroLIPInputError(
            f"missing, NaN or infinite value at volume {row + 1}, ROI {col + 1}",
            path=path,
            subject=subject_id,
        )
    return values


# a column whose spread is below this share of its magnitude is constant: float32 rounding of a constant
# column leaves a spread of about 1e-7 of its value, BOLD fluctuations are 1e-3 and more
CONSTANT_RTOL = 1e-6


def zero_variance_rois(values, rtol=CONSTANT_RTOL, atol=1e-12):
    """Indices of ROI columns that are constant (e.g. all zeros: the ROI lies outside the field of view).

    Parameters
    ----------
    values : array of shape (n_volumes, n_rois)
        One scan, in whatever precision it is stored (float32 in the time-series step's ``.npz``).
    rtol : float
        A column is constant when its standard deviation is at most ``rtol`` times its largest absolute
        value (plus ``atol``). The test is relative because a constant non-zero column stored as float32
        keeps a spread of rounding error (about 1e-7 of its value) that an absolute tolerance mistakes for
        a signal.
    atol : float
        Absolute floor of the tolerance (all-zero columns).

    Returns
    -------
    numpy.ndarray
        Column indices, ascending.
    """
    values = np.asarray(values, dtype=np.float64)  # never float32 arithmetic: its own rounding is a spread
    spread = values.std(axis=0)
    scale = np.abs(values).max(axis=0) if values.shape[0] else np.zeros(values.shape[1])
    return np.flatnonzero(spread <= rtol * scale + atol)
