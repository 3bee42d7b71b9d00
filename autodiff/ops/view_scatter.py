"""The out-of-place writes through a view: select_scatter and slice_scatter give a copy of the
input with one selected or sliced part replaced (diagonal_scatter lives with diagonal).

Each gradient splits along the view: the input's is the gradient with the part zeroed, the
source's is the part itself.
"""

from __future__ import annotations

from typing import Any

from ..creation import zeros_like
from ..function import Function
from ..jvp_rules import auto_linear
from ..tensor import Tensor, _wrap_dim
from .indexing import select, slice_bounds


class SliceScatter(Function):
    """A copy of the input with `src` written at the basic key `key` (ints and slices)."""

    node_name = "SliceScatterBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any, *, key: tuple[Any, ...]) -> Any:
        backend = ctx.backend
        ctx.key = key
        out = backend.asarray(a, copy=True)
        if src.dtype != a.dtype:
            src = backend.astype(src, backend.dtype_name(a))
        backend.setitem(out, key, src)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_src = ctx.needs_input_grad
        part = grad[ctx.key] if needs_input or needs_src else None
        grad_input = grad_src = None
        if needs_input:
            assert part is not None
            grad_input = type(ctx).apply(grad, zeros_like(part), key=ctx.key)
        if needs_src:
            grad_src = part
        return grad_input, grad_src


class SelectScatter(SliceScatter):
    node_name = "SelectScatterBackward0"


def _check_part(src: Tensor, shape: tuple[int, ...]) -> None:
    if src._data.shape != shape:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src._data.shape)}, slice size = {list(shape)}"
        )


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of `input` whose `select(dim, index)` is `src`."""
    part = select(input.detach(), dim, index)  # PyTorch's checks, and the part's shape
    dim = _wrap_dim(dim, input._data.ndim)
    index = int(index) % input._data.shape[dim]
    _check_part(src, part._data.shape)
    return SelectScatter.apply(input, src, key=(*(slice(None),) * dim, index, ...))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of `input` whose slice start:end:step along `dim` is `src`."""
    shape = input._data.shape
    dim = _wrap_dim(dim, len(shape))
    size = shape[dim] if shape else 1
    first, last, step = slice_bounds(slice(start, end, step), size)
    key = (*(slice(None),) * dim, slice(first, last, step), ...)
    part_shape = list(shape)
    if shape:
        part_shape[dim] = len(range(first, last, step))
    _check_part(src, tuple(part_shape))
    return SliceScatter.apply(input, src, key=key)
