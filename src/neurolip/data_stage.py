"""The data stage, step by step: source -> time series -> phenotypes -> connectomes -> texts -> folds.

Each function reads and writes files so a Snakemake rule can call it, and each is testable without
Snakemake. Every subject that is dropped is logged with its step and reason in an exclusions TSV.
"""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .connectivity import ConnectomeBuilder
from .errors import NeuroLIPInputError
from .exclusions import COLUMNS as EXCLUSION_COLUMNS
from .exclusions import ExclusionLog, read_exclusions
from .folds import check_group_thresholds_feasible, make_folds
from .phenotypes import normalize_phenotypes, phenotype_qc, read_phenotypes
from .progress import progress_bar
from .subjects import check_subject_id, check_unique
from .text import check_segments, class_prompts, render_texts
from .timeseries import read_roi_timeseries, validate_timeseries, zero_variance_rois

log = logging.getLogger(__name__)


def load_source(dataset, raw_dir):
    """Dispatch on ``dataset['source']`` and return a :class:`~neurolip.datasets.SourceData`."""
    source = dataset["source"]
    options = dataset.get(source, {}) or {}
    if source == "simulated":
        from .datasets.simulated import load_simulated, simulate_cohort

        simulate_cohort(raw_dir, **options)
        return load_simulated(raw_dir)
    if source == "abide":
        from .datasets.abide import load_abide

        return load_abide(**options)
    if source == "adhd_athena":
        from .datasets.adhd import load_adhd_athena

        return load_adhd_athena(**options)
    if source == "adhd_nilearn":
        from .datasets.adhd import load_adhd_nilearn

        return load_adhd_nilearn(**{k: v for k, v in options.items() if k != "atlas"})
    if source == "fmriprep":
        from .datasets.bids import load_fmriprep

        return load_fmriprep(**{k: v for k, v in options.items() if k != "atlas"})
    raise NeuroLIPInputError(f"unknown data source {source!r}")


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
        table = atlas_centroids(load_atlas(options["atlas"]))
    else:
        log.warning(
            "no ROI coordinates for atlas %r: brain maps will be region-index tables; set dataset.roi_coordinates "
            "to a CSV roi,x_mni,y_mni,z_mni to draw them on a brain",
            atlas,
        )
        table = pd.DataFrame(columns=["roi", "x_mni", "y_mni", "z_mni"])
    table.to_csv(out_path, index=False)


def fetch(
    dataset,
    raw_dir,
    manifest_path,
    phenotypes_raw_path,
    exclusions_path,
    coordinates_path=None,
    ground_truth_path=None,
):
    source = load_source(dataset, raw_dir)
    if coordinates_path is not None:
        write_roi_coordinates(dataset, raw_dir, coordinates_path)
    if ground_truth_path is not None:
        truth = Path(raw_dir) / "ground_truth.json"
        Path(ground_truth_path).write_text(
            truth.read_text() if truth.is_file() else json.dumps({"available": False})
        )
    manifest = source.manifest
    for sid in manifest["subject_id"]:
        check_subject_id(sid, path=source.phenotype_path or None)
    # a subject has several rows only for several NIfTI runs (joined into one series), never one file twice
    runs = manifest["kind"] == "nifti"
    check_unique(manifest.loc[~runs, "subject_id"], path=source.phenotype_path or None)
    twice = manifest.loc[runs & manifest.duplicated("path"), "path"]
    if len(twice):
        raise NeuroLIPInputError(f"files listed twice in the manifest: {', '.join(twice[:5])}")
    manifest.to_csv(manifest_path, sep="\t", index=False)
    source.phenotypes.to_csv(phenotypes_raw_path, sep="\t", index=False)
    exclusions = ExclusionLog("fetch")
    for sid, reason, detail in source.missing:
        exclusions.add(sid, reason, detail)
    exclusions.write(exclusions_path)
    log.info("fetched %d subjects (%d listed without data)", len(manifest), len(exclusions))
    return manifest


def extract_timeseries(dataset, manifest_path, out_path, exclusions_path, subjects=None):
    """Read (or extract with a masker) every subject's ROI time series into one ``.npz``; with ``subjects``,
    only those (one job per subject for NIfTI sources; :func:`gather_timeseries` then joins them).

    Bad files are excluded and logged when ``dataset['on_bad_file'] == 'exclude'`` (default), or stop
    the run with the error when it is ``'error'``.
    """
    manifest = pd.read_csv(manifest_path, sep="\t", dtype=str, keep_default_na=False)
    if subjects is not None:
        unknown = sorted(set(subjects) - set(manifest["subject_id"]))
        if unknown:
            raise NeuroLIPInputError(f"subjects {unknown[:5]} are not in the manifest", path=manifest_path)
        manifest = manifest[manifest["subject_id"].isin(subjects)]
    n_rois = dataset.get("n_rois")
    min_volumes = int(dataset.get("min_volumes", 0))
    on_bad = dataset.get("on_bad_file", "exclude")
    exclusions = ExclusionLog("timeseries")
    extractor = None
    if (manifest["kind"] == "nifti").any():
        from .extraction import RoiExtractor, load_atlas

        options = dataset.get(dataset["source"], {}) or {}
        extraction = dataset.get("extraction", {}) or {}
        extractor = RoiExtractor(load_atlas(options.get("atlas", {})), **extraction).fit()
    arrays = {}
    # one subject's rows are its runs (NIfTI sources with several sessions or runs), in the order to join them
    by_subject = manifest.groupby("subject_id", sort=False)
    for sid, rows in progress_bar(by_subject, total=by_subject.ngroups, desc="time series", unit="subject"):
        sid = check_subject_id(sid)
        try:
            parts = []
            for row in rows.itertuples(index=False):
                if row.kind == "roi_text":
                    parts.append(read_roi_timeseries(row.path, subject_id=sid, n_rois=n_rois))
                else:
                    values = extractor.transform_one(
                        row.path,
                        row.confounds or None,
                        fmriprep=dataset["source"] == "fmriprep",
                        subject_id=sid,
                    )
                    parts.append(validate_timeseries(values, path=row.path, subject_id=sid, n_rois=n_rois))
            # each run was cleaned and standardised on its own by the masker
            values = np.concatenate(parts) if len(parts) > 1 else parts[0]
        except NeuroLIPInputError as exc:
            if on_bad == "error":
                raise
            exclusions.add(sid, "unreadable or invalid time series", exc)
            continue
        if values.shape[0] < min_volumes:
            files = ", ".join(rows["path"])
            exclusions.add(sid, "too few volumes", f"{values.shape[0]} < min_volumes={min_volumes} ({files})")
            continue
        arrays[sid] = values.astype(np.float32)
    if subjects is None:
        _check_timeseries(arrays, manifest_path, exclusions_path)
    np.savez(out_path, **arrays)
    exclusions.write(exclusions_path)


def _check_timeseries(arrays, manifest_path, exclusions_path):
    if not arrays:
        raise NeuroLIPInputError(
            "no subject has a usable time series; see the exclusions", path=exclusions_path
        )
    widths = {v.shape[1] for v in arrays.values()}
    if len(widths) > 1:
        raise NeuroLIPInputError(
            f"subjects have different ROI counts {sorted(widths)}; set dataset.n_rois", path=manifest_path
        )


def gather_timeseries(part_paths, part_exclusions, manifest_path, out_path, exclusions_path):
    """Join per-subject time-series files and their exclusions into the ``.npz`` and log of one step."""
    arrays = {}
    for path in part_paths:
        with np.load(path) as part:
            arrays.update({sid: part[sid] for sid in part.files})
    exclusions = pd.concat([read_exclusions(p) for p in part_exclusions], ignore_index=True)
    exclusions.to_csv(exclusions_path, sep="\t", index=False)
    _check_timeseries(arrays, manifest_path, exclusions_path)
    np.savez(out_path, **arrays)


def prepare_phenotypes(dataset, phenotypes_raw_path, out_path, exclusions_path, qc_path=None):
    """Normalise the raw phenotype table; write it, its exclusions and (``qc_path``) per-field missingness.
    A sensitive attribute or text field with no known value for any subject is an error, here, before any
    training job starts."""
    raw = pd.read_csv(phenotypes_raw_path, sep="\t", dtype=str, keep_default_na=False)
    table, exclusions = normalize_phenotypes(raw, dataset["phenotypes"], path=phenotypes_raw_path)
    qc = phenotype_qc(raw, table, dataset["phenotypes"])
    if qc_path is not None:
        qc.to_csv(qc_path, sep="\t", index=False)
    for attribute in dataset.get("sensitive_attributes", ["sex"]):
        if attribute not in table.columns or table[attribute].isna().all():
            column = dataset["phenotypes"]["columns"].get(attribute)
            raise NeuroLIPInputError(
                f"sensitive attribute {attribute!r} (column {column!r}) is known for none of the {len(table)} "
                "subjects: map its column under dataset.phenotypes.columns (and its codes), or remove it from "
                "dataset.sensitive_attributes",
                path=phenotypes_raw_path,
            )
    check_segments(dataset["text"]["segments"], table, path=phenotypes_raw_path)
    table.to_csv(out_path, sep="\t", index=False)
    exclusions.write(exclusions_path)


def build_connectomes(
    connectivity,
    timeseries_path,
    phenotypes_path,
    upstream_exclusions,
    out_path,
    qc_path,
    exclusions_path,
    cohort_path,
):
    """Intersect subjects with a time series and a phenotype row, compute connectomes, merge exclusions."""
    phenotypes = read_phenotypes(phenotypes_path)
    series = np.load(timeseries_path)
    upstream = pd.concat([read_exclusions(p) for p in upstream_exclusions], ignore_index=True)
    excluded = set(upstream["subject_id"])
    exclusions = ExclusionLog("cohort")
    with_phenotype = set(phenotypes["subject_id"])
    for sid in series.files:
        if sid not in with_phenotype and sid not in excluded:
            exclusions.add(sid, "no phenotype row", "time series present but no usable phenotype row")
    for sid in phenotypes["subject_id"]:
        if sid not in series.files and sid not in excluded:
            exclusions.add(sid, "no time series", "phenotype row present but no time series")
    cohort = phenotypes[phenotypes["subject_id"].isin(set(series.files))].reset_index(drop=True)
    subject_series = [
        series[sid] for sid in progress_bar(cohort["subject_id"], desc="loading", unit="subject")
    ]
    builder = ConnectomeBuilder(**connectivity)
    matrices = builder.fit(subject_series).transform(subject_series)
    qc = pd.DataFrame(
        {
            "subject_id": cohort["subject_id"],
            "n_volumes": [s.shape[0] for s in subject_series],
            "n_zero_variance_rois": builder.n_zero_variance_,
            "zero_variance_rois": [",".join(map(str, zero_variance_rois(s) + 1)) for s in subject_series],
        }
    )
    np.savez_compressed(out_path, subject_ids=cohort["subject_id"].to_numpy(dtype=str), connectomes=matrices)
    qc.to_csv(qc_path, sep="\t", index=False)
    cohort.to_csv(cohort_path, sep="\t", index=False)
    merged = pd.concat([upstream, exclusions.to_frame()], ignore_index=True)[EXCLUSION_COLUMNS]
    merged.to_csv(exclusions_path, sep="\t", index=False)
    log.info(
        "%d subjects in the cohort, %d excluded, %d with zero-variance ROIs",
        len(cohort),
        len(merged),
        int((builder.n_zero_variance_ > 0).sum()),
    )


def load_connectomes(path):
    with np.load(path) as data:
        return data["subject_ids"].astype(str), data["connectomes"]


def write_texts(text_spec, cohort_path, out_path, prompts_path):
    cohort = read_phenotypes(cohort_path)
    texts = render_texts(cohort, text_spec["segments"], path=cohort_path)
    with open(out_path, "w") as handle:
        for item in texts:
            handle.write(json.dumps(item.to_record()) + "\n")
    prompts = class_prompts(text_spec["segments"])
    Path(prompts_path).write_text(json.dumps([p.to_record() for p in prompts], indent=2))


def read_texts(path):
    from .text import PhenotypeText

    with open(path) as handle:
        return [PhenotypeText.from_record(json.loads(line)) for line in handle if line.strip()]


def write_folds(cv, cohort_path, out_path, group_thresholds_attribute=None):
    """Cross-validation folds; with ``group_thresholds_attribute``, first check that group thresholds can
    be fitted on it (two groups holding both diagnoses), so a misconfigured run stops before training."""
    cohort = read_phenotypes(cohort_path)
    if group_thresholds_attribute:
        try:
            check_group_thresholds_feasible(cohort, group_thresholds_attribute)
        except ValueError as exc:
            raise NeuroLIPInputError(str(exc), path=cohort_path) from exc
    folds = make_folds(
        cohort,
        n_folds=cv["n_folds"],
        val_fraction=cv["val_fraction"],
        seed=cv["seed"],
        n_repeats=cv.get("n_repeats", 1),
    )
    folds.to_csv(out_path, sep="\t", index=False)
