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

from .adversary import AttributeAdversary, adversary_loss
from .attention import attention_distance
from .calt import calt_loss
from .clip import clip_loss, identical_text_positives
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
    text_ids: torch.Tensor | None = None  # (B,) one id per distinct text: equal ids = identical texts

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
    # whether one member's terms run under torch.func.vmap (no data-dependent shapes, no .item()): its
    # models can then train as one ensemble (neurolip.training.ensemble)
    batchable = False
    readouts: tuple[str, ...] = ()
    group_attribute: str | None = None

    def __init__(self, spec: Mapping[str, Any]):
        self.spec = dict(spec)

    def terms(self, model, batch: TrainingBatch) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def auxiliary_module(self, embed_dim: int, n_groups: int) -> torch.nn.Module | None:
        """Parameters the objective trains beside the network (attached to the model), or None."""
        return None


class LinearObjective(Objective):
    """Logistic regression on the vectorised connectome, C chosen on validation; no network is trained."""

    trains_network = False
    readouts = ("logistic_regression",)


class SupervisedObjective(Objective):
    """The fMRI encoder with a classification head, trained by cross-entropy (BrainNetTF)."""

    readouts = ("head", "linear_probe")
    batchable = True

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
        self.group_attribute = None
        if spec["adversary_weight"] > 0:
            self.group_attribute = spec["adversary_attribute"]
        elif spec["fairclip_weight"] > 0:
            self.group_attribute = spec["fairclip_attribute"]

    def auxiliary_module(self, embed_dim, n_groups):
        if self.spec["adversary_weight"] <= 0:
            return None
        return AttributeAdversary(self._adversary_targets(), embed_dim, n_groups)

    def _adversary_targets(self):
        # the TTCA output is a predicting representation only where TTCA exists
        return [t for t in self.spec["adversary_on"] if t != "ttca" or self.spec["calt"]]

    def _global_mask(self, batch):
        """Tokens the global text embedding t_g averages: all, or all but the sensitive segments' words
        (then the global loss no longer pays the fMRI embedding for carrying the attribute)."""
        if self.spec["global_text"] == "full":
            return None
        sensitive = batch.segments_with_role("sensitive")
        if not sensitive:
            return None
        hidden = batch.tokens.segment_masks[:, sensitive].any(1)
        keep = batch.tokens.mask & ~hidden
        # a text made only of sensitive words keeps them rather than averaging nothing
        return torch.where(keep.any(1, keepdim=True), keep, batch.tokens.mask)

    def terms(self, model, batch):
        spec = self.spec
        tokens = batch.tokens
        out = model(batch.x, model.token_states(tokens), tokens.mask, self._global_mask(batch))
        # identical texts are positives of each other, not negatives
        positives = identical_text_positives(batch.text_ids) if batch.text_ids is not None else None
        parts = {}
        if spec["global_loss"] == "clip":
            parts["global"] = spec["global_weight"] * clip_loss(
                out["image_global"], out["text_global"], model.logit_scale, positives
            )
        else:
            parts["global"] = spec["global_weight"] * siglip_loss(
                out["image_global"], out["text_global"], model.logit_scale, model.logit_bias, positives
            )
        if spec["fairclip_weight"] > 0 and batch.groups is not None:
            sims = F.cosine_similarity(out["image_global"], out["text_global"], dim=-1)
            parts["group_sinkhorn"] = spec["fairclip_weight"] * fairclip_sinkhorn(
                sims, batch.groups, spec["fairclip_reg"]
            )
        disease_outputs = None
        if spec["calt"]:
            calt_parts, disease_outputs = self._calt_terms(model, batch, out)
            parts.update(calt_parts)
        if spec["adversary_weight"] > 0 and batch.groups is not None:
            representations = {"global": out["image_global"], "ttca": disease_outputs}
            for target in self._adversary_targets():
                if representations[target] is None:
                    continue
                logits = model.auxiliary(target, representations[target])
                parts[f"adversary_{target}"] = spec["adversary_weight"] * adversary_loss(logits, batch.groups)
        return parts

    def _calt_terms(self, model, batch, out):
        spec = self.spec
        segment_masks = batch.tokens.segment_masks
        disease = batch.segments_with_role("disease")
        sensitive = batch.segments_with_role("sensitive")
        parts, disease_outputs = {}, []
        for k in disease + sensitive:
            # one representative text per distinct segment value queries every image of the batch
            values, first = first_of_each(batch.segment_value_ids[:, k])
            positives = batch.segment_value_ids[:, k, None] == values[None, :]
            negated = k in sensitive and spec["negative_gradient"]
            reversed_term = negated and spec["sensitive_mode"] == "reverse"
            image_side, text_side = model.segment_outputs(
                out["image_local"], out["text_local"][first], segment_masks[first, k], reverse=reversed_term
            )
            if k in disease:
                # what the TTCA read-out reads: each image's outputs under the batch's diagnosis texts
                disease_outputs.append(image_side.mean(1))
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
            elif reversed_term:
                # reversed: TTCA and the text side learn to read the attribute, the encoder learns to hide
                # it; the adversary's temperature and bias are its own
                term = calt_loss(
                    image_side, text_side, positives, model.adversary_logit_scale, model.adversary_logit_bias
                )
            else:
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
        disease_output = torch.stack(disease_outputs).mean(0) if disease_outputs else None
        return parts, disease_output


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
