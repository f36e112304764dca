from _logging import log_to_file

log_to_file(snakemake)

import logging

import pandas as pd

from neurolip.evaluation.brainmaps import (
    fold_maps,
    load_attention,
    pooled_reading_weight,
    region_names,
    stability,
    top_regions,
)
from neurolip.evaluation.figures import RATIO_LABEL, stability_figure
from neurolip.evaluation.figures.brain import class_map_figures, unnamed_regions
from neurolip.methods import job_registry

paths = dict(zip(snakemake.params.folds, snakemake.input.attention, strict=True))
attention = load_attention(paths)
coordinates = pd.read_csv(snakemake.input.coordinates)
n_rois = attention[attention["fields"][0]].shape[1]
note = ""
if len(coordinates) != n_rois:
    note = (
        f"{len(coordinates)} ROI coordinates for {n_rois} regions ({snakemake.input.coordinates}): regions are shown "
        "by index; set dataset.roi_coordinates to the atlas centroids to draw them on a brain"
    )
    logging.warning(note)
    coordinates = None
method = snakemake.params.method
registry = job_registry(snakemake)
label = registry.label(method)
# a read-out-only method reads another method's models: its attention maps are that method's (identical)
source = snakemake.params.models_from
reused = f" (the attention of {registry.label(source)}'s models, which this method reads)" if source else ""
names = region_names(coordinates, n_rois)
# a simulated cohort's regions have no anatomy: the figures number them (the table keeps its columns)
shown_names = unnamed_regions(names) if snakemake.params.simulated else names
class_fold_maps = {cls: fold_maps(attention, cls=cls) for cls in (0, 1)}
# patients' and controls' maps are compared: one colour scale for both
class_map_figures(
    {cls: pooled_reading_weight(class_fold_maps[cls]) for cls in (0, 1)},
    coordinates,
    {
        cls: f"{label}: disease-token reading weight {RATIO_LABEL}, {'patients' if cls else 'controls'}{reused}"
        for cls in (0, 1)
    },
    {0: snakemake.output.control, 1: snakemake.output.patient},
    snakemake.output.html,
    names=shown_names,
    k=snakemake.params.top_k,
    note=note,
)
top = top_regions(class_fold_maps[1], coordinates, k=snakemake.params.top_k)
top.merge(names, on="roi", how="left").to_csv(snakemake.output.top, index=False)
per_fold = fold_maps(attention)
table = stability(per_fold, k=snakemake.params.top_k)
table.to_csv(snakemake.output.stability, index=False)
stability_figure(
    table, per_fold, snakemake.output.stability_figure, title=f"{label}: attention map stability{reused}"
)
