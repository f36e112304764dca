"""The data stage, step by step: source -> time series -> phenotypes -> connectomes -> texts -> folds.

Each function reads and writes files so a Snakemake rule can call it, and each is testable without
Snakemake. Every subject that is dropped is logged with its step and reason in an exclusions TSV.
"""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

# re-exported: the data stage's steps, one import for its scripts and tests
from .atlas_regions import atlas_centroids, release_atlas, write_roi_coordinates  # noqa: F401, E402
from .connectome_store import FoldConnectomes, load_connectomes, write_fold_connectomes  # noqa: F401, E402
from .errors import NeuroLIPInputError
from .exclusions import COLUMNS as EXCLUSION_COLUMNS
from .exclusions import ExclusionLog, read_exclusions
from .phenotypes import normalize_phenotypes, phenotype_qc, read_phenotypes
from .progress import progress_bar
from .subjects import check_subject_id, check_unique
from .text import check_segments, class_prompts, render_texts
from .timeseries import read_roi_timeseries, validate_timeseries, zero_variance_rois

# .connectivity and .folds (scikit-learn, nilearn: seconds of start-up, benchmarks/startup.py) are imported by
# the steps that use them: most jobs importing this module (fetch, phenotypes, texts, text features) never do

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
    """Intersect subjects with a time series and a phenotype row, exclude unusable scans, compute connectomes,
    merge exclusions.

    A scan whose share of constant ROIs (zero variance: all zero, outside the field of view) exceeds
    ``connectivity['max_unusable_roi_share']`` is excluded with its reason. Subject-level kinds
    (correlation, partial correlation) are written as matrices; a group-level kind (tangent) needs a
    reference fitted on training subjects only, so its time series are written instead and
    :func:`load_connectomes` fits the reference per fold.
    """
    from .connectivity import DEFAULT_MAX_UNUSABLE_ROI_SHARE, GROUP_KINDS, ConnectomeBuilder

    connectivity = dict(connectivity)
    max_unusable = connectivity.pop("max_unusable_roi_share", DEFAULT_MAX_UNUSABLE_ROI_SHARE)
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
    usable = np.ones(len(cohort), dtype=bool)
    for i, sid in enumerate(cohort["subject_id"]):
        values = series[sid]
        n_dead = zero_variance_rois(values).size
        if n_dead > max_unusable * values.shape[1]:
            exclusions.add(
                sid,
                "unusable scan",
                f"{n_dead} of {values.shape[1]} ROIs have zero variance (all zero or constant), more than "
                f"connectivity.max_unusable_roi_share={max_unusable}",
            )
            usable[i] = False
    cohort = cohort[usable].reset_index(drop=True)
    if cohort.empty:
        raise NeuroLIPInputError("no subject has a usable scan; see the exclusions", path=timeseries_path)
    subject_series = [
        series[sid] for sid in progress_bar(cohort["subject_id"], desc="loading", unit="subject")
    ]
    builder = ConnectomeBuilder(**connectivity)
    subject_ids = cohort["subject_id"].to_numpy(dtype=str)
    if builder.kind in GROUP_KINDS:
        builder._measure()  # an unknown kind fails here, not in a training job
        n_zero_variance = np.array([zero_variance_rois(s).size for s in subject_series])
        np.savez_compressed(
            out_path,
            subject_ids=subject_ids,
            series=np.concatenate(subject_series).astype(np.float32),
            n_volumes=np.array([s.shape[0] for s in subject_series]),
            settings=np.array(json.dumps(connectivity)),
        )
    else:
        matrices = builder.fit(subject_series).transform(subject_series)
        n_zero_variance = builder.n_zero_variance_
        np.savez_compressed(out_path, subject_ids=subject_ids, connectomes=matrices)
    qc = pd.DataFrame(
        {
            "subject_id": cohort["subject_id"],
            "n_volumes": [s.shape[0] for s in subject_series],
            "n_zero_variance_rois": n_zero_variance,
            "zero_variance_rois": [",".join(map(str, zero_variance_rois(s) + 1)) for s in subject_series],
        }
    )
    qc.to_csv(qc_path, sep="\t", index=False)
    cohort.to_csv(cohort_path, sep="\t", index=False)
    merged = pd.concat([upstream, exclusions.to_frame()], ignore_index=True)[EXCLUSION_COLUMNS]
    merged.to_csv(exclusions_path, sep="\t", index=False)
    log.info(
        "%d subjects in the cohort, %d excluded, %d with zero-variance ROIs",
        len(cohort),
        len(merged),
        int((n_zero_variance > 0).sum()),
    )


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


def check_attributes(cohort, sensitive_attributes=(), trained_attributes=(), path=None):
    """Before any training job: an attribute a method trains on (FairCLIP, adversary) needs two groups in the
    cohort (an error naming it); a sensitive attribute with fewer than two groups gets no fairness rows in the
    evaluation (a warning here, a note there)."""
    for attribute in sensitive_attributes:
        if attribute in cohort.columns and cohort[attribute].dropna().astype(str).nunique() < 2:
            log.warning(
                "sensitive attribute %r has fewer than two groups in the cohort (%s): its fairness rows will be "
                "empty",
                attribute,
                sorted(cohort[attribute].dropna().astype(str).unique()),
            )
    for attribute in trained_attributes:
        groups = cohort[attribute].dropna().astype(str).unique() if attribute in cohort.columns else []
        if len(groups) < 2:
            raise NeuroLIPInputError(
                f"methods train on attribute {attribute!r} (fairclip_attribute / adversary_attribute), which has "
                f"groups {sorted(groups)} in the cohort: it needs two; protect another attribute or drop those "
                "methods",
                path=path,
            )


def write_folds(
    cv, cohort_path, out_path, group_thresholds_attribute=None, sensitive_attributes=(), trained_attributes=()
):
    """Cross-validation folds; with ``group_thresholds_attribute``, first check that group thresholds can
    be fitted on it (two groups holding both diagnoses), so a misconfigured run stops before training; and
    the attributes methods train on and are evaluated on (:func:`check_attributes`)."""
    from .folds import check_group_thresholds_feasible, make_folds

    cohort = read_phenotypes(cohort_path)
    check_attributes(cohort, sensitive_attributes, trained_attributes, path=cohort_path)
    if group_thresholds_attribute:
        try:
            check_group_thresholds_feasible(cohort, group_thresholds_attribute)
        except ValueError as exc:
            raise NeuroLIPInputError(str(exc), path=cohort_path) from exc
    scheme = cv.get("scheme", "stratified")
    if scheme == "leave_site_out" and group_thresholds_attribute == "site":
        raise NeuroLIPInputError(
            "cv.scheme leave_site_out tests sites no training fold holds: group thresholds on 'site' "
            "(evaluation.fair_thresholds.attribute) cannot be fitted for them; choose another attribute",
            path=cohort_path,
        )
    try:
        if scheme == "leave_site_out":
            from .folds import make_site_folds

            if cv.get("n_repeats", 1) != 1:
                raise ValueError("cv.scheme leave_site_out has one split of the sites: set cv.n_repeats: 1")
            folds = make_site_folds(
                cohort,
                n_folds=cv["n_folds"],
                val_fraction=cv["val_fraction"],
                seed=cv["seed"],
                settings=cv.get("leave_site_out"),
            )
        else:
            folds = make_folds(
                cohort,
                n_folds=cv["n_folds"],
                val_fraction=cv["val_fraction"],
                seed=cv["seed"],
                n_repeats=cv.get("n_repeats", 1),
            )
    except ValueError as exc:  # an impossible request, named before any training job starts
        raise NeuroLIPInputError(str(exc), path=cohort_path) from exc
    folds.to_csv(out_path, sep="\t", index=False)


def write_fold_sites(cv, cohort_path, folds_path, out_path):
    """What each fold tests, site by site (:func:`neurolip.folds.fold_sites`), and the sites only trained on."""
    from .folds import fold_sites

    cohort = read_phenotypes(cohort_path)
    folds = pd.read_csv(folds_path, sep="\t", dtype={"subject_id": str})
    table = fold_sites(folds, cohort, cv.get("leave_site_out"), cv.get("scheme", "stratified"))
    table.to_csv(out_path, sep="\t", index=False)
