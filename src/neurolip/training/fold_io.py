"""Reading one cross-validation fold and writing what training produced for it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..connectome_store import load_connectomes
from ..phenotypes import read_phenotypes

SPLITS = ("train", "val", "test")


@dataclass
class FoldData:
    """One fold's subjects per split, their connectomes and diagnoses, and the cohort table."""

    subject_ids: dict[str, list[str]]  # split -> ids
    x: dict[str, torch.Tensor]  # split -> (n, N, N) float
    y: dict[str, np.ndarray]  # split -> (n,) int
    cohort: pd.DataFrame  # indexed by subject_id
    fold: int = 0


def load_fold(connectomes_path, folds_path, cohort_path, fold: int) -> FoldData:
    # a group-level connectivity (tangent) gets its reference from this fold's training subjects
    ids, matrices = load_connectomes(connectomes_path, folds_path, fold)
    position = {s: i for i, s in enumerate(ids)}
    folds = pd.read_csv(folds_path, sep="\t", dtype={"subject_id": str})
    cohort = read_phenotypes(cohort_path)
    diagnosis = dict(zip(cohort["subject_id"], cohort["diagnosis"].astype(int), strict=True))
    part = folds[folds["fold"] == fold]
    if part.empty:
        raise ValueError(f"fold {fold} is not in {folds_path}")
    subject_ids, x, y = {}, {}, {}
    for split in SPLITS:
        sids = part.loc[part["split"] == split, "subject_id"].tolist()
        subject_ids[split] = sids
        x[split] = torch.from_numpy(matrices[[position[s] for s in sids]]).float()
        y[split] = np.array([diagnosis[s] for s in sids])
    return FoldData(subject_ids, x, y, cohort.set_index("subject_id"), fold)


def copy_fold(data: FoldData) -> FoldData:
    """A copy whose per-split containers can be replaced (a permutation) without touching ``data``; the
    tensors themselves are shared (a permutation makes new ones)."""
    return FoldData(
        {k: list(v) for k, v in data.subject_ids.items()}, dict(data.x), dict(data.y), data.cohort, data.fold
    )


def permute_connectomes(data: FoldData, permutation: int) -> None:
    """Shuffle the connectomes among the training subjects and among the validation subjects (in place,
    seeded by ``permutation``): each keeps its own text, label and attributes but gets another's brain, the
    null under which no region carries anything. Test subjects keep their own."""
    generator = torch.Generator().manual_seed(10007 * (permutation + 1))
    for split in ("train", "val"):
        data.x[split] = data.x[split][torch.randperm(len(data.x[split]), generator=generator)]


def permute_connectomes_within_site(data: FoldData, permutation: int) -> None:
    """As :func:`permute_connectomes`, but each connectome moves only among subjects of the same site
    (exchangeability blocks): a null model keeps what site explains and loses only the link of brain and
    label (docs/method.md, Brain maps)."""
    from ..permutations import within_block_permutations

    for offset, split in enumerate(("train", "val")):
        sites = data.cohort.loc[data.subject_ids[split], "site"].astype(str).to_numpy()
        index = within_block_permutations(sites, 1, seed=10007 * (permutation + 1) + offset)[0]
        data.x[split] = data.x[split][torch.from_numpy(index)]


def predictions_frame(data: FoldData, fold: int, split: str, probabilities, scores, sensitive_attributes):
    """Calibrated P(disease), the decision at 0.5 (the calibration put the threshold where validation says)
    and the read-out's raw score for the subjects of ``split``, with their sensitive attributes."""
    subject_ids = data.subject_ids[split]
    frame = pd.DataFrame(
        {
            "subject_id": subject_ids,
            "fold": fold,
            "y_true": data.y[split],
            "p_disease": probabilities.astype(float),
            "y_pred": (probabilities >= 0.5).astype(int),
            "score": scores.astype(float),
        }
    )
    for attribute in sensitive_attributes:
        if attribute in data.cohort.columns:
            frame[attribute] = data.cohort.loc[subject_ids, attribute].to_numpy()
    return frame


def write_csv(frame: pd.DataFrame, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def write_attention(attention: dict, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **attention)
