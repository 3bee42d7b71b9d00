"""float64 gradcheck of every distribution's log_prob and entropy in its parameters (and
gradgradcheck of log_prob where the formulas are twice differentiable), independent of
PyTorch."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import distributions as D
from tests.distributions.cases import CASES, Case

# Covariance and precision matrices go through a Cholesky factorization that reads one
# triangle and returns a symmetric gradient (PyTorch's convention): finite differences of
# single entries cannot match it. Those cases are checked through a free matrix below.
# Wishart's lower factor goes through cholesky_solve, whose gradient (PyTorch's formula) is
# not restricted to the triangle its forward reads: the upper entries get one too.
SYMMETRIC = {"Wishart", "Wishart_tril", "MultivariateNormal_cov", "MultivariateNormal_prec"}
# Derivatives that do not exist or that PyTorch does not have: VonMises's normalizer is a
# piecewise polynomial (its derivative jumps at 3.75); GeneralizedPareto switches formulas
# near xi = 0.
NOT_SMOOTH = {"VonMises": "piecewise approximation of I0",
              "GeneralizedPareto": "the xi = 0 limit is switched to within isclose"}


@contextmanager
def _unvalidated() -> Iterator[None]:
    """Perturbed parameters may leave a constraint (a lower factor's upper triangle)."""
    before = D.Distribution._validate_args
    D.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        D.Distribution.set_default_validate_args(before)


def _function(case: Case, method: Callable[[Any], Any]) -> tuple[Callable[..., Any],
                                                                    list[autodiff.Tensor]]:
    keys = [k for k, v in case.params.items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f" and k not in case.no_grad]
    leaves = [autodiff.tensor(case.params[k], requires_grad=True) for k in keys]

    def call(*tensors: autodiff.Tensor) -> Any:
        params = {k: (autodiff.tensor(v) if isinstance(v, np.ndarray) else v)
                  for k, v in case.params.items()}
        params.update(zip(keys, tensors))
        return method(case.make(D, autodiff, **params))

    return call, leaves


def _value(case: Case) -> autodiff.Tensor:
    autodiff.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dist, _ = case.build(autodiff)
        return dist.sample((2,))


GRADCHECK_CASES = [c for c in CASES if c.name not in SYMMETRIC | set(NOT_SMOOTH)
                   and any(isinstance(v, np.ndarray) for v in c.params.values())]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=lambda case: case.name)
def test_log_prob_gradcheck(case: Case) -> None:
    value = _value(case)
    call, leaves = _function(case, lambda d: d.log_prob(value))
    with _unvalidated():
        assert autodiff.autograd.gradcheck(call, leaves)


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=lambda case: case.name)
def test_entropy_gradcheck(case: Case) -> None:
    call, leaves = _function(case, lambda d: d.entropy())
    with _unvalidated():
        try:
            call(*leaves)
        except NotImplementedError:
            pytest.skip(f"{case.name} has no entropy (nor has PyTorch's)")
        assert autodiff.autograd.gradcheck(call, leaves)


SECOND_ORDER = ["Normal", "Laplace", "Gamma", "Beta", "Dirichlet", "Poisson", "StudentT",
                "Categorical_logits", "Bernoulli_logits", "LowRankMultivariateNormal",
                "Kumaraswamy", "Gumbel", "Weibull"]


@pytest.mark.parametrize("case", [c for c in CASES if c.name in SECOND_ORDER],
                         ids=lambda case: case.name)
def test_log_prob_gradgradcheck(case: Case) -> None:
    value = _value(case)
    call, leaves = _function(case, lambda d: d.log_prob(value))
    with _unvalidated():
        assert autodiff.autograd.gradgradcheck(call, leaves)


@pytest.mark.parametrize("form", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_log_prob_gradcheck_through_a_free_matrix(form: str) -> None:
    rng = np.random.default_rng(0)
    loc = autodiff.tensor(rng.standard_normal(3), requires_grad=True)
    free = autodiff.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    value = autodiff.tensor(rng.standard_normal((4, 3)))

    def log_prob(loc: autodiff.Tensor, free: autodiff.Tensor) -> autodiff.Tensor:
        if form == "scale_tril":
            matrix = free.tril(-1) + autodiff.eye(3, dtype=free.dtype) * (free.exp() + 0.5)
        else:
            matrix = free @ free.mT + 3 * autodiff.eye(3, dtype=free.dtype)
        mvn = D.MultivariateNormal(loc, **{form: matrix})
        return mvn.log_prob(value) + mvn.entropy()

    assert autodiff.autograd.gradcheck(log_prob, [loc, free])
    df = autodiff.tensor([4.0, 6.5], dtype=autodiff.float64, requires_grad=True)
    square = rng.standard_normal((3, 3))
    wishart_value = autodiff.tensor(square @ square.T + 3 * np.eye(3))

    def wishart(df: autodiff.Tensor, free: autodiff.Tensor) -> autodiff.Tensor:
        matrix = free @ free.mT + 3 * autodiff.eye(3, dtype=free.dtype)
        parameter = autodiff.linalg.cholesky(matrix) if form == "scale_tril" else matrix
        dist = D.Wishart(df, **{form: parameter})
        return dist.log_prob(wishart_value) + dist.entropy()

    assert autodiff.autograd.gradcheck(wishart, [df, free])
