"""CALT: cross-modal alignment via localized tokens, one term per attribute segment.

For attribute a, each distinct segment text v in the batch (e.g. "Diagnosis: autism spectrum disorder.")
queries the region tokens of every image i through TTCA; the TTCA output, averaged over the segment's
tokens, is compared with the segment's own text tokens (averaged the same way). A SigLIP-style sigmoid
loss runs over all (image i, segment value v) pairs, positive when subject i's segment says v.

Why the query comes from v and not from subject i's own text: with its own text as query, the attention
pattern itself carries i's label, and the loss can be met without looking at the image at all (attend to
region A for one label and region B for the other). Querying every image with every value makes the
attention find the regions that separate images of one value from the others.

Sensitive attributes enter the total loss with sign -1 (the paper's negative gradient). A negated loss is
unbounded below, so the sensitive term is bounded: each pair's loss is clamped at its chance value log 2
(logit 0), which stops the push once the pair is no better than chance [docs/method.md, CALT]. The other
bound the method names is a gradient-reversal layer (``neurolip.models.gradient.reverse_gradient``): the sensitive words keep learning
to read the attribute from the regions while the fMRI encoder, through the reversed gradient, learns region
tokens from which it cannot be read.
"""

import math

import torch
import torch.nn.functional as F

CHANCE = math.log(2.0)


def calt_logits(ttca_segment, text_segment, logit_scale, logit_bias):
    """``ttca_segment`` (B, V, E), ``text_segment`` (V, E) -> logits (B, V) = t * cos + b."""
    cosine = (F.normalize(ttca_segment, dim=-1) * F.normalize(text_segment, dim=-1).unsqueeze(0)).sum(-1)
    return logit_scale.exp() * cosine + logit_bias


def calt_loss(ttca_segment, text_segment, positives, logit_scale, logit_bias, sensitive=False):
    """CALT term for one attribute, with its sign already applied (add it to the total loss).

    ``positives`` (B, V) is true where subject i's segment has value v.
    """
    logits = calt_logits(ttca_segment, text_segment, logit_scale, logit_bias)
    signs = positives.to(logits.dtype) * 2 - 1
    pair_losses = -F.logsigmoid(signs * logits)
    if not sensitive:
        return pair_losses.mean()
    return -torch.clamp(pair_losses, max=CHANCE).mean()
