"""unique and unique_consecutive: distinct elements (or slices along a dim), with the inverse
indices and counts when asked for.

The values are sorted (PyTorch sorts on every device whatever `sorted` says, and so do we) and
every NaN is distinct from every other, as in PyTorch. Like PyTorch's, the ops record a node when
the input requires grad, whose backward raises: they have no derivative.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor, _wrap_dim


class Unique(Function):
    """(values, inverse, counts) of the flattened input."""

    node_name = "Unique2Backward0"
    derivative = "_unique2"

    @staticmethod
    def forward(ctx: Any, a: Any, *, consecutive: bool) -> Any:
        backend = ctx.backend
        flat = backend.reshape(a, (-1,))
        kernel = backend.unique_consecutive if consecutive else backend.unique
        values, inverse, counts = kernel(flat, True, True)
        inverse = backend.reshape(inverse, a.shape)
        ctx.mark_non_differentiable(inverse, counts)
        return values, inverse, counts

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError(f"the derivative for '{ctx.derivative}' is not implemented.")


class UniqueConsecutive(Unique):
    node_name = "UniqueConsecutiveBackward0"
    derivative = "unique_consecutive"


class UniqueDim(Unique):
    """(slices, inverse, counts) of the distinct slices along `dim`, sorted lexicographically
    (unique) or as they come (unique_consecutive)."""

    node_name = "UniqueDimBackward0"
    derivative = "unique_dim"

    @staticmethod
    def forward(ctx: Any, a: Any, *, consecutive: bool, dim: int) -> Any:  # type: ignore[override]
        backend = ctx.backend
        moved = backend.permute_dims(a, (dim, *(d for d in range(a.ndim) if d != dim)))
        rest = moved.shape[1:]
        rows = backend.reshape(moved, (moved.shape[0], -1) if moved.shape[0] else (0, 0))
        values, inverse, counts = backend.unique_rows(rows, True, True, consecutive)
        values = backend.reshape(values, (values.shape[0], *rest))
        order = list(range(1, a.ndim))
        order.insert(dim, 0)
        values = backend.asarray(backend.permute_dims(values, tuple(order)), copy=True)
        ctx.mark_non_differentiable(inverse, counts)
        return values, inverse, counts


class UniqueDimConsecutive(UniqueDim):
    node_name = "UniqueConsecutiveBackward0"
    derivative = "unique_consecutive"


def _result(values: Tensor, inverse: Tensor, counts: Tensor, return_inverse: bool,
            return_counts: bool) -> Any:
    if not (return_inverse or return_counts):
        return values
    return (values, *((inverse,) if return_inverse else ()), *((counts,) if return_counts
                                                                 else ()))


def _unique(op: type[Unique], dim_op: type[UniqueDim], input: Tensor, return_inverse: bool,
            return_counts: bool, dim: int | None) -> Any:
    if dim is None:
        values, inverse, counts = op.apply(input, consecutive=op is UniqueConsecutive)
        return _result(values, inverse, counts, return_inverse, return_counts)
    shape = input._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, len(shape))
    if shape[dim] and 0 in shape:
        raise RuntimeError(
            "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied"
        )
    values, inverse, counts = dim_op.apply(input, consecutive=dim_op is UniqueDimConsecutive,
                                           dim=dim)
    return _result(values, inverse, counts, return_inverse, return_counts)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements of `input` (or slices along `dim`), sorted; with the index of
    each element's value in them (`return_inverse`) and how often each occurs."""
    return _unique(Unique, UniqueDim, input, return_inverse, return_counts, dim)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """The first element (or slice along `dim`) of every run of equal ones."""
    return _unique(UniqueConsecutive, UniqueDimConsecutive, input, return_inverse,
                   return_counts, dim)

