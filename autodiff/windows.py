"""Window functions (torch.hann_window, hamming_window, bartlett_window, blackman_window,
kaiser_window), computed in the requested dtype with PyTorch's order of operations, so float32
windows round as PyTorch's do. A periodic window is the symmetric one of length N + 1 without
its last value (the form spectral analysis wants)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from backends import get_backend

from . import dtypes
from .tensor import Tensor, _wrap

Array = Any


def _window(name: str, window_length: int, periodic: bool, dtype: Any, device: Any,
            requires_grad: bool, compute: Callable[[Any, Array, int], Array]) -> Tensor:
    kind = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    backend = get_backend("cpu" if device is None else device)
    if window_length < 0:
        raise RuntimeError(
            f"{name} requires non-negative window_length, got window_length={window_length}")
    if not kind.is_floating_point:
        # (PyTorch checks before it sets requires_grad: its message always has the default.)
        raise RuntimeError(
            f"{name} expects floating point dtypes, got: TensorOptions(dtype="
            f"{dtypes.CPP_TYPE_NAMES[kind.name]}, device={backend.device}, layout=Strided "
            "(default), requires_grad=false (default), pinned_memory=false, "
            "memory_format=(nullopt))"
        )
    if window_length <= 1:
        array = backend.ones((window_length,), kind.name)
    else:
        length = window_length + 1 if periodic else window_length
        positions = backend.arange(0, length, 1, kind.name)
        array = compute(backend, positions, length)
        if periodic:
            array = array[:window_length]
    return _wrap(array, backend).requires_grad_(requires_grad)


def _cosine_sum(alpha: float, beta: float) -> Callable[[Any, Array, int], Array]:
    def compute(backend: Any, n: Array, length: int) -> Array:
        angle = backend.multiply(n, math.pi * 2.0 / (length - 1))
        return backend.add(backend.multiply(backend.cos(angle), -beta), alpha)

    return compute


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                device: Any = None, requires_grad: bool = False) -> Tensor:
    """0.5 - 0.5 cos(2 pi n / (N - 1))."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(0.5, 0.5))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
    """alpha - beta cos(2 pi n / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(alpha, beta))


def _bartlett(backend: Any, n: Array, length: int) -> Array:
    ramp = backend.multiply(n, 2.0 / (length - 1))
    half = ((length - 1) >> 1) + 1
    falling = backend.add(backend.negative(ramp[half:]), 2)
    return backend.concat([ramp[:half], falling], axis=0)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """The triangle 1 - |2n / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   _bartlett)


def _blackman(backend: Any, n: Array, length: int) -> Array:
    angle = backend.multiply(n, math.pi / (length - 1))
    fourth = backend.multiply(backend.cos(backend.multiply(angle, 4)), 0.08)
    second = backend.multiply(backend.cos(backend.multiply(angle, 2)), 0.5)
    return backend.add(backend.subtract(fourth, second), 0.42)


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _blackman)


def _bessel_i0(backend: Any, x: Array) -> Array:
    """The modified Bessel function I0, by its power series sum ((x/2)^k / k!)^2 in float64:
    every term is positive (no cancellation), and the loop runs until the last term adds
    nothing."""
    x = backend.astype(x, "float64")
    quarter = backend.multiply(backend.multiply(x, x), 0.25)
    term = backend.ones_like(quarter)
    total = backend.ones_like(quarter)
    k = 1
    while True:
        term = backend.divide(backend.multiply(term, quarter), float(k * k))
        total = backend.add(total, term)
        if not backend.any_true(backend.greater(term, backend.multiply(total, 1e-17))):
            return total
        k += 1


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), a = (N - 1) / 2."""

    def compute(backend: Any, n: Array, length: int) -> Array:
        kind = backend.dtype_name(n)
        middle = (length - 1) / 2.0
        offset = backend.divide(backend.subtract(backend.astype(n, "float64"), middle), middle)
        inside = backend.subtract(1.0, backend.multiply(offset, offset))
        argument = backend.multiply(backend.sqrt(backend.clip(inside, 0.0, None)), beta)
        scale = _bessel_i0(backend, backend.full((), beta, "float64"))
        return backend.astype(backend.divide(_bessel_i0(backend, argument), scale), kind)

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   compute)
