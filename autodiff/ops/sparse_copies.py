"""Copies of a sparse tensor (COO or compressed): clone's and `to`'s sparse forms (their arrays
copied, cast or moved together)."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .. import sparse_coo as coo
from ..function import Function
from ..jvp_rules import auto_linear
from ..sparse_compressed import SparseCompressed, emptied
from ..tensor import Tensor


class SparseClone(Function):
    node_name = "CloneBackward0"
    jvp = auto_linear
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        backend = ctx.backend
        if type(input) is SparseCompressed:
            return input.copied(backend)
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
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any, *, dtype: str, target: Any) -> Any:
        source = ctx.backend
        ctx.source_device = source.device
        ctx.source_dtype = source.dtype_name(input.values)
        if type(input) is SparseCompressed:
            compressed, plain, values = (input.compressed_indices, input.plain_indices,
                                         input.values)
            if target is not source:
                compressed = target.transfer(compressed, source)
                plain = target.transfer(plain, source)
                values = target.transfer(values, source)
                ctx.backend = target
            values = target.astype(values, dtype, copy=False)
            return SparseCompressed(input.layout, compressed, plain, values, input.shape,
                                    input.blocksize)
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


class SparseZero(Function):
    """zero_'s sparse form: the same size with no entries (PyTorch's sparse zero_)."""

    node_name = "ZeroBackward0"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        backend = ctx.backend
        if type(input) is SparseCompressed:
            return emptied(backend, input, backend.dtype_name(input.values))
        values = backend.zeros((0, *input.values.shape[1:]), backend.dtype_name(input.values))
        indices = backend.zeros((input.sparse_dim, 0), "int64")
        return coo.SparseCOO(indices, values, input.shape, True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad * 0


class SparseCopy(Function):
    """copy_'s sparse form, from a sparse tensor into one of the same size: src's entries,
    cast to the destination's dtype. The gradient goes to src; none to the destination's old
    value."""

    node_name = "CopyBackwards"
    takes_layout_data = True

    def name(self) -> str:
        return f"torch::autograd::{self.node_name}"

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any) -> Any:
        backend = ctx.backend
        ctx.src_dtype = backend.dtype_name(src.values)
        values = backend.astype(src.values, backend.dtype_name(a.values), copy=True)
        return coo.SparseCOO(backend.asarray(src.indices, copy=True), values, src.shape,
                             src.coalesced)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor]:
        src_grad = grad.to(dtypes.BY_NAME[ctx.src_dtype])
        return (grad * 0 if ctx.needs_input_grad[0] else None), src_grad
