"""BrainNetTF-style fMRI encoder: connectivity rows as node features, MHSA, orthonormal-cluster readout."""

import torch
from torch import nn


class OrthonormalClusterReadout(nn.Module):
    """DEC/OCRead: M frozen orthonormal centres, soft assignment P = softmax((h C^T)^2), pooled P^T h.

    Orthonormal centres keep clusters from collapsing onto each other without a clustering loss.
    """

    def __init__(self, dim, n_clusters, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        centres = torch.linalg.qr(torch.randn(dim, max(dim, n_clusters), generator=generator))[0][
            :, :n_clusters
        ]
        self.register_buffer("centres", centres.T.contiguous())  # (M, d), rows orthonormal

    def forward(self, h):
        assignment = torch.softmax((h @ self.centres.T) ** 2, dim=-1)  # (B, N, M)
        return assignment.transpose(1, 2) @ h  # (B, M, d)


class BrainNetEncoder(nn.Module):
    """Region embeddings h (B, N, d) and a global embedding v_g (B, E) from connectivity (B, N, N).

    The region embeddings projected to E are the local image tokens for TTCA, so attention maps land on
    the N atlas regions: after self-attention (``local_tokens="transformer"``, docs/method.md) or before it
    (``"input"``: the projected connectivity row of each region).
    """

    def __init__(
        self,
        n_rois,
        d_model=64,
        n_heads=4,
        n_layers=1,
        n_clusters=8,
        embed_dim=64,
        dropout=0.1,
        seed=0,
        local_tokens="transformer",
        linear_path=False,
    ):
        super().__init__()
        if local_tokens not in ("transformer", "input"):
            raise ValueError(f"local_tokens must be 'transformer' or 'input', not {local_tokens!r}")
        self.local_tokens = local_tokens
        self.node_projection = nn.Sequential(nn.Linear(n_rois, d_model), nn.LayerNorm(d_model))
        self.region_embedding = nn.Parameter(torch.zeros(n_rois, d_model))
        # no dropout inside self-attention: masking a B x heads x N x N tensor cost a third of each CPU step
        # for no gain; dropout stays in the readout head
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward=2 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.readout = OrthonormalClusterReadout(d_model, n_clusters, seed=seed)
        self.global_head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_clusters * d_model, 2 * embed_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(2 * embed_dim, embed_dim),
        )
        self.local_head = nn.Linear(d_model, embed_dim)
        # optional "wide" path: a linear map of the vectorised connectome added to the global embedding,
        # so the encoder is never weaker than the linear baseline on the same features
        self.linear_path = None
        if linear_path:
            rows, cols = torch.triu_indices(n_rois, n_rois, offset=1)
            self.register_buffer("triu_rows", rows, persistent=False)
            self.register_buffer("triu_cols", cols, persistent=False)
            self.linear_path = nn.Sequential(nn.Dropout(dropout), nn.Linear(len(rows), embed_dim))

    def forward(self, connectivity):
        h0 = self.node_projection(connectivity) + self.region_embedding
        h = self.transformer(h0)
        global_embedding = self.global_head(self.readout(h))
        if self.linear_path is not None:
            global_embedding = global_embedding + self.linear_path(
                connectivity[:, self.triu_rows, self.triu_cols]
            )
        # "input": each region token is its own connectivity profile, untouched by self-attention, so an
        # attention weight on region n speaks about region n only (sharper, more local maps)
        return global_embedding, self.local_head(h0 if self.local_tokens == "input" else h)
