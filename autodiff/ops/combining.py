"""Tensors combined into common shapes and grids: broadcast_tensors, broadcast_shapes,
meshgrid, cartesian_prod and combinations.

They are compositions of views and copies that already have nodes (expand, masked_select,
stack), so their gradients and node names are PyTorch's without ops of their own.
"""

from __future__ import annotations

import itertools
from typing import Any

from backends import broadcast_shapes as _broadcast

from .. import dtypes
from ..tensor import Tensor, _wrap
from ..user_warnings import warn
from ._promotion import check_broadcast
from .flat_indexing import masked_select
from .joining import stack


def broadcast_shapes(*shapes: Any) -> dtypes.Size:
    """The shape that tensors of these shapes (ints or sequences) broadcast to."""
    sequences = [(shape,) if isinstance(shape, int) else tuple(shape) for shape in shapes]
    result = [1] * max((len(shape) for shape in sequences), default=0)
    for position, shape in enumerate(sequences):
        for axis in range(-1, -1 - len(shape), -1):
            size = shape[axis]
            if size < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            if size == 1 or size == result[axis]:
                continue
            if result[axis] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {axis}! "
                    f"Mismatching argument at index {position} had {shape}; but expected "
                    f"shape should be broadcastable to {result}"
                )
            result[axis] = size
    return dtypes.Size(result)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common shape (those already of it, as they are)."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    if not tensors:
        return ()
    shape = tensors[0]._data.shape
    for tensor in tensors[1:]:
        check_broadcast(shape, tensor._data.shape)
        shape = _broadcast(shape, tensor._data.shape)
    return tuple(t if t._data.shape == shape else t.expand(shape) for t in tensors)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: output i holds tensor i's values along dim i ("ij"), with the first
    two dims swapped for "xy" (Cartesian indexing). 0-d tensors count as 1-element."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for tensor in tensors:
        if tensor._data.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"{tensor!r}"
            )
        if tensor.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if tensor._backend is not tensors[0]._backend:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    ordered = list(tensors)
    swap = indexing == "xy" and len(ordered) >= 2
    if swap:
        ordered[0], ordered[1] = ordered[1], ordered[0]
    shape = [t.numel() for t in ordered]
    grids = []
    for axis, tensor in enumerate(ordered):
        view = [1] * len(shape)
        view[axis] = -1
        grids.append(tensor.reshape(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _check_vector(tensor: Tensor) -> None:
    if tensor._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(tensor._data.shape)}")


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple of one element from each vector, as the rows of a matrix (itertools.product
    order); a single vector comes back as it is."""
    for tensor in tensors:
        _check_vector(tensor)
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([grid.flatten() for grid in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The r-length combinations of the vector's elements (itertools.combinations, or
    combinations_with_replacement), one per row."""
    _check_vector(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    backend = input._backend
    if r == 0:
        return _wrap(backend.zeros((0,), input.dtype.name), backend)
    count = input._data.shape[0]
    grids = meshgrid(*([input] * r), indexing="ij")
    # Keep the grid positions whose indices increase (or do not decrease) along the dims.
    positions = _wrap(backend.arange(0, count, 1, "int64"), backend)
    index_grids = meshgrid(*([positions] * r), indexing="ij")
    mask = _wrap(backend.ones((count,) * r, "bool"), backend)
    for earlier, later in itertools.pairwise(index_grids):
        mask = mask & ((earlier <= later) if with_replacement else (earlier < later))
    return stack([masked_select(grid, mask) for grid in grids], 1)

