"""CALT: cross-modal alignment via localized tokens, one term per attribute segment.

For attribute a, the TTCA outputs and the local text tokens are averaged over the tokens of a's segment;
a SigLIP-style sigmoid loss then runs over all image-text pairs (i, j) of the batch. Pair (i, j) is
positive when the two subjects' segments say the same thing (same diagnosis, same sex, ...): subjects
who share an attribute value share its text, so calling them negatives would contradict the text.

Sensitive attributes enter the total loss with sign -1 (the paper's negative gradient). A negated loss
is unbounded below, so the sensitive term is bounded: each pair's loss is clamped at its chance value
log 2 (logit 0), which stops the push once the pair is no better than chance [METHOD.md section 4].
"""

import math

import torch

from .siglip import siglip_pair_losses

CHANCE = math.log(2.0)


def segment_mean(tokens, mask):
    """Average (B, S, E) ``tokens`` over the positions where the (B, S) ``mask`` is true."""
    weights = mask.to(tokens.dtype)
    return (tokens * weights.unsqueeze(-1)).sum(1) / weights.sum(1, keepdim=True).clamp_min(1.0)


def calt_loss(ttca_tokens, text_tokens, segment_mask, segment_ids, logit_scale, logit_bias, sensitive=False):
    """CALT term for one attribute; returns the loss to *add* with its sign already applied.

    ``segment_ids``: (B,) integer id of each subject's segment text (equal ids = same attribute value).
    """
    image = segment_mean(ttca_tokens, segment_mask)
    text = segment_mean(text_tokens, segment_mask)
    positives = segment_ids[:, None] == segment_ids[None, :]
    pair_losses = siglip_pair_losses(image, text, logit_scale, logit_bias, positives)
    if not sensitive:
        return pair_losses.mean()
    return -torch.clamp(pair_losses, max=CHANCE).mean()
