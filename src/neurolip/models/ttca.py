"""Text token-conditioned attention: text tokens query the region tokens."""

import math

import torch
from torch import nn


class TextTokenConditionedAttention(nn.Module):
    """A = softmax(t W_q (v W_k)^T / sqrt(E)) in R^{S x N}; v_ttca = A (v W_v). A[s, n]: token s -> region n."""

    def __init__(self, dim, center_values=True, sharpness=1.0):
        super().__init__()
        # centred values: each region's value minus the brain-wide mean, so uniform attention carries no
        # information and the output depends on *which* regions the text attends to
        self.center_values = center_values
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        # a sharper start (sharpness > 1) moves attention off the uniform saddle, where centred values
        # give zero output and almost no gradient
        self.scale = sharpness / math.sqrt(dim)

    def forward(self, text_tokens, region_tokens, key_tokens=None):
        """``key_tokens`` (default: the region tokens) decide where the text looks; the region tokens give
        what it reads there."""
        scores = self.query(text_tokens) @ self._keys(region_tokens, key_tokens).transpose(1, 2) * self.scale
        attention = torch.softmax(scores, dim=-1)  # (B, S, N)
        return attention @ self._values(region_tokens), attention

    def _keys(self, region_tokens, key_tokens):
        return self.key(region_tokens if key_tokens is None else key_tokens)

    def _values(self, region_tokens):
        values = self.value(region_tokens)
        return values - values.mean(dim=1, keepdim=True) if self.center_values else values

    def cross(self, query_tokens, region_tokens, key_tokens=None):
        """Every query text against every image: ``query_tokens`` (V, S, E), ``region_tokens`` (B, N, E)
        -> outputs (B, V, S, E) and attention (B, V, S, N)."""
        queries = self.query(query_tokens)
        scores = torch.einsum("vse,bne->bvsn", queries, self._keys(region_tokens, key_tokens)) * self.scale
        attention = torch.softmax(scores, dim=-1)
        return torch.einsum("bvsn,bne->bvse", attention, self._values(region_tokens)), attention
