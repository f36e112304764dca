"""Figures, by capability: classification and fairness (:mod:`.performance`), brain maps (:mod:`.brain`), map
stability against nulls (:mod:`.stability`) and TTCA attention (:mod:`.attention`); :mod:`._style` holds what
they share.

Every figure is written twice: the PNG its rule names (300 dpi) and a vector PDF beside it (same name,
``.pdf``; fonts embedded as TrueType so the text stays editable). Methods are shown by their display
names (``MethodRegistry.label``); regions by their atlas names (:func:`..brainmaps.region_names`)."""

from ._style import RATIO_LABEL, RATIO_MEANING, VECTOR_SUFFIX, vector_path
from .attention import overlap_figure, recovery_figure
from .brain import brain_map_figure, region_index_figure, region_significance_figure
from .performance import (
    calibration_figure,
    fairness_accuracy_figure,
    fold_auc_figure,
    group_bars_figure,
    group_class_counts,
    roc_figure,
)
from .reference import reference_agreement_figure
from .sites import per_site_forest_figure
from .stability import map_stability_figure, stability_figure

__all__ = [
    "RATIO_LABEL",
    "RATIO_MEANING",
    "VECTOR_SUFFIX",
    "brain_map_figure",
    "calibration_figure",
    "fairness_accuracy_figure",
    "fold_auc_figure",
    "group_bars_figure",
    "group_class_counts",
    "map_stability_figure",
    "overlap_figure",
    "per_site_forest_figure",
    "recovery_figure",
    "reference_agreement_figure",
    "region_index_figure",
    "region_significance_figure",
    "roc_figure",
    "stability_figure",
    "vector_path",
]
