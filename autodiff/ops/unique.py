"""unique and unique_consecutive: distinct elements (or slices along a dim), with the inverse
indices and counts when asked for.

The values are sorted (PyTorch sorts on every device whatever `sorted` says, and so do we) and
every NaN is distinct from every other, as in PyTorch. Like PyTorch's, the ops record a node when
the input requires grad, whose backward raises: they have no derivative.
"""

from __future__ import annotations

from typing import Any

from ..batching.dispatch import dynamic_shape_op
from ..function import Function
from ..tensor import Tensor, _wrap_dim


class Unique(Function):
    """(values, inverse, counts) of the flattened input."""

    node_name = "Unique2Backward0"
    forward_ad_name = "_unique2"
    derivative = "_unique2"

    @staticmethod
    def forward(ctx: Any, a: Any, *, consecutive: bool, return_inverse: bool,
                return_counts: bool) -> Any:
        backend = ctx.backend
        flat = backend.reshape(a, (-1,))
        kernel = backend.unique_consecutive if consecutive else backend.unique
        values, inverse, counts = kernel(flat, return_inverse, return_counts)
        if inverse is not None:
            inverse = backend.reshape(inverse, a.shape)
        return _outputs(ctx, values, inverse, counts)

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
    def forward(ctx: Any, a: Any, *, consecutive: bool, return_inverse: bool,  # type: ignore[override]
                return_counts: bool, dim: int) -> Any:
        backend = ctx.backend
        moved = backend.permute_dims(a, (dim, *(d for d in range(a.ndim) if d != dim)))
        rest = moved.shape[1:]
        rows = backend.reshape(moved, (moved.shape[0], -1) if moved.shape[0] else (0, 0))
        values, inverse, counts = backend.unique_rows(rows, return_inverse, return_counts,
                                                      consecutive)
        values = backend.reshape(values, (values.shape[0], *rest))
        order = list(range(1, a.ndim))
        order.insert(dim, 0)
        values = backend.asarray(backend.permute_dims(values, tuple(order)), copy=True)
        return _outputs(ctx, values, inverse, counts)


def _outputs(ctx: Any, values: Any, inverse: Any, counts: Any) -> Any:
    """values alone, or (values, inverse and/or counts) with those not differentiable."""
    extras = tuple(array for array in (inverse, counts) if array is not None)
    if not extras:
        return values
    ctx.mark_non_differentiable(*extras)
    return (values, *extras)


class UniqueDimConsecutive(UniqueDim):
    node_name = "UniqueConsecutiveBackward0"
    derivative = "unique_consecutive"


def _unique(op: type[Unique], dim_op: type[UniqueDim], input: Tensor, return_inverse: bool,
            return_counts: bool, dim: int | None) -> Any:
    flags = {"return_inverse": bool(return_inverse), "return_counts": bool(return_counts)}
    if dim is None:
        return op.apply(input, consecutive=op is UniqueConsecutive, **flags)
    shape = input._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, len(shape))
    if shape[dim] and 0 in shape:
        raise RuntimeError(
            "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied"
        )
    return dim_op.apply(input, consecutive=dim_op is UniqueDimConsecutive, dim=dim, **flags)


@dynamic_shape_op
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements of `input` (or slices along `dim`), sorted; with the index of
    each element's value in them (`return_inverse`) and how often each occurs."""
    input._backend.needs_values("aten::_unique2")
    return _unique(Unique, UniqueDim, input, return_inverse, return_counts, dim)


@dynamic_shape_op
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """The first element (or slice along `dim`) of every run of equal ones."""
    input._backend.needs_values("aten::unique_consecutive")
    return _unique(UniqueConsecutive, UniqueDimConsecutive, input, return_inverse,
                   return_counts, dim)

