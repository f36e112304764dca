"""Common contract of the data sources."""

from dataclasses import dataclass, field
from importlib import resources

import pandas as pd

MANIFEST_COLUMNS = ["subject_id", "kind", "path", "confounds"]


@dataclass
class SourceData:
    """What a source yields.

    ``manifest``: one row per subject with ``kind`` = ``roi_text`` (a ROI time-series file) or ``nifti``
    (a 4-D BOLD image to pass through a labels masker, with an optional ``confounds`` TSV).
    ``phenotypes``: the raw phenotype table (columns as the release names them).
    ``missing``: (subject_id, reason, detail) for subjects the source lists but could not provide.
    """

    manifest: pd.DataFrame
    phenotypes: pd.DataFrame
    phenotype_path: str = ""
    missing: list = field(default_factory=list)


def roi_coordinates(n_rois=None):
    """CC200 ROI centroids (MNI mm) shipped with the package, first ``n_rois`` rows."""
    with resources.files("neurolip.data").joinpath("cc200_roi_centroids.csv").open() as handle:
        table = pd.read_csv(handle)
    return table if n_rois is None else table.iloc[:n_rois].reset_index(drop=True)
