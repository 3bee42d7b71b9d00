"""Dimension arguments as PyTorch reads them (`dim` as an int, a sequence or None), and the
reduced dims of a reduction: which axes, how many elements each output combines, and how to
put them back so a gradient broadcasts against the input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tensor import Tensor


def normalize_dims(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """`dim` (None, an int, or a sequence) as sorted non-negative axes; None means all."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    bound = max(ndim, 1)
    result = []
    for d in dims:
        if not -bound <= d < bound:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], "
                f"but got {d})"
            )
        d %= bound
        if d in result:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        result.append(d)
    return tuple(sorted(result)) if ndim else ()


def reduction_axes(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """`dim` as sorted non-negative axes; None (and an empty tuple, as PyTorch) mean all dims."""
    return normalize_dims(dim, ndim) or None


def reduced_count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """How many elements each output element of a reduction over `axes` combines."""
    count = 1
    for axis in range(len(shape)) if axes is None else axes:
        count *= shape[axis]
    return count


def keep_dims(tensor: Tensor, input_shape: tuple[int, ...], axes: tuple[int, ...] | None,
              keepdim: bool) -> Tensor:
    """A reduced tensor reshaped with its reduced dims back as size 1 (it then broadcasts
    against the input)."""
    if keepdim:
        return tensor
    if axes is None:
        axes = tuple(range(len(input_shape)))
    if not axes:
        return tensor
    return tensor.reshape([1 if axis in axes else size for axis, size in enumerate(input_shape)])
