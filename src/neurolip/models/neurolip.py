"""The NeuroLIP model: fMRI encoder + text projection + TTCA, with CLIP/SigLIP temperature and bias."""

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from .fmri_encoder import BrainNetEncoder
from .ttca import TextTokenConditionedAttention


@dataclass
class ModelConfig:
    """Architecture as data (config key ``model``)."""

    n_rois: int
    text_hidden: int = 384
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 1
    n_clusters: int = 8
    embed_dim: int = 64
    dropout: float = 0.1
    init_logit_scale: float = math.log(10.0)
    init_logit_bias: float = -10.0
    n_classes: int = 2

    @classmethod
    def from_dict(cls, values, **overrides):
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model configuration keys: {sorted(unknown)}")
        return cls(**{**values, **overrides})

    def to_dict(self):
        return asdict(self)


def masked_mean(states, mask):
    weights = mask.to(states.dtype).unsqueeze(-1)
    return (states * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class NeuroLIP(nn.Module):
    def __init__(self, config: ModelConfig, seed=0):
        super().__init__()
        self.config = config
        self.image_encoder = BrainNetEncoder(
            config.n_rois, config.d_model, config.n_heads, config.n_layers, config.n_clusters,
            config.embed_dim, config.dropout, seed=seed,
        )
        self.text_local = nn.Linear(config.text_hidden, config.embed_dim)
        self.text_global = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.text_hidden, config.embed_dim))
        self.ttca = TextTokenConditionedAttention(config.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(float(config.init_logit_scale)))
        self.logit_bias = nn.Parameter(torch.tensor(float(config.init_logit_bias)))
        self.classifier = nn.Linear(config.embed_dim, config.n_classes)  # used by the supervised baseline only

    def encode_image(self, connectivity):
        return self.image_encoder(connectivity)

    def encode_text(self, states, mask):
        """Local tokens (B, S, E) and the global token (B, E) from frozen or fine-tuned encoder states."""
        return self.text_local(states), self.text_global(masked_mean(states, mask))

    def forward(self, connectivity, text_states=None, text_mask=None):
        image_global, image_local = self.encode_image(connectivity)
        out = {"image_global": image_global, "image_local": image_local}
        if text_states is not None:
            text_local, text_global = self.encode_text(text_states, text_mask)
            ttca_tokens, attention = self.ttca(text_local, image_local)
            out.update(text_local=text_local, text_global=text_global, ttca=ttca_tokens, attention=attention)
        return out

    def attention_maps(self, connectivity, text_states, text_mask):
        """TTCA attention (B, S, N) of given texts over the subjects' regions (for interpretation only)."""
        _, image_local = self.encode_image(connectivity)
        text_local, _ = self.encode_text(text_states, text_mask)
        return self.ttca(text_local, image_local)[1]

    def zero_shot_logits(self, connectivity, prompt_states, prompt_mask):
        """Logits over class prompts: exp(logit_scale) * cos(v_g, t_class). The subject's own text is never used."""
        image_global, _ = self.encode_image(connectivity)
        _, prompt_global = self.encode_text(prompt_states, prompt_mask)
        image_global = nn.functional.normalize(image_global, dim=-1)
        prompt_global = nn.functional.normalize(prompt_global, dim=-1)
        return self.logit_scale.exp() * image_global @ prompt_global.T
