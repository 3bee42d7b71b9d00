"""kl_divergence: every pair PyTorch registers (and the exponential-family fallback) against
PyTorch's values and gradients; finite closed forms against Monte Carlo estimates
E_p[log p - log q] (no PyTorch needed); dispatch, ambiguity warnings and errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import distributions as D
from autodiff.distributions.kl import _KL_REGISTRY

_RNG = np.random.default_rng(3)
BATCH = 3


def _pos(low: float = 0.5, high: float = 2.0, shape: tuple[int, ...] = (BATCH,)) -> Any:
    return _RNG.uniform(low, high, shape)


def _spd(n: int) -> Any:
    a = _RNG.standard_normal((BATCH, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# Two parameter sets (p and q) per family, batch shape (3,): the library's distributions
# module and tensor factory in, a distribution out.
FAMILIES: dict[str, tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]] = {
    "Bernoulli": (lambda D, p: D.Bernoulli(p), {"p": _pos(0.1, 0.9)},
                  {"p": np.array([0.0, 0.4, 1.0])}),
    "Beta": (lambda D, a, b: D.Beta(a, b), {"a": _pos(), "b": _pos()},
             {"a": _pos(), "b": _pos()}),
    "Binomial": (lambda D, n, p: D.Binomial(n, p), {"n": np.array([5.0, 6.0, 5.0]),
                                                    "p": _pos(0.1, 0.9)},
                 {"n": np.array([5.0, 5.0, 5.0]), "p": _pos(0.1, 0.9)}),
    "Categorical": (lambda D, p: D.Categorical(p), {"p": _pos(shape=(BATCH, 4))},
                    {"p": np.array([[0.0, 1.0, 2.0, 1.0]] * BATCH)}),
    "ContinuousBernoulli": (lambda D, p: D.ContinuousBernoulli(p),
                            {"p": np.array([0.2, 0.4999, 0.8])}, {"p": _pos(0.1, 0.9)}),
    "Dirichlet": (lambda D, c: D.Dirichlet(c), {"c": _pos(shape=(BATCH, 3))},
                  {"c": _pos(shape=(BATCH, 3))}),
    "Exponential": (lambda D, r: D.Exponential(r), {"r": _pos()}, {"r": _pos()}),
    "Gamma": (lambda D, a, r: D.Gamma(a, r), {"a": _pos(), "r": _pos()},
              {"a": _pos(), "r": _pos()}),
    "Gumbel": (lambda D, loc, s: D.Gumbel(loc, s), {"loc": _pos(-1, 1), "s": _pos()},
               {"loc": _pos(-1, 1), "s": _pos()}),
    "Geometric": (lambda D, p: D.Geometric(p), {"p": _pos(0.1, 0.9)}, {"p": _pos(0.1, 0.9)}),
    "HalfNormal": (lambda D, s: D.HalfNormal(s), {"s": _pos()}, {"s": _pos()}),
    "Laplace": (lambda D, loc, s: D.Laplace(loc, s), {"loc": _pos(-1, 1), "s": _pos()},
                {"loc": _pos(-1, 1), "s": _pos()}),
    "LowRankMultivariateNormal": (
        lambda D, loc, w, d: D.LowRankMultivariateNormal(loc, w, d),
        {"loc": _pos(-1, 1, (BATCH, 3)), "w": _pos(-1, 1, (BATCH, 3, 2)),
         "d": _pos(shape=(BATCH, 3))},
        {"loc": _pos(-1, 1, (BATCH, 3)), "w": _pos(-1, 1, (BATCH, 3, 1)),
         "d": _pos(shape=(BATCH, 3))}),
    "MultivariateNormal": (lambda D, loc, cov: D.MultivariateNormal(loc, cov),
                           {"loc": _pos(-1, 1, (BATCH, 3)), "cov": _spd(3)},
                           {"loc": _pos(-1, 1, (BATCH, 3)), "cov": _spd(3)}),
    "Normal": (lambda D, loc, s: D.Normal(loc, s), {"loc": _pos(-1, 1), "s": _pos()},
               {"loc": _pos(-1, 1), "s": _pos()}),
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(p), {"p": _pos(shape=(BATCH, 4))},
                          {"p": _pos(shape=(BATCH, 4))}),
    "Pareto": (lambda D, s, a: D.Pareto(s, a), {"s": _pos(), "a": np.array([0.8, 1.5, 2.5])},
               {"s": _pos(), "a": _pos(2.5, 4.0)}),
    "Poisson": (lambda D, r: D.Poisson(r), {"r": _pos()}, {"r": _pos()}),
    "TransformedDistribution": (
        lambda D, loc, s: D.TransformedDistribution(D.Normal(loc, s), [D.ExpTransform()]),
        {"loc": _pos(-1, 1), "s": _pos()}, {"loc": _pos(-1, 1), "s": _pos()}),
    "Uniform": (lambda D, lo, hi: D.Uniform(lo, hi), {"lo": _pos(0.1, 0.3), "hi": _pos(0.6, 0.9)},
                {"lo": np.array([0.0, 0.2, -1.0]), "hi": np.array([1.0, 0.95, 2.0])}),
    "Independent": (lambda D, loc, s: D.Independent(D.Normal(loc, s), 1),
                    {"loc": _pos(-1, 1, (BATCH, 2)), "s": _pos(shape=(BATCH, 2))},
                    {"loc": _pos(-1, 1, (BATCH, 2)), "s": _pos(shape=(BATCH, 2))}),
    "Cauchy": (lambda D, loc, s: D.Cauchy(loc, s), {"loc": _pos(-1, 1), "s": _pos()},
               {"loc": _pos(-1, 1), "s": _pos()}),
    # Exponential families without a pair of their own: the Bregman-divergence fallback.
    "Wishart": (lambda D, df, cov: D.Wishart(df, cov), {"df": _pos(4.0, 6.0), "cov": _spd(2)},
                {"df": _pos(4.0, 6.0), "cov": _spd(2)}),
}


def _build(lib: Any, family: str, which: int, grad: bool = False) -> tuple[Any, list[Any]]:
    make, p_params, q_params = FAMILIES[family]
    params = (p_params, q_params)[which]
    tensors = {k: lib.tensor(v, requires_grad=grad) for k, v in params.items()}
    return make(lib.distributions, **tensors), list(tensors.values())


def _pairs() -> list[tuple[str, str]]:
    names = set(FAMILIES)
    pairs = [(p.__name__, q.__name__) for p, q in _KL_REGISTRY
             if p.__name__ in names and q.__name__ in names]
    return [*sorted(pairs), ("Wishart", "Wishart")]


def test_every_registered_pair_is_tested() -> None:
    """Every pair PyTorch registers has both families here (ExponentialFamily is tested
    through Wishart, which has no pair of its own)."""
    registered = {(p.__name__, q.__name__) for p, q in _KL_REGISTRY}
    assert registered - set(_pairs()) == {("ExponentialFamily", "ExponentialFamily")}


@pytest.mark.parametrize(("p_name", "q_name"), _pairs())
def test_against_pytorch(p_name: str, q_name: str) -> None:
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        p_t, p_t_params = _build(torch, p_name, 0, grad=True)
        q_t, q_t_params = _build(torch, q_name, 1, grad=True)
        p_a, p_a_params = _build(autodiff, p_name, 0, grad=True)
        q_a, q_a_params = _build(autodiff, q_name, 1, grad=True)
    try:
        expected = torch.distributions.kl_divergence(p_t, q_t)
        if p_name == "Wishart":
            # PyTorch's Bregman fallback mixes a batch's df terms; its KL of each element
            # alone is right.
            expected = torch.stack([torch.distributions.kl_divergence(
                torch.distributions.Wishart(p_t.df[i], p_t.covariance_matrix[i]),
                torch.distributions.Wishart(q_t.df[i], q_t.covariance_matrix[i]))
                for i in range(BATCH)])
    except Exception as error:
        with pytest.raises(type(error)) as raised:
            D.kl_divergence(p_a, q_a)
        assert str(raised.value) == str(error)
        return
    got = D.kl_divergence(p_a, q_a)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-9,
                               atol=1e-12)
    if not expected.requires_grad:
        return
    finite = torch.isfinite(expected)
    leaves_t, leaves_a = p_t_params + q_t_params, p_a_params + q_a_params
    weights = np.where(finite.numpy(), np.random.default_rng(0).standard_normal(expected.shape),
                       0.0)
    grads_t = torch.autograd.grad((expected.masked_fill(~finite, 0) * torch.tensor(weights))
                                  .sum(), leaves_t, allow_unused=True)
    grads_a = autodiff.autograd.grad(
        (got.masked_fill(~autodiff.tensor(finite.numpy()), 0) * autodiff.tensor(weights))
        .sum(), leaves_a, allow_unused=True)
    for mine, reference in zip(grads_a, grads_t):
        if reference is None:
            assert mine is None or not bool(mine.abs().sum())
            continue
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-7, atol=1e-10)


MONTE_CARLO = [("Normal", "Normal"), ("Gamma", "Gamma"), ("Beta", "Beta"),
               ("Dirichlet", "Dirichlet"), ("Laplace", "Laplace"), ("Gumbel", "Gumbel"),
               ("Exponential", "Gamma"), ("Gamma", "Normal"), ("Laplace", "Normal"),
               ("Beta", "Normal"), ("Uniform", "Normal"), ("Normal", "Laplace"),
               ("Poisson", "Poisson"), ("Categorical", "Categorical"),
               ("MultivariateNormal", "MultivariateNormal"),
               ("LowRankMultivariateNormal", "MultivariateNormal"),
               ("MultivariateNormal", "LowRankMultivariateNormal"),
               ("Cauchy", "Cauchy"), ("Wishart", "Wishart"), ("Geometric", "Geometric"),
               ("ContinuousBernoulli", "ContinuousBernoulli"), ("Pareto", "Exponential")]


@pytest.mark.parametrize(("p_name", "q_name"), MONTE_CARLO)
def test_against_monte_carlo(p_name: str, q_name: str) -> None:
    autodiff.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        p, _ = _build(autodiff, p_name, 0)
        q, _ = _build(autodiff, q_name, 1)
        kl = D.kl_divergence(p, q).detach().numpy()
        draws = p.sample((100000,))
    terms = (p.log_prob(draws) - q.log_prob(draws)).numpy()
    finite = np.isfinite(kl)
    estimate = terms.mean(0)
    spread = terms.std(0) / np.sqrt(terms.shape[0])
    assert np.all(np.abs(estimate - kl)[finite] < 5 * spread[finite] + 1e-9), (estimate, kl)


def test_dispatch_registration_and_errors() -> None:
    class MyNormal(D.Normal):
        pass

    p = MyNormal(autodiff.tensor(0.0), autodiff.tensor(1.0))
    q = D.Normal(autodiff.tensor(1.0), autodiff.tensor(2.0))
    # A subclass uses its parent's closed form.
    assert float(D.kl_divergence(p, q)) == float(D.kl_divergence(D.Normal(0.0, 1.0), q))
    with pytest.raises(NotImplementedError, match=r"No KL\(p \|\| q\) is implemented for p "
                                                  r"type Normal and q type Binomial"):
        D.kl_divergence(q, D.Binomial(3, autodiff.tensor(0.5)))
    with pytest.raises(NotImplementedError, match="The cross KL-divergence between different "
                                                  "exponential families cannot"):
        D.kl_divergence(q, D.Poisson(autodiff.tensor(1.0)))

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p: Any, q: Any) -> autodiff.Tensor:
        return autodiff.tensor(42.0)

    try:
        assert float(D.kl_divergence(p, q)) == 42.0  # the registry is consulted afresh

        class Left(D.Normal):
            pass

        class Right(D.Normal):
            pass

        @D.register_kl(Left, D.Normal)
        def _left(p: Any, q: Any) -> autodiff.Tensor:
            return autodiff.tensor(1.0)

        @D.register_kl(D.Normal, Right)
        def _right(p: Any, q: Any) -> autodiff.Tensor:
            return autodiff.tensor(2.0)

        with pytest.warns(RuntimeWarning, match=r"Ambiguous kl_divergence\(Left, Right\). "
                                                r"Please register_kl\(Left, Right\)"):
            assert float(D.kl_divergence(Left(0.0, 1.0), Right(0.0, 1.0))) == 1.0
    finally:
        for key in [k for k in _KL_REGISTRY if k[0].__module__ == __name__
                    or k[1].__module__ == __name__]:
            del _KL_REGISTRY[key]
        from autodiff.distributions.kl import _KL_MEMOIZE

        _KL_MEMOIZE.clear()
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        D.register_kl(3, D.Normal)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match=r"between Binomials where q\.total_count > "
                                                  r"p\.total_count is not implemented"):
        D.kl_divergence(D.Binomial(2, autodiff.tensor(0.5)), D.Binomial(3, autodiff.tensor(0.5)))
    assert "KL divergence is currently implemented for the following distribution pairs:" in (
        D.kl_divergence.__doc__ or "")
