"""Data sources. Each loader returns a :class:`SourceData`: a manifest of per-subject inputs and the raw
phenotype table, plus the subjects it could not find (logged as exclusions, never dropped silently)."""

from .base import SourceData, roi_coordinates

__all__ = ["SourceData", "roi_coordinates"]
