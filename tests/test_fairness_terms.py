"""The fairness terms reach what predicts (issue: fairness that acts where decisions are made): autograd on a
small NeuroLIP, the identical-text positives, the sensitive-free global text, and the leakage probe."""

import numpy as np
import pytest
import torch
from test_model import model_config

from neurolip.losses.adversary import AttributeAdversary, adversary_loss
from neurolip.losses.clip import clip_loss, identical_text_positives
from neurolip.losses.objectives import TrainingBatch, build_objective
from neurolip.losses.siglip import siglip_loss, siglip_pair_losses
from neurolip.methods import Method
from neurolip.models.text_encoder import TokenBatch
from neurolip.training.leakage import probe

N_ROIS, HIDDEN, B, S = 10, 12, 8, 9
# token layout of every text: [diagnosis 0-2][sex 3-4][age 5-6][srs 7-8]
SEGMENTS = [(0, 3), (3, 5), (5, 7), (7, 9)]
FIELDS, ROLES = ("diagnosis", "sex", "age", "srs"), ("disease", "sensitive", "other", "sensitive")


def make_batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    masks = torch.zeros(B, len(SEGMENTS), S, dtype=torch.bool)
    for k, (start, end) in enumerate(SEGMENTS):
        masks[:, k, start:end] = True
    y = torch.tensor([0, 1] * (B // 2))
    sex = torch.tensor([0, 0, 1, 1] * (B // 4))
    return TrainingBatch(
        x=torch.randn(B, N_ROIS, N_ROIS, generator=g),
        y=y,
        tokens=TokenBatch(torch.randn(B, S, HIDDEN, generator=g), torch.ones(B, S, dtype=torch.bool), masks),
        segment_value_ids=torch.stack([y, sex, torch.arange(B), torch.zeros(B, dtype=torch.long)], 1),
        segment_fields=FIELDS,
        segment_roles=ROLES,
        groups=sex,
        text_ids=torch.arange(B),
    )


def make_model(objective, seed=0):
    from neurolip.models import NeuroLIP

    torch.manual_seed(seed)
    model = NeuroLIP(model_config(N_ROIS, HIDDEN, d_model=8, n_heads=2, n_clusters=3, embed_dim=8), seed=seed)
    auxiliary = objective.auxiliary_module(8, 2)
    if auxiliary is not None:
        model.attach_auxiliary(auxiliary)
    return model.eval()  # no dropout: gradients compare exactly


def term_gradients(model, objective, batch, term):
    model.zero_grad()
    objective.terms(model, batch)[term].backward()
    return {
        n: p.grad.clone()
        for n, p in model.named_parameters()
        if p.grad is not None and p.grad.abs().sum() > 0
    }


def spec(**values):
    base = {"global_loss": "clip", "calt": True, "calt_weight": 1.0, "negative_gradient": True}
    return Method.from_entry("m", {**base, **values}).spec


# the parameters that produce the global embedding v_g, which the zero-shot and probe read-outs read
PREDICTING = ("image_encoder.transformer", "image_encoder.global_head", "image_encoder.linear_path")


def test_adversary_gradient_reaches_every_parameter_that_produces_v_g():
    objective = build_objective(spec(adversary_weight=1.0, adversary_on=["global"]))
    model = make_model(objective)
    grads = term_gradients(model, objective, make_batch(), "adversary_global")
    for prefix in PREDICTING:
        assert any(n.startswith(prefix) for n in grads), f"no adversary gradient reaches {prefix}"
    assert any(n.startswith("auxiliary.heads.global") for n in grads)


def test_adversary_gradient_is_reversed_for_the_encoder_and_plain_for_its_head():
    objective = build_objective(spec(adversary_weight=1.0, adversary_on=["global"]))
    model = make_model(objective)
    batch = make_batch()
    grads = term_gradients(model, objective, batch, "adversary_global")
    # the same loss without the reversal: the head's gradient is identical, the encoder's opposite
    model.zero_grad()
    v_g = model.encode_image(batch.x)[0]
    head = model.auxiliary.heads["global"]
    adversary_loss(head(v_g), batch.groups).backward()
    plain = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    name = (
        "image_encoder.global_head.weight"
        if "image_encoder.global_head.weight" in grads
        else next(n for n in grads if n.startswith("image_encoder."))
    )
    torch.testing.assert_close(grads[name], -plain[name])
    torch.testing.assert_close(grads["auxiliary.heads.global.weight"], plain["auxiliary.heads.global.weight"])


def test_ttca_adversary_reaches_attention_and_encoder():
    objective = build_objective(spec(adversary_weight=1.0, adversary_on=["ttca"]))
    model = make_model(objective)
    grads = term_gradients(model, objective, make_batch(), "adversary_ttca")
    assert any(n.startswith("ttca.") for n in grads)
    assert any(n.startswith("image_encoder.") for n in grads)


def test_reversed_sensitive_calt_term_sends_only_the_reversed_gradient_to_the_encoder():
    """Bug fixed: the reversal used to wrap only the region tokens, so the region identities (keys) got the
    plain gradient of the same term; now every encoder parameter gets exactly minus what the plain term
    would send, and the adversary's temperature is its own."""
    reverse = build_objective(spec(sensitive_mode="reverse", calt_weight=1.0))
    model = make_model(reverse)
    batch = make_batch()
    reversed_grads = term_gradients(model, reverse, batch, "calt_sex")
    # the plain term: the same outputs without the reversal
    model.zero_grad()
    out = model(batch.x, batch.tokens.states, batch.tokens.mask)
    from neurolip.losses.calt import calt_loss
    from neurolip.losses.objectives import first_of_each

    values, first = first_of_each(batch.segment_value_ids[:, 1])
    image_side, text_side = model.segment_outputs(
        out["image_local"], out["text_local"][first], batch.tokens.segment_masks[first, 1]
    )
    positives = batch.segment_value_ids[:, 1, None] == values[None, :]
    calt_loss(
        image_side, text_side, positives, model.adversary_logit_scale, model.adversary_logit_bias
    ).backward()
    plain = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    for name in ("image_encoder.region_embedding", "image_encoder.local_head.weight"):
        torch.testing.assert_close(reversed_grads[name], -plain[name])
    assert "adversary_logit_scale" in reversed_grads and "calt_logit_scale" not in reversed_grads


def test_identical_texts_are_positives_not_negatives():
    assert identical_text_positives(torch.tensor([0, 1, 2])) is None
    positives = identical_text_positives(torch.tensor([0, 1, 0]))
    assert positives.tolist() == [[True, False, True], [False, True, False], [True, False, True]]
    text = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [1.0, 0, 0, 0]])  # subjects 0 and 2 share a text
    image = (text + 0.01 * torch.randn(3, 4, generator=torch.Generator().manual_seed(0))).requires_grad_()
    scale, bias = torch.tensor(2.0), torch.tensor(-1.0)
    # every image sits on its own text: SigLIP's pairwise sigmoid still paid for pair (0, 2) as a negative
    # and pushed image 0 away from its own text; with the shared text as a positive, nothing is left to fix
    plain = siglip_loss(image, text, scale, bias)
    fixed = siglip_loss(image, text, scale, bias, positives)
    assert fixed < 0.5 * plain
    pairs = siglip_pair_losses(image, text, scale, bias, positives)
    assert pairs[0, 2] < 0.01 and siglip_pair_losses(image, text, scale, bias)[0, 2] > 6
    # CLIP's softmax cannot tell identical texts apart: the multi-positive target gives the same loss and
    # gradients as the plain one (a higher floor, no push apart); measured, not assumed
    with_positives = clip_loss(image, text, scale, positives)
    torch.testing.assert_close(with_positives, clip_loss(image, text, scale))
    image = torch.randn(3, 4, requires_grad=True)
    with_positives = clip_loss(image, text, scale, positives)
    torch.testing.assert_close(
        torch.autograd.grad(with_positives, image)[0],
        torch.autograd.grad(clip_loss(image, text, scale), image)[0],
    )


@pytest.mark.parametrize("global_text, changes", [("full", True), ("without_sensitive", False)])
def test_sensitive_words_leave_the_global_text_embedding(global_text, changes):
    objective = build_objective(spec(global_text=global_text))
    model = make_model(objective)
    batch = make_batch()
    mask = objective._global_mask(batch)
    _, before = model.encode_text(batch.tokens.states, batch.tokens.mask, mask)
    edited = batch.tokens.states.clone()
    edited[:, 3:5] += 5.0  # other sex words
    _, after = model.encode_text(edited, batch.tokens.mask, mask)
    assert (not torch.allclose(before, after)) == changes


def test_adversary_loss_ignores_unknown_groups():
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [9.0, -9.0]])
    known = adversary_loss(logits[:2], torch.tensor([0, 1]))
    torch.testing.assert_close(adversary_loss(logits, torch.tensor([0, 1, -1])), known)
    assert AttributeAdversary(["global"], 4, 2)("global", torch.randn(3, 4)).shape == (3, 2)


def test_leakage_probe_reads_a_planted_attribute_and_not_noise():
    rng = np.random.default_rng(0)
    codes = {s: rng.integers(0, 2, n) for s, n in (("train", 200), ("val", 60), ("test", 80))}
    noise = {s: rng.normal(size=(len(c), 5)) for s, c in codes.items()}
    planted = {s: np.c_[noise[s], codes[s] + 0.3 * rng.normal(size=len(codes[s]))] for s in codes}
    assert probe(planted, codes)["probe_auc"] > 0.95
    assert abs(probe(noise, codes)["probe_auc"] - 0.5) < 0.15


def test_schema_rejects_an_adversary_on_an_attribute_the_dataset_lacks():
    from neurolip.config import check_consistency

    config = {
        "dataset": {"sensitive_attributes": ["sex"]},
        "training": {"methods": ["m"]},
        "methods": {"m": {"adversary_weight": 1.0, "adversary_attribute": "race"}},
    }
    with pytest.raises(ValueError, match="race"):
        check_consistency(config)
    config["methods"]["m"].update(adversary_attribute="sex", fairclip_weight=0.1, fairclip_attribute="site")
    config["dataset"]["sensitive_attributes"] = ["sex", "site"]
    with pytest.raises(ValueError, match="differ"):
        check_consistency(config)


def test_erasure_leaves_no_linear_trace_of_the_attribute():
    from neurolip.training.stages.erase import RepresentationEraser

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2, 400)
    codes[:5] = -1  # unknown: left out of the fit
    shift = np.where(codes == 1, 1.5, 0.0)[:, None]
    global_ = torch.from_numpy(rng.normal(size=(400, 6)) + shift * np.array([1, 0.5, 0, 0, 0, 0]))
    ttca = torch.from_numpy(rng.normal(size=(400, 2, 3)) + shift[:, :, None])
    eraser = RepresentationEraser("sex").fit({"global": global_, "ttca": ttca}, codes)
    split = {"train": slice(0, 250), "val": slice(250, 320), "test": slice(320, 400)}
    for name, values in (("global", global_), ("ttca", ttca)):
        erased = eraser(name, values.float())
        assert erased.shape == values.shape and erased.dtype == torch.float32
        before = {s: values.reshape(400, -1).numpy()[i] for s, i in split.items()}
        after = {s: erased.reshape(400, -1).numpy()[i] for s, i in split.items()}
        labels = {s: codes[i] for s, i in split.items()}
        assert probe(before, labels)["probe_auc"] > 0.8
        assert abs(probe(after, labels)["probe_auc"] - 0.5) < 0.12
    assert torch.equal(eraser("other", global_), global_)  # names it was not fitted on pass through


def test_row_space_erasure_of_more_dimensions_than_subjects():
    """The linear recipe's erase stage: LEACE in the span of the training edges (d > n)."""
    from neurolip.training.stages.erase import RepresentationEraser

    rng = np.random.default_rng(1)
    n, d = 120, 500
    codes = rng.integers(0, 2, n)
    direction = rng.normal(size=d)
    edges = torch.from_numpy(rng.normal(size=(n, d)) + 2.0 * codes[:, None] * direction)
    train, test = slice(0, 80), slice(80, n)
    eraser = RepresentationEraser("sex", row_space=True).fit({"connectome": edges[train]}, codes[train])
    erased = eraser("connectome", edges).numpy()
    # LEACE's guarantee on the fit set: the two groups' means coincide
    fit = erased[train]
    np.testing.assert_allclose(fit[codes[train] == 1].mean(0), fit[codes[train] == 0].mean(0), atol=1e-8)
    # a vector orthogonal to the training span passes unchanged
    basis = np.linalg.svd(edges[train].numpy() - edges[train].numpy().mean(0), full_matrices=False)[2]
    outside = rng.normal(size=d)
    outside -= basis.T @ (basis @ outside)
    moved = eraser("connectome", torch.from_numpy(edges[test].numpy() + outside)).numpy() - erased[test]
    np.testing.assert_allclose(moved, np.broadcast_to(outside, moved.shape), atol=1e-8)
    # and the planted direction is gone from the held-out subjects too: their group means nearly agree
    held = erased[test]
    gap_before = np.linalg.norm(
        edges[test].numpy()[codes[test] == 1].mean(0) - edges[test].numpy()[codes[test] == 0].mean(0)
    )
    gap_after = np.linalg.norm(held[codes[test] == 1].mean(0) - held[codes[test] == 0].mean(0))
    assert gap_after < 0.7 * gap_before


def test_models_from_must_name_a_method_that_trains_the_same_way():
    from neurolip.methods import MethodRegistry

    base = {"global_loss": "clip", "calt": True}
    config = {
        "training": {"methods": ["a", "b"]},
        "methods": {"a": base, "b": {**base, "erase_attribute": "sex", "models_from": "a"}},
    }
    registry = MethodRegistry.from_config(config)
    assert registry["b"].training_spec == registry["a"].training_spec
    config["methods"]["b"]["calt_weight"] = 2.0
    with pytest.raises(ValueError, match="train differently.*calt_weight"):
        MethodRegistry.from_config(config)
    config["methods"]["b"] = {**base, "models_from": "c"}
    with pytest.raises(ValueError, match="models_from 'c'"):
        MethodRegistry.from_config(config)


def test_a_method_reads_another_methods_models_only_when_they_were_trained_the_same_way(tmp_path):
    from neurolip.training.checkpoint import load_finished, save_checkpoint, save_weights

    objective = build_objective(spec())
    model = make_model(objective)
    optimizer = torch.optim.AdamW(model.parameters())
    fingerprint = {"method": {"calt": True}, "seed": 0}
    save_weights(tmp_path / "best.safetensors", model)
    save_checkpoint(tmp_path, model, optimizer, {"epoch": 3, "done": True, "best_epoch": 2}, fingerprint)
    other = make_model(objective, seed=1)
    state = load_finished(tmp_path, other, fingerprint)
    assert state["best_epoch"] == 2
    torch.testing.assert_close(other.state_dict()["logit_scale"], model.state_dict()["logit_scale"])
    for name, value in model.state_dict().items():
        torch.testing.assert_close(other.state_dict()[name], value)
    with pytest.raises(ValueError, match="trained otherwise"):
        load_finished(tmp_path, other, {**fingerprint, "seed": 1})
    with pytest.raises(FileNotFoundError, match="train the source method first"):
        load_finished(tmp_path / "missing", other, fingerprint)


def test_workflow_leakage_probe_is_fitted_on_held_out_subjects():
    """The trainer's probe (``held_out_leakage_rows``) reads sex that the eraser removed from the training
    subjects only (positive control, >= 0.75), and none where there is none (negative control, <= 0.58)."""
    from types import SimpleNamespace

    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from neurolip.training.stages.erase import RepresentationEraser
    from neurolip.training.stages.probe import held_out_leakage_rows

    rng = np.random.default_rng(3)
    n = {"train": 300, "val": 300, "test": 400}
    ids = {s: [f"{s}{i}" for i in range(k)] for s, k in n.items()}
    sex = {s: rng.integers(0, 2, k) for s, k in n.items()}
    cohort = pd.DataFrame(
        {"sex": np.where(np.concatenate(list(sex.values())) == 1, "male", "female")},
        index=sum(ids.values(), []),
    )
    data = SimpleNamespace(cohort=cohort, subject_ids=ids, y={s: rng.integers(0, 2, k) for s, k in n.items()})
    for carries, check in ((True, lambda auc: auc >= 0.75), (False, lambda auc: auc <= 0.58)):
        # sex sits in direction 0 on the training subjects and, when it "carries", in direction 1 elsewhere
        # (a representation whose sex direction moves out of sample: erasure fitted on training misses it)
        features = {}
        for s in n:
            x = rng.normal(size=(n[s], 8))
            column = 0 if s == "train" else 1
            if s == "train" or carries:
                x[:, column] += 1.5 * sex[s]
            features[s] = x
        eraser = RepresentationEraser("sex").fit({"r": torch.from_numpy(features["train"])}, sex["train"])
        erased = {s: eraser("r", torch.from_numpy(v)).numpy() for s, v in features.items()}
        rows = pd.DataFrame(held_out_leakage_rows(data, erased, ["sex"], "r", seed=0, fold=0))
        sex_rows = rows[rows.attribute == "sex"]
        # every test subject scored once, part j by a probe fitted on the validation subjects and parts < j
        # (on average 2/5 of the test fold)
        assert sex_rows.subject_id.tolist() == ids["test"] and set(rows.attribute) == {"sex", "diagnosis"}
        assert sorted(sex_rows.part.unique()) == [0, 1, 2, 3, 4]
        assert (abs(sex_rows.n_fit - (n["val"] + 0.4 * n["test"])) < 5).all(), sex_rows.n_fit.iloc[0]
        auc = roc_auc_score(sex_rows.code, sex_rows.probe_score)
        assert check(auc), auc
