"""FairCLIP's distribution-matching term (Luo et al., CVPR 2024) with POT's Sinkhorn divergence.

The distribution of matched-pair similarities over the batch should equal the same distribution within
each group g of the sensitive attribute: sum_g SinkhornDivergence(sims, sims[g == group]).
"""

import torch


def fairclip_sinkhorn(similarities, groups, reg=0.1):
    """``similarities``: (B,) cosine of each image with its own text; ``groups``: (B,) group ids (-1: unknown)."""
    from ot.bregman import empirical_sinkhorn_divergence  # imported here: POT is slow to import, only FairCLIP needs it

    total = similarities.new_zeros(())
    batch = similarities[:, None]
    for group in torch.unique(groups):
        if group < 0:
            continue
        members = batch[groups == group]
        if len(members) < 2:
            continue
        total = total + empirical_sinkhorn_divergence(batch, members, reg).sum()
    return total
