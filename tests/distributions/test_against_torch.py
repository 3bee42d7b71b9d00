"""Every distribution against PyTorch's, built from the same float64 parameters: log_prob at
PyTorch's own samples, entropy, cdf, icdf, mean, mode, variance, stddev, perplexity,
enumerate_support, the lazily computed parameterizations, expand, shapes, support and repr,
with the gradients of each in the parameters (for the same upstream gradient), and the same
errors where PyTorch raises (a method it does not implement, a derivative it does not have)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import same_error
from tests.distributions.cases import CASES, Case

torch = pytest.importorskip("torch")

# PyTorch 2.13's GeneralizedPareto compares float64 parameters with a float32 0 (isclose) and
# raises "Double did not match Float"; here float64 works (tests/distributions/test_scipy.py
# checks those values against SciPy), and against PyTorch it runs in float32.
FLOAT32_CASES = {"GeneralizedPareto"}


def _numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", function()
    except Exception as error:
        return "error", error


def _build(case: Case) -> tuple[Any, dict[str, Any], Any, dict[str, Any]]:
    dtype = "float32" if case.name in FLOAT32_CASES else "float64"
    params = {key: value.astype(dtype) if isinstance(value, np.ndarray) else value
              for key, value in case.params.items()}
    typed = Case(case.name, case.make, params, case.no_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Wishart's low-df warning
        theirs, their_params = typed.build(torch, grad=True)
        ours, our_params = typed.build(autodiff, grad=True)
    return theirs, their_params, ours, our_params


QUANTITIES: dict[str, Callable[[Any, Any], Any]] = {
    "log_prob": lambda d, value: d.log_prob(value),
    "entropy": lambda d, value: d.entropy(),
    "cdf": lambda d, value: d.cdf(value),
    "icdf": lambda d, u: d.icdf(u),
    "mean": lambda d, value: d.mean,
    "mode": lambda d, value: d.mode,
    "variance": lambda d, value: d.variance,
    "stddev": lambda d, value: d.stddev,
    "perplexity": lambda d, value: d.perplexity(),
    "enumerate_support": lambda d, value: d.enumerate_support(),
    "enumerate_support_unexpanded": lambda d, value: d.enumerate_support(expand=False),
}


def _inputs(case: Case, theirs: Any, quantity: str) -> tuple[Any, Any]:
    if quantity == "icdf":
        u = np.random.default_rng(0).uniform(0.05, 0.95, tuple(theirs.batch_shape))
        return torch.tensor(u, dtype=torch.float64), autodiff.tensor(u, dtype=autodiff.float64)
    torch.manual_seed(0)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        value = theirs.sample((2,))
    return value, autodiff.tensor(_numpy(value))


def _compare_gradients(name: str, theirs: Any, ours: Any, their_params: dict[str, Any],
                       our_params: dict[str, Any]) -> None:
    keys = [k for k, v in their_params.items() if isinstance(v, torch.Tensor) and v.requires_grad]
    if not keys or not theirs.requires_grad:
        assert not ours.requires_grad or not keys, f"{name}: autodiff records a graph"
        return
    assert ours.requires_grad, f"{name}: no graph recorded"
    upstream = np.random.default_rng(1).standard_normal(tuple(theirs.shape))
    expected = _outcome(lambda: torch.autograd.grad(
        theirs, [their_params[k] for k in keys], torch.tensor(upstream), allow_unused=True,
        retain_graph=True))
    got = _outcome(lambda: autodiff.autograd.grad(
        ours, [our_params[k] for k in keys], autodiff.tensor(upstream), allow_unused=True,
        retain_graph=True))
    if expected[0] == "error":  # a derivative PyTorch does not have
        assert got[0] == "error", f"{name}: PyTorch raised {expected[1]!r}"
        assert type(got[1]) is type(expected[1]) and str(got[1]) == str(expected[1])
        return
    assert got[0] == "value", f"{name}: {got[1]!r}"
    for key, mine, reference in zip(keys, got[1], expected[1]):
        assert (mine is None) == (reference is None), f"{name}: gradient of {key}"
        if reference is not None:
            np.testing.assert_allclose(_numpy(mine), _numpy(reference), rtol=1e-5, atol=1e-7,
                                       err_msg=f"{name}: gradient of {key}")


@pytest.mark.parametrize("quantity", list(QUANTITIES))
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_quantity_and_its_gradient_match_pytorch(case: Case, quantity: str) -> None:
    theirs, their_params, ours, our_params = _build(case)
    their_input, our_input = _inputs(case, theirs, quantity)
    if case.name in FLOAT32_CASES:
        their_input, our_input = their_input.float(), our_input.float()
    expected = _outcome(lambda: QUANTITIES[quantity](theirs, their_input))
    got = _outcome(lambda: QUANTITIES[quantity](ours, our_input))
    if expected[0] == "error":
        assert got[0] == "error", f"PyTorch raised {expected[1]!r}; autodiff returned"
        assert type(got[1]) is type(expected[1])
        # PyTorch's "does not implement mode" names its own class object.
        assert str(got[1]).replace("autodiff.", "torch.") == str(expected[1])
        return
    assert got[0] == "value", f"autodiff raised {got[1]!r}"
    mine, reference = got[1], expected[1]
    assert tuple(mine.shape) == tuple(reference.shape)
    assert repr(mine.dtype) == repr(reference.dtype)
    rtol = 2e-5 if reference.dtype == torch.float32 else 1e-7
    np.testing.assert_allclose(_numpy(mine), _numpy(reference), rtol=rtol, atol=1e-9,
                               equal_nan=True)
    _compare_gradients(f"{case.name}.{quantity}", reference, mine, their_params, our_params)


LAZY = ("probs", "logits", "covariance_matrix", "precision_matrix", "scale_tril", "variance")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_parameterizations_match_pytorch(case: Case) -> None:
    theirs, their_params, ours, our_params = _build(case)
    for name in LAZY:
        if not hasattr(type(theirs), name):
            continue
        expected = _outcome(lambda: getattr(theirs, name))  # noqa: B023
        got = _outcome(lambda: getattr(ours, name))  # noqa: B023
        if expected[0] == "error":
            assert got[0] == "error" and type(got[1]) is type(expected[1])
            continue
        reference, mine = expected[1], got[1]
        np.testing.assert_allclose(_numpy(mine), _numpy(reference), rtol=1e-6, atol=1e-9,
                                   err_msg=name)
        _compare_gradients(f"{case.name}.{name}", reference, mine, their_params, our_params)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_shapes_support_repr_and_expand_match_pytorch(case: Case) -> None:
    theirs, _, ours, _ = _build(case)
    assert repr(ours) == repr(theirs)
    assert repr(ours.batch_shape) == repr(theirs.batch_shape)
    assert repr(ours.event_shape) == repr(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    if not hasattr(theirs.support, "lower_bound"):  # bounds are tensors: reprs show values
        assert repr(ours.support) == repr(theirs.support)
    assert ours.support.event_dim == theirs.support.event_dim
    assert ours.support.is_discrete == theirs.support.is_discrete
    assert repr(ours._extended_shape((5,))) == repr(theirs._extended_shape((5,)))

    batch = (4, *theirs.batch_shape)
    their_wide, our_wide = theirs.expand(batch), ours.expand(batch)
    assert type(our_wide).__name__ == type(their_wide).__name__
    assert repr(our_wide) == repr(their_wide)
    assert repr(our_wide.batch_shape) == repr(their_wide.batch_shape)
    their_value, our_value = _inputs(case, theirs, "log_prob")
    if case.name in FLOAT32_CASES:
        their_value, our_value = their_value.float(), our_value.float()
    np.testing.assert_allclose(_numpy(our_wide.log_prob(our_value[0])),
                               _numpy(their_wide.log_prob(their_value[0])), rtol=2e-5)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert tuple(our_wide.sample((2,)).shape) == tuple(their_wide.sample((2,)).shape)


def _unit_normal(library: Any) -> Any:
    class UnitNormal(library.distributions.Normal):
        def __init__(self, loc: Any) -> None:
            super().__init__(loc, 1.0)

    return UnitNormal(library.zeros(2))


def test_custom_init_subclass_must_define_expand() -> None:
    same_error(lambda: _unit_normal(autodiff).expand((3, 2)),
               lambda: _unit_normal(torch).expand((3, 2)))
