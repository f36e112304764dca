import torch

from neurolip.models import ModelConfig, NeuroLIP, OrthonormalClusterReadout


def test_shapes_and_attention_rows():
    model = NeuroLIP(ModelConfig(n_rois=12, text_hidden=16, d_model=8, n_heads=2, n_clusters=3, embed_dim=10))
    x = torch.randn(5, 12, 12)
    states, mask = torch.randn(5, 7, 16), torch.ones(5, 7, dtype=torch.bool)
    out = model(x, states, mask)
    assert out["image_global"].shape == (5, 10)
    assert out["image_local"].shape == (5, 12, 10)
    assert out["text_local"].shape == (5, 7, 10) and out["text_global"].shape == (5, 10)
    assert out["attention"].shape == (5, 7, 12)
    torch.testing.assert_close(out["attention"].sum(-1), torch.ones(5, 7))
    assert out["ttca"].shape == (5, 7, 10)
    prompts = torch.randn(2, 7, 16)
    assert model.zero_shot_logits(x, prompts, torch.ones(2, 7, dtype=torch.bool)).shape == (5, 2)


def test_cluster_centres_are_orthonormal_and_frozen():
    readout = OrthonormalClusterReadout(dim=16, n_clusters=4)
    gram = readout.centres @ readout.centres.T
    torch.testing.assert_close(gram, torch.eye(4), atol=1e-5, rtol=0)
    assert not any(p is readout.centres for p in readout.parameters())
    assert readout(torch.randn(2, 9, 16)).shape == (2, 4, 16)


def test_unknown_model_key_is_rejected():
    import pytest

    with pytest.raises(ValueError, match="unknown model configuration keys"):
        ModelConfig.from_dict({"d_modle": 3}, n_rois=4)
