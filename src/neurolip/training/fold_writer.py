"""The one writer of a fold's training outputs (selection.json, predictions, validation predictions,
per-model scores, the probe's rows, attention), for a trained method, a null model and a group-threshold
variant on its base's kept read-out alike."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .fold_io import write_attention, write_csv
from .stages.pipeline import FoldResult
from .stages.probe import LEAKAGE_COLUMNS


@dataclass(frozen=True)
class FoldOutputs:
    work_dir: Path  # selection.json, per-seed checkpoints and epoch logs
    predictions: Path
    validation: Path | None = None
    attention: Path | None = None
    seed_scores: Path | None = None  # each seed's own read-out probabilities (val, test), for brain maps
    leakage: Path | None = None  # held-out probe scores per test subject (sensitive attributes, diagnosis)


def write_selection(work_dir, info: dict) -> Path:
    """``selection.json``: what the fold's read-out chose (read-out, validation AUCs, calibration, per-model
    details, thresholds); the only place it is written."""
    path = Path(work_dir) / "selection.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))
    return path


def write_fold(
    method_name: str, fold: int, result: FoldResult, outputs: FoldOutputs, base_files: dict | None = None
):
    """Every output ``outputs`` asks for. ``base_files``: a variant on its base's kept read-out copies the
    base's seed scores and attention ({"seed_scores", "attention"}) instead of computing them."""
    write_selection(outputs.work_dir, result.info)
    write_csv(result.predictions["test"], outputs.predictions)
    if outputs.validation is not None:
        write_csv(result.predictions["val"], outputs.validation)
    if outputs.seed_scores is not None:
        if result.seed_scores is None:
            shutil.copyfile(base_files["seed_scores"], outputs.seed_scores)
        else:
            write_csv(seed_score_frame(fold, result.seed_scores), outputs.seed_scores)
    if outputs.leakage is not None:
        write_csv(pd.DataFrame(result.leakage, columns=LEAKAGE_COLUMNS), outputs.leakage)
    if outputs.attention is not None:
        if base_files is not None and result.attention is None:
            if not base_files.get("attention"):
                raise ValueError(f"method {method_name}: its base wrote no attention maps to copy")
            Path(outputs.attention).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(base_files["attention"], outputs.attention)
        elif result.attention is None:
            raise ValueError(f"method {method_name} computes no TTCA attention; it has no attention output")
        else:
            write_attention(result.attention, outputs.attention)


def seed_score_frame(fold: int, seed_scores) -> pd.DataFrame:
    """Long table of each model's read-out probability for its validation and the test subjects;
    ``seed_scores``: [(seed, FoldData the model was trained on, {split: p})]."""
    frames = [
        pd.DataFrame(
            {
                "subject_id": data.subject_ids[split],
                "fold": fold,
                "split": split,
                "seed": seed,
                "p_disease": np.asarray(scores[split], dtype=float),
            }
        )
        for seed, data, scores in seed_scores
        for split in ("val", "test")
    ]
    return pd.concat(frames, ignore_index=True)
