"""SigLIP's pairwise sigmoid loss."""

import torch
import torch.nn.functional as F


def siglip_pair_losses(image, text, logit_scale, logit_bias, positives=None):
    """Per-pair losses -log sigmoid(z_ij * (t * cos_ij + b)), z_ij = +1 for positives and -1 otherwise.

    ``positives`` is a boolean (B, B) matrix; default the identity (pair i matches pair i).
    """
    image = F.normalize(image, dim=-1)
    text = F.normalize(text, dim=-1)
    logits = logit_scale.exp() * image @ text.T + logit_bias
    if positives is None:
        positives = torch.eye(len(image), dtype=torch.bool, device=image.device)
    signs = positives.to(logits.dtype) * 2 - 1
    return -F.logsigmoid(signs * logits)


def siglip_loss(image, text, logit_scale, logit_bias, positives=None):
    """Sum over texts, mean over images, as in the SigLIP paper (loss per image)."""
    return siglip_pair_losses(image, text, logit_scale, logit_bias, positives).sum(dim=1).mean()
