"""`ExponentialFamily`: distributions with density h(x) exp(<t(x), theta> - F(theta)), whose
entropy follows from the log normalizer F by differentiation (torch.distributions.exp_family)."""

from __future__ import annotations

from typing import Any

from ..autograd.gradients import grad
from ..tensor import Tensor
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution of an exponential family. Subclasses give `_natural_params` (theta),
    `_log_normalizer(*theta)` (F) and `_mean_carrier_measure` (E[log h(x)]); the entropy is
    F(theta) - <theta, grad F(theta)> - E[log h(x)] (Bregman divergences give the KL)."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Any) -> Any:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        raise NotImplementedError

    def entropy(self) -> Any:
        """The entropy from the log normalizer and its gradient (recorded, so it is itself
        differentiable)."""
        result: Any = -self._mean_carrier_measure
        natural = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*natural)
        gradients = grad(log_normalizer.sum(), natural, create_graph=True)
        result += log_normalizer
        for param, gradient in zip(natural, gradients):
            result -= (param * gradient).reshape((*self._batch_shape, -1)).sum(-1)
        return result
