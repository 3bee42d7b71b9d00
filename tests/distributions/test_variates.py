"""The samplers of ops/variates.py: torch._standard_gamma, _sample_dirichlet and binomial
(their distributions, edge cases, dtypes, devices, seeds, errors and nodes) and the implicit
reparameterization gradients _standard_gamma_grad and _dirichlet_grad, checked against
finite differences of SciPy's inverse CDFs (and against PyTorch's kernels where installed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st

import autodiff
from tests.helpers import raises


def _gamma_cases() -> tuple[np.ndarray, np.ndarray]:
    """(alpha, x) pairs covering every branch of the approximation: x < 0.8, alpha > 8 near
    and away from the mode, and the rational region; x at several quantiles."""
    alphas, xs = [], []
    for alpha in (0.05, 0.3, 0.9, 1.5, 3.0, 7.5, 9.0, 20.0, 150.0):
        for q in (0.01, 0.2, 0.5, 0.8, 0.99):
            alphas.append(alpha)
            xs.append(sp.gammaincinv(alpha, q))
    return np.array(alphas), np.array(xs)


def _numerical_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d x / d alpha at fixed u = F(x; alpha): central differences of the inverse CDF."""
    u = sp.gammainc(alpha, x)
    h = 1e-6 * alpha
    return (sp.gammaincinv(alpha + h, u) - sp.gammaincinv(alpha - h, u)) / (2 * h)


def test_standard_gamma_grad_is_the_implicit_derivative() -> None:
    alpha, x = _gamma_cases()
    got = autodiff._standard_gamma_grad(autodiff.tensor(alpha), autodiff.tensor(x)).numpy()
    # The approximations are accurate to about 1e-3 relative (PyTorch's own error).
    np.testing.assert_allclose(got, _numerical_gamma_grad(alpha, x), rtol=5e-3)


def test_standard_gamma_grad_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    alpha, x = _gamma_cases()
    for dtype in ("float32", "float64"):
        got = autodiff._standard_gamma_grad(autodiff.tensor(alpha.astype(dtype)),
                                            autodiff.tensor(x.astype(dtype)))
        expected = torch._standard_gamma_grad(torch.tensor(alpha.astype(dtype)),
                                              torch.tensor(x.astype(dtype)))
        assert repr(got.dtype) == repr(expected.dtype)
        np.testing.assert_allclose(got.numpy(), expected.numpy(),
                                   rtol=1e-5 if dtype == "float32" else 1e-12)


def _beta_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = []
    for a in (0.1, 0.7, 2.0, 7.0, 30.0):
        for b in (0.2, 1.5, 8.0, 40.0):
            for q in (0.02, 0.3, 0.5, 0.7, 0.98):
                rows.append((a, b, sp.betaincinv(a, b, q)))
    a, b, x = (np.array(column) for column in zip(*rows))
    keep = (x > 1e-10) & (x < 1 - 1e-10)  # inside float64's reach of the boundaries
    return a[keep], b[keep], x[keep]


def test_dirichlet_grad_is_the_implicit_derivative_of_a_beta_sample() -> None:
    a, b, x = _beta_cases()
    got = autodiff._dirichlet_grad(autodiff.tensor(x), autodiff.tensor(a),
                                   autodiff.tensor(a + b)).numpy()
    u = sp.betainc(a, b, x)
    h = 1e-6 * a
    numerical = (sp.betaincinv(a + h, b, u) - sp.betaincinv(a - h, b, u)) / (2 * h)
    # _dirichlet_grad is the derivative over (1 - x).
    np.testing.assert_allclose(got * (1 - x), numerical, rtol=2e-2, atol=1e-7)


def test_dirichlet_grad_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    a, b, x = _beta_cases()
    got = autodiff._dirichlet_grad(*(autodiff.tensor(v) for v in (x, a, a + b)))
    expected = torch._dirichlet_grad(*(torch.tensor(v) for v in (x, a, a + b)))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)


def test_standard_gamma_draws_gamma_samples_differentiable_in_alpha(device: str) -> None:
    autodiff.manual_seed(3)
    alpha = autodiff.tensor([0.4, 1.0, 4.5], dtype=autodiff.float64, device=device,
                            requires_grad=True)
    x = autodiff._standard_gamma(alpha.expand(20000, 3))
    assert x.grad_fn.name() == "StandardGammaBackward0"
    assert x.device == alpha.device and x.dtype is autodiff.float64
    for column, value in enumerate((0.4, 1.0, 4.5)):
        sample = x[:, column].detach().cpu().numpy()
        assert st.kstest(sample, st.gamma(value).cdf).pvalue > 1e-3
    x.sum().backward()
    # The gradient is the implicit derivative at each sample, summed over the draws.
    expected = autodiff._standard_gamma_grad(alpha.detach().expand(20000, 3), x.detach())
    np.testing.assert_allclose(alpha.grad.cpu().numpy(), expected.sum(0).cpu().numpy())
    # E[x] = alpha, so the mean of d x / d alpha is 1.
    np.testing.assert_allclose(alpha.grad.cpu().numpy() / 20000, [1, 1, 1], rtol=0.05)


def test_standard_gamma_edge_cases_as_pytorch() -> None:
    out = autodiff._standard_gamma(autodiff.tensor([0.0, -1.0, float("nan"), float("inf")]))
    tiny = autodiff.finfo(autodiff.float32).tiny
    assert out.tolist() == [tiny, tiny, tiny, float("inf")]
    small = autodiff._standard_gamma(autodiff.full((1000,), 1e-4, dtype=autodiff.float64))
    assert bool((small >= autodiff.finfo(autodiff.float64).tiny).all())
    empty = autodiff._standard_gamma(autodiff.ones(0, 3))
    assert tuple(empty.shape) == (0, 3)


def test_standard_gamma_double_backward_raises_pytorchs_error() -> None:
    alpha = autodiff.tensor([0.5, 2.0], requires_grad=True)
    (grad,) = autodiff.autograd.grad(autodiff._standard_gamma(alpha).sum(), alpha,
                                     create_graph=True)
    with raises(NotImplementedError,
                "the derivative for '_standard_gamma_grad' is not implemented."):
        grad.sum().backward()


def test_seeds_repeat_the_draws(device: str) -> None:
    alpha = autodiff.tensor([0.5, 3.0], device=device)
    autodiff.manual_seed(11)
    first = (autodiff._standard_gamma(alpha), autodiff._sample_dirichlet(alpha),
             autodiff.binomial(alpha * 4, alpha / 4))
    autodiff.manual_seed(11)
    second = (autodiff._standard_gamma(alpha), autodiff._sample_dirichlet(alpha),
              autodiff.binomial(alpha * 4, alpha / 4))
    for a, b in zip(first, second):
        assert a.tolist() == b.tolist()
    generator = autodiff.Generator(device).manual_seed(5)
    drawn = autodiff._standard_gamma(alpha, generator=generator)
    generator.manual_seed(5)
    assert autodiff._standard_gamma(alpha, generator=generator).tolist() == drawn.tolist()


def test_sample_dirichlet_rows_are_dirichlet(device: str) -> None:
    autodiff.manual_seed(0)
    concentration = autodiff.tensor([[0.5, 1.0, 3.0]], dtype=autodiff.float64, device=device)
    x = autodiff._sample_dirichlet(concentration.expand(20000, 3))
    assert x.device == concentration.device and x.grad_fn is None
    values = x.cpu().numpy()
    np.testing.assert_allclose(values.sum(1), 1.0, rtol=1e-12)
    for column, a in enumerate((0.5, 1.0, 3.0)):  # the marginals are Beta(a, total - a)
        assert st.kstest(values[:, column], st.beta(a, 4.5 - a).cdf).pvalue > 1e-3
    # All concentrations 0: every gamma draw is the smallest number, the row uniform.
    flat = autodiff._sample_dirichlet(autodiff.zeros(2, 4, device=device))
    assert flat.tolist() == [[0.25] * 4] * 2


def test_sample_dirichlet_has_no_derivative() -> None:
    concentration = autodiff.tensor([1.0, 2.0], requires_grad=True)
    x = autodiff._sample_dirichlet(concentration)
    assert x.grad_fn.name() == "torch::autograd::NotImplemented"
    with raises(RuntimeError, "derivative for aten::_sample_dirichlet is not implemented"):
        x.sum().backward()


def test_binomial_draws(device: str) -> None:
    autodiff.manual_seed(1)
    count = autodiff.full((20000,), 12.0, dtype=autodiff.float64, device=device)
    prob = autodiff.full((20000,), 0.3, dtype=autodiff.float64, device=device)
    x = autodiff.binomial(count, prob)
    assert x.dtype is autodiff.float64 and x.device == count.device
    values = x.cpu().numpy()
    assert np.all(values == np.floor(values)) and values.min() >= 0 and values.max() <= 12
    observed = np.bincount(values.astype(int), minlength=13)
    expected = st.binom(12, 0.3).pmf(np.arange(13)) * 20000
    assert st.chisquare(observed[expected > 5], expected[expected > 5] * (
        observed[expected > 5].sum() / expected[expected > 5].sum())).pvalue > 1e-3


def test_binomial_edge_cases_as_pytorch() -> None:
    count = autodiff.tensor([3.5, -1.0, 0.0, 5.0, 4.0])
    prob = autodiff.tensor([1.5, 0.5, 0.5, 0.0, 1.0])
    # p >= 1: every trial succeeds (count itself); no trials or p <= 0: none.
    assert autodiff.binomial(count, prob).tolist() == [3.5, 0.0, 0.0, 0.0, 4.0]
    broadcast = autodiff.binomial(autodiff.tensor([[2.0], [3.0]]), autodiff.tensor([1.0, 0.0]))
    assert broadcast.tolist() == [[2.0, 0.0], [3.0, 0.0]]


def test_binomial_has_no_derivative() -> None:
    count = autodiff.tensor([3.0, 4.0], requires_grad=True)
    x = autodiff.binomial(count, autodiff.tensor([0.3, 0.5]))
    assert x.grad_fn.name() == "torch::autograd::NotImplemented"
    with raises(RuntimeError, "derivative for aten::binomial is not implemented"):
        x.sum().backward()


def test_errors_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    from tests.compare import same_error

    same_error(lambda: autodiff.binomial(autodiff.tensor([3]), autodiff.tensor([0.5])),
               lambda: torch.binomial(torch.tensor([3]), torch.tensor([0.5])))
    same_error(lambda: autodiff.binomial(autodiff.tensor([3.0]),
                                         autodiff.tensor([0.5], dtype=autodiff.float64)),
               lambda: torch.binomial(torch.tensor([3.0]),
                                      torch.tensor([0.5], dtype=torch.float64)))
    same_error(lambda: autodiff._standard_gamma(autodiff.tensor([3])),
               lambda: torch._standard_gamma(torch.tensor([3])))
    same_error(lambda: autodiff._sample_dirichlet(autodiff.tensor([3])),
               lambda: torch._sample_dirichlet(torch.tensor([3])))


def test_dirichlet_rsample_backward_matches_pytorch() -> None:
    """Dirichlet's rsample node: the gradient of each coordinate (a Beta sample) through the
    normalisation, for the same sample x as PyTorch's backward formula."""
    torch = pytest.importorskip("torch")
    from torch.distributions.dirichlet import _Dirichlet_backward as theirs

    from autodiff.distributions.dirichlet import _Dirichlet_backward as ours

    rng = np.random.default_rng(0)
    concentration = rng.uniform(0.3, 5.0, (4, 3))
    x = rng.dirichlet(concentration[0], 4)
    grad = rng.standard_normal((4, 3))
    got = ours(*(autodiff.tensor(v) for v in (x, concentration, grad)))
    expected = theirs(*(torch.tensor(v) for v in (x, concentration, grad)))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)
