"""Permutations within blocks (e.g. sites): what a null model (training) and a null map (evaluation) both
shuffle by."""

from __future__ import annotations

import numpy as np


def within_block_permutations(blocks, n_permutations: int, seed: int = 0) -> np.ndarray:
    """(n_permutations, n) index arrays, each permuting subjects only within their block (e.g. site):
    ``labels[index]`` is a permuted label vector."""
    blocks = np.asarray(blocks)
    rng = np.random.default_rng(seed)
    index = np.broadcast_to(np.arange(len(blocks)), (n_permutations, len(blocks))).copy()
    for block in np.unique(blocks):
        where = np.flatnonzero(blocks == block)
        index[:, where] = rng.permuted(index[:, where], axis=1)
    return index
