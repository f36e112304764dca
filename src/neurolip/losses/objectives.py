"""What each kind of method optimises: a mapping term name -> weighted loss tensor (like open_clip's loss
modules). The trainer sums the terms; it never asks which method it is training.

``build_objective(spec)`` turns a ``methods.<name>`` entry (completed by the schema's defaults) into an
:class:`Objective`, through the ``OBJECTIVES`` registry keyed by the entry's ``objective``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .attention import attention_distance
from .calt import calt_loss, reverse_gradient
from .clip import clip_loss
from .fairclip import fairclip_sinkhorn
from .siglip import siglip_loss


@dataclass
class TrainingBatch:
    """One optimisation step's subjects, already on the training device."""

    x: torch.Tensor  # (B, N, N) connectomes
    y: torch.Tensor  # (B,) diagnosis
    tokens: Any = None  # models.text_encoder.TokenBatch of the subjects' own texts (text methods only)
    segment_value_ids: torch.Tensor | None = None  # (B, n_segments): equal ids = same words in that segment
    segment_fields: tuple[str, ...] = ()
    segment_roles: tuple[str, ...] = ()
    groups: torch.Tensor | None = None  # (B,) group codes of ``Objective.group_attribute`` (-1 unknown)

    def segments_with_role(self, role: str) -> list[int]:
        return [k for k, r in enumerate(self.segment_roles) if r == role]


def first_of_each(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct values of ``ids`` and the position of the first subject holding each."""
    values, inverse = torch.unique(ids, return_inverse=True)
    positions = torch.arange(len(ids), device=ids.device)
    first = torch.full((len(values),), len(ids), dtype=torch.long, device=ids.device)
    first = first.scatter_reduce(0, inverse, positions, reduce="amin")
    return values, first


class Objective:
    """Base class. ``readouts`` are the read-out candidates in order; the first is the method's direct
    read-out (early stopping watches its validation AUC)."""

    trains_network = True
    uses_text = False
    readouts: tuple[str, ...] = ()
    group_attribute: str | None = None

    def __init__(self, spec: Mapping[str, Any]):
        self.spec = dict(spec)

    def terms(self, model, batch: TrainingBatch) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class LinearObjective(Objective):
    """Logistic regression on the vectorised connectome, C chosen on validation; no network is trained."""

    trains_network = False
    readouts = ("logistic_regression",)


class SupervisedObjective(Objective):
    """The fMRI encoder with a classification head, trained by cross-entropy (BrainNetTF)."""

    readouts = ("head", "linear_probe")

    def terms(self, model, batch):
        image_global, _ = model.encode_image(batch.x)
        return {"cross_entropy": F.cross_entropy(model.classifier(image_global), batch.y)}


class ContrastiveObjective(Objective):
    """Global image-text alignment (CLIP or SigLIP), optionally FairCLIP's Sinkhorn term, and with
    ``calt`` NeuroLIP's CALT terms per text segment and the attention-distance term L_attn."""

    uses_text = True

    def __init__(self, spec):
        super().__init__(spec)
        self.readouts = (
            ("ttca", "zero_shot", "linear_probe") if spec["calt"] else ("zero_shot", "linear_probe")
        )
        self.group_attribute = spec["fairclip_attribute"] if spec["fairclip_weight"] > 0 else None

    def terms(self, model, batch):
        spec = self.spec
        tokens = batch.tokens
        out = model(batch.x, model.token_states(tokens), tokens.mask)
        parts = {}
        if spec["global_loss"] == "clip":
            parts["global"] = spec["global_weight"] * clip_loss(
                out["image_global"], out["text_global"], model.logit_scale
            )
        else:
            parts["global"] = spec["global_weight"] * siglip_loss(
                out["image_global"], out["text_global"], model.logit_scale, model.logit_bias
            )
        if spec["fairclip_weight"] > 0 and batch.groups is not None:
            sims = F.cosine_similarity(out["image_global"], out["text_global"], dim=-1)
            parts["group_sinkhorn"] = spec["fairclip_weight"] * fairclip_sinkhorn(
                sims, batch.groups, spec["fairclip_reg"]
            )
        if spec["calt"]:
            parts.update(self._calt_terms(model, batch, out))
        return parts

    def _calt_terms(self, model, batch, out):
        spec = self.spec
        segment_masks = batch.tokens.segment_masks
        disease = batch.segments_with_role("disease")
        sensitive = batch.segments_with_role("sensitive")
        parts = {}
        for k in disease + sensitive:
            # one representative text per distinct segment value queries every image of the batch
            values, first = first_of_each(batch.segment_value_ids[:, k])
            positives = batch.segment_value_ids[:, k, None] == values[None, :]
            negated = k in sensitive and spec["negative_gradient"]
            reversed_term = negated and spec["sensitive_mode"] == "reverse"
            image_local = reverse_gradient(out["image_local"]) if reversed_term else out["image_local"]
            image_side, text_side = model.segment_outputs(
                image_local, out["text_local"][first], segment_masks[first, k]
            )
            if negated and not reversed_term:
                # negated term: only the image side (regions, attention) may move away from the sensitive
                # words; a fixed temperature and a detached text side close the trivial ways out
                term = calt_loss(
                    image_side,
                    text_side.detach(),
                    positives,
                    model.fixed_logit_scale,
                    model.fixed_logit_bias,
                    sensitive=True,
                )
            else:
                # reversed: TTCA and the text side learn to read the attribute, the encoder learns to hide it
                term = calt_loss(
                    image_side, text_side, positives, model.calt_logit_scale, model.calt_logit_bias
                )
            parts[f"calt_{batch.segment_fields[k]}"] = spec["calt_weight"] * term
        if spec["attn_beta"] > 0 and disease and sensitive:
            disease_mask = segment_masks[:, disease].any(1)
            distance = sum(
                attention_distance(out["attention"], disease_mask, segment_masks[:, k]) for k in sensitive
            )
            parts["attn"] = -spec["attn_beta"] * distance / len(sensitive)
        return parts


OBJECTIVES: dict[str, type[Objective]] = {
    "linear": LinearObjective,
    "supervised": SupervisedObjective,
    "contrastive": ContrastiveObjective,
}


def build_objective(spec: Mapping[str, Any]) -> Objective:
    """The objective of a ``methods.<name>`` entry completed by the schema's defaults."""
    kind = spec["objective"]
    if kind not in OBJECTIVES:
        raise ValueError(f"unknown objective {kind!r}; known: {sorted(OBJECTIVES)}")
    return OBJECTIVES[kind](spec)
