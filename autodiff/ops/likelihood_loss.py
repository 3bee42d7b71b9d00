"""Negative log-likelihood losses of distributions: poisson_nll_loss and gaussian_nll_loss,
composed of Tensor ops as PyTorch composes them (so the nodes are its nodes)."""

from __future__ import annotations

import math
from typing import Any

from ..autocast_state import autocast_op
from ..batching.dispatch import all_examples
from ..creation import ones_like
from ..grad_mode import no_grad
from ..tensor import Tensor
from .arithmetic import AddNumber, MulNumber
from .loss import _reduction
from .unary import exp, log


@autocast_op("poisson_nll_loss")
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """The Poisson negative log-likelihood of `target` counts given the rate exp(input)
    (log_input=True) or input; full=True adds Stirling's approximation of log(target!) for
    targets above 1."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(AddNumber.apply(input, float(eps)))
    if full:
        stirling = target * log(target) - target + MulNumber.apply(
            log(MulNumber.apply(target, 2 * math.pi)), 0.5)
        loss = loss + stirling.masked_fill(target <= 1, 0)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """The Gaussian negative log-likelihood 0.5 (log var + (input - target)^2 / var), var one
    per element or shared along the last dim or one other dim (clamped at eps for stability;
    the gradient reaches var as if unclamped, as in PyTorch)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((all_examples(var) < 0).any()):  # every example's, inside vmap
        raise ValueError("var has negative entry/entries")
    input_shape, var_shape = tuple(input.shape), tuple(var.shape)
    if var_shape != input_shape:
        if input_shape[:-1] == var_shape:  # one variance per sample: shared by the last dim
            var = var.unsqueeze(-1)
        elif not (len(input_shape) == len(var_shape) and sum(
                size for own, size in zip(input_shape, var_shape) if own != size) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss
