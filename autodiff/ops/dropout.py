"""`nn.functional.dropout`, out of place and in place."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..function import Function
from ..tensor import Tensor
from . import inplace as _inplace


class DropoutMul(Function):
    """x * mask for a constant mask (PyTorch's `input * noise`). Only the mask is saved, so
    dropout in place can overwrite x without invalidating its own node."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, *, mask: Any) -> Any:
        ctx.save_for_backward(mask)
        return ctx.backend.multiply(x, mask)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        mask, = ctx.saved_tensors
        return grad * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p); the mask comes
    from the backend's generator (`autodiff.manual_seed` makes it reproducible)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "result type Float can't be cast to the desired output type "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}"
        )
    if inplace:  # refused before the generator moves
        _inplace.check_inplace(input, _inplace.is_recording(input))
    backend = input._backend
    dtype = backend.dtype_name(input._data)
    shape = input._data.shape
    if p == 1.0:
        mask = backend.zeros(shape, dtype)
    else:
        keep = backend.less(backend.rand(shape, dtype), 1.0 - p)
        mask = backend.multiply(backend.astype(keep, dtype), 1.0 / (1.0 - p))
    if inplace:  # an in-place op (ops/inplace.py): same node, written back into the input
        return _inplace.apply(input, (), lambda source: DropoutMul.apply(source, mask=mask))
    return DropoutMul.apply(input, mask=mask)
