import math

import torch

from neurolip.losses import attention_distance, calt_loss, clip_loss, fairclip_sinkhorn, siglip_loss
from neurolip.losses.calt import CHANCE


def test_clip_loss_hand_computed():
    eye = torch.eye(2)
    loss = clip_loss(eye, eye, torch.tensor(0.0))  # logits = identity
    assert math.isclose(loss.item(), math.log(1 + math.exp(-1)), rel_tol=1e-6)


def test_siglip_loss_hand_computed():
    image = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    text = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # t = 1, b = 0; logits [[1, 1], [0, 0]]; labels +1 on the diagonal
    loss = siglip_loss(image, text, torch.tensor(0.0), torch.tensor(0.0))
    per_image = [
        math.log(1 + math.exp(-1)) + math.log(1 + math.exp(1)),  # pair (0,0) positive, (0,1) negative
        math.log(2) + math.log(2),  # logits 0 for both pairs of image 1
    ]
    assert math.isclose(loss.item(), sum(per_image) / 2, rel_tol=1e-6)


def _calt_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    ttca = torch.randn(4, 5, 8, generator=g, requires_grad=True)
    text = torch.randn(4, 5, 8, generator=g)
    mask = torch.zeros(4, 5, dtype=torch.bool)
    mask[:, 1:3] = True
    ids = torch.tensor([0, 1, 0, 1])
    return ttca, text, mask, ids


def test_calt_sensitive_term_reverses_the_gradient():
    ttca, text, mask, ids = _calt_inputs()
    scale, bias = torch.tensor(0.0), torch.tensor(0.0)  # logits in [-1, 1]: some pairs below chance
    grad_plain = torch.autograd.grad(calt_loss(ttca, text, mask, ids, scale, bias, sensitive=False), ttca)[0]
    grad_reversed = torch.autograd.grad(calt_loss(ttca, text, mask, ids, scale, bias, sensitive=True), ttca)[0]
    # where no pair is clamped the sensitive gradient is exactly the opposite; clamped pairs only remove terms
    cosine = torch.nn.functional.cosine_similarity(grad_plain.flatten(), grad_reversed.flatten(), dim=0)
    assert cosine < -0.5
    plain = calt_loss(ttca, text, mask, ids, scale, bias, sensitive=False)
    assert plain.item() > 0


def test_calt_sensitive_term_is_bounded_at_chance():
    ttca, text, mask, ids = _calt_inputs(1)
    # a huge negative bias makes every positive pair's loss far above chance: the bound holds the term at -log 2
    # for those pairs and their gradient is zero, so the loss can never run off to minus infinity
    loss = calt_loss(ttca, text, mask, ids, torch.tensor(0.0), torch.tensor(-50.0), sensitive=True)
    assert loss.item() >= -CHANCE - 1e-6
    scale = torch.tensor(3.0, requires_grad=True)
    loss = calt_loss(ttca * 0 + 1, text * 0 + 1, mask, ids, scale, torch.tensor(50.0), sensitive=True)
    assert loss.item() >= -CHANCE - 1e-6


def test_attention_distance_value_and_gradient():
    attention = torch.tensor([[[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]], dtype=torch.double, requires_grad=True)
    disease = torch.tensor([[True, False]])
    sensitive = torch.tensor([[False, True]])
    value = attention_distance(attention, disease, sensitive)
    assert math.isclose(value.item(), math.sqrt(0.25 + 0.25 + 1.0), rel_tol=1e-9)
    grad = torch.autograd.grad(value, attention)[0]
    expected = torch.tensor([0.5, 0.5, -1.0], dtype=torch.double) / math.sqrt(1.5)
    torch.testing.assert_close(grad[0, 0], expected)
    torch.testing.assert_close(grad[0, 1], -expected)
    assert torch.autograd.gradcheck(lambda a: attention_distance(a, disease, sensitive), (attention,))


def test_fairclip_term_is_zero_for_identical_groups_and_positive_otherwise():
    sims = torch.tensor([0.1, 0.5, 0.1, 0.5], requires_grad=True)
    same = fairclip_sinkhorn(sims, torch.tensor([0, 0, 1, 1]), reg=0.05)
    assert abs(same.item()) < 1e-4
    different = fairclip_sinkhorn(sims, torch.tensor([0, 1, 0, 1]), reg=0.05)
    assert different.item() > 1e-3
    (grad,) = torch.autograd.grad(different, sims)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    unknown_only = fairclip_sinkhorn(sims, torch.tensor([-1, -1, -1, -1]))
    assert unknown_only.item() == 0.0
