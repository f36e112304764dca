"""A sensitive-attribute adversary behind a gradient-reversal layer [ours, docs/method.md].

A linear head learns to predict the attribute from a representation the disease read-out uses; the
reversal multiplies the gradient reaching the representation by -1, so everything upstream of it (the
fMRI encoder, and for the TTCA output also the attention) learns to make the attribute unreadable while
the head keeps trying. The head is the adversary's only parameter: it shares nothing with the disease
terms (no temperature, no bias), so no parameter receives both the plain and the reversed gradient.
"""

import torch.nn.functional as F
from torch import nn

from ..models.gradient import reverse_gradient


class AttributeAdversary(nn.Module):
    """One linear head per representation name: (B, E) -> logits over the attribute's groups."""

    def __init__(self, representations, dim, n_groups):
        super().__init__()
        self.heads = nn.ModuleDict({name: nn.Linear(dim, n_groups) for name in representations})

    def forward(self, name, representation):
        return self.heads[name](reverse_gradient(representation))


def adversary_loss(logits, groups):
    """Cross-entropy of the adversary over subjects whose group is known (code >= 0); 0 when none is."""
    known = groups >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[known], groups[known])
