"""The Adam-family update kernels (backends/kernels.py, backends/numpy_kernels.py): NumPy's
in-place versions against the generic kernels, and every device's backend method against the
generic kernel run on NumPy."""

from __future__ import annotations

import functools
import itertools
import types
import warnings
from typing import Any

import array_api_compat.numpy as npx
import numpy as np
import pytest

import backends
from backends import numpy_kernels
from backends.kernels import Kernels
from tests.test_kernels import cupy_backend  # noqa: F401  (the stand-in CuPy, a fixture)

OPTIONS = [dict(beta1=beta1, weight_decay=weight_decay, decoupled=decoupled)
           for beta1, weight_decay, decoupled in itertools.product(
               (0.9, 0.3), (0.0, 0.1), (False, True)) if weight_decay or not decoupled]
NAMES = ["adam", "nadam", "radam"]
# Stand-ins for a backend that the composites (`Kernels.<name>_update`) run their kernel on: the
# generic kernels over NumPy, and NumPy's in-place versions at every size (the NumPy backend
# uses those from numpy_kernels.IN_PLACE_FROM elements on).
GENERIC = types.SimpleNamespace(**{f"{name}_step": functools.partial(
    getattr(Kernels, f"{name}_step"), npx) for name in NAMES})
IN_PLACE = types.SimpleNamespace(**{f"{name}_step": getattr(numpy_kernels, f"{name}_step")
                                    for name in NAMES})


def _composite(name: str, backend: Any) -> Any:
    """`Kernels.<name>_update` run on `backend`."""
    return functools.partial(getattr(Kernels, f"{name}_update").function, backend)


def _arrays(dtype: str, shape: tuple[int, ...] = (5, 4)) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    param = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(6)]
    return [param, *grads]


def _update(name: str, update: Any, state: list[Any], grads: list[Any], beta1: float,
            weight_decay: float, decoupled: bool) -> None:
    """Six steps of kernels-style `update(param, grad, exp_avg, exp_avg_sq, **options)`."""
    mu_product = 1.0
    for step, grad in enumerate(grads, start=1):
        # beta2 = 0.9 takes RAdam through both branches (rho_t > 5 from step 5).
        options = dict(lr=0.05, beta1=beta1, beta2=0.9, eps=1e-8, weight_decay=weight_decay,
                       step=step, decoupled=decoupled)
        if name == "nadam":
            mu = beta1 * (1 - 0.5 * 0.96 ** (step * 0.004))
            mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * 0.004))
            mu_product *= mu
            options.update(mu=mu, mu_next=mu_next, mu_product=mu_product)
        update(state[0], grad, state[1], state[2], **options)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_numpy_in_place_kernels_match_the_generic_ones(name: str, options: dict[str, Any],
                                                       dtype: str) -> None:
    param, *grads = _arrays(dtype)
    generic = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
    in_place = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
    _update(name, _composite(name, GENERIC), generic, grads, **options)
    _update(name, _composite(name, IN_PLACE), in_place, grads, **options)
    for ours, expected in zip(in_place, generic):
        assert ours.dtype == expected.dtype
        # The moments are the same operations; param may differ by a rounding or two where
        # the in-place form reorders a product and a quotient.
        np.testing.assert_allclose(ours, expected, rtol=8 * np.finfo(dtype).eps,
                                   atol=8 * np.finfo(dtype).eps * np.abs(expected).max())


def test_the_backend_runs_the_in_place_kernels_on_large_parameters() -> None:
    size = numpy_kernels.IN_PLACE_FROM
    rng = np.random.default_rng(0)
    param, grad = rng.standard_normal(size), rng.standard_normal(size)
    generic = [param.copy(), np.zeros(size), np.zeros(size)]
    backend_state = [param.copy(), np.zeros(size), np.zeros(size)]
    options = dict(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.0, step=1,
                   decoupled=False)
    _composite("adam", GENERIC)(generic[0], grad, generic[1], generic[2], **options)
    backends.get_backend("cpu").adam_update(backend_state[0], grad, backend_state[1],
                                            backend_state[2], **options)
    # The in-place version's s * (m / d) against the expression's (s * m) / d: a rounding.
    assert not np.array_equal(backend_state[0], generic[0])
    np.testing.assert_allclose(backend_state[0], generic[0], rtol=1e-15, atol=1e-16)


def test_numpy_kernels_reuse_one_workspace_and_release_it() -> None:
    nadam_update = _composite("nadam", IN_PLACE)
    results = []
    for shape in [(7,), (3, 11), (7,)]:  # a larger call between two equal ones
        param, grad = _arrays("float64", shape)[:2]
        state = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
        nadam_update(state[0], grad, state[1], state[2], lr=0.1, beta1=0.9, beta2=0.99,
                     eps=1e-8, weight_decay=0.0, step=1.0, decoupled=False, mu=0.9,
                     mu_next=0.9, mu_product=0.9)
        results.append(state[0])
    np.testing.assert_array_equal(results[0], results[2])
    numpy_kernels.release_workspace()
    numpy_kernels.release_workspace()  # nothing to release: fine


@pytest.mark.parametrize("size", [3, numpy_kernels.IN_PLACE_FROM])
def test_numpy_kernels_are_silent_on_zero_over_zero(size: int) -> None:
    """eps=0 with a zero gradient gives 0 / 0 = nan, silently, as in PyTorch."""
    backend = backends.get_backend("cpu")
    param = np.ones(size)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.adam_update(param, np.zeros(size), np.zeros(size), np.zeros(size), lr=0.1,
                            beta1=0.9, beta2=0.99, eps=0.0, weight_decay=0.0, step=1,
                            decoupled=False)
    assert np.all(np.isnan(param))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_update_on_device_matches_the_generic_kernel(name: str, options: dict[str, Any],
                                                     dtype: str, device: str) -> None:
    backend = backends.get_backend(device)
    param, *grads = _arrays(dtype)
    expected = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
    _update(name, _composite(name, GENERIC), expected, grads, **options)
    state = [backend.asarray(a, dtype) for a in (param, np.zeros_like(param),
                                                 np.zeros_like(param))]
    _update(name, getattr(backend, f"{name}_update"), state,
            [backend.asarray(g, dtype) for g in grads], **options)
    for actual, wanted in zip(state, expected):
        assert backend.dtype_name(actual) == dtype
        np.testing.assert_allclose(backend.to_numpy(actual), wanted,
                                   rtol=8 * np.finfo(dtype).eps,
                                   atol=8 * np.finfo(dtype).eps * np.abs(wanted).max())


@pytest.mark.parametrize("name", NAMES)
def test_the_cupy_backend_compiles_the_adam_family(name: str,
                                                   cupy_backend: Any) -> None:  # noqa: F811
    """Over the stand-in CuPy (NumPy with an identity `fuse`, tests/test_kernels.py): each
    kernel is compiled once per static variant, and the composite run on the compiled kernel
    gives the Python kernel's results."""
    compiled = cupy_backend._COMPILED[f"{name}_step"]
    backend = types.SimpleNamespace(**{f"{name}_step": compiled})
    for options in OPTIONS:
        param, *grads = _arrays("float64")
        ours = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
        expected = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
        _update(name, _composite(name, backend), ours, grads, **options)
        _update(name, _composite(name, GENERIC), expected, grads, **options)
        for actual, wanted in zip(ours, expected):
            np.testing.assert_array_equal(actual, wanted)
    assert f"{name}_step" in cupy_backend.fused_names
