"""In-place ops. Each computes its result out of place with the ordinary op (so the gradient
formula is the same), writes it into the tensor's own buffer (views see it), bumps the shared
version counter, and hands the tensor the new history, as PyTorch does."""

from __future__ import annotations

import operator
from typing import Any

from .. import dtypes
from ..grad_mode import no_grad as _no_grad
from ..grad_mode import state as _grad_state
from ..tensor import Tensor


def check_inplace(tensor: Tensor) -> None:
    """PyTorch refuses in-place changes to a leaf that requires grad while recording."""
    if tensor._requires_grad and tensor.grad_fn is None and _grad_state.enabled:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )


def commit(tensor: Tensor, result: Tensor) -> Tensor:
    """Write `result` into `tensor` in place and give `tensor` the result's history."""
    backend = tensor._backend
    data = result._data
    if data.dtype != tensor._data.dtype:
        data = backend.astype(data, backend.dtype_name(tensor._data))
    if data.shape != tensor._data.shape:
        data = backend.broadcast_to(data, tensor._data.shape)
    backend.setitem(tensor._data, (...,), data)
    tensor._bump_version()
    if result.grad_fn is not None:
        tensor.grad_fn = result.grad_fn
        tensor._output_nr = result._output_nr
        tensor._requires_grad = True
    return tensor


def zero_(tensor: Tensor) -> Tensor:
    check_inplace(tensor)
    if tensor._requires_grad and _grad_state.enabled:
        return commit(tensor, tensor * 0)
    tensor._backend.setitem(tensor._data, (...,), 0)
    tensor._bump_version()
    return tensor


def fill_(tensor: Tensor, value: Any) -> Tensor:
    check_inplace(tensor)
    if tensor._requires_grad and _grad_state.enabled:
        return commit(tensor, tensor * 0 + value)
    tensor._backend.setitem(tensor._data, (...,), value)
    tensor._bump_version()
    return tensor


# Arithmetic in place. Outside the graph (optimizer updates under no_grad, plain tensors) the
# array's own in-place operator writes into the buffer without a temporary; inside the graph
# the ordinary op runs and `commit` writes its result back.
_ARRAY_INPLACE = {
    "add": operator.iadd, "sub": operator.isub, "mul": operator.imul, "div": operator.itruediv,
}


def _arithmetic_(name: str, tensor: Tensor, other: Any, out_of_place: Any) -> Tensor:
    check_inplace(tensor)
    other_is_tensor = isinstance(other, Tensor)
    recording = _grad_state.enabled and (
        tensor._requires_grad or (other_is_tensor and other._requires_grad))
    if recording:
        return commit(tensor, out_of_place(tensor, other))
    backend = tensor._backend
    data = tensor._data
    value = other._data if other_is_tensor else other
    if other_is_tensor and other._backend is not backend:
        from ..function import _raise_device_mismatch

        _raise_device_mismatch(backend, other._backend)
    same_kind = (value.dtype == data.dtype) if other_is_tensor else (
        type(value) is not float or data.dtype in backend._floating)
    if same_kind and not (name == "div" and data.dtype not in backend._floating):
        if other_is_tensor and value.shape != data.shape:
            _check_inplace_shape(data.shape, value.shape)
        _ARRAY_INPLACE[name](data, value)
        tensor._bump_version()
        return tensor
    with _no_grad():
        result = out_of_place(tensor, other)
    if result.dtype.category > tensor.dtype.category:
        raise RuntimeError(
            f"result type {dtypes.SCALAR_TYPE_NAMES[result.dtype.name]} can't be cast to the "
            f"desired output type {dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]}"
        )
    return commit(tensor, result)


def _check_inplace_shape(shape: tuple[int, ...], other: tuple[int, ...]) -> None:
    from ._util import check_broadcast

    check_broadcast(shape, other)
    if len(other) > len(shape) or any(
        o != s and o != 1 for o, s in zip(other[::-1], shape[::-1])
    ):
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape "
            f"{list(_broadcast(shape, other))}"
        )


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    from backends import broadcast_shapes

    return broadcast_shapes(a, b)


def add_(tensor: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha != 1:
        other = other * alpha
    return _arithmetic_("add", tensor, other, lambda a, b: a + b)


def sub_(tensor: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha != 1:
        other = other * alpha
    return _arithmetic_("sub", tensor, other, lambda a, b: a - b)


def mul_(tensor: Tensor, other: Any) -> Tensor:
    return _arithmetic_("mul", tensor, other, lambda a, b: a * b)


def div_(tensor: Tensor, other: Any) -> Tensor:
    return _arithmetic_("div", tensor, other, lambda a, b: a / b)
