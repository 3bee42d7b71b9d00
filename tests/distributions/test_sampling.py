"""Sampling: shapes, dtypes, supports, moments (fixed seeds, tolerances from the standard
error), devices, reproducibility under a seed, and reparameterized gradients: exact for the
families whose noise is uniform or normal (gradcheck with the noise held fixed by a seed),
and in expectation for the gamma-based ones (the average gradient of samples is the gradient
of the mean)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import distributions as D
from tests.distributions.cases import CASES, CASES_BY_NAME, Case

DRAWS = 40000


def _moments(dist: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    out = []
    for name in ("mean", "variance"):
        try:
            out.append(getattr(dist, name).detach().double().numpy())
        except NotImplementedError:
            out.append(None)
    return out[0], out[1]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_samples_have_the_distributions_shape_support_and_moments(case: Case) -> None:
    autodiff.manual_seed(0)
    dist, _ = case.build(autodiff, grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        samples = dist.sample((DRAWS,))
    assert tuple(samples.shape) == (DRAWS, *dist.batch_shape, *dist.event_shape)
    assert not samples.requires_grad  # sample() is not differentiable
    if case.name != "VonMises":  # its support constraint is the real line, samples angles
        assert bool(dist.support.check(samples).all())
    values = samples.double().numpy()
    mean, variance = _moments(dist)
    if case.name == "VonMises":  # circular moments
        circular = np.angle(np.exp(1j * values).mean(0))
        np.testing.assert_allclose(np.angle(np.exp(1j * (circular - mean))), 0, atol=0.05)
        np.testing.assert_allclose(1 - np.abs(np.exp(1j * values).mean(0)), variance,
                                   atol=0.02)
        return
    if mean is not None:
        finite = np.isfinite(mean) & (np.isfinite(variance) if variance is not None else True)
        spread = np.sqrt(np.abs(variance) / DRAWS) if variance is not None else 0.05
        error = np.abs(values.mean(0) - mean)
        assert np.all((error <= 5 * spread + 1e-9)[finite]), (values.mean(0), mean)
    if variance is not None and case.name not in ("Pareto", "FisherSnedecor", "StudentT"):
        # (heavy tails: their sample variances converge too slowly for a fixed tolerance)
        finite = np.isfinite(variance)
        np.testing.assert_allclose(values.var(0)[finite], variance[finite], rtol=0.1,
                                   atol=1e-3)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_rsample_is_differentiable_exactly_where_pytorch_has_rsample(case: Case) -> None:
    dist, params = case.build(autodiff, grad=True)
    leaves = [p for p in params.values() if isinstance(p, autodiff.Tensor) and p.requires_grad]
    if not dist.has_rsample:
        with pytest.raises(NotImplementedError):
            dist.rsample()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        x = dist.rsample((3,))
    assert tuple(x.shape) == (3, *dist.batch_shape, *dist.event_shape)
    if leaves:
        assert x.requires_grad
        grads = autodiff.autograd.grad(x.sum(), leaves, allow_unused=True)
        assert any(g is not None and bool(g.isfinite().all()) for g in grads)


# Reparameterized through uniform or normal noise only: the sample is a smooth function of the
# parameters for fixed noise, so gradcheck applies when every call reseeds.
FIXED_NOISE = ["Normal", "Laplace", "Cauchy", "Exponential", "Uniform", "LogNormal",
               "HalfNormal", "HalfCauchy", "Kumaraswamy", "LogisticNormal", "RelaxedBernoulli",
               "RelaxedOneHotCategorical", "ContinuousBernoulli", "GeneralizedPareto",
               "LowRankMultivariateNormal", "TransformedDistribution"]


# GeneralizedPareto's formulas switch to the xi = 0 limit within isclose(xi, 0): finite
# differences across the switch are not its derivative (PyTorch's is the same).
AWAY_FROM_SWITCHES = {"GeneralizedPareto": {"c": np.array([-0.2, 0.1, 0.3])}}


@pytest.mark.parametrize("name", FIXED_NOISE)
def test_rsample_gradcheck_with_fixed_noise(name: str) -> None:
    case = CASES_BY_NAME[name]
    values = {**case.params, **AWAY_FROM_SWITCHES.get(name, {})}
    keys = [k for k, v in values.items() if isinstance(v, np.ndarray)]
    leaves = [autodiff.tensor(values[k], requires_grad=True) for k in keys]

    def draw(*tensors: autodiff.Tensor) -> autodiff.Tensor:
        autodiff.manual_seed(7)
        params = dict(case.params)
        params.update(zip(keys, tensors))
        return case.make(D, autodiff, **params).rsample((2,))

    assert autodiff.autograd.gradcheck(draw, leaves)


@pytest.mark.parametrize("form", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_rsample_gradcheck(form: str) -> None:
    """The matrix as a function of a free one (gradcheck perturbs every entry; the matrix
    must stay symmetric positive-definite, or lower triangular)."""
    rng = np.random.default_rng(0)
    loc = autodiff.tensor(rng.standard_normal(3), requires_grad=True)
    free = autodiff.tensor(rng.standard_normal((3, 3)), requires_grad=True)

    def draw(loc: autodiff.Tensor, free: autodiff.Tensor) -> autodiff.Tensor:
        autodiff.manual_seed(7)
        if form == "scale_tril":
            matrix = free.tril(-1) + autodiff.eye(3, dtype=free.dtype) * (free.exp() + 0.5)
        else:
            matrix = free @ free.mT + 3 * autodiff.eye(3, dtype=free.dtype)
        return D.MultivariateNormal(loc, **{form: matrix}).rsample((2,))

    assert autodiff.autograd.gradcheck(draw, [loc, free])


# The mean of each gamma-based family as a function of its parameters: the average gradient
# of reparameterized samples must be this function's gradient.
MEANS = {
    "Gamma": (lambda a, r: D.Gamma(a, r), lambda a, r: a / r, ([0.6, 3.0], [2.0, 0.7])),
    "Chi2": (lambda df: D.Chi2(df), lambda df: df, ([0.8, 4.0],)),
    "Beta": (lambda a, b: D.Beta(a, b), lambda a, b: a / (a + b), ([0.5, 3.0], [2.0, 0.4])),
    "Dirichlet": (lambda c: D.Dirichlet(c), lambda c: c / c.sum(-1, keepdim=True),
                  ([0.5, 1.5, 4.0],)),
    "FisherSnedecor": (lambda d1, d2: D.FisherSnedecor(d1, d2), lambda d1, d2: d2 / (d2 - 2),
                       ([3.0, 6.0], [8.0, 12.0])),
    "InverseGamma": (lambda a, r: D.InverseGamma(a, r), lambda a, r: r / (a - 1),
                     ([4.0, 6.0], [1.0, 2.0])),
    "Wishart": (lambda df: D.Wishart(df, covariance_matrix=_covariance(df)),
                lambda df: df.view(2, 1, 1) * _covariance(df), ([3.0, 5.0],)),
}


def _covariance(like: autodiff.Tensor) -> autodiff.Tensor:
    return autodiff.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=like.dtype, device=like.device)


@pytest.mark.parametrize("name", list(MEANS))
def test_gamma_based_rsample_gradients_in_expectation(name: str, device: str) -> None:
    make, mean, values = MEANS[name]
    autodiff.manual_seed(2)
    leaves = [autodiff.tensor(v, dtype=autodiff.float64, device=device, requires_grad=True)
              for v in values]
    samples = make(*leaves).rsample((DRAWS,))
    got = autodiff.autograd.grad(samples.mean(0).sum(), leaves)
    on_cpu = [autodiff.tensor(v, dtype=autodiff.float64, requires_grad=True) for v in values]
    expected = autodiff.autograd.grad(mean(*on_cpu).sum(), on_cpu, allow_unused=True)
    for mine, reference in zip(got, expected):
        assert mine.device == leaves[0].device
        reference = np.zeros(mine.shape) if reference is None else reference.numpy()
        np.testing.assert_allclose(mine.cpu().numpy(), reference, rtol=0.06, atol=0.02)


# A representative set on every device: results stay on the parameters' device and agree
# with the CPU's.
ON_DEVICES = ["Normal", "Bernoulli_logits", "Categorical_probs", "Binomial", "Multinomial",
              "Poisson", "Gamma", "Dirichlet", "Beta", "StudentT", "VonMises",
              "MultivariateNormal_cov", "LowRankMultivariateNormal", "Wishart", "LKJCholesky",
              "MixtureSameFamily", "RelaxedOneHotCategorical", "NegativeBinomial",
              "ContinuousBernoulli", "TransformedDistribution"]


@pytest.mark.parametrize("name", ON_DEVICES)
def test_every_device(name: str, device: str) -> None:
    case = CASES_BY_NAME[name]
    autodiff.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dist, params = case.build(autodiff, device=device, grad=True)
        on_cpu, _ = case.build(autodiff)
        samples = dist.sample((5,))
        assert samples.device.type == autodiff.device(device).type
        assert str(samples.device) == device
        log_prob = dist.log_prob(samples)
        assert str(log_prob.device) == device
        np.testing.assert_allclose(log_prob.detach().cpu().numpy(),
                                   on_cpu.log_prob(samples.cpu()).detach().numpy(), rtol=1e-9)
        for quantity in ("entropy", "mean", "variance"):
            try:
                value = getattr(dist, quantity)
                reference = getattr(on_cpu, quantity)
                value = value() if callable(value) else value
                reference = reference() if callable(reference) else reference
            except NotImplementedError:
                continue
            assert str(value.device) == device
            np.testing.assert_allclose(value.detach().cpu().numpy(),
                                       reference.detach().numpy(), rtol=1e-9, equal_nan=True)
        log_prob.sum().backward()
        if dist.has_rsample:
            drawn = dist.rsample((2,))
            assert str(drawn.device) == device
    for value in params.values():
        if isinstance(value, autodiff.Tensor) and value.grad is not None:
            assert str(value.grad.device) == device


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Categorical_logits", "Binomial",
                                  "Poisson", "VonMises", "Wishart", "Dirichlet"])
def test_a_seed_repeats_the_samples(name: str, device: str) -> None:
    dist, _ = CASES_BY_NAME[name].build(autodiff, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        autodiff.manual_seed(123)
        first = dist.sample((4,))
        autodiff.manual_seed(123)
        second = dist.sample((4,))
    assert first.tolist() == second.tolist()


def test_sample_n_is_deprecated_as_pytorch() -> None:
    dist = D.Normal(autodiff.zeros(2), autodiff.ones(2))
    with pytest.warns(FutureWarning, match=r"`sample_n\(n\)` will be deprecated. Use "
                                           r"`sample\(\(n,\)\)` instead."):
        assert tuple(dist.sample_n(3).shape) == (3, 2)


def test_straight_through_gradient_is_the_probabilities() -> None:
    logits = autodiff.tensor([[0.3, -1.0, 2.0]], requires_grad=True)
    dist = D.OneHotCategoricalStraightThrough(logits=logits)
    sample = dist.rsample((4,))
    assert bool(((sample == 0) | (sample == 1)).all()) and sample.sum(-1).tolist() == [[1.0]] * 4
    weights = autodiff.tensor([1.0, 2.0, 3.0])
    (sample * weights).sum().backward()
    probs = logits.detach().softmax(-1)
    expected = 4 * probs * (weights - (probs * weights).sum())  # softmax's Jacobian
    np.testing.assert_allclose(logits.grad.numpy(), expected.numpy(), rtol=1e-5)
