"""NeuroLIP: interpretable and fair cross-modal alignment of fMRI connectomes and phenotypic text."""

__version__ = "0.2.0"
