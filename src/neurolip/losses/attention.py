"""Attention distance L_attn = ||mean disease attention row - mean sensitive attention row||_2."""

import torch

from ..models.pooling import masked_mean


def segment_attention(attention, mask):
    """Average the (B, S, N) TTCA attention rows over a segment's tokens (``mask`` (B, S)) -> (B, N)."""
    return masked_mean(attention, mask)


def attention_distance(attention, disease_mask, sensitive_mask):
    """Batch mean of the Euclidean distance between the disease and sensitive attention maps.

    Both maps are probability vectors over regions, so the distance is at most sqrt(2): subtracting
    beta * L_attn from the loss needs no further bound.
    """
    disease = segment_attention(attention, disease_mask)
    sensitive = segment_attention(attention, sensitive_mask)
    return torch.linalg.vector_norm(disease - sensitive, dim=-1).mean()
