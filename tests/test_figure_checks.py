"""Figures that cannot mislead (issue 34): every figure rendered from a small synthetic input and checked for
what can be checked automatically: tick labels that do not overlap, legends that list what is drawn (and
only that), one colour scale where panels are compared, group sizes on the group AUC bars, AUROC-0 bars
that can be seen, seeded jitter, maps of read-out-only methods said to be another's, titles that say which
null a map was tested against, simulated regions without anatomical names. Each check is first shown to
fail on a figure that has the defect."""

import itertools
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from cohort import REPO
from matplotlib.collections import PathCollection

from neurolip.datasets import roi_coordinates
from neurolip.evaluation import figures
from neurolip.evaluation.brainmaps import NEAREST_AAL, region_names
from neurolip.evaluation.disease_maps import DiseaseMaps, MapSettings
from neurolip.evaluation.figures.brain import SIMULATED_REGIONS, unnamed_regions
from neurolip.evaluation.figures.stability import reachable_p
from neurolip.methods import MethodRegistry, registry_config

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
REGISTRY = MethodRegistry.from_config(registry_config(CONFIG))
METHODS = REGISTRY.trained[:4]
SEX_GROUPS = {"female": (2, 14), "male": (20, 12)}  # (patients, controls) per test fold


@pytest.fixture
def kept(monkeypatch):
    """The figures a test draws, kept open (``_save`` closes them) in the order they were saved."""
    figs = []
    monkeypatch.setattr(plt, "close", lambda fig=None: figs.append(fig))
    return figs


# ---- what the checks read from a drawn figure ------------------------------------------------------------


def _overlap(box_a, box_b, tolerance):
    width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
    height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
    return width > tolerance and height > tolerance


def overlapping_tick_labels(fig, tolerance=0.5):
    """Pairs of visible tick labels (same axis) whose drawn boxes overlap by more than ``tolerance`` px, and
    pairs of axis labels of different axes that overlap."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axis_labels = [
        (label.get_text(), label.get_window_extent(renderer))
        for ax in fig.axes
        if ax.get_visible()
        for label in (ax.xaxis.label, ax.yaxis.label)
        if label.get_visible() and label.get_text()
    ]
    pairs = [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(axis_labels, 2)
        if _overlap(box_a, box_b, tolerance)
    ]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            boxes = []
            for tick in axis.get_major_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    continue
                for label in (tick.label1, tick.label2):
                    if label.get_visible() and label.get_text():
                        boxes.append((label.get_text(), label.get_window_extent(renderer)))
            for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
                if _overlap(box_a, box_b, tolerance):
                    pairs.append((a, b))
    return pairs


def legend_labels(fig):
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    return [t.get_text() for legend in legends if legend is not None for t in legend.get_texts()]


# the map-stability figure's kinds of bar (the gid of each drawn bar) and the start of each one's legend entry
BAR_KINDS = {
    "bar:above": "filled: above its null (p ≤",
    "bar:not above": "hollow: not above its null",
    "bar:too small": "cross-hatched: null too small to reject",
    "bar:no null": "hatched: no null: not tested",
}


def legend_kinds(fig):
    """The kinds of bar the legend of ``fig`` has an entry for."""
    labels = legend_labels(fig)
    return {kind for kind, words in BAR_KINDS.items() if any(label.startswith(words) for label in labels)}


def drawn_artists(fig):
    for ax in fig.axes:
        yield from ax.lines
        yield from ax.patches
        yield from ax.collections
        yield from ax.containers
        yield from ax.texts


def drawn_labels(fig):
    """Labels of the artists drawn on the axes (matplotlib's own "_..." labels left out)."""
    return {a.get_label() for a in drawn_artists(fig) if not str(a.get_label()).startswith("_")}


def drawn_gids(fig, prefix):
    gids = (a.get_gid() for a in drawn_artists(fig) if hasattr(a, "get_gid"))
    return {gid for gid in gids if str(gid).startswith(prefix)}


def colour_limits(fig):
    """The colour limits of every colour-mapped artist of ``fig`` (colour bars included)."""
    return {
        tuple(np.round(a.get_clim(), 9))
        for ax in fig.axes
        for a in [*ax.collections, *ax.images]
        if a.get_array() is not None
    }


def point_offsets(fig):
    return [c.get_offsets().copy() for ax in fig.axes for c in ax.collections if len(c.get_offsets())]


# ---- the checks fail on figures with the defect -----------------------------------------------------------


def test_the_checks_catch_the_defects_they_look_for():
    # overlapping tick labels
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_xticks(range(30), [f"a long region name {i}" for i in range(30)])
    assert overlapping_tick_labels(fig)
    ax.set_xticks(range(3), ["a", "b", "c"])
    ax.set_xlim(-0.5, 2.5)
    assert not overlapping_tick_labels(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(3, 2))
    for ax in axes:
        ax.set_xlabel("an axis label far wider than its panel")
    assert overlapping_tick_labels(fig)
    # a legend entry for something not drawn
    ax.plot([0, 1], [0, 1], label="drawn")
    ax.legend(handles=[plt.Line2D([], [], label="drawn"), plt.Line2D([], [], label="not drawn")])
    assert not set(legend_labels(fig)) <= drawn_labels(fig)
    plt.close(fig)
    # two maps on their own colour scales
    fig, axes = plt.subplots(1, 2)
    a = axes[0].imshow(np.random.default_rng(0).random((3, 3)))
    b = axes[1].imshow(2 * np.random.default_rng(1).random((3, 3)))
    assert a.get_clim() != b.get_clim() and len(colour_limits(fig)) == 2
    plt.close(fig)


# ---- synthetic inputs --------------------------------------------------------------------------------------


def _per_fold(rng, methods=METHODS, n_folds=3):
    rows = []
    for method in methods:
        for fold in range(n_folds):
            rows.append((method, fold, "auc", "", rng.uniform(0.6, 0.9)))
            rows.append((method, fold, "dpd", "sex", rng.uniform(0, 0.3)))
            rows.append((method, fold, "deodds", "sex", rng.uniform(0, 0.3)))
            rows.append((method, fold, "auc[female]", "sex", 1.0))  # two patients: AUC 1.0 means nothing
            rows.append((method, fold, "auc[male]", "sex", rng.uniform(0.5, 0.9)))
    return pd.DataFrame(rows, columns=["method", "fold", "metric", "attribute", "value"])


def _predictions(rng, n_folds=3):
    """Test predictions whose sex groups hold :data:`SEX_GROUPS` patients and controls in every fold."""
    frames = []
    for fold in range(n_folds):
        for sex, (patients, controls) in SEX_GROUPS.items():
            y = np.r_[np.ones(patients, int), np.zeros(controls, int)]
            p = np.clip(0.5 * y + 0.5 * rng.random(len(y)), 0, 1)
            frames.append(
                pd.DataFrame({"fold": fold, "y_true": y, "p_disease": p, "score": p, "y_pred": (p > 0.5) * 1})
                .assign(sex=sex, age=rng.uniform(10, 40, len(y)))
                .astype({"age": float})
            )
    return pd.concat(frames, ignore_index=True)


def _agreement():
    """Map-agreement rows of every kind of bar: above its null, not above it, a null too small to reject
    (20 null models in groups of 5), no null; and the random-map rows."""
    method = METHODS[0]
    rows = [
        # above its null
        ("pattern", "other fold", 0.6, 0.4, 0.1, 0.01, 100, "100 null refits per fold, same subjects"),
        # not above its null, though the null could have rejected it
        ("attention", "other fold", 0.1, 0.1, 0.2, 0.4, 100, "100 null refits per fold, same subjects"),
        # p cannot go below 1/5
        (
            "raw",
            "other fold",
            0.5,
            0.4,
            0.1,
            0.2,
            20,
            "approximate: 20 trained null models of fold 0, groups of 5",
        ),
        # no null models
        ("pattern", "same fold, other seed", 0.7, 0.5, np.nan, np.nan, np.nan, "none: the seeds share"),
    ]
    table = pd.DataFrame(
        [
            {
                "method": method,
                "estimator": estimator,
                "split": "test",
                "pair": pair,
                "spearman": spearman,
                "jaccard_top_k": jaccard,
                "null_agreement": null,
                "null_agreement_p95": null + 0.1,
                "null_jaccard": null,
                "null_jaccard_p95": null + 0.1,
                "p_vs_null": p,
                "p_vs_null_jaccard": p,
                "n_null": n_null,
                "null_source": source,
            }
            for estimator, pair, spearman, jaccard, null, p, n_null, source in rows
        ]
    )
    random = pd.DataFrame(
        {"method": "random", "estimator": "uniform", "split": "test", "pair": "any"}
        | {
            "spearman": [0.0],
            "jaccard_top_k": [0.05],
        }
    )
    return pd.concat([table, random], ignore_index=True)


def _recovery():
    return pd.DataFrame(
        {
            "fold": [0, 0, 1, 1],
            "map": "diagnosis attention vs disease regions",
            "measure": ["reading weight", "attention A", "reading weight", "attention A"],
            "auroc": [0.9, 0.0, 0.95, np.nan],  # a bar at 0 and a missing one
        }
    )


def _regions(rng, n=30, tested=True):
    observed = rng.random(n)
    table = pd.DataFrame({"region": np.arange(1, n + 1), "observed": observed, "beats_null": False})
    table["null_max"] = observed.max() * 0.9 * rng.random(n) if tested else np.nan
    table.loc[np.argsort(observed)[-2:], "beats_null"] = tested
    return table


def _render_all(tmp_path, rng, kept):
    """Every figure of the package from synthetic inputs: {name: figure}."""
    names = []

    def out(name):
        names.append(name)
        return tmp_path / f"{name}.png"

    per_fold = _per_fold(rng)
    predictions = _predictions(rng)
    by_method = {m: predictions for m in METHODS}
    coordinates = roi_coordinates(40)
    region = region_names(coordinates, 40)
    figures.roc_figure(by_method, out("roc"), REGISTRY)
    figures.calibration_figure(by_method, out("calibration"), REGISTRY)
    figures.fairness_accuracy_figure(per_fold, "sex", out("fairness_accuracy"), REGISTRY)
    counts = figures.group_class_counts(predictions, per_fold, ["sex"])
    figures.group_bars_figure(per_fold, ["sex"], out("group_auc"), REGISTRY, counts=counts)
    figures.fold_auc_figure(per_fold, out("fold_auc"), REGISTRY)
    weights = {0: rng.random(40) / 40, 1: 3 * rng.random(40) / 40}
    figures.brain.class_map_figures(
        weights,
        coordinates,
        {0: "controls", 1: "patients"},
        {0: out("brain_control"), 1: out("brain_patient")},
        tmp_path / "patient.html",
        names=region,
    )
    figures.brain.class_map_figures(
        weights, None, {0: "c", 1: "p"}, {0: out("index_control"), 1: out("index_patient")}, note="none"
    )
    maps = {f: rng.random(40) / 40 for f in range(3)}
    stability = pd.DataFrame({"jaccard_top_k": [0.2, 0.3, 0.25], "spearman": [0.1, 0.4, 0.3]})
    figures.stability_figure(stability, maps, out("attention_stability"), title="title")
    figures.recovery_figure(_recovery(), out("attention_recovery"))
    figures.map_stability_figure(
        _agreement().replace({"method": {METHODS[0]: "neurolip_erase"}}),
        out("map_stability"),
        REGISTRY,
        models_from={"neurolip_erase": "neurolip_textmask"},  # the longest labels
    )
    overlap = pd.DataFrame(
        {
            "method": np.repeat(["neurolip_textmask", "neurolip_erase"], 6),
            "fields": np.tile(["diagnosis vs sex", "diagnosis vs srs"], 6),
            "spearman": rng.random(12),
            "jaccard_top_k": rng.random(12),
        }
    )
    figures.overlap_figure(
        overlap, out("attention_overlap"), REGISTRY, models_from={"neurolip_erase": "neurolip_textmask"}
    )
    figures.region_significance_figure(
        _regions(rng), coordinates.iloc[:30].reset_index(drop=True), "title", out("disease_pattern"), k=20
    )
    assert len(kept) == len(names)
    return dict(zip(names, kept, strict=True))


# ---- the checks, on every figure ---------------------------------------------------------------------------


def test_no_figure_has_overlapping_tick_labels(tmp_path, rng, kept):
    drawn = _render_all(tmp_path, rng, kept)
    assert len(drawn) == 14
    overlaps = {name: overlapping_tick_labels(fig) for name, fig in drawn.items()}
    assert not {name: pairs for name, pairs in overlaps.items() if pairs}


def test_legends_list_what_is_drawn_and_only_that(tmp_path, rng, kept):
    drawn = _render_all(tmp_path, rng, kept)
    # legends built from the drawn artists: every entry names something drawn
    for name in ("roc", "group_auc", "attention_recovery", "disease_pattern"):
        fig = drawn[name]
        assert legend_labels(fig), name
        assert set(legend_labels(fig)) <= drawn_labels(fig), name
    # the map-stability figure: one entry per kind of bar drawn, no entry for a kind not drawn
    fig = drawn["map_stability"]
    assert (
        legend_kinds(fig)
        == drawn_gids(fig, "bar:")
        == {
            "bar:above",
            "bar:not above",
            "bar:too small",
            "bar:no null",
        }
    )
    labels = legend_labels(fig)
    assert "filled: above its null (p ≤ 0.05)" in labels
    assert "cross-hatched: null too small to reject (min p = 0.20)" in labels
    # the filled bar is "above its null", not the name of a pair; pairs are edge colours
    assert "other fold" not in labels and "edge colour: other fold" in labels
    # seaborn hue legends: one entry per category drawn
    assert legend_labels(drawn["fold_auc"]) == ["0", "1", "2"]
    assert legend_labels(drawn["fairness_accuracy"]) == ["calibrated threshold"]
    assert set(legend_labels(drawn["attention_overlap"])) == {"diagnosis vs sex", "diagnosis vs srs"}


def test_map_stability_legend_leaves_out_kinds_not_drawn(tmp_path, kept):
    table = _agreement()
    figures.map_stability_figure(
        table[table["null_source"].str.startswith("100")], tmp_path / "m.png", REGISTRY
    )
    fig = kept[-1]
    assert legend_kinds(fig) == drawn_gids(fig, "bar:") == {"bar:above", "bar:not above"}
    assert not any("too small" in label or "no null" in label for label in legend_labels(fig))


def test_the_smallest_p_a_null_can_give():
    assert reachable_p(20, "approximate: 20 trained null models of fold 0, groups of 5") == pytest.approx(0.2)
    assert reachable_p(100, "100 null refits per fold, same subjects") == pytest.approx(1 / 101)
    assert np.isnan(reachable_p(np.nan, "none"))
    # a table's own p_resolution (K trained null models per fold: 1 / (K + 1)) is the row's resolution
    assert reachable_p(20, "20 trained null models per fold", p_resolution=1 / 21) == pytest.approx(1 / 21)


def test_patient_and_control_maps_share_one_colour_scale(tmp_path, rng, kept):
    drawn = _render_all(tmp_path, rng, kept)
    control, patient = colour_limits(drawn["brain_control"]), colour_limits(drawn["brain_patient"])
    assert len(control) == 1 and control == patient
    # without coordinates, the region bars share one y scale
    assert drawn["index_control"].axes[0].get_ylim() == drawn["index_patient"].axes[0].get_ylim()
    # each map alone (the defect): two scales
    weights = {0: rng.random(40) / 40, 1: 3 * rng.random(40) / 40}
    for cls in (0, 1):
        figures.brain_map_figure(weights[cls], roi_coordinates(40), "t", tmp_path / f"alone{cls}.png")
    assert colour_limits(kept[-2]) != colour_limits(kept[-1])


def test_pale_markers_stay_visible(tmp_path, rng, kept):
    weight = np.r_[np.zeros(5), rng.random(35)] / 40  # regions at 0: the palest colour
    figures.brain_map_figure(weight, roi_coordinates(40), "t", tmp_path / "b.png")
    fig = kept[-1]
    bar = next(a for ax in fig.axes for a in ax.collections if a.get_array() is not None)
    lowest = np.asarray(bar.cmap(0.0)[:3])
    assert lowest.mean() < 0.9  # not white on white
    markers = [
        c
        for ax in fig.axes
        for c in ax.collections
        if isinstance(c, PathCollection) and c.get_array() is None and len(c.get_offsets())
    ]
    assert markers
    for collection in markers:
        assert (collection.get_sizes() >= 12).all()
        edges = collection.get_edgecolor()
        assert len(edges) and (edges[:, :3].mean(1) < 0.5).all() and (collection.get_linewidths() > 0).all()


def test_group_auc_shows_group_sizes_and_marks_groups_too_small(tmp_path, rng, kept):
    per_fold = _per_fold(rng)
    counts = figures.group_class_counts(_predictions(rng), per_fold, ["sex", "age"])
    sizes = counts[counts.attribute == "sex"].groupby("group")[["patients", "controls"]].min()
    assert sizes.loc["female"].tolist() == [2, 14] and sizes.loc["male"].tolist() == [20, 12]
    figures.group_bars_figure(per_fold, ["sex"], tmp_path / "g.png", REGISTRY, counts=counts)
    fig = kept[-1]
    ax = fig.axes[0]
    texts = {t.get_gid(): set() for t in ax.texts}
    for t in ax.texts:
        texts[t.get_gid()].add(t.get_text())
    # n (patients/controls) beside every group's markers, one per method row
    assert texts["n:female"] == {"2/14"} and texts["n:male"] == {"20/12"}
    assert sum(t.get_gid() == "n:female" for t in ax.texts) == len(METHODS)
    # the group with 2 patients: hollow markers, said too small; the other filled
    markers = {line.get_gid(): line for line in ax.lines if str(line.get_gid()).startswith("group:")}
    assert markers["group:female"].get_markerfacecolor() == "white"
    assert markers["group:male"].get_markerfacecolor() != "white"
    labels = legend_labels(fig)
    assert any("female" in label and "too small" in label for label in labels)
    assert not any("male" in label and "female" not in label and "too small" in label for label in labels)


def test_group_counts_split_a_continuous_attribute_at_the_folds_median():
    predictions = pd.DataFrame(
        {"fold": 0, "y_true": [1, 1, 0, 0, 1], "age": [10.0, 30.0, 12.0, 40.0, np.nan], "sex": "F"}
    )
    per_fold = pd.DataFrame(
        {"method": "m", "fold": [0], "metric": ["split_value"], "attribute": ["age"], "value": [20.0]}
    )
    counts = figures.group_class_counts(predictions, per_fold, ["age"]).set_index("group")
    assert counts.loc["above median", ["patients", "controls"]].tolist() == [1, 1]
    assert counts.loc["at or below median", ["patients", "controls"]].tolist() == [1, 1]  # NaN in no group


def test_auroc_zero_bars_are_visible(tmp_path, kept):
    figures.recovery_figure(_recovery(), tmp_path / "r.png")
    ax = kept[-1].axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert 0.0 in heights  # the bar at 0 is there, but has no height: it needs a mark
    tops = [line for line in ax.lines if line.get_marker() == "o"]
    assert any(
        np.any(np.asarray(line.get_ydata(), dtype=float) == 0.0)
        and line.get_markersize() > 0
        and line.get_visible()
        and not line.get_clip_on()
        for line in tops
    )
    texts = {t.get_text() for t in ax.texts}
    assert "0.00" in texts and "n/a" in texts


@pytest.mark.parametrize("figure", ["fold_auc", "fairness_accuracy", "attention_overlap"])
def test_seeded_jitter_gives_the_same_figure_twice(tmp_path, rng, kept, figure):
    per_fold = _per_fold(rng)
    overlap = pd.DataFrame(
        {"method": METHODS[0], "fields": "diagnosis vs sex", "spearman": rng.random(9), "jaccard_top_k": 0.3}
    )

    def draw(path, seed=0):
        if figure == "fold_auc":
            figures.fold_auc_figure(per_fold, path, REGISTRY, seed=seed)
        elif figure == "fairness_accuracy":
            figures.fairness_accuracy_figure(per_fold, "sex", path, REGISTRY, seed=seed)
        else:
            figures.overlap_figure(overlap, path, REGISTRY, seed=seed)
        return point_offsets(kept[-1])

    state = np.random.get_state()[1].copy()
    first, second = draw(tmp_path / "a.png"), draw(tmp_path / "b.png")
    assert first and len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    # another seed moves the points: the jitter is there, and seeded
    other = draw(tmp_path / "c.png", seed=1)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
    # numpy's global generator is left as it was
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_maps_of_read_out_only_methods_say_whose_models_they_are(tmp_path, rng, kept):
    overlap = pd.DataFrame(
        {
            "method": ["neurolip_textmask", "neurolip_erase"],
            "fields": "diagnosis vs sex",
            "spearman": [0.2, 0.2],
            "jaccard_top_k": [0.1, 0.1],
        }
    )
    source = REGISTRY.label("neurolip_textmask")
    figures.overlap_figure(
        overlap, tmp_path / "o.png", REGISTRY, models_from={"neurolip_erase": "neurolip_textmask"}
    )
    fig = kept[-1]
    ticks = [" ".join(t.get_text().split()) for t in fig.axes[0].get_yticklabels()]  # labels are wrapped
    assert f"{REGISTRY.label('neurolip_erase')} [maps of {source}'s models]" in ticks
    assert source in ticks  # the source's own row is its plain label
    assert "reads the models of" in fig.get_suptitle()
    figures.overlap_figure(overlap, tmp_path / "p.png", REGISTRY)
    assert "reads the models of" not in kept[-1].get_suptitle()
    figures.recovery_figure(_recovery(), tmp_path / "r.png", title="t", note=f"those of {source}'s models")
    assert source in kept[-1].axes[0].get_title()
    # the registry says which methods read another's models: the rules pass REGISTRY[m].models_from
    assert REGISTRY["neurolip_erase"].models_from == "neurolip_textmask"
    rules = (REPO / "workflow" / "rules" / "evaluation.smk").read_text()
    assert rules.count("models_from") >= 3 and 'config["methods"]' not in rules
    for caption in ("stability", "brain_patient", "brain_control", "attention_overlap_figure", "recovery"):
        assert "models_from" in (REPO / "workflow" / "report" / f"{caption}.rst").read_text(), caption


def _disease_maps(method, null_methods):
    settings = MapSettings(
        method=method,
        folds=[0, 1, 2, 3, 4],
        top_k=2,
        null_fold=0,
        seed=0,
        alpha=0.05,
        null_methods=null_methods,
        linear_permutations=5,
    )
    scores = pd.DataFrame({"subject_id": ["a"], "fold": [0], "split": ["test"]})
    return DiseaseMaps(settings, scores, SimpleNamespace(n_rois=6))


def test_map_titles_say_which_null_the_map_was_tested_against():
    observed = {(0, 0): np.zeros(6)}
    tested = _disease_maps("m", ["m"]).null_phrase("pattern", np.zeros((20, 6)), {}, observed)
    assert "20 trained null models" in tested and "test subjects" in tested
    untested = _disease_maps("m", []).null_phrase("pattern", np.zeros((0, 6)), {}, observed)
    assert "not tested" in untested and "null_methods" in untested and "trained null models" not in untested
    few = _disease_maps("m", ["m"]).null_phrase("pattern", np.zeros((2, 6)), {}, observed)
    assert "2 null models" in few and "at least 3" in few
    pooled = _disease_maps("m", ["m"]).null_phrase("pattern", np.zeros((0, 6)), {}, {(1, 0): np.zeros(6)})
    assert "mean over models" in pooled and "untested" in pooled
    refit = _disease_maps("m", ["m"]).null_phrase("pattern", np.zeros((5, 6)), {0: object()}, observed)
    assert "5 permutation refits" in refit and "training subjects" in refit


def test_the_disease_pattern_chart_has_one_scale(tmp_path, rng, kept):
    regions = _regions(rng)
    figures.region_significance_figure(regions, None, "t", tmp_path / "d.png", k=10)
    ax = kept[-1].axes[0]
    assert ax.get_ylabel() == "map value (raw)"
    assert not any("z" in label.split("(")[0] for label in legend_labels(kept[-1]))
    # the null marks are the raw null values of the regions shown, on the bars' scale
    order = np.argsort(regions["observed"].to_numpy())[::-1][:10]
    null_marks = next(line for line in ax.lines if line.get_label().startswith("largest null"))
    np.testing.assert_allclose(null_marks.get_ydata(), regions["null_max"].to_numpy()[order])
    assert not any(line.get_linestyle() == "--" for line in ax.lines)


def test_simulated_regions_get_no_anatomical_names(tmp_path, rng, kept):
    coordinates = roi_coordinates(40)
    names = region_names(coordinates, 40)
    assert names["region_name_source"].str.startswith(NEAREST_AAL).all()  # CC200 centroids: ≈ AAL names
    simulated = unnamed_regions(names)
    assert (simulated["region_name"] == "").all() and (
        simulated["region_name_source"] == SIMULATED_REGIONS
    ).all()
    figures.brain_map_figure(rng.random(40) / 40, coordinates, "t", tmp_path / "b.png", names=simulated)
    text = " ".join(t.get_text() for t in kept[-1].texts)
    assert "≈" not in text and "AAL" not in text and "simulated" in text
    regions = _regions(rng, n=40)
    figures.region_significance_figure(regions, coordinates, "t", tmp_path / "d.png", k=10, names=simulated)
    fig = kept[-1]
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks and all(t.isdigit() for t in ticks)
    assert "simulated" in " ".join(t.get_text() for t in fig.texts)
    # a real atlas keeps its names
    figures.region_significance_figure(regions, coordinates, "t", tmp_path / "e.png", k=10, names=names)
    assert any("≈" in t.get_text() for t in kept[-1].axes[0].get_xticklabels())


def test_group_size_labels_of_many_groups_do_not_overlap(tmp_path, rng, kept):
    sites = ["SITEA", "SITEB", "SITEC", "SITED"]
    per_fold = pd.DataFrame(
        [
            (method, fold, f"auc[{site}]" if site else "auc", "site" if site else "", rng.uniform(0.5, 1.0))
            for method in REGISTRY.trained[:8]
            for fold in range(3)
            for site in ["", *sites]  # "": the overall AUC that orders the methods
        ],
        columns=["method", "fold", "metric", "attribute", "value"],
    )
    counts = pd.DataFrame(
        [(("site", site, fold, 4 + i, 6)) for i, site in enumerate(sites) for fold in range(3)],
        columns=["attribute", "group", "fold", "patients", "controls"],
    )
    figures.group_bars_figure(per_fold, ["site"], tmp_path / "g.png", REGISTRY, counts=counts)
    fig = kept[-1]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts if str(t.get_gid()).startswith("n:")]
    assert len(boxes) == 8 * len(sites)
    overlapping = [
        (a, b)
        for a, b in itertools.combinations(boxes, 2)
        if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5
    ]
    assert not overlapping
    # SITEA (4 patients) is too small, the others are not
    assert [label for label in legend_labels(fig) if "too small" in label] == [
        "SITEA (n 4/6) — too small for an AUC"
    ]


def test_map_stability_rows_of_reused_attention_say_whose_maps_they_are(tmp_path, kept):
    table = _agreement().assign(method="neurolip_erase")
    figures.map_stability_figure(
        table, tmp_path / "m.png", REGISTRY, models_from={"neurolip_erase": "neurolip_textmask"}
    )
    ticks = [" ".join(t.get_text().split()) for t in kept[-1].axes[0].get_yticklabels()]  # wrapped labels
    source = REGISTRY.label("neurolip_textmask")
    # the attention row is the source's maps; the pattern rows (the erased read-out's own) are not
    assert any(t.endswith(f"[maps of {source}'s models] · attention · other fold") for t in ticks)
    assert not any("maps of" in t for t in ticks if " · pattern · " in t)
