"""The data stage's time series and connectomes as a BIDS derivative dataset that other connectivity tools
read, beside the stacked ``.npz`` arrays the workflow itself uses.

Names follow the BIDS connectivity derivatives proposals (BEP012 time series, BEP017 relationship
matrices); ``[task-<task>_][space-<space>_]`` appear where the source says which (see
:func:`source_entities`)::

    dataset_description.json
    participants.tsv, participants.json    the final cohort's phenotypes (cohort.tsv), n/a where missing
    atlas-<atlas>_nodeindices.tsv          matrix_index, node_index (the atlas's region value), x/y/z (mm)
    sub-<label>/func/sub-<label>_[task-..._][space-..._]atlas-<atlas>_timeseries.tsv   (+ .json)
    sub-<label>/func/sub-<label>_[...]atlas-<atlas>_meas-<measure>[_desc-FisherZ]_relmat.dense.tsv  (+ .json)

The matrices are exactly those of ``connectomes.npz`` (Fisher z when ``connectivity.fisher_z``, with the
diagonal set to 0; the sidecar says so), for the subjects of the final cohort; values are written with
enough digits to read back bit for bit. pybids reads the dataset with ``BIDSLayout(root,
is_derivative=True, config=["bids", "derivatives", PYBIDS_CONFIG])`` (``PYBIDS_CONFIG`` adds BEP017's
``meas-`` entity, which pybids does not know yet).
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import NeuroLIPInputError

BIDS_VERSION = "1.10.0"
# BEP017 measure labels of the connectivity kinds (neurolip.connectivity.KINDS)
MEASURES = {
    "correlation": "PearsonCorrelation",
    "partial correlation": "PartialCorrelation",
    "tangent": "TangentSpaceCovariance",
}
# an extra pybids configuration with BEP017's ``meas-`` entity (pybids 0.20 knows atlas-, desc-, space-, task-)
PYBIDS_CONFIG = {
    "name": "neurolip_bep017",
    "entities": [{"name": "meas", "pattern": "[_/\\\\]+meas-([a-zA-Z0-9+]+)"}],
}
# the template space of an ABIDE PCP pipeline's outputs, where we know it: C-PAC registers to FSL's MNI152
# template (templateflow's MNI152NLin6Asym); the other pipelines' spaces are not stated here, so omitted
ABIDE_SPACES = {"cpac": "MNI152NLin6Asym"}
# resting-state releases: their time series come from resting-state scans
RESTING_STATE_SOURCES = ("abide", "adhd_athena", "adhd_nilearn")
MISSING = "n/a"


def bids_label(value: str) -> str:
    """A BIDS label (letters and digits only) from any identifier."""
    return re.sub(r"[^A-Za-z0-9]", "", str(value))


def atlas_label(dataset: dict) -> str:
    """The ``atlas-`` label: the release's atlas (ABIDE ``rois_<name>``, Athena ``atlas``), the nilearn
    fetcher's name, the atlas image's file name, or the source's name (simulated)."""
    from .atlas_regions import release_atlas

    options = dataset.get(dataset["source"], {}) or {}
    atlas = release_atlas(dataset)
    spec = options.get("atlas")
    if not atlas and isinstance(spec, dict):
        atlas = spec.get("fetcher") or re.sub(r"\.nii(\.gz)?$", "", Path(spec.get("image", "")).name)
    return bids_label(atlas or dataset["source"]) or "atlas"


def source_entities(dataset: dict) -> dict[str, str]:
    """The ``task``/``space`` entities the source states: fMRIPrep's configured ``task`` and ``space`` (with
    the loader's defaults), ``task-rest`` for the resting-state releases (ABIDE, ADHD-200), ABIDE C-PAC's
    template space; none for the simulated cohort. Unknown entities are omitted, never guessed."""
    source = dataset["source"]
    options = dataset.get(source, {}) or {}
    entities = {}
    if source == "fmriprep":
        import inspect

        from .datasets.bids import load_fmriprep

        defaults = inspect.signature(load_fmriprep).parameters
        entities["task"] = options.get("task", defaults["task"].default)
        entities["space"] = options.get("space", defaults["space"].default)
    elif source in RESTING_STATE_SOURCES:
        entities["task"] = "rest"
        if source == "abide" and options.get("pipeline", "cpac") in ABIDE_SPACES:
            entities["space"] = ABIDE_SPACES[options.get("pipeline", "cpac")]
    return {key: bids_label(value) for key, value in entities.items() if value and bids_label(value)}


def _float_format(values: np.ndarray) -> str:
    # shortest digits that read back to the same float32 / float64
    return "%.9g" if values.dtype == np.float32 else "%.17g"


def _node_table(n_rois: int, coordinates: pd.DataFrame | None) -> pd.DataFrame:
    nodes = pd.DataFrame({"matrix_index": np.arange(n_rois), "node_index": np.arange(1, n_rois + 1)})
    if coordinates is not None and len(coordinates) == n_rois:
        nodes["node_index"] = coordinates["roi"].to_numpy()
        for axis in ("x", "y", "z"):
            nodes[f"{axis}_mm"] = coordinates[f"{axis}_mni"].to_numpy()
    return nodes


def participants_table(subject_ids, labels: dict, cohort_path=None) -> pd.DataFrame:
    """``participant_id`` (``sub-<label>``), the workflow's ``subject_id`` and every column of the cohort
    table (``cohort.tsv``: normalised phenotypes, further configured fields, ``raw_`` source columns) as
    written there, ``n/a`` where missing; one row per subject, in ``subject_ids`` order."""
    table = pd.DataFrame({"participant_id": [f"sub-{labels[s]}" for s in subject_ids]})
    if cohort_path is None:
        table["subject_id"] = list(subject_ids)
        return table
    cohort = pd.read_csv(cohort_path, sep="\t", dtype=str, keep_default_na=False)
    cohort = cohort.drop_duplicates("subject_id").set_index("subject_id", drop=False)
    missing = [s for s in subject_ids if s not in cohort.index]
    if missing:
        raise NeuroLIPInputError(
            f"cohort table lacks subjects {missing[:5]} of the connectomes", path=cohort_path
        )
    rows = cohort.loc[list(subject_ids)].reset_index(drop=True).replace("", MISSING)
    return pd.concat([table, rows.drop(columns="participant_id", errors="ignore")], axis=1)


def _segment_values(dataset: dict, field: str) -> dict[str, str]:
    for segment in (dataset.get("text") or {}).get("segments", []):
        if segment.get("field") == field and segment.get("values"):
            return {str(k): str(v) for k, v in segment["values"].items()}
    return {}


def participants_sidecar(participants: pd.DataFrame, dataset: dict) -> dict:
    """``participants.json``: a Description of every column of ``participants``, Levels of the categorical
    ones (diagnosis and its labels from the dataset's text segment, sex, site, fields with text values) and
    Units of age, from the dataset's phenotype configuration."""
    spec = dataset.get("phenotypes") or {}
    columns = spec.get("columns") or {}

    def source(field):
        column = columns.get(field)
        return f" (column {column!r} of the source phenotype table)" if column else ""

    def observed(column):
        return sorted({v for v in participants[column].astype(str) if v != MISSING})

    diagnosis = {"1": "patient", "0": "control"} | _segment_values(dataset, "diagnosis")
    described = {
        "participant_id": {
            "Description": "BIDS participant label: the workflow's subject_id with every character that is "
            "not a letter or a digit removed"
        },
        "subject_id": {
            "Description": "subject identifier in the NeuroLIP workflow's own files (cohort.tsv, predictions)"
            + source("subject_id")
        },
        "site": {
            "Description": "acquisition site" + source("site"),
            "Levels": {site: f"site {site}" for site in observed("site")} if "site" in participants else {},
        },
        "diagnosis": {
            "Description": "diagnosis, 1 patient and 0 control, mapped by phenotypes.diagnosis_codes"
            + source("diagnosis"),
            "Levels": diagnosis,
        },
        "sex": {
            "Description": "sex, mapped by phenotypes.sex_codes" + source("sex"),
            "Levels": {
                value: value
                for value in sorted(
                    {str(v) for v in (spec.get("sex_codes") or {}).values()}
                    | set(observed("sex") if "sex" in participants else [])
                )
            },
        },
        "age": {"Description": "age at scan" + source("age"), "Units": "year"},
        "srs": {"Description": "Social Responsiveness Scale score" + source("srs")},
    }
    sidecar = {}
    for column in participants.columns:
        if column in described:
            entry = {key: value for key, value in described[column].items() if value}
        elif column.startswith("raw_"):
            entry = {
                "Description": f"column {column.removeprefix('raw_')!r} of the source phenotype table, as read "
                "(not normalised)"
            }
        else:
            entry = {"Description": f"phenotype field {column!r}, cleaned codes" + source(column)}
            if levels := _segment_values(dataset, column):
                entry["Levels"] = levels
        sidecar[column] = entry
    return sidecar


def write_bids_derivatives(
    timeseries_path,
    connectomes_path,
    out_dir,
    *,
    dataset: dict,
    connectivity: dict,
    coordinates_path=None,
    cohort_path=None,
) -> Path:
    """Write the derivative dataset of every subject in ``connectomes_path`` into ``out_dir``; the
    participants table holds the phenotypes of ``cohort_path`` (the connectivity step's ``cohort.tsv``)."""
    from . import __version__
    from .connectome_store import load_connectomes

    out_dir = Path(out_dir)
    subject_ids, matrices = load_connectomes(connectomes_path)
    atlas = atlas_label(dataset)
    entities = source_entities(dataset)
    kind = connectivity.get("kind", "correlation")
    fisher_z = bool(connectivity.get("fisher_z", True)) and kind in ("correlation", "partial correlation")
    measure = MEASURES[kind] + ("_desc-FisherZ" if fisher_z else "")
    labels = {sid: bids_label(sid) for sid in subject_ids}
    clashes = pd.Series(list(labels.values())).duplicated(keep=False)
    if clashes.any() or not all(labels.values()):
        bad = sorted(s for s, lab in labels.items() if not lab or list(labels.values()).count(lab) > 1)
        raise NeuroLIPInputError(
            f"subject IDs {bad[:5]} give no distinct BIDS label (letters and digits only)",
            path=connectomes_path,
        )
    participants = participants_table(subject_ids, labels, cohort_path)
    coordinates = None
    if coordinates_path is not None and Path(coordinates_path).is_file():
        coordinates = pd.read_csv(coordinates_path, comment="#")
    out_dir.mkdir(parents=True, exist_ok=True)
    node_file = f"atlas-{atlas}_nodeindices.tsv"
    nodes = _node_table(matrices.shape[1], coordinates)
    nodes.to_csv(out_dir / node_file, sep="\t", index=False)
    columns = [f"node{n}" for n in nodes["node_index"]]
    t_r = (dataset.get("extraction") or {}).get("t_r")
    (out_dir / "dataset_description.json").write_text(
        json.dumps(
            {
                "Name": f"NeuroLIP ROI time series and connectomes: {dataset['name']}",
                "BIDSVersion": BIDS_VERSION,
                "DatasetType": "derivative",
                "GeneratedBy": [
                    {
                        "Name": "NeuroLIP",
                        "Version": __version__,
                        "Description": "data stage of the NeuroLIP Snakemake workflow",
                    }
                ],
                "SourceDatasets": [
                    {"Description": f"source {dataset['source']!r} of dataset {dataset['name']!r}"}
                ],
            },
            indent=2,
        )
    )
    participants.to_csv(out_dir / "participants.tsv", sep="\t", index=False)
    (out_dir / "participants.json").write_text(
        json.dumps(participants_sidecar(participants, dataset), indent=2)
    )
    prefix = "".join(f"_{key}-{entities[key]}" for key in ("task", "space") if key in entities)
    with np.load(timeseries_path) as series:
        missing = [s for s in subject_ids if s not in series.files]
        if missing:
            raise NeuroLIPInputError(
                f"no time series for cohort subjects {missing[:5]}", path=timeseries_path
            )
        for sid, matrix in zip(subject_ids, matrices):
            values = series[sid]
            func = out_dir / f"sub-{labels[sid]}" / "func"
            func.mkdir(parents=True, exist_ok=True)
            stem = f"sub-{labels[sid]}{prefix}_atlas-{atlas}"
            timeseries_file = func / f"{stem}_timeseries.tsv"
            np.savetxt(
                timeseries_file,
                values,
                delimiter="\t",
                header="\t".join(columns),
                comments="",
                fmt=_float_format(values),
            )
            # BEP012 time series: one row per volume (SamplingFrequency where the TR is known), one column per
            # node, each described as BIDS describes a tabular file's columns
            sidecar = {
                "Description": "mean signal of each atlas region per volume, as the connectomes were computed from"
            }
            if t_r:
                sidecar["SamplingFrequency"] = 1.0 / float(t_r)
            for column, index, node in zip(columns, nodes["matrix_index"], nodes["node_index"]):
                sidecar[column] = {
                    "Description": f"mean signal of atlas region {node} (matrix_index {index} of {node_file})"
                }
            (func / f"{stem}_timeseries.json").write_text(json.dumps(sidecar, indent=2))
            relmat = func / f"{stem}_meas-{measure}_relmat.dense.tsv"
            np.savetxt(relmat, matrix, delimiter="\t", fmt=_float_format(matrix))
            # BEP017 relationship matrix: the measure, its properties and the node file of each axis
            relmat_sidecar = {
                "Measure": MEASURES[kind],
                "MeasureDescription": (
                    f"{kind} between atlas regions (nilearn ConnectivityMeasure)"
                    + ("; Fisher z (arctanh) of the off-diagonal, diagonal set to 0" if fisher_z else "")
                    + "; rows and columns of zero-variance regions are 0"
                ),
                "Weighted": True,
                "Directed": False,
                "ValidDiagonal": not fisher_z and kind != "tangent",
                "NonNegative": False,
                "StorageFormat": "Full",
                "NodeFiles": [f"bids::{node_file}", f"bids::{node_file}"],
                "Sources": [f"bids::{timeseries_file.relative_to(out_dir).as_posix()}"],
            }
            (func / f"{stem}_meas-{measure}_relmat.json").write_text(json.dumps(relmat_sidecar, indent=2))
    return out_dir


def read_bids_derivatives(out_dir) -> dict[str, dict]:
    """Read the dataset back: ``{subject_id: {"timeseries": array, "relmat": array, "relmat_json": dict}}``."""
    out_dir = Path(out_dir)
    participants = pd.read_csv(out_dir / "participants.tsv", sep="\t", dtype=str, keep_default_na=False)
    found = {}
    for participant, sid in zip(participants.participant_id, participants.subject_id):
        func = out_dir / participant / "func"
        (timeseries,) = func.glob(f"{participant}_*atlas-*_timeseries.tsv")
        (relmat,) = func.glob(f"{participant}_*atlas-*_meas-*_relmat.dense.tsv")
        found[sid] = {
            "timeseries": pd.read_csv(timeseries, sep="\t").to_numpy(),
            "relmat": np.loadtxt(relmat, delimiter="\t", ndmin=2),
            "relmat_json": json.loads(
                relmat.with_name(relmat.name.replace(".dense.tsv", ".json")).read_text()
            ),
        }
    return found
