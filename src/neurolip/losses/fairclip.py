"""FairCLIP's distribution-matching term (Luo et al., CVPR 2024) with POT's Sinkhorn divergence.

The distribution of matched-pair similarities over the batch should equal the same distribution within
each group g of the sensitive attribute: sum_g SinkhornDivergence(sims, sims[g == group]).
"""

import warnings

import torch


def fairclip_sinkhorn(similarities, groups, reg=0.1, n_iterations=50):
    """``similarities``: (B,) cosine of each image with its own text; ``groups``: (B,) group ids (-1: unknown)."""
    from ot.bregman import (
        empirical_sinkhorn_divergence,  # imported here: POT is slow to import, only FairCLIP needs it
    )

    total = similarities.new_zeros(())
    batch = similarities[:, None]
    for group in torch.unique(groups):
        if group < 0:
            continue
        members = batch[groups == group]
        if len(members) < 2:
            continue
        with warnings.catch_warnings():
            # a fixed iteration budget, as FairCLIP's own Sinkhorn: the training signal does not need convergence
            warnings.filterwarnings("ignore", message="Sinkhorn did not converge")
            total = total + empirical_sinkhorn_divergence(batch, members, reg, numIterMax=n_iterations).sum()
    return total
