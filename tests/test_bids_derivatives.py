"""BIDS-derivative time series and connectomes (BEP012/BEP017 names) written beside the stacked arrays and
read back equal to them."""

import json

import numpy as np
import pandas as pd
import pytest
from cohort import tiny_dataset_config

from neurolip import data_stage
from neurolip.bids_derivatives import atlas_label, read_bids_derivatives, write_bids_derivatives
from neurolip.errors import NeuroLIPInputError

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
            assert found[sid]["relmat_json"]["FisherZ"] is True
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
