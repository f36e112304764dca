"""Text token-conditioned attention: text tokens query the region tokens."""

import math

import torch
from torch import nn


class TextTokenConditionedAttention(nn.Module):
    """A = softmax(t W_q (v W_k)^T / sqrt(E)) in R^{S x N}; v_ttca = A (v W_v). A[s, n]: token s -> region n."""

    def __init__(self, dim):
        super().__init__()
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, text_tokens, region_tokens):
        scores = self.query(text_tokens) @ self.key(region_tokens).transpose(1, 2) * self.scale
        attention = torch.softmax(scores, dim=-1)  # (B, S, N)
        return attention @ self.value(region_tokens), attention
