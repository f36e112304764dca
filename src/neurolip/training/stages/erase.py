"""Concept erasure at read-out [ours, docs/method.md]: LEACE (Belrose et al. 2023, the ``concept-erasure``
package) fitted on the training subjects' representations removes every linear trace of a sensitive
attribute from them: on the training subjects the groups' means coincide exactly, so no linear classifier
tells the groups apart there better than a constant. On new subjects (validation, test) it holds only
approximately: the eraser applies the training subjects' estimate of the attribute's direction, which is
noisy when a representation has many dimensions for its training subjects (the linear recipe: 19 900
edges; simulated in benchmarks/linear_erasure.py, docs/method.md "Recipes and stages"). It changes no
parameter: the trained model is the same, only what its read-outs see is erased."""

from __future__ import annotations

import logging

import numpy as np
import torch

log = logging.getLogger(__name__)


class RepresentationEraser:
    """The erase stage: one LEACE eraser per representation name (``global``: v_g (B, E); ``ttca``: the
    image-side TTCA outputs (B, V, E), erased per class prompt as one flattened vector).

    ``attribute``: the sensitive attribute it erases (its codes are given to :meth:`fit`). ``row_space``:
    fit LEACE in the span of the training subjects' (centred) representations, for representations with
    more dimensions than subjects (the vectorised connectome of the linear recipe: 19 900 edges, whose
    covariance LEACE would otherwise eigendecompose): the training data has no variance outside that span,
    so LEACE's pseudo-inverse whitening leaves every component outside it untouched, and erasing the
    coordinates in the span is the same projection (Belrose et al. 2023, section 3). On the training
    subjects this is exact; a new subject's component outside their span passes through untouched, and its
    component inside is erased with a whitening estimated from as many subjects as dimensions, so on new
    subjects the erasure is approximate (benchmarks/linear_erasure.py). Fitted: ``erasers_``
    ({name: LeaceEraser}) and, with ``row_space``, ``bases_`` ({name: (mean (d,), basis (r, d))})."""

    def __init__(self, attribute: str = "sex", row_space: bool = False):
        self.attribute = attribute
        self.row_space = row_space

    @classmethod
    def from_stage(cls, params, method, settings) -> RepresentationEraser:
        return cls(**params)

    def fit(self, representations: dict[str, torch.Tensor], codes: np.ndarray) -> RepresentationEraser:
        """``representations``: {name: (n, ...)} of the training subjects; ``codes``: their 0/1 attribute codes
        (-1 unknown, left out of the fit)."""
        from concept_erasure import LeaceEraser

        known = torch.as_tensor(codes >= 0)
        if len(set(codes[codes >= 0].tolist())) < 2:
            raise ValueError(f"concept erasure of {self.attribute} needs training subjects of two groups")
        z = torch.as_tensor(codes[codes >= 0], dtype=torch.float64)
        self.erasers_, self.bases_ = {}, {}
        for name, values in representations.items():
            flat = values.reshape(len(values), -1).double()[known]
            if self.row_space:
                mean = flat.mean(0)
                _, singular, basis = torch.linalg.svd(flat - mean, full_matrices=False)
                basis = basis[singular > singular.max() * 1e-10]
                self.bases_[name] = (mean, basis)
                flat = (flat - mean) @ basis.T
            self.erasers_[name] = LeaceEraser.fit(flat, z)
        return self

    def transform(self, name: str, values: torch.Tensor) -> torch.Tensor:
        """``values`` of representation ``name`` with the attribute erased (names it was not fitted on pass
        through)."""
        if name not in self.erasers_:
            return values
        eraser = self.erasers_[name]
        flat = values.reshape(len(values), -1)
        if name in self.bases_:
            mean, basis = self.bases_[name]
            coordinates = (flat.double() - mean) @ basis.T
            removed = (coordinates - eraser(coordinates)) @ basis
            return (flat.double() - removed).to(dtype=values.dtype).reshape(values.shape)
        erased = eraser(flat.double().to(eraser.proj_left.device)).to(
            device=values.device, dtype=values.dtype
        )
        return erased.reshape(values.shape)

    # the read-outs call ``erase(name, values)``
    __call__ = transform
