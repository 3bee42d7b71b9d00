"""The Adam-family update kernels (backends/kernels.py, backends/numpy_kernels.py): NumPy's
in-place versions against the generic kernels, and every device's backend method against the
generic kernel run on NumPy."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import array_api_compat.numpy as npx
import numpy as np
import pytest

import backends
from backends import kernels, numpy_kernels

OPTIONS = [dict(beta1=beta1, weight_decay=weight_decay, decoupled=decoupled)
           for beta1, weight_decay, decoupled in itertools.product(
               (0.9, 0.3), (0.0, 0.1), (False, True)) if weight_decay or not decoupled]
NAMES = ["adam", "nadam", "radam"]


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
    generic_update = getattr(kernels, f"{name}_update")
    _update(name, lambda *a, **k: generic_update(npx, *a, **k), generic, grads, **options)
    in_place_update = getattr(_InPlace(), f"{name}_update")  # numpy_kernels at every size
    _update(name, in_place_update, in_place, grads, **options)
    for ours, expected in zip(in_place, generic):
        assert ours.dtype == expected.dtype
        # The moments are the same operations; param may differ by a rounding or two where
        # the in-place form reorders a product and a quotient.
        np.testing.assert_allclose(ours, expected, rtol=8 * np.finfo(dtype).eps,
                                   atol=8 * np.finfo(dtype).eps * np.abs(expected).max())


class _InPlace(backends.get_backend("cpu").__class__):  # type: ignore[misc]
    """The NumPy backend with its in-place kernels at every size (the backend itself uses
    them from numpy_kernels.IN_PLACE_FROM elements on)."""

    def optimizer_kernel(self, name: str, flags: dict[str, bool]) -> Any:
        kernel = getattr(numpy_kernels, f"{name}_step")
        return lambda *args: kernel(*args, **flags)


def test_the_backend_runs_the_in_place_kernels_on_large_parameters() -> None:
    size = numpy_kernels.IN_PLACE_FROM
    rng = np.random.default_rng(0)
    param, grad = rng.standard_normal(size), rng.standard_normal(size)
    generic = [param.copy(), np.zeros(size), np.zeros(size)]
    backend_state = [param.copy(), np.zeros(size), np.zeros(size)]
    options = dict(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.0, step=1,
                   decoupled=False)
    kernels.adam_update(npx, generic[0], grad, generic[1], generic[2], **options)
    backends.get_backend("cpu").adam_update(backend_state[0], grad, backend_state[1],
                                            backend_state[2], **options)
    # The in-place version's s * (m / d) against the expression's (s * m) / d: a rounding.
    assert not np.array_equal(backend_state[0], generic[0])
    np.testing.assert_allclose(backend_state[0], generic[0], rtol=1e-15, atol=1e-16)


def test_numpy_kernels_reuse_one_workspace_and_release_it() -> None:
    backend = _InPlace()
    results = []
    for shape in [(7,), (3, 11), (7,)]:  # a larger call between two equal ones
        param, grad = _arrays("float64", shape)[:2]
        state = [param.copy(), np.zeros_like(param), np.zeros_like(param)]
        backend.nadam_update(state[0], grad, state[1], state[2], lr=0.1, beta1=0.9,
                             beta2=0.99, eps=1e-8, weight_decay=0.0, step=1.0,
                             decoupled=False, mu=0.9, mu_next=0.9, mu_product=0.9)
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
    generic_update = getattr(kernels, f"{name}_update")
    _update(name, lambda *a, **k: generic_update(npx, *a, **k), expected, grads, **options)
    state = [backend.asarray(a, dtype) for a in (param, np.zeros_like(param),
                                                 np.zeros_like(param))]
    _update(name, getattr(backend, f"{name}_update"), state,
            [backend.asarray(g, dtype) for g in grads], **options)
    for actual, wanted in zip(state, expected):
        assert backend.dtype_name(actual) == dtype
        np.testing.assert_allclose(backend.to_numpy(actual), wanted,
                                   rtol=8 * np.finfo(dtype).eps,
                                   atol=8 * np.finfo(dtype).eps * np.abs(wanted).max())
