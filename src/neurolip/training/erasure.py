"""Concept erasure at read-out [ours, docs/method.md]: LEACE (Belrose et al. 2023, the ``concept-erasure``
package) fitted on the training subjects' representations removes every linear trace of a sensitive
attribute from what the read-outs read (no linear classifier can then tell the groups apart better than a
constant on the training distribution). It changes no parameter: the trained model is the same, only what
its read-outs see is erased."""

from __future__ import annotations

import logging

import numpy as np
import torch

log = logging.getLogger(__name__)


class RepresentationEraser:
    """One LEACE eraser per representation name (``global``: v_g (B, E); ``ttca``: the image-side TTCA
    outputs (B, V, E), erased per class prompt as one flattened vector)."""

    def __init__(self, erasers: dict):
        self.erasers = erasers

    @classmethod
    def fit(cls, representations: dict[str, torch.Tensor], codes: np.ndarray) -> RepresentationEraser:
        """``representations``: {name: (n, ...)} of the training subjects; ``codes``: their 0/1 attribute codes
        (-1 unknown, left out of the fit)."""
        from concept_erasure import LeaceEraser

        known = torch.as_tensor(codes >= 0)
        if len(set(codes[codes >= 0].tolist())) < 2:
            raise ValueError("concept erasure needs training subjects of two groups")
        z = torch.as_tensor(codes[codes >= 0], dtype=torch.float64)
        erasers = {}
        for name, values in representations.items():
            flat = values.reshape(len(values), -1).double()
            erasers[name] = LeaceEraser.fit(flat[known], z)
        return cls(erasers)

    def __call__(self, name: str, values: torch.Tensor) -> torch.Tensor:
        if name not in self.erasers:
            return values
        eraser = self.erasers[name]
        flat = values.reshape(len(values), -1)
        erased = eraser(flat.double().to(eraser.proj_left.device)).to(
            device=values.device, dtype=values.dtype
        )
        return erased.reshape(values.shape)
