"""TTCA attention of the test subjects, for brain maps: never used to make a prediction."""

from __future__ import annotations

import numpy as np
import torch

from ..losses.attention import segment_attention

TEXT_KEYS = ("segment_fields", "segment_roles")


@torch.no_grad()
def test_attention(model, data, texts, device, seed: int) -> dict[str, np.ndarray]:
    """Attention of each test subject's own text over its regions, averaged per text segment: one (n, N)
    array per segment field, with ``subject_ids``, ``y_true``, ``seed`` and the segments' fields and roles."""
    model.eval()
    tokens = texts.batch(texts.positions(data.subject_ids["test"])).to(device)
    attention = model.attention_maps(
        data.x["test"].to(device), model.token_states(tokens), tokens.mask
    ).float()
    maps = {
        field: segment_attention(attention, tokens.segment_masks[:, k]).cpu().numpy()
        for k, field in enumerate(texts.segment_fields)
    }
    n = len(data.subject_ids["test"])
    return {
        "subject_ids": np.array(data.subject_ids["test"]),
        "y_true": data.y["test"],
        "segment_fields": np.array(texts.segment_fields),
        "segment_roles": np.array(texts.segment_roles),
        **maps,
        "seed": np.full(n, seed),
    }


def stack_seeds(records: list[dict]) -> dict[str, np.ndarray] | None:
    """One attention record for the fold: the seeds' rows stacked (each row keeps its seed)."""
    if not records:
        return None
    stacked = {key: np.concatenate([r[key] for r in records]) for key in records[0] if key not in TEXT_KEYS}
    return {**stacked, **{key: records[0][key] for key in TEXT_KEYS}}
