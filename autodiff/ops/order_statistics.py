"""Order statistics: kthvalue, median and nanmedian, mode, quantile and nanquantile.

Each is read off a stable sort (NaN last), so the index of a tied value is the one PyTorch's
median picks (it breaks ties by position); for kthvalue PyTorch's quickselect may return another
of the tied indices, and mode's index in a tied run of more than 16 elements (and its answer
with NaN, which its sort compares with `<` alone) is whatever libstdc++'s std::sort leaves.
Both are deterministic but reproducible only by replaying those algorithms in a host loop per
row, so they are not reproduced: here NaNs never equal each other and sort last.

The values' gradient goes to the selected positions; the median of the whole tensor spreads it
evenly over the elements equal to it, as PyTorch does. quantile is composed of recorded ops
(sort, gather, lerp) exactly as PyTorch composes it, so its gradient is PyTorch's.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes, return_types
from ..autocast_state import autocast_op
from ..batching.dispatch import all_examples, function_rule
from ..creation import full_like
from ..function import Function
from ..jvp_rules import jvp_from_backward, picked_jvp
from ..saved_fields import fields, saved, saved_array, value
from ..tensor import Tensor, _wrap, _wrap_dim
from .scatter import gather
from .selection import lerp, where
from .shape import SqueezeDimInplace, view_op
from .sorting import require_sortable, sort, value_selecting_backward


def _pick(backend: Any, array: Any, positions: Any, dim: int) -> Any:
    """array[..., positions, ...] along `dim`, one position per slice (kept as a size-1 dim)."""
    return backend.take_along_axis(array, positions, axis=dim)


def _check_dim_not_empty(name: str, a: Any, dim: int) -> None:
    if a.ndim and a.shape[dim] == 0 and 0 not in a.shape[:dim] + a.shape[dim + 1:]:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _finish(backend: Any, array: Any, dim: int, keepdim: bool) -> Any:
    return array if keepdim else backend.squeeze(array, axis=dim)


class _SelectAlongDim(Function):
    """A (values, indices) reduction along `dim` picking one element per slice; subclasses
    give `positions(backend, a, order, dim)`: where in the sorted slice the pick is."""

    node_name = "KthvalueBackward0"
    saved_fields = fields(dim=value("dim"), indices=saved_array("indices"),
                          keepdim=value("keepdim"), self_sym_sizes=value("shape", tuple))

    jvp = picked_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, keepdim: bool, **options: Any) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)
        ctx.dim, ctx.shape, ctx.keepdim = dim, a.shape, keepdim
        if a.ndim == 0:
            values, indices = backend.asarray(a, copy=True), backend.zeros((), "int64")
        elif 0 in a.shape:
            shape = a.shape[:dim] + ((1,) if keepdim else ()) + a.shape[dim + 1:]
            values = backend.zeros(shape, backend.dtype_name(a))
            indices = backend.zeros(shape, "int64")
        else:
            values, indices = type(ctx).select(backend, a, dim, **options)
            values = _finish(backend, values, dim, keepdim)
            indices = _finish(backend, indices, dim, keepdim)
        ctx.indices = indices
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def select(backend: Any, a: Any, dim: int, **options: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, grad_indices: Any = None) -> Tensor | None:
        if grad is None:
            return None
        return value_selecting_backward(grad, ctx.dim, ctx.indices, ctx.shape, ctx.keepdim)


def _positions_shape(a: Any, dim: int) -> tuple[int, ...]:
    return (*a.shape[:dim], 1, *a.shape[dim + 1:])


# ----------------------------------------------------------------------------- kthvalue
class Kthvalue(_SelectAlongDim):
    node_name = "KthvalueBackward0"

    @staticmethod
    def select(backend: Any, a: Any, dim: int, **options: Any) -> tuple[Any, Any]:
        order = backend.sort_order(a, dim)
        positions = backend.full(_positions_shape(a, dim), options["k"] - 1, "int64")
        indices = _pick(backend, order, positions, dim)
        return _pick(backend, a, indices, dim), indices


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The k-th smallest element along `dim` (NaN is larger than any number) and its index."""
    a = input._data
    dim = _wrap_dim(dim, a.ndim)
    require_sortable("kthvalue", input)
    _check_dim_not_empty("kthvalue", a, dim)
    size = a.shape[dim] if a.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    values, indices = Kthvalue.apply(input, dim=dim, keepdim=keepdim, k=int(k))
    return return_types.kthvalue((values, indices))


# ----------------------------------------------------------------------------- median
class MedianDim(_SelectAlongDim):
    """The lower median along `dim`: a slice holding NaN gives its first NaN."""

    node_name = "MedianBackward1"
    ignore_nan = False

    @staticmethod
    def select(backend: Any, a: Any, dim: int, **options: Any) -> tuple[Any, Any]:
        order = backend.sort_order(a, dim)
        size = a.shape[dim]
        shape = _positions_shape(a, dim)
        if not backend.is_floating(a.dtype):
            positions = backend.full(shape, (size - 1) // 2, "int64")
            indices = _pick(backend, order, positions, dim)
            return _pick(backend, a, indices, dim), indices
        nan = backend.isnan(a)
        nan_count = backend.sum(backend.astype(nan, "int64"), axis=dim, keepdims=True)
        # The first NaN comes first in the NaNs at the end of the stable order.
        first_nan = backend.subtract(size, nan_count)
        lower = backend.full(shape, (size - 1) // 2, "int64")
        positions = backend.where(backend.greater(nan_count, 0), first_nan, lower)
        indices = _pick(backend, order, positions, dim)
        return _pick(backend, a, indices, dim), indices


class NanmedianDim(_SelectAlongDim):
    """The lower median of the numbers along `dim`, NaNs ignored (NaN when all are)."""

    node_name = "NanmedianBackward1"

    @staticmethod
    def select(backend: Any, a: Any, dim: int, **options: Any) -> tuple[Any, Any]:
        order = backend.sort_order(a, dim)
        size = a.shape[dim]
        if backend.is_floating(a.dtype):
            nan_count = backend.sum(backend.astype(backend.isnan(a), "int64"), axis=dim,
                                    keepdims=True)
            numbers = backend.subtract(size, nan_count)
            positions = backend.floor_divide(backend.clip(backend.subtract(numbers, 1), 0, None),
                                             2)
        else:
            positions = backend.full(_positions_shape(a, dim), (size - 1) // 2, "int64")
        indices = _pick(backend, order, positions, dim)
        return _pick(backend, a, indices, dim), indices


class MedianAll(Function):
    """The lower median of all elements (NaN when any is NaN)."""

    node_name = "MedianBackward0"
    saved_fields = fields(self=saved(0), result=saved(1))
    ignore_nan = False

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        flat = backend.reshape(a, (-1,))
        if flat.shape[0] == 0:
            out = backend.full((), float("nan"), backend.dtype_name(a))
        else:
            op = NanmedianDim if ctx.ignore_nan else MedianDim
            out = backend.reshape(op.select(backend, flat, 0)[0], ())
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        mask = (a == out) | (a.isnan() & out.isnan())
        return where(mask, grad / mask.sum(), 0.0)


class NanmedianAll(MedianAll):
    node_name = "NanmedianBackward0"
    ignore_nan = True


def _median(name: str, all_op: type[MedianAll], dim_op: type[_SelectAlongDim],
            result: Any, input: Tensor, dim: Any, keepdim: bool) -> Any:
    require_sortable(name, input)
    if dim is None:
        return all_op.apply(input)
    a = input._data
    dim = _wrap_dim(dim, a.ndim)
    _check_dim_not_empty(name, a, dim)
    values, indices = dim_op.apply(input, dim=dim, keepdim=keepdim)
    return result((values, indices))


def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median of all elements; with `dim`, (values, indices) along it."""
    return _median("median", MedianAll, MedianDim, return_types.median, input, dim, keepdim)


def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """median that ignores NaN. A slice of NaNs only gives NaN at index 0 (PyTorch's
    nth_element may name another of the NaNs)."""
    return _median("nanmedian", NanmedianAll, NanmedianDim, return_types.nanmedian, input, dim,
                   keepdim)


# ----------------------------------------------------------------------------- mode
class Mode(_SelectAlongDim):
    """The most frequent value along `dim` (the smallest of equally frequent ones) and the
    index of its last occurrence. NaNs never equal each other."""

    node_name = "ModeBackward0"

    @staticmethod
    def select(backend: Any, a: Any, dim: int, **options: Any) -> tuple[Any, Any]:
        order = backend.sort_order(a, dim)
        ordered = _pick(backend, a, order, dim)
        size = a.shape[dim]
        rest = [slice(None)] * a.ndim
        head, tail = list(rest), list(rest)
        head[dim], tail[dim] = slice(0, size - 1), slice(1, size)
        changes = backend.not_equal(ordered[tuple(tail)], ordered[tuple(head)])
        edge = backend.ones(_positions_shape(a, dim), "bool")
        starts = backend.concat([edge, changes], axis=dim)
        ends = backend.concat([changes, edge], axis=dim)
        positions = backend.reshape(backend.arange(0, size, 1, "int64"),
                                    tuple(-1 if d == dim else 1 for d in range(a.ndim)))
        positions = backend.broadcast_to(positions, a.shape)
        zero = backend.zeros_like(positions)
        run_start = backend.cumulative_extreme(backend.where(starts, positions, zero), dim,
                                               True)[0]
        # The length of each run, read at its last element; -1 elsewhere.
        lengths = backend.where(ends, backend.add(backend.subtract(positions, run_start), 1),
                                backend.subtract(zero, 1))
        best = backend.argmax(lengths, axis=dim, keepdims=True)  # first: the smallest value
        best = best if backend.dtype_name(best) == "int64" else backend.astype(best, "int64")
        indices = _pick(backend, order, best, dim)
        return _pick(backend, a, indices, dim), indices


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    a = input._data
    dim = _wrap_dim(dim, a.ndim)
    _check_dim_not_empty("mode", a, dim)
    values, indices = Mode.apply(input, dim=dim, keepdim=keepdim)
    return return_types.mode((values, indices))


# ----------------------------------------------------------------------------- quantile
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q: Any, dim: int | None, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    a = input._data
    if input.dtype.name not in ("float32", "float64"):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        if q._backend is not input._backend:
            raise RuntimeError(
                "quantile() q tensor must be on the same device as the input tensor")
        if not bool(all_examples((q >= 0) & (q <= 1)).all()):  # every example's in vmap
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
    else:
        q = float(q)
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
        q = _wrap(input._backend.full((), q, input.dtype.name), input._backend)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or "
            f"nearest, but got {interpolation}"
        )
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    ndim = a.ndim
    if dim is not None:
        dim = _wrap_dim(dim, ndim)
    # The result's shape without q's dim; the values to pick from sorted along the last dim.
    if dim is not None and ndim > 0:
        out_shape = list(a.shape)
        if keepdim:
            out_shape[dim] = 1
        else:
            del out_shape[dim]
    else:
        out_shape = [1] * ndim if keepdim else []
    if dim is None or ndim == 0:
        ordered = sort(input.flatten()).values
    elif dim == ndim - 1:
        ordered = sort(input).values
    else:
        ordered = sort(input.unsqueeze(-1).transpose(dim, -1)).values
    size = ordered.shape[-1]
    ordered = ordered.view(*out_shape, size)
    if ignore_nan:
        numbers = ordered.isnan().logical_not().sum(-1, keepdim=True)
        ranks = q * (numbers - 1)
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        last = size - 1
        # q's ranks in every slice (expanded: inside vmap q may be batched and the slices not)
        ranks = (q * last).expand(*out_shape, q.numel())
        ranks = ranks.masked_fill(ordered.isnan().any(-1, keepdim=True), last)
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = ranks.to(dtypes.int64)
    values = gather(ordered, -1, below)
    if interpolation in ("linear", "midpoint"):
        weights = full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        above = ranks.ceil().to(dtypes.int64)
        values = lerp(values, gather(ordered, -1, above), weights)
    if q.ndim == 1:
        values = values.unsqueeze(0).transpose(0, -1)
    return view_op(SqueezeDimInplace, values, axes=(values.ndim - 1,), dims=(values.ndim - 1,))


@function_rule("quantile")
@autocast_op("quantile")
def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles of `input` (flattened, or along `dim`); a 1-d q adds a first dim."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


@function_rule("quantile")
@autocast_op("nanquantile")
def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """quantile ignoring NaNs (NaN where a slice holds nothing else)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)
