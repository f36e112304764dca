"""Common contract of the data sources."""

from dataclasses import dataclass, field
from importlib import resources

import pandas as pd

MANIFEST_COLUMNS = ["subject_id", "kind", "path", "confounds"]


@dataclass
class SourceData:
    """What a source yields.

    ``manifest``: one row per subject with ``kind`` = ``roi_text`` (a ROI time-series file) or ``nifti``
    (a 4-D BOLD image to pass through a labels masker, with an optional ``confounds`` TSV); a subject with
    several NIfTI runs has one row per run, in the order their time series are joined.
    ``phenotypes``: the raw phenotype table (columns as the release names them).
    ``missing``: (subject_id, reason, detail) for subjects the source lists but could not provide.
    """

    manifest: pd.DataFrame
    phenotypes: pd.DataFrame
    phenotype_path: str = ""
    missing: list = field(default_factory=list)


def read_table(path, **kwargs):
    """``pandas.read_csv`` of a release's table, with a clear error naming the file when it is not UTF-8
    text or its rows are ragged."""
    from ..errors import NeuroLIPInputError

    try:
        return pd.read_csv(path, **kwargs)
    except UnicodeDecodeError as exc:
        raise NeuroLIPInputError(f"not a UTF-8 text table ({exc})", path=path) from exc
    except pd.errors.ParserError as exc:
        raise NeuroLIPInputError(f"malformed table ({exc})", path=path) from exc


def check_one_file_per_subject(subjects_and_files, *, what="time-series file", path=None):
    """Raise naming the subject and both files when one subject (IDs already normalised: ``0050002`` and
    ``50002`` are one subject) is found with two files, instead of keeping whichever comes first or last.

    Parameters
    ----------
    subjects_and_files : iterable of (str, path)
        Each subject's file, as the source found it.
    what : str
        What the files are, for the message.
    path : str or Path, optional
        The table or folder the subjects were matched in, named in the error.
    """
    from ..errors import NeuroLIPInputError

    first = {}
    for subject, file in subjects_and_files:
        if subject in first and str(first[subject]) != str(file):
            raise NeuroLIPInputError(
                f"subject {subject} has two {what}s, {first[subject]} and {file} (the same ID once leading "
                "zeros are dropped, or the same scan in two folders): keep one, move the other out of the "
                "release, so that no file is chosen silently",
                path=path,
                subject=subject,
            )
        first.setdefault(subject, file)


# ROI centroid tables shipped as package data, by the atlas name releases use (ABIDE PCP ``rois_<name>``,
# Athena ``<name>_TCs``); each file's header cites its source
SHIPPED_CENTROIDS = {"cc200": "cc200_roi_centroids.csv", "aal": "aal116_roi_centroids.csv"}


def _shipped_table(name):
    with resources.files("neurolip.data").joinpath(name).open() as handle:
        return pd.read_csv(handle, comment="#")


def aal_labels():
    """The 116 AAL regions in atlas order: roi, code (value in the AAL image), name, abbreviation."""
    return _shipped_table("aal116_labels.csv")


def roi_coordinates(n_rois=None, atlas="cc200"):
    """ROI centroids (MNI mm) of a shipped atlas table (``SHIPPED_CENTROIDS``), first ``n_rois`` rows; the
    AAL table with each region's ``name`` (the atlas's label)."""
    if atlas not in SHIPPED_CENTROIDS:
        raise KeyError(f"no shipped ROI centroids for atlas {atlas!r}; shipped: {sorted(SHIPPED_CENTROIDS)}")
    table = _shipped_table(SHIPPED_CENTROIDS[atlas])
    if atlas == "aal":
        table = table.merge(aal_labels()[["roi", "name"]], on="roi", how="left", validate="1:1")
    return table if n_rois is None else table.iloc[:n_rois].reset_index(drop=True)
