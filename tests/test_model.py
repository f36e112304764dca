import torch

from neurolip.config import section_defaults
from neurolip.models import ModelConfig, NeuroLIP, OrthonormalClusterReadout


def model_config(n_rois, text_hidden, **values):
    """A ModelConfig from the schema's defaults (the one place defaults live) and these values."""
    return ModelConfig.from_dict(section_defaults("model", values), n_rois=n_rois, text_hidden=text_hidden)


def test_shapes_and_attention_rows():
    model = NeuroLIP(model_config(12, 16, d_model=8, n_heads=2, n_clusters=3, embed_dim=10))
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


def test_centred_values_make_uniform_attention_carry_nothing():
    from neurolip.models import TextTokenConditionedAttention

    ttca = TextTokenConditionedAttention(8, center_values=True)
    torch.nn.init.zeros_(ttca.query.weight)  # all scores 0 -> uniform attention
    out, attention = ttca(torch.randn(2, 3, 8), torch.randn(2, 10, 8))
    torch.testing.assert_close(attention, torch.full((2, 3, 10), 0.1))
    torch.testing.assert_close(out, torch.zeros(2, 3, 8), atol=1e-6, rtol=0)


def test_cross_queries_match_single_queries():
    model = NeuroLIP(model_config(6, 8, d_model=8, n_heads=2, n_clusters=2, embed_dim=8))
    model.eval()
    images = torch.randn(4, 6, 8)
    texts = torch.randn(2, 5, 8)
    cross, cross_attention = model.ttca.cross(texts, images)
    for v in range(2):
        single, single_attention = model.ttca(texts[v].expand(4, -1, -1), images)
        torch.testing.assert_close(cross[:, v], single)
        torch.testing.assert_close(cross_attention[:, v], single_attention)


def test_input_tokens_are_local_and_linear_path_sees_the_connectome():
    torch.manual_seed(0)
    config = model_config(
        6,
        8,
        d_model=8,
        n_heads=2,
        n_clusters=2,
        embed_dim=8,
        local_tokens="input",
        linear_path=True,
        dropout=0.0,
    )
    model = NeuroLIP(config).eval()
    x = torch.randn(1, 6, 6)
    changed = x.clone()
    changed[0, 2] += 1.0  # region 2's connectivity row only
    _, local_a = model.encode_image(x)
    global_b, local_b = model.encode_image(changed)
    moved = (local_a - local_b).abs().sum(-1)[0]
    assert moved[2] > 0 and torch.all(moved[[0, 1, 3, 4, 5]] == 0)  # the other regions' tokens are untouched
    assert model.image_encoder.linear_path is not None


def test_region_keys_give_every_subject_the_same_map_but_read_its_own_regions():
    import pytest

    torch.manual_seed(0)
    config = model_config(
        6,
        8,
        d_model=8,
        n_heads=2,
        n_clusters=2,
        embed_dim=8,
        ttca_keys="region",
        local_tokens="input",
    )
    model = NeuroLIP(config)
    torch.nn.init.normal_(model.image_encoder.region_embedding)  # trained identities differ per region
    model.eval()
    x = torch.randn(3, 6, 6)
    text = torch.randn(1, 4, 8).expand(3, -1, -1)
    out = model(x, text, torch.ones(3, 4, dtype=torch.bool))
    # where the text looks does not depend on the subject ...
    torch.testing.assert_close(out["attention"][0], out["attention"][1])
    assert out["attention"][0].std(-1).min() > 0  # ... and is not uniform once identities differ
    # ... but what it reads does: each subject's own region tokens
    assert not torch.allclose(out["ttca"][0], out["ttca"][1])
    with pytest.raises(ValueError, match="ttca_keys"):
        NeuroLIP(
            ModelConfig.from_dict(
                {**section_defaults("model"), "ttca_keys": "subject"}, n_rois=6, text_hidden=8
            )
        )
