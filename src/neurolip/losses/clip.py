"""CLIP's symmetric InfoNCE between image and text embeddings of a batch."""

import torch
import torch.nn.functional as F


def clip_loss(image, text, logit_scale, positives=None):
    """Mean of the image->text and text->image cross-entropies.

    ``logit_scale`` is the learnable log-temperature: logits = exp(logit_scale) * cos(image, text).
    ``positives`` (B, B) boolean marks every matching pair; default the identity (pair i matches pair i).
    Subjects whose texts are identical match each other's text too: the target is then spread evenly over
    a row's positives instead of pushing identical texts apart as negatives.
    """
    image = F.normalize(image, dim=-1)
    text = F.normalize(text, dim=-1)
    logits = logit_scale.exp() * image @ text.T
    if positives is None:
        target = torch.arange(len(image), device=image.device)
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
    weights = positives.to(logits.dtype)
    image_to_text = weights / weights.sum(1, keepdim=True)
    text_to_image = weights.T / weights.T.sum(1, keepdim=True)
    return 0.5 * (F.cross_entropy(logits, image_to_text) + F.cross_entropy(logits.T, text_to_image))


def identical_text_positives(text_ids: torch.Tensor) -> torch.Tensor | None:
    """(B, B) positives of subjects sharing a text (``text_ids``: one id per distinct text), or None when
    every text of the batch is distinct (the plain identity target)."""
    positives = text_ids[:, None] == text_ids[None, :]
    return None if int(positives.sum()) == len(text_ids) else positives
