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


def cohort_donors(
    folds: pd.DataFrame, cohort: pd.DataFrame, fold: int, permutation: int, seed: int
) -> pd.Series:
    """{subject: whose connectome it gets} for null model ``permutation`` of ``fold``: one cohort-wide
    permutation of the fold's repeat, within site × outer test fold (:func:`~neurolip.permutations.cohort_permutation`,
    drawn from (``seed``, ``permutation``) alone), restricted to the fold's training and validation subjects.
    Null model k of every fold reads the same permutation k (the same brain-label pairs wherever two folds
    share subjects), as the observed models of different folds share their training labels; a donor is
    in the same outer test fold as its receiver, so never in this fold's test split."""
    from ..permutations import cohort_permutation

    part = folds[folds["fold"] == fold]
    if part.empty:
        raise ValueError(f"fold {fold} is not in the folds table")
    repeat = part["repeat"].iloc[0] if "repeat" in part else 0
    rows = folds[folds["split"] == "test"]
    if "repeat" in rows:
        rows = rows[rows["repeat"] == repeat]
    ids = rows["subject_id"].astype(str).to_numpy()
    pool = part.loc[part["split"] != "test", "subject_id"].astype(str)
    twice = sorted(set(ids[pd.Series(ids).duplicated().to_numpy()]))
    untested = sorted(set(pool) - set(ids))
    if twice or untested:
        raise ValueError(
            f"fold {fold}: every subject of a repeat must be in exactly one test fold; tested twice: {twice[:5]}, "
            f"never tested: {untested[:5]}"
        )
    missing = sorted(set(ids) - set(cohort.index))
    if missing:
        raise ValueError(f"subjects {missing[:5]} of the folds table are not in the cohort table")
    index = cohort_permutation(
        cohort.loc[ids, "site"].astype(str).to_numpy(), rows["fold"].to_numpy(), permutation, seed
    )
    donors = pd.Series(ids[index], index=ids)
    outside = sorted(set(donors.loc[pool]) - set(pool))
    if outside:
        raise ValueError(
            f"fold {fold}: donors {outside[:5]} are not training or validation subjects of the fold "
            "(every subject of a repeat must be in exactly one test fold)"
        )
    return donors.loc[pool]


def cohort_wide_permuter(folds_path, seed: int):
    """``permute(data, permutation)`` for :func:`~.null_models.train_null_models`: each training and
    validation subject gets the connectome of its donor in cohort-wide permutation ``permutation``
    (:func:`cohort_donors`; texts, labels and attributes stay); test subjects keep their own."""
    folds = pd.read_csv(folds_path, sep="\t", dtype={"subject_id": str})

    def permute(data: FoldData, permutation: int) -> None:
        donors = cohort_donors(folds, data.cohort, data.fold, permutation, seed)
        pool = [*data.subject_ids["train"], *data.subject_ids["val"]]
        stacked = torch.cat([data.x["train"], data.x["val"]])
        row = {s: i for i, s in enumerate(pool)}
        for split in ("train", "val"):
            take = [row[donors[s]] for s in data.subject_ids[split]]
            data.x[split] = stacked[torch.tensor(take, dtype=torch.long)]

    return permute


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
