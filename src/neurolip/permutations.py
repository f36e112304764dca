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


def cohort_permutations(sites, test_folds, n_permutations: int, seed: int = 0) -> np.ndarray:
    """(n_permutations, n) index arrays permuting the whole cohort within site × outer test fold: one null
    label vector per permutation for every fold of a cross-validation. Models of different folds share most
    of their training subjects and labels, so their maps agree even without any effect; null models of
    different folds must share their (permuted) labels likewise, or the null agreement across folds is too
    low. Blocking on the outer test fold keeps each fold's label composition, which stratified folds fix."""
    return within_block_permutations(_site_fold_blocks(sites, test_folds), n_permutations, seed)


def cohort_permutation(sites, test_folds, permutation: int, seed: int = 0) -> np.ndarray:
    """(n,) index array: cohort-wide permutation number ``permutation`` within site × outer test fold, drawn
    from (``seed``, ``permutation``) alone, so one job per null model (any fold) draws the same permutation
    without drawing the others (the trained null models of network methods, evaluation.maps.permutations)."""
    blocks = _site_fold_blocks(sites, test_folds)
    rng = np.random.default_rng([int(seed), int(permutation)])
    index = np.arange(len(blocks))
    for block in np.unique(blocks):
        where = np.flatnonzero(blocks == block)
        index[where] = rng.permutation(where)
    return index


def _site_fold_blocks(sites, test_folds) -> np.ndarray:
    sites, test_folds = np.asarray(sites).astype(str), np.asarray(test_folds).astype(str)
    if len(sites) != len(test_folds):
        raise ValueError(f"{len(sites)} sites but {len(test_folds)} test folds")
    return np.char.add(np.char.add(sites, "|"), test_folds)
