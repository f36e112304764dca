"""Reference-map agreement (neurolip.evaluation.reference_maps): the simulated cohort's planted-truth
reference agrees with a linear model's map beyond the spatial null and its random-field reference does not;
the spatial null's false alarms on smooth random maps beside the region-shuffling null's; the CC200 atlas
(centroids shipped, no download); clear errors on bad reference images."""

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression

from neurolip.datasets.base import roi_coordinates
from neurolip.datasets.simulated import simulate_cohort, simulated_connectomes
from neurolip.errors import NeuroLIPInputError
from neurolip.evaluation.brainmaps import region_pattern
from neurolip.evaluation.figures import reference_agreement_figure
from neurolip.evaluation.reference_maps import (
    COLUMNS,
    centroid_distances,
    false_alarms,
    planted_image,
    read_references,
    reference_agreement,
    write_demo_references,
)


@pytest.fixture(scope="module")
def demo_cohort(tmp_path_factory):
    """The demo's cohort (config/simulated.yaml sizes: 240 subjects, 100 regions, 10 planted disease regions),
    a linear model's activation pattern on held-out subjects, and the two control references."""
    root = tmp_path_factory.mktemp("demo")
    truth = simulate_cohort(root, n_subjects=240, n_rois=100, n_sites=4, seed=0)
    edges, diagnosis, *_ = simulated_connectomes(root, min_volumes=60)
    train = np.arange(len(diagnosis)) % 2 == 0
    model = LogisticRegression(C=1.0, max_iter=2000).fit(edges[train], diagnosis[train])
    pattern = region_pattern(edges[~train], model.decision_function(edges[~train]), 100)
    coordinates = pd.read_csv(root / "roi_coordinates.csv")
    write_demo_references(
        coordinates, truth, root / "planted.nii.gz", root / "random.nii.gz", radius=6, seed=0
    )
    regions = pd.DataFrame(
        {
            "method": "linear_fc",
            "estimator": "pattern",
            "fold": 0,
            "region": coordinates["roi"],
            "observed": pattern,
            "pooled_over_models": pattern,
        }
    )
    return root, truth, coordinates, regions


def test_planted_reference_beats_the_spatial_null_and_the_random_field_does_not(
    demo_cohort, tmp_path, monkeypatch
):
    root, truth, coordinates, regions = demo_cohort
    entries = [
        {"name": "planted_disease", "path": str(root / "planted.nii.gz"), "radius": 6},
        {"name": "random_field", "path": str(root / "random.nii.gz"), "radius": 6},
    ]
    references = read_references(entries, coordinates)
    # the planted reference is 1 at the planted regions' spheres (neighbours' spheres may touch them)
    planted = references["planted_disease"]
    assert np.all(planted[truth["disease_regions"]] == 1)
    table, nulls = reference_agreement(
        references, regions, centroid_distances(coordinates), 200, k=10, seed=0
    )
    assert list(table.columns) == COLUMNS
    pooled = table[table["fold"] == "pooled over models"].set_index("reference")
    assert pooled.loc["planted_disease", "p_spatial"] < 0.05
    assert pooled.loc["planted_disease", "spearman"] > pooled.loc["planted_disease", "null_spatial_p95"]
    assert pooled.loc["planted_disease", "jaccard_p_spatial"] < 0.05
    assert pooled.loc["random_field", "p_spatial"] >= 0.05
    assert nulls["planted_disease"][0].shape == (200, 100)
    # the figure: 300-dpi PNG and PDF, no overlapping tick labels, a legend that lists only what is drawn
    import matplotlib.pyplot as plt
    from test_figure_checks import drawn_labels, legend_labels, overlapping_tick_labels

    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    figure = tmp_path / "planted_disease.png"
    reference_agreement_figure(table, "planted_disease", figure)
    assert figure.stat().st_size > 10_000 and figure.with_suffix(".pdf").is_file()
    (fig,) = kept
    assert not overlapping_tick_labels(fig)
    assert (
        set(legend_labels(fig))
        == drawn_labels(fig) - {""}
        == {
            "one fold's map",
            "pooled over models",
            "spatial null, 95th pct.",
            "shuffle null, 95th pct.",
        }
    )


def test_spatial_null_false_alarms_beside_the_shuffle_null():
    """Independent smooth random maps (sigma 25 mm on the demo's 100 CC200 regions) share no signal: the
    shuffle null, blind to their autocorrelation, calls many of them significant; the spatial null's rate is
    compatible with 5 % (benchmarks/reference_null.py measures both at 100 pairs: 8 % vs 28 %)."""
    distances = centroid_distances(roi_coordinates(100))
    result = false_alarms(distances, 40, 40, sigma_mm=25, seed=0)
    spatial, shuffle = int(result["spatial_alarm"].sum()), int(result["shuffle_alarm"].sum())
    spatial_ci = binomtest(spatial, 40).proportion_ci(0.95, method="wilson")
    shuffle_ci = binomtest(shuffle, 40).proportion_ci(0.95, method="wilson")
    print(f"false alarms: spatial {spatial}/40 {spatial_ci}, shuffle {shuffle}/40 {shuffle_ci}")
    assert shuffle_ci.low > 0.05  # the shuffle null is not calibrated on smooth maps
    assert spatial_ci.low <= 0.05 <= spatial_ci.high
    assert spatial < shuffle


def test_cc200_reference_built_from_shipped_centroids(tmp_path):
    """ABIDE's atlas: a reference NIfTI built from the shipped CC200 centroids (no download) runs through
    spheres and through a labels image, and a map on another grid is refused."""
    coordinates = roi_coordinates(atlas="cc200")
    assert len(coordinates) == 200
    chosen = [3, 50, 120, 199]
    img = planted_image(coordinates, chosen, radius=6)
    nib.save(img, tmp_path / "cc200_ref.nii.gz")
    # a labels image: every voxel labelled by its nearest centroid within 10 mm
    world = nib.affines.apply_affine(img.affine, np.indices(img.shape).reshape(3, -1).T)
    from scipy.spatial import cKDTree

    distance, nearest = cKDTree(coordinates[["x_mni", "y_mni", "z_mni"]].to_numpy()).query(world)
    labels = np.where(distance <= 10, coordinates["roi"].to_numpy()[nearest], 0).reshape(img.shape)
    nib.save(nib.Nifti1Image(labels.astype(np.int16), img.affine), tmp_path / "cc200_labels.nii.gz")
    references = read_references(
        [
            {"name": "spheres", "path": str(tmp_path / "cc200_ref.nii.gz"), "radius": 6},
            {
                "name": "labels",
                "path": str(tmp_path / "cc200_ref.nii.gz"),
                "labels": str(tmp_path / "cc200_labels.nii.gz"),
            },
        ],
        coordinates,
    )
    assert np.all(references["spheres"][chosen] == 1)
    assert set(np.argsort(references["labels"])[::-1][:4]) == set(chosen)
    other = nib.Nifti1Image(np.asarray(img.dataobj)[:-2], img.affine)
    nib.save(other, tmp_path / "other.nii.gz")
    with pytest.raises(NeuroLIPInputError, match="another space"):
        read_references(
            [
                {
                    "name": "x",
                    "path": str(tmp_path / "other.nii.gz"),
                    "labels": str(tmp_path / "cc200_labels.nii.gz"),
                }
            ],
            coordinates,
        )


def test_bad_reference_images_are_named(tmp_path):
    coordinates = roi_coordinates(100)
    with pytest.raises(NeuroLIPInputError, match="no such file"):
        read_references([{"name": "a", "path": str(tmp_path / "missing.nii.gz"), "radius": 6}], coordinates)
    (tmp_path / "junk.nii.gz").write_bytes(b"not a nifti")
    with pytest.raises(NeuroLIPInputError, match="junk.nii.gz: reference map: not a readable NIfTI"):
        read_references([{"name": "a", "path": str(tmp_path / "junk.nii.gz"), "radius": 6}], coordinates)
    # a map whose field of view misses the atlas (another space): its regions are empty
    far = np.eye(4)
    far[:3, 3] = 500
    nib.save(nib.Nifti1Image(np.ones((10, 10, 10), np.float32), far), tmp_path / "far.nii.gz")
    with pytest.raises(NeuroLIPInputError, match="empty region.*outside the image's field of view"):
        read_references([{"name": "a", "path": str(tmp_path / "far.nii.gz"), "radius": 6}], coordinates)
    with pytest.raises(NeuroLIPInputError, match="names used twice"):
        read_references(
            [{"name": "a", "path": "x", "radius": 6}, {"name": "a", "path": "y", "radius": 6}], coordinates
        )
    with pytest.raises(NeuroLIPInputError, match="exactly one of"):
        read_references([{"name": "a", "path": "x"}], coordinates)


def test_demo_references_follow_the_ground_truth(tmp_path):
    coordinates = roi_coordinates(100)
    with pytest.raises(NeuroLIPInputError, match="no planted disease regions"):
        write_demo_references(
            coordinates, {"disease_regions": []}, tmp_path / "a.nii.gz", tmp_path / "b.nii.gz", 6
        )
    write_demo_references(
        coordinates,
        json.loads('{"disease_regions": [1, 7]}'),
        tmp_path / "a.nii.gz",
        tmp_path / "b.nii.gz",
        6,
        seed=1,
    )
    planted = read_references([{"name": "p", "path": str(tmp_path / "a.nii.gz"), "radius": 6}], coordinates)[
        "p"
    ]
    assert np.flatnonzero(planted == 1).tolist() == [1, 7]


def test_schema_takes_one_atlas_handling_per_reference_and_the_demo_runs_the_rules(tmp_path):
    import jsonschema
    import yaml
    from conftest import REPO, run_snakemake

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    item = schema["properties"]["evaluation"]["properties"]["reference_maps"]["items"]
    jsonschema.validate({"name": "autism", "path": "a.nii.gz", "radius": 6}, item)
    jsonschema.validate({"name": "autism", "path": "a.nii.gz", "labels": "cc200.nii.gz"}, item)
    for bad in (
        {"name": "autism", "path": "a.nii.gz"},
        {"name": "autism", "path": "a.nii.gz", "radius": 6, "labels": "cc200.nii.gz"},
        {"name": "autism", "path": "a.nii.gz", "radius": 6, "smoothing": 4},
        {"name": "a b", "path": "a.nii.gz", "radius": 6},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, item)
    # the demo (simulated cohort) writes its two controls and the agreement table and figures
    process = run_snakemake(["-n", "--config", f"results_dir={tmp_path}"])
    for target in (
        "reference_maps/planted_disease.nii.gz",
        "reference_maps/random_field.nii.gz",
        "metrics/reference_agreement.csv",
        "figures/reference_agreement/planted_disease.png",
        "figures/reference_agreement/random_field.pdf",
    ):
        assert target in process.stdout
