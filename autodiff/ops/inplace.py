"""In-place ops. Each computes its result out of place with the ordinary op (so the gradient
formula is the same), writes it into the tensor's own buffer (views see it), bumps the shared
version counter, and hands the tensor the new history, as PyTorch does."""

from __future__ import annotations

from typing import Any

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
