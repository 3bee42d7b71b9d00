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
from ..saved_fields import fields, value
from ..tensor import Tensor, _wrap_dim
from .indexing import select, slice_bounds


def _key_arguments(key: tuple[Any, ...]) -> tuple[Any, ...]:
    last = key[-2] if len(key) > 1 else slice(None)
    return (last.start, last.stop, last.step) if isinstance(last, slice) else (last,)


class SliceScatter(Function):
    """A copy of the input with `src` written at the basic key `key` (ints and slices)."""

    node_name = "SliceScatterBackward0"
    saved_fields = fields(dim=value("key", lambda key: len(key) - 2),
                          start=value("given", lambda given: given[0]),
                          end=value("given", lambda given: given[1]),
                          step=value("given", lambda given: given[2]))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any, *, key: tuple[Any, ...],
                given: tuple[Any, ...] = ()) -> Any:
        """`given`: the arguments PyTorch's node keeps, as the caller gave them (else read
        off the key's last entry)."""
        backend = ctx.backend
        ctx.key, ctx.given = key, given or _key_arguments(key)
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
    saved_fields = fields(dim=value("key", lambda key: len(key) - 2),
                          index=value("given", lambda given: given[0]))


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
    _check_part(src, part._data.shape)
    return SelectScatter.apply(input, src, key=(*(slice(None),) * dim,
                                                int(index) % input._data.shape[dim], ...),
                               given=(int(index),))


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
    return SliceScatter.apply(input, src, key=key, given=(start, end, step))
