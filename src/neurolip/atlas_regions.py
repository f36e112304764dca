"""The regions of a run's atlas: the release's atlas name and ROI centroids for brain maps."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import NeuroLIPInputError

log = logging.getLogger(__name__)


def atlas_centroids(image):
    """Centre of mass (world mm) of every non-zero label of a labels image, in label order (the masker's)."""
    import nibabel as nib
    from scipy import ndimage

    img = image if hasattr(image, "affine") else nib.load(image)
    labels = np.asarray(img.dataobj).astype(int)
    values = np.unique(labels[labels != 0])
    voxels = np.array(ndimage.center_of_mass(np.ones_like(labels), labels, values))
    world = nib.affines.apply_affine(img.affine, voxels)
    return pd.DataFrame({"roi": values, "x_mni": world[:, 0], "y_mni": world[:, 1], "z_mni": world[:, 2]})


def release_atlas(dataset):
    """The atlas name a release's ROI files are named by (ABIDE ``rois_<name>``, Athena ``atlas``), or None."""
    options = dataset.get(dataset["source"], {}) or {}
    if dataset["source"] == "abide":
        return options.get("derivative", "rois_cc200").removeprefix("rois_")
    if dataset["source"] == "adhd_athena":
        return options.get("atlas")
    return None


def write_roi_coordinates(dataset, raw_dir, out_path):
    """ROI centroids for brain maps, first found of: a configured CSV, the simulated cohort's, a table shipped
    for the release's atlas (CC200, AAL-116), the centroids of the configured atlas image (or of the nilearn
    atlas fetcher's image). Otherwise an empty table: brain maps then fall back to region-index tables."""
    from .datasets.base import SHIPPED_CENTROIDS, roi_coordinates
    from .extraction import load_atlas

    configured = dataset.get("roi_coordinates")
    source = dataset["source"]
    options = dataset.get(source, {}) or {}
    atlas = release_atlas(dataset)
    if configured:
        table = pd.read_csv(configured, comment="#")
        missing = {"roi", "x_mni", "y_mni", "z_mni"} - set(table.columns)
        if missing:
            raise NeuroLIPInputError(f"ROI coordinate table lacks columns {sorted(missing)}", path=configured)
    elif source == "simulated":
        table = pd.read_csv(Path(raw_dir) / "roi_coordinates.csv")
    elif atlas in SHIPPED_CENTROIDS:
        table = roi_coordinates(atlas=atlas)
    elif isinstance(options.get("atlas"), dict):
        from .extraction import atlas_region_names

        table = atlas_centroids(load_atlas(options["atlas"]))
        names = atlas_region_names(options["atlas"], table["roi"])
        if names:  # brain maps and region tables name regions by the atlas's own labels
            table["name"] = table["roi"].map(names).fillna("")
    else:
        log.warning(
            "no ROI coordinates for atlas %r: brain maps will be region-index tables; set dataset.roi_coordinates "
            "to a CSV roi,x_mni,y_mni,z_mni to draw them on a brain",
            atlas,
        )
        table = pd.DataFrame(columns=["roi", "x_mni", "y_mni", "z_mni"])
    table.to_csv(out_path, index=False)
