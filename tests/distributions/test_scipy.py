"""Distributions against SciPy (no PyTorch needed): log densities, CDFs, inverse CDFs,
entropies, means and variances in float64, each family against scipy.stats' own
parameterization (PyTorch's Geometric counts failures, its NegativeBinomial successes before
total_count failures, ...)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st

import autodiff
from autodiff import distributions as D


def T(values: Any) -> autodiff.Tensor:
    return autodiff.tensor(np.asarray(values, dtype=np.float64))


@dataclass
class Reference:
    name: str
    ours: Callable[[], Any]
    theirs: Any  # a frozen scipy.stats distribution
    values: np.ndarray
    discrete: bool = False
    check: tuple[str, ...] = ("log_prob", "cdf", "icdf", "entropy", "mean", "variance")


_a = np.array([0.7, 1.5, 3.0])
_b = np.array([2.0, 0.6, 4.0])
_loc = np.array([-1.0, 0.0, 2.5])
_scale = np.array([0.5, 1.0, 2.0])
_p = np.array([0.2, 0.5, 0.85])

REFERENCES = [
    Reference("Normal", lambda: D.Normal(T(_loc), T(_scale)), st.norm(_loc, _scale),
              np.array([-0.3, 1.2, 2.0])),
    Reference("Exponential", lambda: D.Exponential(T(_a)), st.expon(scale=1 / _a),
              np.array([0.1, 1.0, 3.0])),
    Reference("Uniform", lambda: D.Uniform(T(_loc), T(_loc + _scale)),
              st.uniform(_loc, _scale), _loc + 0.3 * _scale),
    Reference("Laplace", lambda: D.Laplace(T(_loc), T(_scale)), st.laplace(_loc, _scale),
              np.array([-2.0, 0.4, 2.6])),
    Reference("Cauchy", lambda: D.Cauchy(T(_loc), T(_scale)), st.cauchy(_loc, _scale),
              np.array([-2.0, 0.4, 2.6]), check=("log_prob", "cdf", "icdf", "entropy")),
    Reference("Gamma", lambda: D.Gamma(T(_a), T(_b)), st.gamma(_a, scale=1 / _b),
              np.array([0.2, 2.0, 0.9]), check=("log_prob", "cdf", "entropy", "mean",
                                                 "variance")),
    Reference("Chi2", lambda: D.Chi2(T(_b * 2)), st.chi2(_b * 2), np.array([0.5, 1.0, 9.0]),
              check=("log_prob", "cdf", "entropy", "mean", "variance")),
    Reference("Beta", lambda: D.Beta(T(_a), T(_b)), st.beta(_a, _b),
              np.array([0.1, 0.6, 0.95]), check=("log_prob", "entropy", "mean", "variance")),
    Reference("HalfNormal", lambda: D.HalfNormal(T(_scale)), st.halfnorm(scale=_scale),
              np.array([0.1, 1.0, 3.0])),
    Reference("HalfCauchy", lambda: D.HalfCauchy(T(_scale)), st.halfcauchy(scale=_scale),
              np.array([0.1, 1.0, 3.0]), check=("log_prob", "cdf", "icdf", "entropy")),
    Reference("LogNormal", lambda: D.LogNormal(T(_loc), T(_scale)),
              st.lognorm(_scale, scale=np.exp(_loc)), np.array([0.3, 1.2, 20.0])),
    Reference("StudentT", lambda: D.StudentT(T(_b + 2), T(_loc), T(_scale)),
              st.t(_b + 2, _loc, _scale), np.array([-0.3, 1.2, 2.0]),
              check=("log_prob", "entropy", "mean", "variance")),
    Reference("FisherSnedecor", lambda: D.FisherSnedecor(T(_a * 4), T(_b + 5)),
              st.f(_a * 4, _b + 5), np.array([0.3, 1.2, 2.0]),
              check=("log_prob", "mean", "variance")),
    Reference("Gumbel", lambda: D.Gumbel(T(_loc), T(_scale)), st.gumbel_r(_loc, _scale),
              np.array([-0.3, 1.2, 2.0])),
    Reference("Weibull", lambda: D.Weibull(T(_scale), T(_a + 0.5)),
              st.weibull_min(_a + 0.5, scale=_scale), np.array([0.3, 1.2, 2.0])),
    Reference("Pareto", lambda: D.Pareto(T(_scale), T(_a + 2)),
              st.pareto(_a + 2, scale=_scale), np.array([0.6, 1.2, 2.5])),
    Reference("InverseGamma", lambda: D.InverseGamma(T(_a + 2), T(_b)),
              st.invgamma(_a + 2, scale=_b), np.array([0.3, 1.2, 2.0]),
              check=("log_prob", "cdf", "entropy", "mean", "variance")),
    Reference("GeneralizedPareto", lambda: D.GeneralizedPareto(T(_loc), T(_scale),
                                                               T([-0.2, 0.0, 0.3])),
              st.genpareto([-0.2, 0.0, 0.3], _loc, _scale), np.array([-0.8, 0.4, 4.0])),
    Reference("VonMises", lambda: D.VonMises(T(_loc), T(_a)), st.vonmises(_a, _loc),
              np.array([-0.8, 0.4, 3.0]), check=("log_prob",)),
    Reference("Bernoulli", lambda: D.Bernoulli(T(_p)), st.bernoulli(_p),
              np.array([0.0, 1.0, 1.0]), discrete=True,
              check=("log_prob", "entropy", "mean", "variance")),
    Reference("Binomial", lambda: D.Binomial(T([7.0, 7.0, 7.0]), T(_p)),
              st.binom(7, _p), np.array([1.0, 4.0, 7.0]), discrete=True,
              check=("log_prob", "entropy", "mean", "variance")),
    Reference("Poisson", lambda: D.Poisson(T(_a * 3)), st.poisson(_a * 3),
              np.array([0.0, 4.0, 17.0]), discrete=True,
              check=("log_prob", "mean", "variance")),
    Reference("Geometric", lambda: D.Geometric(T(_p)), st.geom(_p, loc=-1),
              np.array([0.0, 4.0, 1.0]), discrete=True,
              check=("log_prob", "entropy", "mean", "variance")),
    Reference("NegativeBinomial", lambda: D.NegativeBinomial(T(_a * 2), T(_p)),
              st.nbinom(_a * 2, 1 - _p), np.array([0.0, 4.0, 11.0]), discrete=True,
              check=("log_prob", "mean", "variance")),
]


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: r.name)
def test_against_scipy(reference: Reference) -> None:
    ours, theirs, values = reference.ours(), reference.theirs, reference.values
    expected: dict[str, Callable[[], Any]] = {
        "log_prob": lambda: (theirs.logpmf if reference.discrete else theirs.logpdf)(values),
        "cdf": lambda: theirs.cdf(values),
        "icdf": lambda: theirs.ppf(np.array([0.1, 0.5, 0.93])),
        "entropy": lambda: theirs.entropy(),
        "mean": lambda: theirs.mean(),
        "variance": lambda: theirs.var(),
    }
    got: dict[str, Callable[[], Any]] = {
        "log_prob": lambda: ours.log_prob(T(values)),
        "cdf": lambda: ours.cdf(T(values)),
        "icdf": lambda: ours.icdf(T([0.1, 0.5, 0.93])),
        "entropy": lambda: ours.entropy(),
        "mean": lambda: ours.mean,
        "variance": lambda: ours.variance,
    }
    for quantity in reference.check:
        # VonMises's normalizer is PyTorch's polynomial approximation of I0 (1e-7 relative).
        rtol = 1e-6 if reference.name == "VonMises" else 1e-9
        np.testing.assert_allclose(got[quantity]().numpy(), expected[quantity](), rtol=rtol,
                                   atol=1e-12, err_msg=quantity)


def test_multivariate_normal_against_scipy() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    loc = rng.standard_normal(3)
    values = rng.standard_normal((5, 3))
    frozen = st.multivariate_normal(loc, cov)
    for kwargs in ({"covariance_matrix": T(cov)}, {"precision_matrix": T(np.linalg.inv(cov))},
                   {"scale_tril": T(np.linalg.cholesky(cov))}):
        mvn = D.MultivariateNormal(T(loc), **kwargs)
        np.testing.assert_allclose(mvn.log_prob(T(values)).numpy(), frozen.logpdf(values))
        np.testing.assert_allclose(mvn.entropy().numpy(), frozen.entropy())
        np.testing.assert_allclose(mvn.covariance_matrix.numpy(), cov)
        np.testing.assert_allclose(mvn.precision_matrix.numpy(), np.linalg.inv(cov))
        np.testing.assert_allclose(mvn.variance.numpy(), np.diag(cov))
    w = rng.standard_normal((3, 2))
    d = rng.uniform(0.5, 1.5, 3)
    low_rank = D.LowRankMultivariateNormal(T(loc), T(w), T(d))
    frozen = st.multivariate_normal(loc, w @ w.T + np.diag(d))
    np.testing.assert_allclose(low_rank.log_prob(T(values)).numpy(), frozen.logpdf(values))
    np.testing.assert_allclose(low_rank.entropy().numpy(), frozen.entropy())
    np.testing.assert_allclose(low_rank.precision_matrix.numpy(),
                               np.linalg.inv(w @ w.T + np.diag(d)))
    np.testing.assert_allclose(low_rank.scale_tril.numpy(),
                               np.linalg.cholesky(w @ w.T + np.diag(d)))


def test_dirichlet_multinomial_categorical_wishart_against_scipy() -> None:
    alpha = np.array([0.7, 2.0, 3.5])
    x = np.array([[0.2, 0.3, 0.5], [0.05, 0.9, 0.05]])
    dirichlet = D.Dirichlet(T(alpha))
    np.testing.assert_allclose(dirichlet.log_prob(T(x)).numpy(),
                               [st.dirichlet(alpha).logpdf(row) for row in x])
    np.testing.assert_allclose(dirichlet.entropy().numpy(), st.dirichlet(alpha).entropy())
    np.testing.assert_allclose(dirichlet.variance.numpy(), st.dirichlet(alpha).var())

    probs = np.array([0.2, 0.5, 0.3])
    counts = np.array([[1.0, 3.0, 2.0], [0.0, 6.0, 0.0]])
    multinomial = D.Multinomial(6, T(probs))
    np.testing.assert_allclose(multinomial.log_prob(T(counts)).numpy(),
                               st.multinomial(6, probs).logpmf(counts))
    np.testing.assert_allclose(multinomial.entropy().numpy(),
                               st.multinomial(6, probs).entropy())

    categorical = D.Categorical(T(probs))
    np.testing.assert_allclose(categorical.log_prob(T([0.0, 2.0])).numpy(),
                               np.log(probs[[0, 2]]))
    np.testing.assert_allclose(categorical.entropy().numpy(), st.entropy(probs))

    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    scale = a @ a.T + np.eye(3)
    frozen = st.wishart(5.0, scale)
    value = frozen.rvs(random_state=2)
    wishart = D.Wishart(T(5.0), covariance_matrix=T(scale))
    np.testing.assert_allclose(wishart.log_prob(T(value)).numpy(), frozen.logpdf(value))
    np.testing.assert_allclose(wishart.entropy().numpy(), frozen.entropy())
    np.testing.assert_allclose(wishart.mean.numpy(), frozen.mean())
    np.testing.assert_allclose(wishart.variance.numpy(), frozen.var())


def test_densities_without_scipy_counterpart_integrate_to_one() -> None:
    """Kumaraswamy, ContinuousBernoulli (also within its Taylor region around 1/2),
    RelaxedBernoulli, LogisticNormal on the 2-simplex (through its first coordinate) and
    LKJCholesky of dimension 2, whose factor is a function of the correlation r = L[1, 0]
    of density (1 - r^2)^(eta - 1) / B(1/2, eta): each integrates to 1 (trapezoidal rule)."""
    grid = np.linspace(1e-6, 1 - 1e-6, 200001)
    dists = [D.Kumaraswamy(T(1.7), T(2.4)), D.ContinuousBernoulli(T(0.8)),
             D.ContinuousBernoulli(T(0.4999)), D.RelaxedBernoulli(T(2.0), T(0.3))]
    for dist in dists:
        density = np.exp(dist.log_prob(T(grid)).numpy())
        assert math.isclose(np.trapezoid(density, grid), 1.0, rel_tol=1e-4), dist

    logistic = D.LogisticNormal(T([0.3]), T([0.8]))
    points = np.stack([grid, 1 - grid], -1)
    density = np.exp(logistic.log_prob(T(points)).numpy())
    assert math.isclose(np.trapezoid(density, grid), 1.0, rel_tol=1e-4)

    eta = 2.5
    r = np.linspace(-1 + 1e-9, 1 - 1e-9, 200001)
    factors = np.zeros((r.size, 2, 2))
    factors[:, 0, 0] = 1
    factors[:, 1, 0] = r
    factors[:, 1, 1] = np.sqrt(1 - r ** 2)
    log_density = D.LKJCholesky(2, T(eta)).log_prob(T(factors)).numpy()
    np.testing.assert_allclose(log_density,
                               (eta - 1) * np.log(1 - r ** 2) - sp.betaln(0.5, eta))
    assert math.isclose(np.trapezoid(np.exp(log_density), r), 1.0, rel_tol=1e-4)
