"""The model library: fMRI encoder, text encoder wrapper, TTCA and the NeuroLIP model. Never imports the trainer."""

from .fmri_encoder import BrainNetEncoder, OrthonormalClusterReadout
from .neurolip import ModelConfig, NeuroLIP
from .ttca import TextTokenConditionedAttention

__all__ = [
    "BrainNetEncoder",
    "ModelConfig",
    "NeuroLIP",
    "OrthonormalClusterReadout",
    "TextTokenConditionedAttention",
]
