"""Paper-ready figures: vector + 300-dpi PNG, display names, region names, the empty-map and range cases."""

import numpy as np
import pandas as pd
import pytest
import yaml
from cohort import REPO

from neurolip.datasets import roi_coordinates
from neurolip.evaluation import figures
from neurolip.evaluation.brainmaps import NEAREST_AAL, region_names
from neurolip.methods import MethodRegistry, registry_config

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
REGISTRY = MethodRegistry.from_config(registry_config(CONFIG))


def _predictions(rng, methods, n=120, n_folds=3):
    frames = {}
    for shift, method in enumerate(methods):
        y = rng.integers(0, 2, n)
        p = np.clip(0.5 * y + rng.random(n) * (0.6 + 0.1 * shift), 0, 1)
        frames[method] = pd.DataFrame(
            {
                "y_true": y,
                "p_disease": p,
                "score": p,
                "y_pred": (p > 0.5).astype(int),
                "fold": np.arange(n) % n_folds,
            }
        )
    return frames


def _per_fold(rng, methods, n_folds=3):
    rows = []
    for method in methods:
        for fold in range(n_folds):
            rows.append((method, fold, "auc", "", rng.uniform(0.6, 0.9)))
            # small gaps with one large fold: a mean - SD bar would reach below 0
            rows.append((method, fold, "dpd", "sex", 0.3 if fold == 0 else 0.01))
            rows.append((method, fold, "deodds", "sex", 0.25 if fold == 0 else 0.0))
            rows.append((method, fold, "auc[F]", "sex", 1.0))  # a perfect group: its marker sits at 1.0
            rows.append((method, fold, "auc[M]", "sex", rng.uniform(0.5, 0.9)))
    return pd.DataFrame(rows, columns=["method", "fold", "metric", "attribute", "value"])


def _assert_written(path):
    from PIL import Image

    with Image.open(path) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.5)
    vector = figures.vector_path(path)
    assert vector.suffix == ".pdf" and vector.read_bytes()[:5] == b"%PDF-"


def test_every_figure_is_a_300_dpi_png_and_a_pdf(tmp_path, rng):
    methods = REGISTRY.trained[:4]
    predictions = _predictions(rng, methods)
    per_fold = _per_fold(rng, methods)
    written = []

    def out(name):
        written.append(tmp_path / f"{name}.png")
        return written[-1]

    figures.roc_figure(predictions, out("roc"), REGISTRY)
    figures.calibration_figure(predictions, out("calibration"), REGISTRY)
    figures.fairness_accuracy_figure(per_fold, "sex", out("tradeoff"), REGISTRY)
    figures.group_bars_figure(per_fold, ["sex"], out("groups"), REGISTRY)
    figures.fold_auc_figure(per_fold, out("fold_auc"), REGISTRY)
    coordinates = roi_coordinates(40)
    names = region_names(coordinates, 40)
    weight = rng.random(40) / 40
    figures.brain_map_figure(weight, coordinates, "title", out("brain"), tmp_path / "brain.html", names=names)
    figures.region_index_figure(weight, "title", out("index"), note="no coordinates")
    maps = {f: rng.random(40) / 40 for f in range(3)}
    stability = pd.DataFrame({"jaccard_top_k": [0.2, 0.3], "spearman": [0.1, 0.4]})
    figures.stability_figure(stability, maps, out("stability"), title="title")
    recovery = pd.DataFrame({"fold": [0, 1], "map": "m", "measure": "attention A", "auroc": [0.7, 0.8]})
    figures.recovery_figure(recovery, out("recovery"))
    agreement = pd.DataFrame(
        {
            "method": [methods[0], methods[0], "random"],
            "estimator": ["pattern", "pattern", "uniform random values"],
            "split": "test",
            "pair": ["other fold", "same fold, other seed", "any"],
            "spearman": [0.5, 0.6, 0.0],
            "jaccard_top_k": [0.3, 0.4, 0.05],
        }
    )
    figures.map_stability_figure(agreement, out("map_stability"), REGISTRY)
    overlap = pd.DataFrame(
        {
            "method": methods[:2],
            "fields": "disease vs sex",
            "spearman": [0.1, 0.2],
            "jaccard_top_k": [0.1, 0.3],
        }
    )
    figures.overlap_figure(overlap, out("overlap"), REGISTRY)
    for path in written:
        _assert_written(path)
    # the interactive view names the regions
    assert names["region_name"].iloc[0] in (tmp_path / "brain.html").read_text()


def test_error_bars_stay_in_the_metric_range():
    interval = figures._style._clipped_sd()
    low, high = interval(pd.Series([0.3, 0.01, 0.01]))
    assert low == 0.0 and 0.01 < high < 1
    assert interval(pd.Series([1.0, 0.8, 1.0]))[1] == 1.0
    # within the range the bar is the plain mean ± SD
    values = pd.Series([0.5, 0.6, 0.7])
    assert interval(values) == pytest.approx((0.6 - values.std(), 0.6 + values.std()))


def test_region_names_are_atlas_labels_or_the_nearest_aal_region_said_so():
    aal = roi_coordinates(atlas="aal")
    named = region_names(aal, 116)
    assert named["region_name"].iloc[0] == "Precentral_L" and named["region_name"].iloc[-1] == "Vermis_10"
    assert (named["region_name_source"] == "atlas label").all()
    # CC200 has no labels: the nearest AAL centroid, stated with its distance
    cc200 = roi_coordinates()
    nearest = region_names(cc200, 200)
    assert nearest["region_name_source"].str.startswith(NEAREST_AAL).all()
    assert set(nearest["region_name"]) <= set(named["region_name"])
    # a region sitting on an AAL centroid is named after that region, 0 mm away
    probe = aal.iloc[[36, 77]][["x_mni", "y_mni", "z_mni"]].assign(roi=[1, 2])
    probe_names = region_names(probe.reset_index(drop=True), 2)
    assert probe_names["region_name"].tolist() == ["Hippocampus_L", "Thalamus_R"]
    assert probe_names["region_name_source"].str.contains(r"\(0 mm").all()
    # no coordinates: no names
    assert (region_names(None, 5)["region_name"] == "").all()


def test_significance_figure_shows_the_largest_regions_when_none_beats_the_null(tmp_path, monkeypatch):
    shown = {}

    def record(fig, rect, values, coords, cmap, vmin, vmax, sizes, title, label):
        shown.update(values=values, title=title, label=label)

    monkeypatch.setattr(figures.brain, "_brain_markers", record)
    n = 30
    rng = np.random.default_rng(2)
    regions = pd.DataFrame(
        {"region": np.arange(1, n + 1), "observed": rng.random(n), "null_max": 2.0, "beats_null": False}
    )
    coordinates = roi_coordinates(n)
    figures.region_significance_figure(
        regions, coordinates, "title", tmp_path / "map.png", k=10, names=region_names(coordinates, n)
    )
    assert len(shown["values"]) == 5 and "no region beats the null" in shown["title"]
    assert np.allclose(sorted(shown["values"]), sorted(regions["observed"].nlargest(5)))
    regions.loc[[3, 4], "beats_null"] = True
    figures.region_significance_figure(regions, coordinates, "title", tmp_path / "map.png", k=10)
    assert len(shown["values"]) == 2 and shown["title"] == "regions beating the null"


def test_the_roc_legend_prints_the_pooled_auc_of_the_tables(tmp_path, rng, monkeypatch):
    """The pooled ROC ranks the calibrated P(disease), as metrics/pooled.csv does: raw scores on fold-specific
    scales (here fold 1's shifted up) would give another AUC than the glance table's."""
    from sklearn.metrics import roc_auc_score

    method = REGISTRY.trained[0]
    frame = _predictions(rng, [method], n=300)[method]
    frame["score"] = frame["p_disease"] + 0.8 * (frame["fold"] == 1)  # same ranking within each fold
    labels = []
    monkeypatch.setattr(
        figures.performance.plt.Axes,
        "legend",
        lambda ax, *a, **k: labels.extend(ax.get_legend_handles_labels()[1]),
    )
    figures.roc_figure({method: frame}, tmp_path / "roc.png", REGISTRY)
    expected = roc_auc_score(frame["y_true"], frame["p_disease"])
    assert f"(pooled AUC {expected:.3f})" in labels[0]
    assert abs(roc_auc_score(frame["y_true"], frame["score"]) - expected) > 0.005  # the raw scores differ
