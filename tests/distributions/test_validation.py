"""Argument and sample validation: PyTorch's messages for parameters outside their
constraints and values outside the support or of the wrong shape, validate_args and
Distribution.set_default_validate_args, and the construction errors of each family."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

import autodiff
from autodiff import distributions as D
from tests.compare import same_error

torch = pytest.importorskip("torch")


def _both(build: Callable[[Any], Any]) -> None:
    """`build(lib)` raises the same error with autodiff as with PyTorch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        same_error(lambda: build(autodiff), lambda: build(torch))


INVALID_PARAMETERS: dict[str, Callable[[Any], Any]] = {
    "Normal_scale": lambda t: t.distributions.Normal(t.tensor([0.0, 1.0]),
                                                     t.tensor([1.0, -2.0])),
    "Normal_loc_nan": lambda t: t.distributions.Normal(t.tensor([float("nan")]), 1.0),
    "Normal_requires_grad": lambda t: t.distributions.Normal(
        t.tensor([0.0], requires_grad=True), t.tensor([-1.0], requires_grad=True)),
    "Bernoulli": lambda t: t.distributions.Bernoulli(t.tensor([0.5, 1.5])),
    "Categorical": lambda t: t.distributions.Categorical(t.tensor([[0.5, -0.5]])),
    "Categorical_logits": lambda t: t.distributions.Categorical(
        logits=t.tensor([[0.5, float("nan")]])),
    "Binomial_count": lambda t: t.distributions.Binomial(t.tensor([2.5]), t.tensor([0.5])),
    "Beta": lambda t: t.distributions.Beta(t.tensor([1.0]), t.tensor([0.0])),
    "Gamma": lambda t: t.distributions.Gamma(t.tensor([-1.0]), t.tensor([1.0])),
    "Dirichlet": lambda t: t.distributions.Dirichlet(t.tensor([[1.0, -1.0]])),
    "Uniform": lambda t: t.distributions.Uniform(t.tensor([1.0]), t.tensor([0.0])),
    "Geometric": lambda t: t.distributions.Geometric(t.tensor([0.0, 0.5])),
    "Poisson": lambda t: t.distributions.Poisson(t.tensor([-0.5])),
    "NegativeBinomial": lambda t: t.distributions.NegativeBinomial(
        t.tensor([1.0]), t.tensor([1.0])),
    "MultivariateNormal": lambda t: t.distributions.MultivariateNormal(
        t.zeros(2), t.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "MultivariateNormal_tril": lambda t: t.distributions.MultivariateNormal(
        t.zeros(2), scale_tril=t.tensor([[1.0, 1.0], [0.0, 1.0]])),
    "LowRank": lambda t: t.distributions.LowRankMultivariateNormal(
        t.zeros(2), t.ones(2, 1), t.tensor([1.0, 0.0])),
    "Wishart_df": lambda t: t.distributions.Wishart(t.tensor(0.5), t.eye(2)),
    "LKJCholesky": lambda t: t.distributions.LKJCholesky(3, t.tensor(-1.0)),
    "VonMises": lambda t: t.distributions.VonMises(t.tensor(0.0), t.tensor(-1.0)),
    "ContinuousBernoulli": lambda t: t.distributions.ContinuousBernoulli(
        t.tensor([1.5]), validate_args=True),
    "StudentT": lambda t: t.distributions.StudentT(t.tensor([-1.0])),
    "Pareto": lambda t: t.distributions.Pareto(t.tensor([1.0]), t.tensor([-1.0])),
    "LogNormal": lambda t: t.distributions.LogNormal(t.tensor([0.0]), t.tensor([0.0])),
    "RelaxedBernoulli": lambda t: t.distributions.RelaxedBernoulli(
        t.tensor(0.5), t.tensor([1.5])),
}


@pytest.mark.parametrize("name", list(INVALID_PARAMETERS))
def test_invalid_parameters_raise_pytorchs_message(name: str) -> None:
    _both(INVALID_PARAMETERS[name])


INVALID_VALUES: dict[str, Callable[[Any], Any]] = {
    "Normal_shape": lambda t: t.distributions.Normal(t.zeros(3), 1.0).log_prob(t.zeros(2)),
    "Normal_not_tensor": lambda t: t.distributions.Normal(t.zeros(3), 1.0).log_prob(0.5),
    "Exponential_support": lambda t: t.distributions.Exponential(t.ones(2)).log_prob(
        t.tensor([1.0, -1.0])),
    "Bernoulli_support": lambda t: t.distributions.Bernoulli(t.tensor([0.3])).log_prob(
        t.tensor([0.5])),
    "Categorical_support": lambda t: t.distributions.Categorical(t.ones(3)).log_prob(
        t.tensor(3)),
    "Dirichlet_event": lambda t: t.distributions.Dirichlet(t.ones(3)).log_prob(t.ones(2)),
    "Dirichlet_simplex": lambda t: t.distributions.Dirichlet(t.ones(2)).log_prob(
        t.tensor([0.5, 0.6])),
    "Uniform_support": lambda t: t.distributions.Uniform(0.0, 1.0).log_prob(t.tensor(2.0)),
    "Binomial_support": lambda t: t.distributions.Binomial(3, t.tensor(0.5)).log_prob(
        t.tensor(4.0)),
    "MVN_event": lambda t: t.distributions.MultivariateNormal(t.zeros(3), t.eye(3)).log_prob(
        t.zeros(2)),
    "HalfNormal_support": lambda t: t.distributions.HalfNormal(t.ones(1)).log_prob(
        t.tensor([-1.0])),
    "Batch_mismatch": lambda t: t.distributions.Normal(t.zeros(3, 2), 1.0).log_prob(
        t.zeros(4, 2)),
    "Cdf_support": lambda t: t.distributions.Gamma(t.ones(1), t.ones(1)).cdf(t.tensor([-1.0])),
}


@pytest.mark.parametrize("name", list(INVALID_VALUES))
def test_invalid_values_raise_pytorchs_message(name: str) -> None:
    _both(INVALID_VALUES[name])


CONSTRUCTION: dict[str, Callable[[Any], Any]] = {
    "neither": lambda t: t.distributions.Bernoulli(),
    "both": lambda t: t.distributions.Categorical(t.ones(2), t.ones(2)),
    "Categorical_0d": lambda t: t.distributions.Categorical(t.tensor(1.0)),
    "Dirichlet_0d": lambda t: t.distributions.Dirichlet(t.tensor(1.0)),
    "MVN_two": lambda t: t.distributions.MultivariateNormal(t.zeros(2), t.eye(2),
                                                            scale_tril=t.eye(2)),
    "MVN_loc": lambda t: t.distributions.MultivariateNormal(t.tensor(0.0), t.eye(2)),
    "MVN_1d_cov": lambda t: t.distributions.MultivariateNormal(t.zeros(2), t.ones(2)),
    "LowRank_factor": lambda t: t.distributions.LowRankMultivariateNormal(
        t.zeros(2), t.ones(3, 1), t.ones(2)),
    "LowRank_diag": lambda t: t.distributions.LowRankMultivariateNormal(
        t.zeros(2), t.ones(2, 1), t.ones(3)),
    "Multinomial_count": lambda t: t.distributions.Multinomial(t.tensor(3), t.ones(2)),
    "LKJ_dim": lambda t: t.distributions.LKJCholesky(1),
    "Independent_ndims": lambda t: t.distributions.Independent(
        t.distributions.Normal(t.zeros(2), 1.0), 2),
    "Transformed_type": lambda t: t.distributions.TransformedDistribution(
        t.distributions.Normal(0.0, 1.0), 3),
    "Transformed_list": lambda t: t.distributions.TransformedDistribution(
        t.distributions.Normal(0.0, 1.0), [3]),
    "Transformed_base_shape": lambda t: t.distributions.TransformedDistribution(
        t.distributions.Normal(0.0, 1.0), [t.distributions.StickBreakingTransform()]),
    "Mixture_type": lambda t: t.distributions.MixtureSameFamily(
        t.distributions.Normal(0.0, 1.0), t.distributions.Normal(t.zeros(2), 1.0)),
    "Mixture_components": lambda t: t.distributions.MixtureSameFamily(
        t.distributions.Categorical(t.ones(3)), t.distributions.Normal(t.zeros(2), 1.0)),
    "Mixture_batch": lambda t: t.distributions.MixtureSameFamily(
        t.distributions.Categorical(t.ones(4, 2)),
        t.distributions.Normal(t.zeros(3, 2), 1.0)),
    "Binomial_entropy": lambda t: t.distributions.Binomial(
        t.tensor([2.0, 3.0]), t.tensor([0.5, 0.5])).entropy(),
    "Independent_enumerate": lambda t: t.distributions.Independent(
        t.distributions.Bernoulli(t.ones(2) / 2), 1).enumerate_support(),
    "Normal_enumerate": lambda t: t.distributions.Normal(0.0, 1.0).enumerate_support(),
    "Wishart_df_low": lambda t: t.distributions.Wishart(
        t.tensor(0.5), t.eye(2), validate_args=False),
    "broadcast": lambda t: t.distributions.Normal(t.zeros(2), t.ones(3)),
    "broadcast_type": lambda t: t.distributions.Normal("a", 1.0),
    "default_validate_args": lambda t: t.distributions.Distribution.set_default_validate_args(
        "yes"),
}


@pytest.mark.parametrize("name", list(CONSTRUCTION))
def test_construction_errors_as_pytorch(name: str) -> None:
    _both(CONSTRUCTION[name])


def test_mode_not_implemented_names_the_class() -> None:
    with pytest.raises(NotImplementedError) as raised:
        D.Distribution(validate_args=False).mode  # noqa: B018
    assert str(raised.value) == ("<class 'autodiff.distributions.distribution.Distribution'> "
                                 "does not implement mode")


def test_validate_args_switches() -> None:
    scale = autodiff.tensor([-1.0])
    dist = D.Normal(autodiff.zeros(1), scale, validate_args=False)  # no check
    assert not dist._validate_args
    assert bool(dist.log_prob(autodiff.zeros(1)).isnan().all())
    before = D.Distribution._validate_args
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(autodiff.zeros(1), scale)  # no check by default now
        D.Exponential(autodiff.ones(1)).log_prob(autodiff.tensor([-1.0]))
        with pytest.raises(ValueError, match="Expected parameter scale"):
            D.Normal(autodiff.zeros(1), scale, validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(before)
    assert D.Distribution._validate_args is before
    # An expanded distribution keeps its parent's setting.
    unchecked = D.Exponential(autodiff.ones(1), validate_args=False).expand((3,))
    assert not unchecked._validate_args


def test_missing_constraints_warn_as_pytorch() -> None:
    class NoConstraints(D.Distribution):
        pass

    with pytest.warns(UserWarning, match="does not define `arg_constraints`"):
        NoConstraints(validate_args=True)

    class NoSupport(D.Distribution):
        arg_constraints: ClassVar[dict[str, Any]] = {}

    dist = NoSupport(validate_args=True)
    with pytest.warns(UserWarning, match="does not define `support` to enable sample "
                                         "validation"):
        dist._validate_sample(autodiff.zeros(()))
