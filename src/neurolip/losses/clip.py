"""CLIP's symmetric InfoNCE between image and text embeddings of a batch."""

import torch
import torch.nn.functional as F


def clip_loss(image, text, logit_scale):
    """Mean of the image->text and text->image cross-entropies; pair i matches pair i.

    ``logit_scale`` is the learnable log-temperature: logits = exp(logit_scale) * cos(image, text).
    """
    image = F.normalize(image, dim=-1)
    text = F.normalize(text, dim=-1)
    logits = logit_scale.exp() * image @ text.T
    target = torch.arange(len(image), device=image.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
