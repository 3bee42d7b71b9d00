"""`autodiff.nn.utils.clip_grad`: gradient clipping. Works on the gradients' arrays in place, on
their own devices, without a round trip to the host (the total norm comes back as a 0-d
Tensor)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ...creation import tensor as _tensor
from ...tensor import Tensor, _wrap


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p._grad for p in parameters if p._grad is not None]


def _vector_norm(backend: Any, array: Any, norm_type: float) -> Any:
    """The norm of all elements of `array` as a 0-d array on its device."""
    if norm_type == 2.0:
        return backend.sqrt(backend.sum(backend.multiply(array, array)))
    magnitude = backend.abs(array)
    if norm_type == math.inf:
        return backend.max(magnitude) if array.size else backend.sum(magnitude)
    if norm_type == -math.inf:
        return backend.min(magnitude)
    if norm_type == 0.0:
        nonzero = backend.astype(backend.not_equal(array, 0), backend.dtype_name(array))
        return backend.sum(nonzero)
    if norm_type == 1.0:
        return backend.sum(magnitude)
    return backend.sum(magnitude ** norm_type) ** (1.0 / norm_type)


def get_total_norm(tensors: Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The norm of the norms of `tensors` (as if they were concatenated into one vector)."""
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    first = tensors[0]._backend
    norms = []
    for tensor in tensors:
        norm = _vector_norm(tensor._backend, tensor._data, norm_type)
        if tensor._backend is not first:
            norm = first.transfer(norm, tensor._backend)
        norms.append(norm)
    total = _vector_norm(first, first.stack(norms), norm_type)
    if error_if_nonfinite and not bool(first.item(first.all(first.isfinite(total)))):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return _wrap(total, first)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor) -> None:
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = _grads(parameters)
    if not grads:
        return
    backend = total_norm._backend
    coefficient = max_norm / (total_norm._data + 1e-6)
    coefficient = backend.clip(coefficient, None, 1.0)
    for grad in grads:
        scale = coefficient
        if grad._backend is not backend:
            scale = grad._backend.transfer(coefficient, backend)
        if scale.dtype != grad._data.dtype:
            scale = grad._backend.astype(scale, grad._backend.dtype_name(grad._data))
        grad._data *= scale
        grad._bump_version()


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their total norm is at most `max_norm`; returns the
    total norm before clipping."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        backend = grad._backend
        backend.setitem(grad._data, (...,), backend.clip(grad._data, -clip_value, clip_value))
        grad._bump_version()
