"""The one masked mean of the model library."""

import torch


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average ``values`` (..., S, E) over the positions S where ``mask`` (..., S) is true; ``mask`` may have
    fewer leading dimensions (it broadcasts). Rows with no true position give 0."""
    weights = mask.to(values.dtype).unsqueeze(-1)
    return (values * weights).sum(-2) / weights.sum(-2).clamp_min(1.0)
