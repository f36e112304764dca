"""Gradient reversal (Ganin & Lempitsky 2015): identity forward, negated gradient backward. It shapes how
a model's parts train against each other, so it belongs to the model library; losses import it from here."""

import torch


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.scale * grad, None


def reverse_gradient(x, scale=1.0):
    """Identity forward; the gradient flowing back through it is multiplied by ``-scale``."""
    return _ReverseGradient.apply(x, scale)
