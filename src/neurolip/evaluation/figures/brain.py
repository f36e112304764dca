"""Brain-map figures: a map on a glass brain with its top regions named, a region index when the atlas has
no coordinates, and a map beside its permutation null (rules ``brain_maps``, ``disease_maps``)."""

import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from ..brainmaps import NEAREST_AAL
from ._style import RATIO_LABEL, RATIO_MEANING, _save

# the name source of a simulated cohort's regions: they have no anatomy, so no atlas name
SIMULATED_REGIONS = "simulated cohort: regions have no anatomy"
# the light end of a sequential colour map left out, markers edged: the smallest value stays visible on white
_LIGHTEST = 0.3
_EDGE = {"edgecolors": "0.25", "linewidths": 0.4}


def unnamed_regions(names, reason=SIMULATED_REGIONS):
    """``names`` (:func:`..brainmaps.region_names`) with every name removed and ``reason`` as their source:
    a simulated cohort's regions are numbers, not anatomy (their centroids only place them on a brain)."""
    if names is None:
        return None
    return names.assign(region_name="", region_name_source=reason)


def _visible(cmap):
    """``cmap`` without its lightest end (:data:`_LIGHTEST`)."""
    cmap = plt.get_cmap(cmap)
    return matplotlib.colors.LinearSegmentedColormap.from_list(
        cmap.name, cmap(np.linspace(_LIGHTEST, 1.0, 256))
    )


def _region_tick(roi, name, source):
    """A region's axis label: its atlas name, or its number with the nearest AAL region (marked ≈)."""
    if not name:
        return str(roi)
    return f"{roi} ≈{name}" if source.startswith(NEAREST_AAL) else str(name)


def _names_note(names):
    """The line saying where region names come from (None when they are the atlas's own labels)."""
    if names is None or not len(names):
        return None
    source = str(names["region_name_source"].iloc[0])
    if source == SIMULATED_REGIONS:
        return "regions by number: a simulated cohort's regions have no anatomical names"
    if source.startswith(NEAREST_AAL):
        return "≈ name: nearest AAL-116 region centroid (this atlas has no region labels)"
    if source == "no atlas coordinates":
        return "regions by number (no atlas coordinates)"
    return None


def _brain_markers(fig, rect, values, coords, cmap, vmin, vmax, sizes, title, colorbar_label):
    """Glass brain (nilearn) with one marker per region in ``rect`` of ``fig``, and a labelled colour bar."""
    from matplotlib import colors
    from matplotlib.cm import ScalarMappable
    from nilearn import plotting

    left, bottom, width, height = rect
    plotting.plot_markers(
        values,
        coords,
        node_size=sizes,
        node_cmap=cmap,
        node_vmin=vmin,
        node_vmax=vmax,
        display_mode="lzr",
        figure=fig,
        axes=(left, bottom, width * 0.92, height),
        title=None,
        colorbar=False,
        alpha=0.9,
        node_kwargs=_EDGE,  # an edge: a pale marker stays visible on white
    )
    cax = fig.add_axes((left + width * 0.93, bottom + height * 0.12, width * 0.015, height * 0.76))
    bar = fig.colorbar(ScalarMappable(norm=colors.Normalize(vmin, vmax), cmap=cmap), cax=cax)
    bar.set_label(colorbar_label, fontsize=7)
    bar.ax.tick_params(labelsize=6)
    if title:
        fig.text(left + width / 2, bottom + height + 0.01, title, ha="center", va="bottom", fontsize=8)


def brain_map_figure(weight, coordinates, title, path, html_path=None, names=None, k=5, vmax=None):
    """Glass brain with one marker per ROI centroid, colour and size by the reading weight relative to
    uniform, N·|A − 1/N| (0: attended exactly as an average region), the ``k`` largest regions named beside
    it. ``names``: :func:`.brainmaps.region_names` of the coordinates. ``vmax``: the top of the colour scale
    (maps that are compared, patients' and controls', share one); by default this map's largest value.
    The colour map leaves out its palest end and markers are edged: the smallest value stays visible."""
    from nilearn import plotting

    coords = coordinates[["x_mni", "y_mni", "z_mni"]].to_numpy()
    ratio = weight * len(weight)
    top = max(1e-6, float(ratio.max() if vmax is None else vmax))
    sizes = 12 + 70 * np.clip(ratio / top, 0, 1)
    fig = plt.figure(figsize=(11, 3.6))
    _brain_markers(
        fig,
        (0.0, 0.04, 0.74, 0.8),
        ratio,
        coords,
        _visible("magma_r"),
        0.0,
        top,
        sizes,
        None,
        f"{RATIO_LABEL}\n({RATIO_MEANING})",
    )
    fig.suptitle(textwrap.fill(title, 130), fontsize=9, y=0.99)  # a long title would widen the figure
    order = np.argsort(ratio)[::-1][:k]
    rois = coordinates["roi"].to_numpy()
    lines = [f"largest {RATIO_LABEL}:"]
    region_name = names["region_name"].to_numpy() if names is not None else [""] * len(rois)
    name_source = names["region_name_source"].to_numpy() if names is not None else [""] * len(rois)
    for rank, i in enumerate(order, 1):
        lines.append(f"{rank}. {_region_tick(rois[i], region_name[i], name_source[i])}  {ratio[i]:.2f}")
    note = _names_note(names)
    if note:
        lines += ["", textwrap.fill(note, 34)]
    fig.text(0.78, 0.82, "\n".join(lines), va="top", ha="left", fontsize=7, family="DejaVu Sans")
    _save(fig, path, tight=False)
    if html_path:
        labels = [
            f"ROI {r}{' ' + _region_tick(r, n, src) if n else ''}: {RATIO_LABEL} = {v:.2f}"
            for r, n, src, v in zip(rois, region_name, name_source, ratio)
        ]
        view = plotting.view_markers(
            coords,
            marker_color=_visible("magma_r")(np.clip(ratio / top, 0, 1)),
            marker_size=sizes / 6,
            marker_labels=labels,
            title=title,
        )
        view.save_as_html(html_path)


def class_map_figures(weights, coordinates, titles, paths, html_path=None, names=None, k=20, note=""):
    """Patients' and controls' maps (``weights``: {class: reading weight}), each to its path of ``paths``
    ({class: path}) with its title, on ONE colour scale (the larger map's top): the two are compared. On a
    glass brain with ``coordinates``, as region bars without (``note`` says why; ``k`` bars). The patients'
    map (class 1) also goes to ``html_path``."""
    vmax = max(float(np.max(w)) * len(w) for w in weights.values())
    for cls, weight in weights.items():
        html = html_path if cls == 1 else None
        if coordinates is None:
            region_index_figure(weight, titles[cls], paths[cls], html, k=k, note=note, vmax=vmax)
        else:
            brain_map_figure(weight, coordinates, titles[cls], paths[cls], html, names=names, vmax=vmax)
    return vmax


def region_index_figure(weight, title, path, html_path=None, k=20, note="", vmax=None):
    """Without atlas coordinates: the ``k`` regions of largest reading weight by their index, as bars
    (and the same as an HTML table), with ``note`` saying why there is no brain. ``vmax``: the largest
    value of the maps compared with this one (one y scale for them all)."""
    ratio = weight * len(weight)
    order = np.argsort(ratio)[::-1][:k]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([str(i + 1) for i in order], ratio[order], color="#7b3294")
    ax.axhline(0, c="grey", lw=0.8)
    ax.set(
        xlabel="region (column index of the ROI time series)",
        ylabel=f"{RATIO_LABEL}\n({RATIO_MEANING})",
        title=title,
    )
    ax.text(0.99, 0.97, textwrap.fill(note, 70), transform=ax.transAxes, ha="right", va="top", fontsize=7)
    top = max(ratio[order].max() if len(order) else 0.0, vmax or 0.0)
    ax.set_ylim(0, top * 1.35 if top > 0 else 1)
    plt.setp(ax.get_xticklabels(), rotation=90, fontsize=7)
    _save(fig, path)
    if html_path:
        rows = "".join(f"<tr><td>{i + 1}</td><td>{ratio[i]:.3f}</td></tr>" for i in order)
        Path(html_path).write_text(
            f"<html><body><h3>{title}</h3><p>{note}</p><table><tr><th>region</th><th>{RATIO_LABEL}</th></tr>"
            f"{rows}</table></body></html>"
        )


def region_significance_figure(regions, coordinates, title, path, stability=None, k=20, names=None):
    """A method's map with its permutation null: the ``k`` regions of largest value as bars (filled where
    the region beats the null family-wise: ``beats_null``, its z against its own null above the null maps'
    largest z, map_null.max_statistic_test; hollow otherwise), the null models' largest raw value as a line,
    and, given atlas coordinates, a glass brain of the regions that beat it (when none does: the top
    regions unthresholded, said so in its title). ``stability`` (a line of text) says how well the map
    reproduces, so the reader sees at a glance whether it can be read. ``names``: region names
    (:func:`.brainmaps.region_names`), used for the bar labels."""
    values = regions["observed"].to_numpy()
    significant = regions["beats_null"].to_numpy(dtype=bool)
    order = np.argsort(values)[::-1][:k]
    region_ids = regions["region"].to_numpy()
    if names is not None and len(names) == len(values):
        labels = [
            _region_tick(region_ids[i], names["region_name"].iloc[i], names["region_name_source"].iloc[i])
            for i in order
        ]
    else:
        labels = [str(r) for r in region_ids[order]]
    has_brain = coordinates is not None and len(coordinates) == len(values)
    fig = plt.figure(figsize=(13 if has_brain else 8, 5.2))
    ax = fig.add_axes((0.06, 0.36, 0.38, 0.5)) if has_brain else fig.add_axes((0.1, 0.36, 0.85, 0.5))
    tested = "null_max" in regions and np.isfinite(regions["null_max"]).any()
    position = np.arange(len(order))
    filled = significant[order]
    # one call per kind of bar, each with its legend entry: the legend lists what is drawn
    for kind, where, colour in (
        ("beats the null (p_FWER ≤ α)", filled, "#b2182b"),
        ("does not beat the null" if tested else "map value (no null: untested)", ~filled, "white"),
    ):
        if where.any():
            ax.bar(position[where], values[order][where], color=colour, edgecolor="#b2182b", label=kind)
    ax.set_xticks(range(len(order)), labels, rotation=90, fontsize=6)
    ax.set_xlim(-0.6, len(order) - 0.4)
    top = float(values[order].max()) if len(order) else 1.0
    null_top = 0.0
    if tested:
        # on the bars' own scale (raw map value): the largest null-model value at each shown region; the test
        # itself is on z (region z vs the null maps' largest z), which the fill reports
        null_max = regions["null_max"].to_numpy(dtype=float)[order]
        ax.plot(
            range(len(order)),
            null_max,
            ls="none",
            marker="_",
            ms=9,
            mew=1.6,
            c="0.3",
            label="largest null-model value at the region",
        )
        null_top = float(np.nanmax(null_max))
    # head room above the bars and the null marks: the legend sits there, over nothing
    ax.set_ylim(0, 1.3 * max(top, null_top))
    ax.legend(fontsize=7, loc="upper right", frameon=False, ncol=1)
    n_sig = int(significant.sum())
    if not tested:
        verdict = "no permutation null: largest regions, untested"
    elif n_sig:
        verdict = f"{n_sig} region(s) beat the null (region z vs null max z, family-wise)"
    else:
        verdict = "no region beats the permutation null"
    ax.set(ylabel="map value (raw)", title=verdict)
    ax.title.set_fontsize(8)
    fig.suptitle(title, fontsize=9, y=0.98)
    captions = [line for line in (stability, _names_note(names)) if line]
    if captions:
        fig.text(0.01, 0.01, "\n".join(textwrap.fill(c, 150) for c in captions), fontsize=7, va="bottom")
    if has_brain:
        coords = coordinates[["x_mni", "y_mni", "z_mni"]].to_numpy()
        if n_sig:
            shown, brain_title, cmap = significant, "regions beating the null", "Reds"
        else:
            shown = np.zeros(len(values), dtype=bool)
            shown[order[: max(1, k // 2)]] = True
            brain_title = (
                f"no region beats the null: the {int(shown.sum())} largest shown, unthresholded"
                if tested
                else f"the {int(shown.sum())} largest regions (no permutation null to test them)"
            )
            cmap = "Greys"
        # the light end of the colour map left out (and markers edged): the smallest shown region stays visible
        cmap = _visible(cmap)
        vmin, vmax = float(values[shown].min()), float(values[shown].max())
        _brain_markers(
            fig,
            (0.5, 0.3, 0.48, 0.55),
            values[shown],
            coords[shown],
            cmap,
            vmin if vmax > vmin else 0.0,
            vmax if vmax > vmin else vmax + 1e-6,
            40,
            brain_title,
            "map value",
        )
    _save(fig, path, tight=False)
