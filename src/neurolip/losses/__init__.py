"""Losses, one small module each: CLIP InfoNCE, SigLIP, CALT, attention distance, FairCLIP's Sinkhorn term."""

from ..models.gradient import reverse_gradient
from .attention import attention_distance
from .calt import calt_loss
from .clip import clip_loss
from .fairclip import fairclip_sinkhorn
from .siglip import siglip_loss

__all__ = [
    "attention_distance",
    "calt_loss",
    "reverse_gradient",
    "clip_loss",
    "fairclip_sinkhorn",
    "siglip_loss",
]
