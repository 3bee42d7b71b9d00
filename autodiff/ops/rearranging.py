"""Copies that rearrange elements: repeat_interleave, fliplr, flipud and rot90 (repeat, tile,
flip and roll are with joining)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import fields, value
from ..tensor import Tensor, _wrap, _wrap_dim
from .joining import flip
from .scatter import index_select


# ----------------------------------------------------------------------------- flips, rotations
def fliplr(input: Tensor) -> Tensor:
    """Columns in reverse order (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Rows in reverse order (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


class Rot90(Function):
    """Rotation by k quarter turns in the plane of `dims`, from the first towards the second."""

    node_name = "Rot90Backward0"
    saved_fields = fields(k=value("k"), dims=value("dims"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, k: int, dims: tuple[int, int]) -> Any:
        backend = ctx.backend
        ctx.k, ctx.dims = k, dims  # k as the caller gave it, as PyTorch's node keeps it
        k %= 4
        first, second = dims
        order = list(range(a.ndim))
        order[first], order[second] = order[second], order[first]
        if k == 1:
            out = backend.permute_dims(backend.flip(a, axis=second), tuple(order))
        elif k == 2:
            out = backend.flip(a, axis=dims)
        elif k == 3:
            out = backend.flip(backend.permute_dims(a, tuple(order)), axis=second)
        else:
            out = a
        return backend.asarray(out, copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Rot90.apply(grad, k=-ctx.k, dims=ctx.dims)


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """`input` rotated by 90 degrees `k` times, from the first of `dims` towards the second."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    first, second = _wrap_dim(dims[0], ndim), _wrap_dim(dims[1], ndim)
    if first == second:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {first} and dim1 = {second}"
        )
    return Rot90.apply(input, k=int(k), dims=(first, second))


# ----------------------------------------------------------------------------- repeat_interleave
def _repeat_indices(repeats: Tensor, output_size: int | None) -> Tensor:
    """torch.repeat_interleave(repeats): each index i, repeats[i] times."""
    backend = repeats._backend
    if repeats.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats.dtype not in (dtypes.int64, dtypes.int32):
        raise NotImplementedError(
            f'"repeat_interleave_{"cuda" if backend.device.type == "cuda" else "cpu"}" not '
            f"implemented for '{dtypes.SCALAR_TYPE_NAMES[repeats.dtype.name]}'"
        )
    counts = repeats._data
    if counts.shape[0] and backend.item(backend.any(backend.less(counts, 0))):
        raise RuntimeError("repeats can not be negative")
    total = int(backend.item(backend.sum(counts))) if counts.shape[0] else 0
    if output_size is not None and output_size != total:
        raise RuntimeError("allocated size does not match required size")
    positions = backend.arange(0, counts.shape[0], 1, "int64")
    return _wrap(backend.repeat(positions, backend.astype(counts, "int64")), backend)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along `dim`) repeated `repeats` times in place; the flattened
    input when `dim` is None. With only a tensor of counts: the index of each, repeated."""
    if repeats is None:
        return _repeat_indices(input, output_size)
    if dim is None:
        input, dim = input.flatten(), 0
    shape = input._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, len(shape))
    if not isinstance(repeats, Tensor):
        repeats = int(repeats)
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        if output_size is not None and output_size != shape[dim] * repeats:
            raise RuntimeError(
                "repeat_interleave: Invalid output_size, expected "
                f"{shape[dim] * repeats} but got {output_size}"
            )
        expanded = list(shape)
        expanded.insert(dim + 1, repeats)
        copies = input.unsqueeze(dim + 1).expand(expanded).clone()
        return copies.flatten(dim, dim + 1)
    if repeats.ndim == 0 or (repeats.ndim == 1 and repeats._data.shape[0] == 1):
        repeats = repeats.reshape(1).expand(shape[dim])
    elif repeats.ndim == 1:
        if repeats._data.shape[0] != shape[dim]:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{repeats._data.shape[0]} and input.size({dim}) = {shape[dim]}"
            )
    else:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    indices = _repeat_indices(repeats, output_size)
    return index_select(input, dim, indices)
