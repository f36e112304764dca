"""BIDS-derivative time series and connectomes (BEP012/BEP017 names) written beside the stacked arrays and
read back equal to them, by our reader and by pybids; participants.tsv/json carry the cohort's phenotypes."""

import json

import numpy as np
import pandas as pd
import pytest
from cohort import tiny_dataset_config

from neurolip import data_stage
from neurolip.bids_derivatives import (
    PYBIDS_CONFIG,
    atlas_label,
    read_bids_derivatives,
    source_entities,
    write_bids_derivatives,
)
from neurolip.errors import NeuroLIPInputError
from neurolip.phenotypes import read_phenotypes

CONNECTIVITY = {"kind": "correlation", "fisher_z": True, "shrinkage": "auto"}


@pytest.fixture
def data_dir(tmp_path):
    dataset = tiny_dataset_config(n_subjects=12, n_rois=6)
    d = tmp_path / "data"
    d.mkdir()
    data_stage.fetch(
        dataset, d / "raw", d / "manifest.tsv", d / "raw_ph.tsv", d / "ex1.tsv", d / "coords.csv"
    )
    data_stage.extract_timeseries(dataset, d / "manifest.tsv", d / "timeseries.npz", d / "ex2.tsv")
    data_stage.prepare_phenotypes(dataset, d / "raw_ph.tsv", d / "ph.tsv", d / "ex3.tsv")
    data_stage.build_connectomes(
        CONNECTIVITY,
        d / "timeseries.npz",
        d / "ph.tsv",
        [d / "ex1.tsv", d / "ex2.tsv", d / "ex3.tsv"],
        d / "connectomes.npz",
        d / "qc.tsv",
        d / "exclusions.tsv",
        d / "cohort.tsv",
    )
    return dataset, d


def test_derivatives_read_back_equal_to_the_stacked_arrays(data_dir):
    dataset, d = data_dir
    out = write_bids_derivatives(
        d / "timeseries.npz",
        d / "connectomes.npz",
        d / "bids",
        dataset=dataset,
        connectivity=CONNECTIVITY,
        coordinates_path=d / "coords.csv",
        cohort_path=d / "cohort.tsv",
    )
    subject_ids, matrices = data_stage.load_connectomes(d / "connectomes.npz")
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative" and description["BIDSVersion"]
    label = atlas_label(dataset)
    assert label == "simulated"
    first = out / f"sub-{subject_ids[0]}" / "func" / f"sub-{subject_ids[0]}_atlas-{label}"
    assert first.with_name(first.name + "_timeseries.json").is_file()
    relmat = first.with_name(first.name + "_meas-PearsonCorrelation_desc-FisherZ_relmat.dense.tsv")
    assert (
        relmat.is_file()
        and first.with_name(first.name + "_meas-PearsonCorrelation_desc-FisherZ_relmat.json").is_file()
    )

    found = read_bids_derivatives(out)
    assert sorted(found) == sorted(subject_ids)
    with np.load(d / "timeseries.npz") as series:
        for sid, matrix in zip(subject_ids, matrices):
            assert np.array_equal(found[sid]["relmat"].astype(matrix.dtype), matrix)
            assert np.array_equal(found[sid]["timeseries"].astype(series[sid].dtype), series[sid])
            # Fisher z is said by desc-FisherZ and the measure's description (no non-standard FisherZ key)
            assert "Fisher z" in found[sid]["relmat_json"]["MeasureDescription"]
            assert found[sid]["relmat_json"]["ValidDiagonal"] is False
    nodes = pd.read_csv(out / f"atlas-{label}_nodeindices.tsv", sep="\t")
    coordinates = pd.read_csv(d / "coords.csv", comment="#")
    assert list(nodes["node_index"]) == list(coordinates["roi"]) and len(nodes) == matrices.shape[1]


def test_subject_ids_without_distinct_bids_labels_are_an_error(data_dir, tmp_path):
    dataset, d = data_dir
    subject_ids, matrices = data_stage.load_connectomes(d / "connectomes.npz")
    ids = np.array(["a-1", "a_1", *subject_ids[2:]])
    np.savez(tmp_path / "clash.npz", subject_ids=ids, connectomes=matrices)
    with pytest.raises(NeuroLIPInputError, match=r"clash\.npz.*no distinct BIDS label"):
        write_bids_derivatives(
            d / "timeseries.npz",
            tmp_path / "clash.npz",
            tmp_path / "bids",
            dataset=dataset,
            connectivity=CONNECTIVITY,
        )


def _fmriprep_like(dataset):
    """The same data described as an fMRIPrep source: task, space and TR known."""
    return dataset | {
        "source": "fmriprep",
        "fmriprep": {
            "task": "rest",
            "space": "MNI152NLin2009cAsym",
            "atlas": {"image": "atlas/labels.nii.gz"},
        },
        "extraction": {"t_r": 2.0},
    }


@pytest.mark.parametrize("source", ["simulated", "fmriprep"])
def test_pybids_reads_the_derivative_back(data_dir, source):
    import bids  # the test extra pins pybids

    dataset, d = data_dir
    if source == "fmriprep":
        dataset = _fmriprep_like(dataset)
    out = write_bids_derivatives(
        d / "timeseries.npz",
        d / "connectomes.npz",
        d / "bids",
        dataset=dataset,
        connectivity=CONNECTIVITY,
        coordinates_path=d / "coords.csv",
        cohort_path=d / "cohort.tsv",
    )
    subject_ids, _ = data_stage.load_connectomes(d / "connectomes.npz")
    layout = bids.BIDSLayout(
        out, validate=False, is_derivative=True, config=["bids", "derivatives", PYBIDS_CONFIG]
    )
    assert sorted(layout.get_subjects()) == sorted(subject_ids)
    # the simulated cohort has no task or space: none is invented
    expected = {"simulated": {}, "fmriprep": {"task": "rest", "space": "MNI152NLin2009cAsym"}}[source]
    atlas = {"simulated": "simulated", "fmriprep": "labels"}[source]
    for sid in subject_ids:
        (relmat,) = layout.get(subject=sid, suffix="relmat", extension=".dense.tsv")
        entities = relmat.get_entities()
        assert {k: entities.get(k) for k in ("atlas", "meas", "desc")} == {
            "atlas": atlas,
            "meas": "PearsonCorrelation",
            "desc": "FisherZ",
        }
        assert {k: entities[k] for k in ("task", "space") if k in entities} == expected
        metadata = layout.get_metadata(relmat.path)
        assert metadata["Measure"] == "PearsonCorrelation" and metadata["MeasureDescription"]
        assert (metadata["Weighted"], metadata["Directed"], metadata["ValidDiagonal"]) == (True, False, False)
        assert metadata["StorageFormat"] == "Full"
        assert metadata["NodeFiles"] == [f"bids::atlas-{atlas}_nodeindices.tsv"] * 2
        assert not {"RelationshipMeasure", "SubjectID", "FisherZ"} & set(metadata)

        (timeseries,) = layout.get(subject=sid, suffix="timeseries", extension=".tsv")
        assert {k: timeseries.get_entities().get(k) for k in ("atlas", *expected)} == {
            "atlas": atlas
        } | expected
        metadata = layout.get_metadata(timeseries.path)
        header = pd.read_csv(timeseries.path, sep="\t", nrows=0).columns
        assert all(metadata[column]["Description"] for column in header)
        assert "SubjectID" not in metadata
        if source == "fmriprep":
            assert metadata["SamplingFrequency"] == pytest.approx(0.5)
        else:
            assert "SamplingFrequency" not in metadata

    # participants.tsv round-trips: the cohort's values, missing ones where the cohort has none
    (participants,) = layout.get(suffix="participants", extension=".tsv")
    table = participants.get_df()
    cohort = read_phenotypes(d / "cohort.tsv")
    assert list(table["participant_id"]) == [f"sub-{s}" for s in subject_ids]
    assert list(table["subject_id"]) == list(cohort["subject_id"]) == list(subject_ids)
    for column in cohort.columns:
        pd.testing.assert_series_equal(
            table[column], cohort[column], check_dtype=False, check_names=False, obj=column
        )
    assert cohort[["age", "srs"]].isna().any().any()  # the check covers missing values
    assert "n/a" in (out / "participants.tsv").read_text()


def test_participants_json_describes_every_column(data_dir):
    dataset, d = data_dir
    # a further configured field and a raw source column, as cohort.tsv carries them
    cohort = pd.read_csv(d / "cohort.tsv", sep="\t", dtype=str, keep_default_na=False)
    cohort["handedness"] = ["r", "l"] * (len(cohort) // 2) + ["r"] * (len(cohort) % 2)
    cohort["raw_FIQ"] = ""
    cohort.to_csv(d / "cohort_more.tsv", sep="\t", index=False)
    dataset = dataset | {
        "text": {
            "segments": dataset["text"]["segments"]
            + [
                {
                    "field": "handedness",
                    "role": "other",
                    "template": "{value}",
                    "values": {"r": "right", "l": "left"},
                }
            ]
        },
        "phenotypes": dataset["phenotypes"]
        | {"columns": dataset["phenotypes"]["columns"] | {"handedness": "HANDEDNESS"}},
    }
    out = write_bids_derivatives(
        d / "timeseries.npz",
        d / "connectomes.npz",
        d / "bids",
        dataset=dataset,
        connectivity=CONNECTIVITY,
        cohort_path=d / "cohort_more.tsv",
    )
    table = pd.read_csv(out / "participants.tsv", sep="\t", dtype=str, keep_default_na=False)
    sidecar = json.loads((out / "participants.json").read_text())
    assert list(table.columns)[0] == "participant_id"
    assert list(sidecar) == list(table.columns)
    assert all(entry["Description"] for entry in sidecar.values())
    assert sidecar["diagnosis"]["Levels"] == {"1": "autism spectrum disorder", "0": "typical development"}
    assert set(sidecar["sex"]["Levels"]) == {"male", "female"} >= set(table["sex"])
    assert set(sidecar["site"]["Levels"]) == set(table["site"])
    assert sidecar["age"]["Units"] == "year"
    assert sidecar["handedness"]["Levels"] == {"r": "right", "l": "left"}
    assert "HANDEDNESS" in sidecar["handedness"]["Description"]
    assert "FIQ" in sidecar["raw_FIQ"]["Description"] and set(table["raw_FIQ"]) == {"n/a"}


@pytest.mark.parametrize(
    "source, options, expected",
    [
        ("simulated", {}, {}),
        ("abide", {"pipeline": "cpac"}, {"task": "rest", "space": "MNI152NLin6Asym"}),
        ("abide", {"pipeline": "niak"}, {"task": "rest"}),
        ("adhd_athena", {"atlas": "cc200"}, {"task": "rest"}),
        (
            "fmriprep",
            {"task": "movie", "space": "MNI152NLin6Asym"},
            {"task": "movie", "space": "MNI152NLin6Asym"},
        ),
        ("fmriprep", {}, {"task": "rest", "space": "MNI152NLin2009cAsym"}),  # the loader's defaults
    ],
)
def test_task_and_space_entities_only_where_the_source_states_them(source, options, expected):
    assert source_entities({"name": "x", "source": source, source: options}) == expected
