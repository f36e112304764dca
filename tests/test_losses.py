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
    ttca = torch.randn(4, 2, 8, generator=g, requires_grad=True)  # 4 images x 2 segment values
    text = torch.randn(2, 8, generator=g)
    positives = torch.tensor([[True, False], [False, True], [True, False], [False, True]])
    return ttca, text, positives


def test_calt_loss_hand_computed():
    ttca = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])  # one image, cos = 1 with value 0 and 0 with value 1
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = calt_loss(ttca, text, torch.tensor([[True, False]]), torch.tensor(0.0), torch.tensor(0.0))
    expected = (math.log(1 + math.exp(-1)) + math.log(2)) / 2  # positive pair logit 1, negative pair logit 0
    assert math.isclose(loss.item(), expected, rel_tol=1e-6)


def test_calt_sensitive_term_reverses_the_gradient():
    ttca, text, positives = _calt_inputs()
    scale, bias = torch.tensor(0.0), torch.tensor(-0.5)
    plain = calt_loss(ttca, text, positives, scale, bias, sensitive=False)
    reversed_ = calt_loss(ttca, text, positives, scale, bias, sensitive=True)
    # logits lie in [-1.5, 0.5]: the positive pairs are above chance, the negatives below; only pairs whose
    # loss is below log 2 keep a gradient, and there it is exactly the opposite of the plain term's
    grad_plain = torch.autograd.grad(plain, ttca)[0]
    grad_reversed = torch.autograd.grad(reversed_, ttca)[0]
    from neurolip.losses.calt import calt_logits

    logits = calt_logits(ttca, text, scale, bias).detach()
    pair_losses = -torch.nn.functional.logsigmoid((positives.float() * 2 - 1) * logits)
    below_chance = pair_losses < CHANCE
    assert below_chance.any() and (~below_chance).any()  # both regimes are exercised
    torch.testing.assert_close(grad_reversed[below_chance], -grad_plain[below_chance])
    assert torch.all(grad_reversed[~below_chance] == 0)
    assert grad_plain.abs().sum() > 0


def test_calt_sensitive_term_is_bounded_at_chance():
    ttca, text, positives = _calt_inputs(1)
    for bias in (-50.0, 0.0, 50.0):
        loss = calt_loss(ttca, text, positives, torch.tensor(3.0), torch.tensor(bias), sensitive=True)
        assert loss.item() >= -CHANCE - 1e-6
    # every pair far above chance: the term sits exactly at its bound and pushes no further
    loss = calt_loss(
        ttca, text, positives, torch.tensor(0.0), torch.tensor(-50.0) * positives.any(), sensitive=True
    )
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


def test_reverse_gradient_is_identity_forward_and_negates_backward():
    from neurolip.losses import reverse_gradient

    x = torch.randn(4, 3, requires_grad=True)
    y = reverse_gradient(x, scale=0.5)
    torch.testing.assert_close(y, x)
    (y * torch.arange(3.0)).sum().backward()
    torch.testing.assert_close(x.grad, -0.5 * torch.arange(3.0).expand(4, 3))
