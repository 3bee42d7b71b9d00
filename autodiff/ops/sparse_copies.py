"""Copies of a sparse COO tensor: clone's and `to`'s sparse forms (their arrays copied, cast or
moved together)."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .. import sparse_coo as coo
from ..function import Function
from ..jvp_rules import auto_linear
from ..tensor import Tensor


class SparseClone(Function):
    node_name = "CloneBackward0"
    jvp = auto_linear
    takes_sparse = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        backend = ctx.backend
        return coo.SparseCOO(backend.asarray(input.indices, copy=True),
                             backend.asarray(input.values, copy=True), input.shape,
                             input.coalesced)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class SparseToCopy(Function):
    """A sparse tensor in another dtype and/or on another device."""

    node_name = "ToCopyBackward0"
    jvp = auto_linear
    takes_sparse = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, dtype: str, target: Any) -> Any:
        source = ctx.backend
        ctx.source_device = source.device
        ctx.source_dtype = source.dtype_name(input.values)
        indices, values = input.indices, input.values
        if target is not source:
            indices = target.transfer(indices, source)
            values = target.transfer(values, source)
            ctx.backend = target
        values = target.astype(values, dtype, copy=False)
        return coo.SparseCOO(indices, values, input.shape, input.coalesced)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.to(ctx.source_device, dtypes.BY_NAME[ctx.source_dtype])
