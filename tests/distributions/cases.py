"""The distributions the tests build, each once, as recipes over a library (autodiff or
PyTorch) so that the same float64 parameters go to both: `Case.build(lib, device, grad)`.

Parameters are NumPy arrays (or Python numbers) held by the case; `grad` makes the array
parameters leaves that require grad, returned alongside so tests can compare gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_RNG = np.random.default_rng(1234)


def _positive(*shape: int, low: float = 0.5, high: float = 2.0) -> np.ndarray:
    return _RNG.uniform(low, high, shape)


def _real(*shape: int) -> np.ndarray:
    return _RNG.standard_normal(shape)


def _simplex(*shape: int) -> np.ndarray:
    weights = _RNG.uniform(0.1, 1.0, shape)
    return weights / weights.sum(-1, keepdims=True)


def _spd(batch: tuple[int, ...], n: int) -> np.ndarray:
    a = _RNG.standard_normal((*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@dataclass
class Case:
    """A distribution: `make(D, params)` with D the library's distributions module and
    params the parameters as the library's tensors (in the order of `params`)."""

    name: str
    make: Callable[..., Any]
    params: dict[str, Any]
    # What the tests skip for this case, and why (kept honest by a test of their own).
    no_grad: tuple[str, ...] = ()  # parameters without a gradient in log_prob
    atol: float = 1e-8
    values: Any = None  # log_prob inputs when the distribution's own samples will not do
    extra: dict[str, Any] = field(default_factory=dict)

    def build(self, lib: Any, device: str = "cpu", grad: bool = False
              ) -> tuple[Any, dict[str, Any]]:
        tensors = {}
        for key, value in self.params.items():
            if isinstance(value, np.ndarray):
                requires = grad and value.dtype.kind == "f" and key not in self.no_grad
                tensors[key] = lib.tensor(value, device=device, requires_grad=requires)
            else:
                tensors[key] = value
        return self.make(lib.distributions, lib, **tensors), tensors


CASES: list[Case] = [
    Case("Normal", lambda D, T, loc, scale: D.Normal(loc, scale),
         {"loc": _real(3), "scale": _positive(3)}),
    Case("Normal_scalar", lambda D, T, loc, scale: D.Normal(loc, scale),
         {"loc": 0.3, "scale": 1.7}),
    Case("Bernoulli_probs", lambda D, T, probs: D.Bernoulli(probs=probs),
         {"probs": _RNG.uniform(0.1, 0.9, (2, 3))}),
    Case("Bernoulli_logits", lambda D, T, logits: D.Bernoulli(logits=logits),
         {"logits": _real(3)}),
    Case("Categorical_probs", lambda D, T, probs: D.Categorical(probs=probs),
         {"probs": _simplex(2, 4)}),
    Case("Categorical_logits", lambda D, T, logits: D.Categorical(logits=logits),
         {"logits": _real(3, 5)}),
    Case("OneHotCategorical", lambda D, T, probs: D.OneHotCategorical(probs=probs),
         {"probs": _simplex(2, 4)}),
    Case("OneHotCategoricalStraightThrough",
         lambda D, T, logits: D.OneHotCategoricalStraightThrough(logits=logits),
         {"logits": _real(3, 4)}),
    Case("Binomial", lambda D, T, total, probs: D.Binomial(total, probs=probs),
         {"total": np.array([5.0, 5.0, 5.0]), "probs": _RNG.uniform(0.1, 0.9, 3)},
         no_grad=("total",)),
    Case("Binomial_logits", lambda D, T, logits: D.Binomial(7, logits=logits),
         {"logits": _real(2, 2)}),
    Case("Multinomial", lambda D, T, probs: D.Multinomial(6, probs=probs),
         {"probs": _simplex(2, 3)}),
    Case("Poisson", lambda D, T, rate: D.Poisson(rate), {"rate": _positive(4, high=6.0)}),
    Case("Geometric", lambda D, T, probs: D.Geometric(probs=probs),
         {"probs": _RNG.uniform(0.2, 0.9, 3)}),
    Case("Geometric_logits", lambda D, T, logits: D.Geometric(logits=logits),
         {"logits": _real(3)}),
    Case("NegativeBinomial", lambda D, T, total, probs: D.NegativeBinomial(total, probs=probs),
         {"total": _positive(3, high=5.0), "probs": _RNG.uniform(0.1, 0.8, 3)}),
    Case("Uniform", lambda D, T, low, high: D.Uniform(low, high),
         {"low": np.array([-1.0, 0.0, 2.0]), "high": np.array([1.0, 0.5, 4.0])}),
    Case("Beta", lambda D, T, a, b: D.Beta(a, b), {"a": _positive(3), "b": _positive(3)}),
    Case("Beta_scalar", lambda D, T: D.Beta(2.0, 3.0), {}),
    Case("Gamma", lambda D, T, a, r: D.Gamma(a, r), {"a": _positive(3), "r": _positive(3)}),
    Case("Chi2", lambda D, T, df: D.Chi2(df), {"df": _positive(3, high=5.0)}),
    Case("Dirichlet", lambda D, T, c: D.Dirichlet(c), {"c": _positive(2, 3)}),
    Case("Exponential", lambda D, T, rate: D.Exponential(rate), {"rate": _positive(3)}),
    Case("Laplace", lambda D, T, loc, scale: D.Laplace(loc, scale),
         {"loc": _real(3), "scale": _positive(3)}),
    Case("Cauchy", lambda D, T, loc, scale: D.Cauchy(loc, scale),
         {"loc": _real(3), "scale": _positive(3)}),
    Case("HalfNormal", lambda D, T, scale: D.HalfNormal(scale), {"scale": _positive(3)}),
    Case("HalfCauchy", lambda D, T, scale: D.HalfCauchy(scale), {"scale": _positive(3)}),
    Case("LogNormal", lambda D, T, loc, scale: D.LogNormal(loc, scale),
         {"loc": _real(3) * 0.3, "scale": _positive(3, high=1.0)}),
    Case("LogisticNormal", lambda D, T, loc, scale: D.LogisticNormal(loc, scale),
         {"loc": _real(2, 3), "scale": _positive(2, 3)}),
    Case("StudentT", lambda D, T, df, loc, scale: D.StudentT(df, loc, scale),
         {"df": _positive(3, low=2.5, high=6.0), "loc": _real(3), "scale": _positive(3)}),
    Case("FisherSnedecor", lambda D, T, d1, d2: D.FisherSnedecor(d1, d2),
         {"d1": _positive(3, low=3.0, high=8.0), "d2": _positive(3, low=5.0, high=9.0)}),
    Case("Gumbel", lambda D, T, loc, scale: D.Gumbel(loc, scale),
         {"loc": _real(3), "scale": _positive(3)}),
    Case("Weibull", lambda D, T, scale, c: D.Weibull(scale, c),
         {"scale": _positive(3), "c": _positive(3, low=1.0, high=3.0)}),
    Case("Pareto", lambda D, T, scale, alpha: D.Pareto(scale, alpha),
         {"scale": _positive(3), "alpha": _positive(3, low=2.5, high=4.0)}),
    Case("Kumaraswamy", lambda D, T, a, b: D.Kumaraswamy(a, b),
         {"a": _positive(3, low=1.2, high=3.0), "b": _positive(3, low=1.2, high=3.0)}),
    Case("VonMises", lambda D, T, loc, c: D.VonMises(loc, c),
         {"loc": _real(4), "c": np.array([0.5, 2.0, 5.0, 10.0])}),
    Case("ContinuousBernoulli", lambda D, T, probs: D.ContinuousBernoulli(probs=probs),
         {"probs": np.array([0.1, 0.4995, 0.7, 0.95])}),
    Case("ContinuousBernoulli_logits", lambda D, T, logits: D.ContinuousBernoulli(logits=logits),
         {"logits": _real(3)}),
    Case("RelaxedBernoulli", lambda D, T, temp, probs: D.RelaxedBernoulli(temp, probs=probs),
         {"temp": np.array(0.7), "probs": _RNG.uniform(0.1, 0.9, 3)}),
    Case("RelaxedOneHotCategorical",
         lambda D, T, temp, probs: D.RelaxedOneHotCategorical(temp, probs=probs),
         {"temp": np.array(0.8), "probs": _simplex(2, 3)}),
    Case("LKJCholesky", lambda D, T, c: D.LKJCholesky(3, c), {"c": _positive(2)}),
    Case("Wishart", lambda D, T, df, cov: D.Wishart(df, covariance_matrix=cov),
         {"df": np.array([4.0, 5.5]), "cov": _spd((2,), 3)}),
    Case("Wishart_tril", lambda D, T, tril: D.Wishart(4.0, scale_tril=tril),
         {"tril": np.linalg.cholesky(_spd((), 2))}),
    Case("MultivariateNormal_cov",
         lambda D, T, loc, cov: D.MultivariateNormal(loc, covariance_matrix=cov),
         {"loc": _real(2, 3), "cov": _spd((2,), 3)}),
    Case("MultivariateNormal_prec",
         lambda D, T, loc, prec: D.MultivariateNormal(loc, precision_matrix=prec),
         {"loc": _real(3), "prec": _spd((), 3)}),
    Case("MultivariateNormal_tril",
         lambda D, T, loc, tril: D.MultivariateNormal(loc, scale_tril=tril),
         {"loc": _real(4, 2), "tril": np.linalg.cholesky(_spd((), 2))}),
    Case("LowRankMultivariateNormal",
         lambda D, T, loc, w, d: D.LowRankMultivariateNormal(loc, w, d),
         {"loc": _real(2, 3), "w": _real(2, 3, 2), "d": _positive(2, 3)}),
    Case("MixtureSameFamily",
         lambda D, T, probs, loc, scale: D.MixtureSameFamily(
             D.Categorical(probs=probs), D.Normal(loc, scale)),
         {"probs": _simplex(2, 3), "loc": _real(2, 3), "scale": _positive(2, 3)}),
    Case("MixtureSameFamily_mvn",
         lambda D, T, probs, loc, scale: D.MixtureSameFamily(
             D.Categorical(probs=probs), D.Independent(D.Normal(loc, scale), 1)),
         {"probs": _simplex(3), "loc": _real(3, 2), "scale": _positive(3, 2)}),
    Case("Independent", lambda D, T, loc, scale: D.Independent(D.Normal(loc, scale), 1),
         {"loc": _real(2, 3), "scale": _positive(2, 3)}),
    Case("TransformedDistribution",
         lambda D, T, loc, scale: D.TransformedDistribution(
             D.Normal(loc, scale), [D.AffineTransform(1.0, 2.0), D.ExpTransform()]),
         {"loc": _real(3), "scale": _positive(3)}),
    Case("GeneralizedPareto", lambda D, T, loc, scale, c: D.GeneralizedPareto(loc, scale, c),
         {"loc": _real(3), "scale": _positive(3), "c": np.array([-0.2, 0.0, 0.3])}),
    Case("InverseGamma", lambda D, T, a, r: D.InverseGamma(a, r),
         {"a": _positive(3, low=2.5, high=4.0), "r": _positive(3)}),
]

CASES_BY_NAME = {case.name: case for case in CASES}
