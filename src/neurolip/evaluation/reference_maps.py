"""Agreement of the methods' disease maps with reference maps a user supplies (``evaluation.reference_maps``:
e.g. a Neurosynth or NeuroQuery term map), brought onto the run's atlas regions.

A reference NIfTI is reduced to regions through a labels image (nilearn's ``NiftiLabelsMasker``, labels
numbered as the run's ``roi`` ids) or, for an atlas known only by its centroids, through spheres of a stated
radius around them (``NiftiSpheresMasker``). Each method's map (:mod:`.disease_maps`' region table: every
fold's map, their mean over folds and the mean over every trained model) is compared with it by Spearman
correlation and the Jaccard overlap of the top-k regions. Their p-values come from a null that keeps spatial
autocorrelation: variogram-matched surrogates of the reference (Burt et al. 2020, ``brainsmash``) built from
the regions' centroid distances. A region-shuffling null is reported beside it: on smooth maps it is not
calibrated (``benchmarks/reference_null.py``).

The simulated cohort gets two control references of its own (:func:`write_demo_references`): spheres at its
planted disease regions (a method that recovers them must agree beyond the null) and a smooth random field
(it must not).
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from scipy.stats import rankdata

from ..errors import NeuroLIPInputError

log = logging.getLogger(__name__)

COLUMNS = [
    "reference",
    "method",
    "estimator",
    "fold",
    "n_regions",
    "spearman",
    "p_spatial",
    "null_spatial_p95",
    "p_shuffle",
    "null_shuffle_p95",
    "top_k",
    "jaccard_top_k",
    "jaccard_p_spatial",
    "jaccard_null_p95",
    "n_surrogates",
    "beats_spatial_null",
]
MEAN_OVER_FOLDS = "mean over folds"
POOLED = "pooled over models"
XYZ = ["x_mni", "y_mni", "z_mni"]


@dataclass(frozen=True)
class ReferenceSpec:
    """One entry of ``evaluation.reference_maps``: a NIfTI and how it is brought onto the atlas regions
    (``labels``: a labels image in the map's space; else spheres of ``radius`` mm at the centroids)."""

    name: str
    path: str
    labels: str | None = None
    radius: float | None = None

    @classmethod
    def from_config(cls, entry):
        if (entry.get("labels") is None) == (entry.get("radius") is None):
            raise NeuroLIPInputError(
                f"reference map {entry.get('name')!r}: give exactly one of 'labels' (a labels image) or "
                "'radius' (spheres at the region centroids, mm)"
            )
        return cls(entry["name"], str(entry["path"]), entry.get("labels"), entry.get("radius"))


def load_image(path, what="reference map"):
    """A 3-D NIfTI (a 4-D one with a single volume is taken as 3-D), or an error naming the file."""
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise NeuroLIPInputError(f"{what}: no such file", path=path)
    try:
        img = nib.load(path)
        data = np.asarray(img.dataobj, dtype=float)
    except Exception as error:  # nibabel raises several types for a file that is not a readable NIfTI
        raise NeuroLIPInputError(f"{what}: not a readable NIfTI image ({error})", path=path) from error
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise NeuroLIPInputError(f"{what}: a 3-D map is needed, the image has shape {data.shape}", path=path)
    return nib.Nifti1Image(data, img.affine)


def _voxel_world(img):
    import nibabel as nib

    index = np.indices(img.shape).reshape(3, -1).T
    return nib.affines.apply_affine(img.affine, index)


def regions_from_labels(img, labels_path, roi_ids, path=None) -> np.ndarray:
    """Mean of ``img`` in each region of a labels image (same grid), in ``roi_ids`` order."""
    from nilearn.maskers import NiftiLabelsMasker

    labels = load_image(labels_path, "reference labels image")
    if labels.shape != img.shape or not np.allclose(labels.affine, img.affine, atol=1e-3):
        raise NeuroLIPInputError(
            f"the map is in another space than its labels image {labels_path}: shape {img.shape} vs "
            f"{labels.shape}, affine\n{np.round(img.affine, 3)}\nvs\n{np.round(labels.affine, 3)} "
            "(resample the map onto the labels image first)",
            path=path,
        )
    values = np.asarray(labels.dataobj).astype(int)
    present = set(np.unique(values[values != 0]).tolist())
    data = np.asarray(img.dataobj)
    finite = set(np.unique(values[(values != 0) & np.isfinite(data)]).tolist())
    empty = [int(r) for r in roi_ids if int(r) not in finite]
    if empty:
        where = "no voxel in the labels image" if any(r not in present for r in empty) else "only NaN voxels"
        raise NeuroLIPInputError(f"empty region(s) {empty[:20]} ({where}; {len(empty)} in all)", path=path)
    masker = NiftiLabelsMasker(labels, resampling_target=None, strategy="mean")
    table = np.asarray(masker.fit_transform(img), dtype=float).reshape(-1)
    region_labels = [int(v) for key, v in masker.region_ids_.items() if key != "background"]
    by_label = dict(zip(region_labels, table, strict=True))
    return np.array([by_label[int(r)] for r in roi_ids])


def regions_from_spheres(img, coordinates, radius, path=None) -> np.ndarray:
    """Mean of ``img`` in a sphere of ``radius`` mm around each centroid (``coordinates`` rows)."""
    from nilearn.maskers import NiftiSpheresMasker

    xyz = coordinates[XYZ].to_numpy(dtype=float)
    world = _voxel_world(img)
    data = np.asarray(img.dataobj).reshape(-1)
    voxel = float(np.abs(np.linalg.det(img.affine[:3, :3]))) ** (1 / 3)
    # every voxel whose centre lies within the radius (a sphere smaller than a voxel reads its nearest one)
    within = cdist(xyz, world) <= max(radius, voxel * np.sqrt(3) / 2)
    counts = within.sum(1)
    finite = (within & np.isfinite(data)[None, :]).sum(1)
    empty = np.flatnonzero(finite == 0)
    if len(empty):
        rois = coordinates["roi"].to_numpy()[empty].tolist()
        inside = np.all((xyz >= world.min(0) - voxel) & (xyz <= world.max(0) + voxel), axis=1)
        why = (
            f"{int((~inside).sum())} centroid(s) outside the image's field of view (is the map in the atlas's "
            "space, MNI?)"
            if not inside.all()
            else "no finite voxel within the radius"
        )
        raise NeuroLIPInputError(
            f"empty region(s) {rois[:20]} with spheres of {radius} mm: {why}; {len(empty)} in all", path=path
        )
    masker = NiftiSpheresMasker([tuple(p) for p in xyz], radius=radius, allow_overlap=True)
    values = np.asarray(masker.fit_transform(img), dtype=float).reshape(-1)
    log.info("%s: spheres of %s mm hold %d-%d voxels", path, radius, counts.min(), counts.max())
    return np.asarray(values, dtype=float)


def reference_regions(spec: ReferenceSpec, coordinates: pd.DataFrame) -> np.ndarray:
    """The reference map of ``spec`` on the run's regions (``coordinates``: roi and MNI centroids)."""
    img = load_image(spec.path)
    if spec.labels is not None:
        values = regions_from_labels(img, spec.labels, coordinates["roi"].to_numpy(), path=spec.path)
    else:
        if coordinates.empty or coordinates[XYZ].isna().any().any():
            raise NeuroLIPInputError(
                f"reference map {spec.name!r}: spheres need every region's centroid; the run has none "
                "(set dataset.roi_coordinates, or give 'labels')",
                path=spec.path,
            )
        values = regions_from_spheres(img, coordinates, float(spec.radius), path=spec.path)
    if np.ptp(values) == 0:
        raise NeuroLIPInputError(f"reference map {spec.name!r} is constant over the regions", path=spec.path)
    return values


def read_references(entries, coordinates) -> dict:
    """{name: (R,) region values} of the ``evaluation.reference_maps`` entries (names must be unique)."""
    names = [entry["name"] for entry in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise NeuroLIPInputError(f"evaluation.reference_maps: names used twice {duplicates}")
    references = {}
    for entry in entries:
        spec = ReferenceSpec.from_config(entry)
        references[spec.name] = reference_regions(spec, coordinates)
        log.info("reference %s (%s): %d regions", spec.name, spec.path, len(references[spec.name]))
    return references


def centroid_distances(coordinates: pd.DataFrame) -> np.ndarray:
    xyz = coordinates[XYZ].to_numpy(dtype=float)
    return cdist(xyz, xyz)


def spatial_surrogates(reference, distances, n, seed=0) -> np.ndarray:
    """(n, R) variogram-matched surrogates of ``reference`` (brainsmash ``Base``; Burt et al. 2020)."""
    from brainsmash.mapgen.base import Base

    generator = Base(np.asarray(reference, dtype=float), np.asarray(distances, dtype=float), seed=seed)
    return np.atleast_2d(generator(n))


def shuffle_surrogates(reference, n, seed=0) -> np.ndarray:
    """(n, R) region shuffles of ``reference`` (spatial autocorrelation destroyed)."""
    rng = np.random.default_rng(seed)
    return rng.permuted(np.tile(np.asarray(reference, dtype=float), (n, 1)), axis=1)


def _ranks(values):
    ranked = rankdata(np.atleast_2d(values), axis=1)
    ranked -= ranked.mean(1, keepdims=True)
    return ranked / np.linalg.norm(ranked, axis=1, keepdims=True)


def spearman_rows(surrogates, disease_map) -> np.ndarray:
    """Spearman correlation of each row of ``surrogates`` with ``disease_map``."""
    return _ranks(surrogates) @ _ranks(disease_map)[0]


def jaccard_rows(surrogates, disease_map, k) -> np.ndarray:
    """Jaccard overlap of the top-``k`` regions of each row of ``surrogates`` with those of ``disease_map``."""
    top = np.zeros(np.shape(disease_map)[-1], dtype=bool)
    top[np.argsort(disease_map)[::-1][:k]] = True
    rows = np.atleast_2d(surrogates)
    tops = np.zeros(rows.shape, dtype=bool)
    np.put_along_axis(tops, np.argsort(-rows, axis=1)[:, :k], True, axis=1)
    shared = (tops & top).sum(1)
    return shared / (2 * k - shared)


def _p(observed, null):
    """One-sided permutation p: agreement at least as strong as observed, the observed counted once."""
    return (1 + np.sum(null >= observed - 1e-12)) / (1 + len(null))


def compare(reference, disease_map, spatial, shuffled, k) -> dict:
    """Spearman and top-k Jaccard of ``disease_map`` with ``reference``, each against the surrogates of the
    reference (``spatial``; ``shuffled`` for Spearman beside it)."""
    rho = float(spearman_rows(reference, disease_map)[0])
    jaccard = float(jaccard_rows(reference, disease_map, k)[0])
    null_spatial = spearman_rows(spatial, disease_map)
    null_shuffle = spearman_rows(shuffled, disease_map)
    null_jaccard = jaccard_rows(spatial, disease_map, k)
    return {
        "n_regions": len(disease_map),
        "spearman": rho,
        "p_spatial": _p(rho, null_spatial),
        "null_spatial_p95": float(np.quantile(null_spatial, 0.95)),
        "p_shuffle": _p(rho, null_shuffle),
        "null_shuffle_p95": float(np.quantile(null_shuffle, 0.95)),
        "top_k": k,
        "jaccard_top_k": jaccard,
        "jaccard_p_spatial": _p(jaccard, null_jaccard),
        "jaccard_null_p95": float(np.quantile(null_jaccard, 0.95)),
        "n_surrogates": len(spatial),
    }


def method_maps(regions: pd.DataFrame):
    """(method, estimator, fold, map) of a :mod:`.disease_maps` region table: every fold's map, their mean
    over folds (with several folds) and the mean over every trained model's test map."""
    maps = []
    for (method, estimator), rows in regions.groupby(["method", "estimator"], sort=False):
        folds = []
        for fold, part in rows.groupby("fold", sort=True):
            part = part.sort_values("region")
            folds.append(part["observed"].to_numpy(dtype=float))
            maps.append((method, estimator, str(fold), folds[-1]))
        if len(folds) > 1:
            maps.append((method, estimator, MEAN_OVER_FOLDS, np.mean(folds, axis=0)))
        first = rows[rows["fold"] == rows["fold"].min()].sort_values("region")
        maps.append((method, estimator, POOLED, first["pooled_over_models"].to_numpy(dtype=float)))
    return maps


def reference_agreement(references, regions, distances, n_surrogates, k, seed=0, alpha=0.05):
    """The table of every reference × method map (:data:`COLUMNS`) and each reference's null draws.

    ``references`` {name: (R,) region values}; ``regions`` the concatenated region tables of the methods.
    """
    rows, nulls = [], {}
    maps = method_maps(regions)
    for index, (name, reference) in enumerate(references.items()):
        spatial = spatial_surrogates(reference, distances, n_surrogates, seed=seed + index)
        shuffled = shuffle_surrogates(reference, n_surrogates, seed=seed + index)
        nulls[name] = (spatial, shuffled)
        for method, estimator, fold, disease_map in maps:
            if len(disease_map) != len(reference):
                raise NeuroLIPInputError(
                    f"{method} {estimator} map has {len(disease_map)} regions, reference {name!r} "
                    f"{len(reference)}"
                )
            row = {"reference": name, "method": method, "estimator": estimator, "fold": fold}
            row.update(compare(reference, disease_map, spatial, shuffled, k))
            # the verdict is the pre-specified map's only (the mean over all trained models): the per-fold
            # and mean-over-folds rows are descriptive, so many rows do not each get a 5 % chance to "agree"
            row["beats_spatial_null"] = row["p_spatial"] <= alpha if fold == POOLED else None
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS), nulls


# --- the simulated cohort's two control references ---------------------------------------------------------

MNI_BOX = (np.array([-90.0, -126.0, -72.0]), np.array([90.0, 90.0, 108.0]))


def mni_grid(voxel_mm=4.0):
    """(shape, affine) of an MNI-space grid of ``voxel_mm`` voxels."""
    low, high = MNI_BOX
    shape = tuple(int(v) for v in np.floor((high - low) / voxel_mm) + 1)
    affine = np.diag([voxel_mm, voxel_mm, voxel_mm, 1.0])
    affine[:3, 3] = low
    return shape, affine


def planted_image(coordinates, regions, radius, voxel_mm=4.0):
    """1 within ``radius`` mm of the centroids of ``regions`` (0-based rows of ``coordinates``), else 0."""
    import nibabel as nib

    shape, affine = mni_grid(voxel_mm)
    img = nib.Nifti1Image(np.zeros(shape, dtype=np.float32), affine)
    world = _voxel_world(img)
    xyz = coordinates[XYZ].to_numpy(dtype=float)[np.asarray(regions, dtype=int)]
    inside = (cdist(world, xyz) <= radius).any(1)
    return nib.Nifti1Image(inside.reshape(shape).astype(np.float32), affine)


def random_field_image(seed, fwhm_mm=20.0, voxel_mm=4.0):
    """White noise smoothed by a Gaussian of ``fwhm_mm`` (a smooth random field), unit SD."""
    import nibabel as nib
    from scipy.ndimage import gaussian_filter

    shape, affine = mni_grid(voxel_mm)
    field = gaussian_filter(np.random.default_rng(seed).normal(size=shape), fwhm_mm / 2.3548 / voxel_mm)
    return nib.Nifti1Image((field / field.std()).astype(np.float32), affine)


def write_demo_references(coordinates, truth, planted_path, random_path, radius, seed=0, fwhm_mm=20.0):
    """The simulated cohort's control references: spheres of ``radius`` mm at its planted disease regions
    (``truth['disease_regions']``, 0-based) and a smooth random field of ``fwhm_mm`` (seeded)."""
    import nibabel as nib

    if not truth.get("disease_regions"):
        raise NeuroLIPInputError("the ground truth names no planted disease regions")
    for path, img in (
        (planted_path, planted_image(coordinates, truth["disease_regions"], radius)),
        (random_path, random_field_image(seed, fwhm_mm)),
    ):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        nib.save(img, path)


def smooth_region_maps(distances, n, sigma_mm, seed=0) -> np.ndarray:
    """(n, R) smooth random maps on the regions: white noise smoothed by a Gaussian kernel of the centroid
    distances (``sigma_mm``), the benchmark's and tests' maps with spatial autocorrelation and no signal."""
    kernel = np.exp(-(np.asarray(distances) ** 2) / (2 * sigma_mm**2))
    noise = np.random.default_rng(seed).normal(size=(n, len(kernel)))
    return noise @ kernel.T


def false_alarms(distances, n_maps, n_surrogates, sigma_mm, seed=0, alpha=0.05):
    """Per pair of independent smooth random maps (reference, disease map): whether the spatial and the
    shuffle null call their Spearman correlation significant at ``alpha``. Returns a DataFrame."""
    references = smooth_region_maps(distances, n_maps, sigma_mm, seed=seed)
    disease = smooth_region_maps(distances, n_maps, sigma_mm, seed=seed + 10_000)
    rows = []
    for i in range(n_maps):
        spatial = spatial_surrogates(references[i], distances, n_surrogates, seed=seed + i)
        shuffled = shuffle_surrogates(references[i], n_surrogates, seed=seed + i)
        result = compare(references[i], disease[i], spatial, shuffled, k=10)
        rows.append(
            {
                "spearman": result["spearman"],
                "p_spatial": result["p_spatial"],
                "p_shuffle": result["p_shuffle"],
                "spatial_alarm": result["p_spatial"] < alpha,
                "shuffle_alarm": result["p_shuffle"] < alpha,
            }
        )
    return pd.DataFrame(rows)
