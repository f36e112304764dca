"""The data stage's time series and connectomes as a BIDS derivative dataset that other connectivity tools
read, beside the stacked ``.npz`` arrays the workflow itself uses.

Names follow the BIDS connectivity derivatives proposals (BEP012 time series, BEP017 relationship
matrices)::

    dataset_description.json
    participants.tsv                       participant_id (BIDS label) and the workflow's subject_id
    atlas-<atlas>_nodeindices.tsv          matrix_index, node_index (the atlas's region value), x/y/z (mm)
    sub-<label>/func/sub-<label>_atlas-<atlas>_timeseries.tsv   (+ .json)   volumes x regions, header row
    sub-<label>/func/sub-<label>_atlas-<atlas>_meas-<measure>[_desc-FisherZ]_relmat.dense.tsv  (+ _relmat.json)

The matrices are exactly those of ``connectomes.npz`` (Fisher z when ``connectivity.fisher_z``, with the
diagonal set to 0; the sidecar says so), for the subjects of the final cohort; values are written with
enough digits to read back bit for bit.
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


def write_bids_derivatives(
    timeseries_path,
    connectomes_path,
    out_dir,
    *,
    dataset: dict,
    connectivity: dict,
    coordinates_path=None,
) -> Path:
    """Write the derivative dataset of every subject in ``connectomes_path`` into ``out_dir``."""
    from . import __version__
    from .connectome_store import load_connectomes

    out_dir = Path(out_dir)
    subject_ids, matrices = load_connectomes(connectomes_path)
    atlas = atlas_label(dataset)
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
    pd.DataFrame(
        {"participant_id": [f"sub-{labels[s]}" for s in subject_ids], "subject_id": subject_ids}
    ).to_csv(out_dir / "participants.tsv", sep="\t", index=False)
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
            stem = f"sub-{labels[sid]}_atlas-{atlas}"
            timeseries_file = func / f"{stem}_timeseries.tsv"
            np.savetxt(
                timeseries_file,
                values,
                delimiter="\t",
                header="\t".join(columns),
                comments="",
                fmt=_float_format(values),
            )
            sidecar = {
                "Description": "mean signal of each atlas region per volume, as the connectomes were computed from",
                "Atlas": atlas,
                "NodeFile": f"bids::{node_file}",
                "Columns": columns,
                "SubjectID": sid,
            }
            if t_r:
                sidecar["SamplingFrequency"] = 1.0 / float(t_r)
            (func / f"{stem}_timeseries.json").write_text(json.dumps(sidecar, indent=2))
            relmat = func / f"{stem}_meas-{measure}_relmat.dense.tsv"
            np.savetxt(relmat, matrix, delimiter="\t", fmt=_float_format(matrix))
            description = (
                f"{kind} between atlas regions (nilearn ConnectivityMeasure)"
                + ("; Fisher z (arctanh) of the off-diagonal, diagonal set to 0" if fisher_z else "")
                + "; rows and columns of zero-variance regions are 0"
            )
            # BEP017's field names, with "Measure"/"MeasureDescription" as giga_connectome writes them
            relmat_sidecar = {
                "RelationshipMeasure": MEASURES[kind],
                "Measure": MEASURES[kind],
                "MeasureDescription": description,
                "Description": description,
                "FisherZ": fisher_z,
                "Directed": False,
                "Weighted": True,
                "ValidDiagonal": not fisher_z and kind != "tangent",
                "NonNegative": False,
                "StorageFormat": "Full",
                "Axes": [
                    {"Name": axis, "Size": int(matrix.shape[0]), "NodeFile": f"bids::{node_file}"}
                    for axis in ("row", "column")
                ],
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
        (timeseries,) = func.glob(f"{participant}_atlas-*_timeseries.tsv")
        (relmat,) = func.glob(f"{participant}_atlas-*_meas-*_relmat.dense.tsv")
        found[sid] = {
            "timeseries": pd.read_csv(timeseries, sep="\t").to_numpy(),
            "relmat": np.loadtxt(relmat, delimiter="\t", ndmin=2),
            "relmat_json": json.loads(
                relmat.with_name(relmat.name.replace(".dense.tsv", ".json")).read_text()
            ),
        }
    return found
