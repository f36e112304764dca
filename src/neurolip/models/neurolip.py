"""The NeuroLIP model: fMRI encoder + text projection + TTCA, with CLIP/SigLIP temperature and bias."""

import math
from dataclasses import dataclass, fields

import torch
from torch import nn

from .fmri_encoder import BrainNetEncoder
from .gradient import reverse_gradient
from .pooling import masked_mean
from .ttca import TextTokenConditionedAttention

MAX_LOGIT_SCALE = math.log(100.0)
# the learnt log-temperatures, clamped to [0, MAX_LOGIT_SCALE] after every optimiser step
TEMPERATURES = ("logit_scale", "calt_logit_scale", "adversary_logit_scale")


@dataclass
class ModelConfig:
    """Architecture as data: the config section ``model`` (defaults in the workflow's schema) plus what the
    data decide (``n_rois``, ``text_hidden``) and fixed initial values."""

    n_rois: int
    text_hidden: int
    d_model: int
    n_heads: int
    n_layers: int
    n_clusters: int
    embed_dim: int
    dropout: float
    local_tokens: str
    center_values: bool
    ttca_sharpness: float
    linear_path: bool
    ttca_keys: str
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


class NeuroLIP(nn.Module):
    def __init__(self, config: ModelConfig, seed=0):
        super().__init__()
        self.config = config
        self.image_encoder = BrainNetEncoder(
            config.n_rois,
            config.d_model,
            config.n_heads,
            config.n_layers,
            config.n_clusters,
            config.embed_dim,
            config.dropout,
            seed=seed,
            local_tokens=config.local_tokens,
            linear_path=config.linear_path,
        )
        self.text_local = nn.Linear(config.text_hidden, config.embed_dim)
        self.text_global = nn.Sequential(
            nn.Dropout(config.dropout), nn.Linear(config.text_hidden, config.embed_dim)
        )
        if config.ttca_keys not in ("content", "region"):
            raise ValueError(f"ttca_keys must be 'content' or 'region', not {config.ttca_keys!r}")
        self.ttca = TextTokenConditionedAttention(
            config.embed_dim, center_values=config.center_values, sharpness=config.ttca_sharpness
        )
        self.logit_scale = nn.Parameter(torch.tensor(float(config.init_logit_scale)))
        self.logit_bias = nn.Parameter(torch.tensor(float(config.init_logit_bias)))
        # CALT pairs are (image, segment value) with balanced positives: its own temperature, bias at 0.
        # Reversed (sensitive) terms use the fixed buffers instead: a learnable scale could meet them by
        # shrinking to 0 without changing any representation.
        self.calt_logit_scale = nn.Parameter(torch.tensor(float(config.init_logit_scale)))
        self.calt_logit_bias = nn.Parameter(torch.tensor(0.0))
        self.register_buffer("fixed_logit_scale", torch.tensor(float(config.init_logit_scale)))
        self.register_buffer("fixed_logit_bias", torch.tensor(0.0))
        # the reversed (adversarial) CALT term's own temperature and bias: shared with the disease term,
        # they would receive the plain gradient of one and the reversed gradient of the other
        self.adversary_logit_scale = nn.Parameter(torch.tensor(float(config.init_logit_scale)))
        self.adversary_logit_bias = nn.Parameter(torch.tensor(0.0))
        self.classifier = nn.Linear(
            config.embed_dim, config.n_classes
        )  # used by the supervised baseline only
        self.text_backbone = (
            None  # a trainable text encoder (text_encoder.finetune); None: frozen cached states
        )
        self.auxiliary = None  # an objective's own modules (attach_auxiliary)

    @torch.no_grad()
    def clamp_temperatures(self):
        """Keep the learnt log-temperatures in [0, log 100] (CLIP's bound), after every optimiser step."""
        for name in TEMPERATURES:
            getattr(self, name).clamp_(0, MAX_LOGIT_SCALE)

    def attach_auxiliary(self, module):
        """Parameters an objective needs beyond the network (e.g. an attribute adversary's heads): they
        train with the model and are saved in its checkpoints; no read-out uses them."""
        self.auxiliary = module

    def attach_text_backbone(self, backbone):
        """Make the pretrained text encoder part of the model: it trains with it and is saved in its
        checkpoints; token states are then computed from the token ids instead of read from the cache."""
        self.text_backbone = backbone

    def token_states(self, tokens):
        """Encoder states of a :class:`~neurolip.models.text_encoder.TokenBatch`: the cached frozen ones, or
        the attached backbone's output."""
        if self.text_backbone is None:
            return tokens.states
        if tokens.input_ids is None:
            raise ValueError(
                "these text features hold no token ids; rebuild them to fine-tune the text encoder"
            )
        return self.text_backbone(tokens.input_ids, tokens.mask)

    def encode_image(self, connectivity):
        return self.image_encoder(connectivity)

    def _keys(self, image_local, reverse=False):
        """TTCA keys: the subject's region tokens ("content") or the learnt region identities ("region": where
        a text looks is the same for every subject, so attention singles out regions and cannot memorise
        subjects; what it reads there is still each subject's own region tokens). ``reverse``: the encoder's
        part of the keys (region identities) sits behind the gradient reversal, like the values."""
        if self.config.ttca_keys == "content":
            return None
        encoder = self.image_encoder
        identity = encoder.local_head(
            encoder.region_embedding
        )  # (N, E); all equal at init: attention starts uniform
        if reverse:
            identity = reverse_gradient(identity)
        return identity.unsqueeze(0).expand(image_local.shape[0], -1, -1)

    def encode_text(self, states, mask, global_mask=None):
        """Local tokens (B, S, E) and the global token (B, E) from frozen or fine-tuned encoder states; the
        global token averages the tokens of ``global_mask`` (default all real tokens, ``mask``)."""
        pooled = masked_mean(states, mask if global_mask is None else global_mask)
        return self.text_local(states), self.text_global(pooled)

    def forward(self, connectivity, text_states=None, text_mask=None, global_mask=None):
        image_global, image_local = self.encode_image(connectivity)
        out = {"image_global": image_global, "image_local": image_local}
        if text_states is not None:
            text_local, text_global = self.encode_text(text_states, text_mask, global_mask)
            ttca_tokens, attention = self.ttca(text_local, image_local, self._keys(image_local))
            out.update(text_local=text_local, text_global=text_global, ttca=ttca_tokens, attention=attention)
        return out

    def attention_maps(self, connectivity, text_states, text_mask):
        """TTCA attention (B, S, N) of given texts over the subjects' regions (for interpretation only)."""
        _, image_local = self.encode_image(connectivity)
        text_local, _ = self.encode_text(text_states, text_mask)
        return self.ttca(text_local, image_local, self._keys(image_local))[1]

    def segment_outputs(self, image_local, query_tokens, query_mask, reverse=False):
        """TTCA of every image under every segment text, pooled over the segment's tokens.

        ``query_tokens`` (V, S, E) are projected local text tokens, ``query_mask`` (V, S) marks the segment.
        ``reverse``: the encoder's outputs (region tokens and region identities) enter through a gradient
        reversal, so TTCA and the text side learn to read while the encoder learns to hide.
        Returns (B, V, E) image-side outputs and (V, E) text-side segment embeddings.
        """
        # keep only the segment's tokens (a handful of the text's): the cross attention is V x B x S x N
        order = torch.argsort(query_mask.to(torch.int8), dim=1, descending=True, stable=True)
        length = max(1, int(query_mask.sum(1).max()))
        keep = order[:, :length]
        query_tokens = torch.gather(
            query_tokens, 1, keep.unsqueeze(-1).expand(-1, -1, query_tokens.shape[-1])
        )
        query_mask = torch.gather(query_mask, 1, keep)
        keys = self._keys(image_local, reverse=reverse)
        if reverse:
            image_local = reverse_gradient(image_local)
        outputs, _ = self.ttca.cross(query_tokens, image_local, keys)
        return masked_mean(outputs, query_mask), masked_mean(query_tokens, query_mask)

    def ttca_outputs(self, connectivity, prompt_states, prompt_mask, prompt_segment_mask):
        """Each class prompt's diagnosis words querying the subject's regions: image-side (B, V, E) and
        text-side (V, E) outputs, what the TTCA read-out compares."""
        _, image_local = self.encode_image(connectivity)
        prompt_local, _ = self.encode_text(prompt_states, prompt_mask)
        return self.segment_outputs(image_local, prompt_local, prompt_segment_mask)

    def ttca_logits(self, connectivity, prompt_states, prompt_mask, prompt_segment_mask, erase=None):
        """Logits over class prompts through TTCA: each prompt's diagnosis words query the subject's regions.
        ``erase(name, tensor)``: an optional transform of the image side before the comparison (read-out
        concept erasure)."""
        image_side, text_side = self.ttca_outputs(
            connectivity, prompt_states, prompt_mask, prompt_segment_mask
        )
        if erase is not None:
            image_side = erase("ttca", image_side)
        cosine = (
            nn.functional.normalize(image_side, dim=-1) * nn.functional.normalize(text_side, dim=-1)[None]
        ).sum(-1)
        return self.calt_logit_scale.exp() * cosine + self.calt_logit_bias

    def zero_shot_logits(self, connectivity, prompt_states, prompt_mask, erase=None):
        """Logits over class prompts: exp(logit_scale) * cos(v_g, t_class). The subject's own text is never used."""
        image_global, _ = self.encode_image(connectivity)
        if erase is not None:
            image_global = erase("global", image_global)
        _, prompt_global = self.encode_text(prompt_states, prompt_mask)
        image_global = nn.functional.normalize(image_global, dim=-1)
        prompt_global = nn.functional.normalize(prompt_global, dim=-1)
        return self.logit_scale.exp() * image_global @ prompt_global.T
