"""Gradient clipping: clip_grad_norm_ (get_total_norm, then clip_grads_with_norm_),
clip_grad_value_. They work on the gradients' arrays in place, on their own devices, without a
round trip to the host (the total norm comes back as a 0-d Tensor).

Gradients are handled per (device, dtype) group, as PyTorch's multi-tensor code groups them.
`foreach=True` runs each group through the `_foreach_*` ops as PyTorch does (`_foreach_norm`,
then `_foreach_mul_` by the clip coefficient; `_foreach_clamp_min_`/`_foreach_clamp_max_` for
clip_grad_value_); the default (None) and False work on each gradient's array. Both give the
same numbers.
"""

from __future__ import annotations

import math
import types
from collections.abc import Iterable
from typing import Any

from ...creation import tensor as _tensor
from ...foreach import FUNCTIONS
from ...tensor import Tensor, _wrap
from ...user_warnings import warn

_foreach_clamp_max_ = FUNCTIONS["_foreach_clamp_max_"]
_foreach_clamp_min_ = FUNCTIONS["_foreach_clamp_min_"]
_foreach_mul_ = FUNCTIONS["_foreach_mul_"]
_foreach_norm = FUNCTIONS["_foreach_norm"]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [p._grad for p in _as_list(parameters) if p._grad is not None]


def _groups(tensors: list[Tensor]) -> list[list[Tensor]]:
    """The tensors grouped by (device, dtype), in order of first appearance (PyTorch's
    _group_tensors_by_device_and_dtype)."""
    groups: dict[tuple[int, str], list[Tensor]] = {}
    for tensor in tensors:
        groups.setdefault((id(tensor._backend), tensor.dtype.name), []).append(tensor)
    return list(groups.values())


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


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The norm of the norms of `tensors` (as if they were concatenated into one vector), on
    the first tensor's device."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    first = tensors[0]._backend
    norms = []
    for group in _groups(tensors):
        backend = group[0]._backend
        if foreach:
            group_norms = [norm._data for norm in _foreach_norm(group, norm_type)]
        else:
            group_norms = [_vector_norm(backend, t._data, norm_type) for t in group]
        for norm in group_norms:
            if backend is not first:
                norm = first.transfer(norm, backend)
            norms.append(norm)
    # Norms of several dtypes meet in the first one's (PyTorch stacks them, promoting).
    dtype = first.dtype_name(norms[0])
    total = _vector_norm(first, first.stack([first.astype(n, dtype) for n in norms]),
                         norm_type)
    if error_if_nonfinite and not bool(first.item(first.all(first.isfinite(total)))):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return _wrap(total, first)


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor, foreach: bool | None = None) -> None:
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)), in place (no host
    synchronisation: the factor is clamped on the device)."""
    grads = _grads(parameters)
    max_norm = float(max_norm)
    if not grads:
        return
    backend = total_norm._backend
    coefficient = backend.clip(max_norm / (total_norm._data + 1e-6), None, 1.0)
    for group in _groups(grads):
        target = group[0]._backend
        scale = coefficient if target is backend else target.transfer(coefficient, backend)
        if scale.dtype != group[0]._data.dtype:
            scale = target.astype(scale, target.dtype_name(group[0]._data))
        if foreach:
            _foreach_mul_(group, _wrap(scale, target))
            continue
        for grad in group:
            grad._data *= scale
            grad._bump_version()


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their total norm is at most `max_norm`; returns the
    total norm before clipping."""
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and not parameters:
        warn("`parameters` is an empty generator, no gradient clipping will occur.",
             UserWarning, stacklevel=2)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """Deprecated: clip_grad_norm_."""
    warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
         "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for group in _groups(_grads(parameters)):
        if foreach:
            _foreach_clamp_min_(group, -clip_value)
            _foreach_clamp_max_(group, clip_value)
            continue
        for grad in group:
            backend = grad._backend
            backend.setitem(grad._data, (...,), backend.clip(grad._data, -clip_value,
                                                             clip_value))
            grad._bump_version()
