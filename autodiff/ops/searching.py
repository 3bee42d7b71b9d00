"""Searching: where the nonzero elements are (nonzero, argwhere, count_nonzero) and where values
would go in sorted sequences (searchsorted, bucketize). Their results are indices and counts:
no gradients, as in PyTorch."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..batching.dispatch import dim_op, dynamic_shape_op, function_rule
from ..layout_dispatch import dense_only
from ..op_modes import op_mode_state
from ..tensor import Tensor, _wrap
from ._checks import scalar_type_name
from ._dims import normalize_dims
from ._promotion import cast_operand


# ----------------------------------------------------------------------------- nonzero
def nonzero_mask(backend: Any, a: Any) -> Any:
    """Where `a` is nonzero (True), as a bool array."""
    return a if backend.is_bool(a.dtype) else backend.not_equal(a, 0)


@dynamic_shape_op
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the nonzero elements: an (n, ndim) int64 tensor in row-major order, or
    one 1-d tensor per dim with `as_tuple`."""
    result = _nonzero(input, as_tuple)
    if op_mode_state.active:  # op modes see it (an export writes it as its ONNX op)
        op_mode_state.computed("nonzero", (input,), {"as_tuple": as_tuple}, result)
    return result


_NO_SIZE: Any = object()


def nonzero_static(input: Tensor, *, size: Any = _NO_SIZE, fill_value: int = -1) -> Tensor:
    """nonzero with a fixed number of rows: the first `size` indices, padded with rows of
    `fill_value` where there are fewer."""
    if size is _NO_SIZE:
        raise TypeError('nonzero_static() missing 1 required positional arguments: "size"')
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not "
                        f"{type(size).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    if input._batched:  # no batching rule yet (PyTorch's vmap runs it once per example)
        raise RuntimeError("vmap: nonzero_static is not supported inside vmap")
    backend = input._backend
    if not backend.holds_values:  # meta: which positions is unknown, the shape is not
        shape = (size, input.dim())  # laid out column by column, as PyTorch's meta kernel
        return _wrap(backend.restrided(backend.empty(shape, "int64"), shape, (1, size)),
                     backend)
    rows = _nonzero(input, False)._data
    columns = rows.shape[1]
    if rows.shape[0] >= size:
        return _wrap(rows[:size, ...], backend)
    padding = backend.full((size - rows.shape[0], columns), fill_value, "int64")
    return _wrap(backend.concat([rows, padding], axis=0), backend)


def _nonzero(input: Tensor, as_tuple: bool) -> Any:
    dense_only("aten::nonzero", input)
    backend, a = input._backend, input._data
    if a.ndim == 0:
        found = backend.reshape(nonzero_mask(backend, a), (1,))
        positions: tuple[Any, ...] = tuple(
            backend.astype(p, "int64") for p in backend.nonzero(found))
        if as_tuple:
            return (_wrap(positions[0], backend),)
        return _wrap(backend.zeros((positions[0].shape[0], 0), "int64"), backend)
    positions = tuple(backend.astype(p, "int64") if backend.dtype_name(p) != "int64" else p
                      for p in backend.nonzero(nonzero_mask(backend, a)))
    if as_tuple:
        return tuple(_wrap(p, backend) for p in positions)
    return _wrap(backend.stack(positions, axis=1), backend)


@dynamic_shape_op
def argwhere(input: Tensor) -> Tensor:
    """The indices of the nonzero elements, one row per element (`nonzero`)."""
    return nonzero(input)


@dim_op
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """How many elements are nonzero, over all dims or over `dim` (an int or a tuple)."""
    dense_only("aten::count_nonzero.dim_IntList", input)
    backend, a = input._backend, input._data
    axes = normalize_dims(dim, a.ndim)
    found = backend.astype(nonzero_mask(backend, a), "int64")
    if a.ndim == 0:
        return _wrap(found, backend)
    return _wrap(backend.sum(found, axis=axes), backend)


# ----------------------------------------------------------------------------- searchsorted
def _as_tensor_like(value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    backend = like._backend
    kind = dtypes.result_type((like.dtype, 1), value)
    return _wrap(backend.asarray(cast_operand(backend, value, kind.name), dtype=kind.name),
                 backend)


def _common(backend: Any, sequence: Tensor, values: Tensor) -> tuple[Any, Any]:
    """Both arrays in their promoted dtype (PyTorch compares them in it)."""
    kind = dtypes.promote_types(sequence.dtype, values.dtype).name
    seq, val = sequence._data, values._data
    if backend.dtype_name(seq) != kind:
        seq = backend.astype(seq, kind)
    if backend.dtype_name(val) != kind:
        val = backend.astype(val, kind)
    return seq, val


@function_rule("searchsorted", seen=True)
def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Tensor | None = None,
                 ) -> Tensor:
    """For each value of `input`, the index where it would go in `sorted_sequence` to keep it
    sorted (along the last dim; the leading dims of an n-d sequence match input's)."""
    name = "torch.searchsorted()"
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{name}: side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                f"{name}: side and right can't be set to opposites, got side of left while "
                "right was True"
            )
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    values = _as_tensor_like(input, sorted_sequence)
    seq_shape, value_shape = sorted_sequence._data.shape, values._data.shape
    if not seq_shape:
        raise RuntimeError(
            f"{name}: boundaries tensor should have positive dimension, but got 0 dimension")
    if scalar and len(seq_shape) != 1:
        raise RuntimeError(
            f"{name}: input value can be a scalar only when boundaries tensor dimension is 1, "
            f"but we got boundaries tensor dim({len(seq_shape)}) and input value's dim(0) "
            "numel(1)"
        )
    if len(seq_shape) != 1 and (len(seq_shape) != len(value_shape)
                                or seq_shape[:-1] != value_shape[:-1]):
        raise RuntimeError(
            f"{name}: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
            f"boundaries tensor and input value tensor must match, but we got boundaries "
            f"tensor {list(seq_shape)} and input value tensor {list(value_shape)}"
        )
    backend = sorted_sequence._backend
    if values._backend is not backend:
        raise RuntimeError(
            f"{name}: boundaries and input value tensors should have same device type, but got "
            f"boundaries tensor device type {backend.device.type} and input value tensor "
            f"device type {values._backend.device.type}"
        )
    if sorter is not None and sorter._backend is not backend:
        raise RuntimeError(
            f"{name}: sorter and boundary tensors should have same device type, but got sorter "
            f"tensor device type {sorter._backend.device.type} and input value tensor device "
            f"type {backend.device.type}"
        )
    if backend.is_bool(sorted_sequence._data.dtype):
        raise NotImplementedError(
            f'"searchsorted_out_{_device_kind(backend)}" not implemented for '
            f"'{scalar_type_name(sorted_sequence)}'"
        )
    seq, val = _common(backend, sorted_sequence, values)
    if sorter is not None:
        if sorter.dtype is not dtypes.int64:
            raise RuntimeError(
                f"{name}: sorter must be a tensor of long dtype but got dtype "
                f"{scalar_type_name(sorter)}"
            )
        if sorter._data.shape != seq_shape:
            raise RuntimeError(
                f"{name}: boundary and sorter must have the same size, but got boundary tensor "
                f"{list(seq_shape)}and got sorter tensor {list(sorter._data.shape)}"
            )
        order = sorter._data
        size = seq_shape[-1]
        if order.size and not backend.all_true(backend.logical_and(
                backend.greater_equal(order, 0), backend.less(order, size))):
            raise RuntimeError(f"{name}: sorter index out of range")
        seq = backend.take_along_axis(seq, order, axis=-1)
    out = backend.searchsorted(seq, val, right=bool(right))
    return _wrap(backend.astype(out, "int32") if out_int32 else out, backend)


def _device_kind(backend: Any) -> str:
    return "cuda" if backend.device.type == "cuda" else "cpu"


@function_rule("bucketize")
def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value between 1-d `boundaries` (searchsorted on them)."""
    ndim = boundaries._data.ndim
    if ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
