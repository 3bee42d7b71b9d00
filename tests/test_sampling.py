"""Random draws: normal, bernoulli, poisson, multinomial, randint_like and the in-place samplers
(uniform_, normal_, exponential_, geometric_, cauchy_, log_normal_, random_, bernoulli_).

Their numbers are not PyTorch's (other generators), so each is checked by its distribution
(moments and ranges on 20000 draws, loose enough to hold for any seed), by reproducibility (one
seed, the same numbers; `generator=` used rather than the default one), and against PyTorch
for everything that does not depend on the stream: shapes, dtypes, node names, the zero
gradients, and the errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import same_error

N = 20000


def _fresh(device: str, seed: int = 7) -> autodiff.Generator:
    return autodiff.Generator(device).manual_seed(seed)


def _sample(device: str, fill: Any, dtype: Any = autodiff.float64) -> np.ndarray:
    tensor = autodiff.empty(N, dtype=dtype, device=device)
    result = fill(tensor, _fresh(device))
    assert result is tensor and tensor._version == 1
    return np.array(tensor.tolist())


def _assert_moments(values: np.ndarray, mean: float, std: float) -> None:
    # Six standard errors: fails for a wrong distribution, not for an unlucky seed.
    assert abs(values.mean() - mean) < 6 * std / math.sqrt(len(values))
    assert abs(values.std() - std) < 0.05 * std


def test_uniform_(device: str) -> None:
    values = _sample(device, lambda t, g: t.uniform_(-2.0, 3.0, generator=g))
    assert values.min() >= -2.0 and values.max() < 3.0
    _assert_moments(values, 0.5, 5 / math.sqrt(12))


def test_normal_(device: str) -> None:
    _assert_moments(_sample(device, lambda t, g: t.normal_(1.5, 2.0, generator=g)), 1.5, 2.0)


def test_exponential_(device: str) -> None:
    values = _sample(device, lambda t, g: t.exponential_(4.0, generator=g))
    assert values.min() >= 0
    _assert_moments(values, 0.25, 0.25)


def test_geometric_(device: str) -> None:
    values = _sample(device, lambda t, g: t.geometric_(0.25, generator=g))
    assert values.min() >= 1 and np.all(values == np.round(values))
    _assert_moments(values, 4.0, math.sqrt(0.75) / 0.25)


def test_geometric_of_an_integer_tensor(device: str) -> None:
    values = _sample(device, lambda t, g: t.geometric_(0.5, generator=g), autodiff.int64)
    assert values.min() >= 1


def test_cauchy_(device: str) -> None:
    values = _sample(device, lambda t, g: t.cauchy_(1.0, 2.0, generator=g))
    # No moments: the quartiles are median -/+ sigma.
    low, middle, high = np.quantile(values, [0.25, 0.5, 0.75])
    assert abs(middle - 1.0) < 0.1 and abs(low + 1.0) < 0.15 and abs(high - 3.0) < 0.15


def test_log_normal_(device: str) -> None:
    values = _sample(device, lambda t, g: t.log_normal_(0.5, 0.25, generator=g))
    _assert_moments(np.log(values), 0.5, 0.25)


@pytest.mark.parametrize(("args", "low", "high"), [((), 0, 2**53), ((10,), 0, 9),
                                                   ((-3, 4), -3, 3)])
def test_random_(args: tuple[int, ...], low: int, high: int, device: str) -> None:
    values = _sample(device, lambda t, g: t.random_(*args, generator=g))
    assert values.min() >= low and values.max() <= high and np.all(values == np.round(values))
    if high < 100:
        assert set(np.unique(values)) == set(range(low, high + 1))


def test_random_of_narrow_dtypes(device: str) -> None:
    values = _sample(device, lambda t, g: t.random_(generator=g), autodiff.uint8)
    assert values.min() >= 0 and values.max() <= 255 and len(np.unique(values)) > 200
    flags = _sample(device, lambda t, g: t.random_(generator=g), autodiff.bool)
    assert 0.45 < flags.mean() < 0.55


def test_bernoulli_(device: str) -> None:
    values = _sample(device, lambda t, g: t.bernoulli_(0.3, generator=g))
    assert set(np.unique(values)) == {0.0, 1.0}
    _assert_moments(values, 0.3, math.sqrt(0.21))
    p = autodiff.tensor([0.0, 1.0], device=device)
    assert autodiff.empty(2, device=device).bernoulli_(p).tolist() == [0.0, 1.0]


def test_bernoulli_and_poisson(device: str) -> None:
    p = autodiff.full((N,), 0.8, device=device, dtype=autodiff.float64)
    _assert_moments(np.array(autodiff.bernoulli(p, generator=_fresh(device)).tolist()), 0.8,
                    0.4)
    rates = autodiff.full((N,), 3.0, device=device, dtype=autodiff.float64)
    counts = np.array(autodiff.poisson(rates, _fresh(device)).tolist())
    assert np.all(counts == np.round(counts))
    _assert_moments(counts, 3.0, math.sqrt(3.0))


def test_normal_overloads(device: str) -> None:
    mean = autodiff.full((N,), 2.0, device=device, dtype=autodiff.float64)
    _assert_moments(np.array(autodiff.normal(mean, 0.5, generator=_fresh(device)).tolist()),
                    2.0, 0.5)
    std = autodiff.full((N,), 3.0, device=device, dtype=autodiff.float64)
    _assert_moments(np.array(autodiff.normal(-1.0, std, generator=_fresh(device)).tolist()),
                    -1.0, 3.0)
    values = autodiff.normal(1.0, 2.0, (N,), generator=_fresh(device), device=device,
                             dtype=autodiff.float64)
    assert values.dtype is autodiff.float64 and values.device == mean.device
    _assert_moments(np.array(values.tolist()), 1.0, 2.0)


def test_multinomial_frequencies(device: str) -> None:
    weights = autodiff.tensor([1.0, 0.0, 3.0], device=device)
    draws = np.array(autodiff.multinomial(weights, N, True, generator=_fresh(device)).tolist())
    assert set(np.unique(draws)) <= {0, 2}
    assert abs((draws == 2).mean() - 0.75) < 0.02
    # Without replacement: each row a permutation of the categories; the heavy one first
    # most of the time.
    rows = autodiff.tensor([[1.0, 8.0, 1.0]] * 2000, device=device)
    picks = np.array(rows.multinomial(3, generator=_fresh(device)).tolist())
    assert all(sorted(row) == [0, 1, 2] for row in picks)
    assert abs((picks[:, 0] == 1).mean() - 0.8) < 0.04


def test_multinomial_takes_zero_weights_last(device: str) -> None:
    picks = autodiff.multinomial(autodiff.tensor([1.0, 0.0, 0.0], device=device), 2)
    assert picks.tolist()[0] == 0 and picks.tolist()[1] in (1, 2)


def test_randint_like(device: str) -> None:
    like = autodiff.zeros(4, 5, device=device)
    values = autodiff.randint_like(like, 3, 7, generator=_fresh(device))
    assert values.dtype is autodiff.float32 and values.shape == (4, 5)
    assert values.device == like.device
    assert set(np.unique(values.tolist())) <= {3.0, 4.0, 5.0, 6.0}
    assert autodiff.randint_like(like, 5, dtype=autodiff.int64).dtype is autodiff.int64


@pytest.mark.parametrize("name", ["uniform_", "normal_", "exponential_", "cauchy_",
                                  "log_normal_", "random_", "bernoulli_"])
def test_a_seed_gives_the_same_numbers(name: str, device: str) -> None:
    first = getattr(autodiff.empty(50, device=device), name)(generator=_fresh(device, 3))
    second = getattr(autodiff.empty(50, device=device), name)(generator=_fresh(device, 3))
    third = getattr(autodiff.empty(50, device=device), name)(generator=_fresh(device, 4))
    assert first.tolist() == second.tolist() != third.tolist()


def test_the_default_generator_follows_manual_seed(device: str) -> None:
    autodiff.manual_seed(11)
    first = autodiff.normal(autodiff.zeros(5, device=device), 1.0).tolist()
    autodiff.manual_seed(11)
    assert autodiff.normal(autodiff.zeros(5, device=device), 1.0).tolist() == first


def test_a_generator_of_another_device_type_is_refused() -> None:
    generator = autodiff.Generator("strict:1")
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator"):
        autodiff.empty(3).uniform_(generator=generator)


def test_samples_pass_zero_gradients(device: str) -> None:
    mean = autodiff.zeros(3, device=device, requires_grad=True)
    std = autodiff.ones(3, device=device, requires_grad=True)
    out = autodiff.normal(mean, std)
    assert out.grad_fn.name() == "NormalBackward3"
    out.sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0, 0.0] and std.grad.tolist() == [0.0, 0.0, 0.0]
    x = autodiff.ones(3, device=device, requires_grad=True)
    y = x * 2
    y.exponential_()
    assert y.grad_fn.name() == "ExponentialBackward0"
    (y * x).sum().backward()
    assert x.grad.tolist() == y.tolist()  # only the product's own term: the fill passes zeros


def test_in_place_sampling_of_a_leaf_that_requires_grad_is_refused() -> None:
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        autodiff.zeros(3, requires_grad=True).uniform_()


# ----------------------------------------------------------------------------- against PyTorch
NODES: dict[str, Any] = {
    "normal_mean": lambda L, x: L.normal(x, 1.0),
    "normal_std": lambda L, x: L.normal(0.0, x),
    "normal_both": lambda L, x: L.normal(x, x),
    "bernoulli": lambda L, x: L.bernoulli(x),
    "bernoulli_p": lambda L, x: L.bernoulli(x, 0.3),
    "bernoulli_number": lambda L, x: (x * 1).bernoulli_(0.3),
    "bernoulli_tensor": lambda L, x: (x * 1).bernoulli_(x),
    "poisson": lambda L, x: L.poisson(x),
    "uniform_": lambda L, x: (x * 1).uniform_(),
    "normal_": lambda L, x: (x * 1).normal_(),
    "exponential_": lambda L, x: (x * 1).exponential_(),
    "geometric_": lambda L, x: (x * 1).geometric_(0.5),
    "cauchy_": lambda L, x: (x * 1).cauchy_(),
    "log_normal_": lambda L, x: (x * 1).log_normal_(),
    "random_": lambda L, x: (x * 1).random_(),
    "random_to": lambda L, x: (x * 1).random_(5),
    "random_from_to": lambda L, x: (x * 1).random_(2, 5),
}


@pytest.mark.parametrize("name", sorted(NODES))
def test_nodes_and_gradients_are_pytorchs(name: str, device: str) -> None:
    torch = pytest.importorskip("torch")
    ours_x = autodiff.full((3,), 0.5, device=device, requires_grad=True)
    theirs_x = torch.full((3,), 0.5, requires_grad=True)
    ours, theirs = NODES[name](autodiff, ours_x), NODES[name](torch, theirs_x)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert tuple(ours.shape) == tuple(theirs.shape)
    if theirs.grad_fn.name().endswith("NotImplemented"):
        return
    theirs.sum().backward()
    ours.sum().backward()
    assert ours_x.grad.tolist() == theirs_x.grad.tolist()


ERRORS: dict[str, Any] = {
    "normal_std": lambda L: L.normal(L.zeros(3), -1.0),
    "normal_std_tensor": lambda L: L.normal(L.zeros(3), -L.ones(3)),
    "normal_shapes": lambda L: L.normal(L.zeros(3), L.ones(2)),
    "normal_int": lambda L: L.normal(L.zeros(2, dtype=L.int64), 1.0),
    "bernoulli_p": lambda L: L.zeros(3).bernoulli_(1.5),
    "bernoulli_probabilities": lambda L: L.bernoulli(L.full((3,), 1.5)),
    "bernoulli_int": lambda L: L.bernoulli(L.tensor([1, 0])),
    "bernoulli_expand": lambda L: L.rand(2).bernoulli_(L.tensor([[0.5, 0.5]])),
    "poisson_int": lambda L: L.poisson(L.tensor([1, 2])),
    "poisson_negative": lambda L: L.poisson(-L.ones(2)),
    "multinomial_without_replacement": lambda L: L.multinomial(L.ones(3), 4),
    "multinomial_int": lambda L: L.multinomial(L.tensor([1, 2]), 1),
    "multinomial_dims": lambda L: L.multinomial(L.zeros(2, 2, 2), 1),
    "multinomial_zero_sum": lambda L: L.multinomial(L.zeros(2), 1),
    "multinomial_negative": lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1),
    "multinomial_nan": lambda L: L.multinomial(L.tensor([float("nan"), 1.0]), 1),
    "multinomial_count": lambda L: L.multinomial(L.ones(3), 0),
    "uniform_order": lambda L: L.zeros(3).uniform_(2, 1),
    "uniform_int": lambda L: L.zeros(3, dtype=L.int64).uniform_(),
    "uniform_inf": lambda L: L.zeros(3).uniform_(0, float("inf")),
    "normal_negative_std": lambda L: L.zeros(3).normal_(0, -1),
    "normal_int_": lambda L: L.zeros(3, dtype=L.int64).normal_(),
    "exponential_lambda": lambda L: L.zeros(3).exponential_(0),
    "exponential_int": lambda L: L.zeros(3, dtype=L.int64).exponential_(),
    "geometric_p": lambda L: L.zeros(3).geometric_(1.0),
    "cauchy_sigma": lambda L: L.zeros(3).cauchy_(0, -1),
    "cauchy_int": lambda L: L.zeros(3, dtype=L.int64).cauchy_(),
    "log_normal_std": lambda L: L.zeros(3).log_normal_(0, -1),
    "log_normal_int": lambda L: L.zeros(3, dtype=L.int64).log_normal_(),
    "random_order": lambda L: L.zeros(3).random_(5, 2),
    "random_to_bound": lambda L: L.zeros(3, dtype=L.int8).random_(0, 300),
    "random_from_bound": lambda L: L.zeros(3, dtype=L.uint8).random_(-1, 5),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: ERRORS[name](autodiff), lambda: ERRORS[name](torch))
