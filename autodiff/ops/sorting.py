"""Sorting: sort, argsort, msort and topk.

Sorts are stable and order NaN after every number (first when descending), as PyTorch's. The
values' gradient goes back to the positions the indices name (a scatter into zeros, PyTorch's
`value_selecting_reduction_backward`), so it is differentiable again. Which of several tied
elements topk returns is unspecified, as in PyTorch (NumPy's backend selects with a partial
sort, the others with a stable sort: lowest index first). PyTorch's CPU kernels pick them by
libstdc++'s nth_element / partial_sort, and sort(stable=False) of more than 16 elements orders
ties by its std::sort (introsort): deterministic for one build, but reproducible only by
replaying those algorithms swap by swap in a host loop per row, so not reproduced (an unstable
sort here is stable, as PyTorch's is up to 16 elements).
"""

from __future__ import annotations

from typing import Any

from .. import return_types
from ..batching.dispatch import dim_op
from ..function import Function
from ..jvp_rules import picked_jvp
from ..layout_dispatch import dense_only
from ..saved_fields import fields, saved_array, value
from ..tensor import Tensor, _wrap, _wrap_dim
from ._checks import scalar_type_name
from .scatter import Scatter


def value_selecting_backward(grad: Tensor, dim: int, indices: Any, shape: tuple[int, ...],
                             keepdim: bool) -> Tensor:
    """The gradient of values picked out of an input of `shape` at `indices` along `dim`:
    zeros with `grad` scattered to those positions."""
    backend = grad._backend
    if not shape:
        return grad.reshape(())
    if not keepdim:
        indices = backend.expand_dims(indices, axis=dim)
        grad = grad.unsqueeze(dim)
    target = _wrap(backend.zeros(shape, backend.dtype_name(grad._data)), backend)
    return Scatter.apply(target, grad, dim=dim, index=indices)


class Sort(Function):
    """(values, indices) sorted along `dim`; the indices get no gradient."""

    node_name = "SortBackward0"
    saved_fields = fields(dim=value("dim"), indices=saved_array("indices"),
                          self_sym_sizes=value("shape", tuple))

    jvp = picked_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, descending: bool) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)
        ctx.dim, ctx.shape = dim, a.shape
        if a.ndim == 0:
            values, indices = backend.asarray(a, copy=True), backend.zeros((), "int64")
        else:
            indices = backend.sort_order(a, dim, descending)
            values = backend.take_along_axis(a, indices, axis=dim)
        ctx.indices = indices
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, grad_indices: Any = None) -> Tensor | None:
        if grad is None:
            return None
        return value_selecting_backward(grad, ctx.dim, ctx.indices, ctx.shape, keepdim=True)


class SortStable(Sort):
    """sort called with `stable=` (PyTorch's sort.stable overload, its own node name)."""

    node_name = "SortBackward1"


def sort(input: Tensor, dim: int = -1, descending: bool = False, *,
         stable: bool | None = None) -> Any:
    """(values, indices) of `input` sorted along `dim`. Always stable (PyTorch's `stable=False`
    allows any order of ties; the stable one is among them)."""
    dim = _wrap_dim(dim, input._data.ndim)
    op = Sort if stable is None else SortStable
    values, indices = op.apply(input, dim=dim, descending=bool(descending))
    return return_types.sort((values, indices))


@dim_op
def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """The indices that sort `input` along `dim` (stable)."""
    dense_only("aten::sort.stable", input)
    backend, a = input._backend, input._data
    dim = _wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return _wrap(backend.zeros((), "int64"), backend)
    return _wrap(backend.sort_order(a, dim, bool(descending)), backend)


def msort(input: Tensor) -> Tensor:
    """`input` sorted along its first dim."""
    return sort(input, 0).values


class Topk(Function):
    node_name = "TopkBackward0"
    saved_fields = Sort.saved_fields

    jvp = picked_jvp

    @staticmethod
    def forward(ctx: Any, a: Any, *, k: int, dim: int, largest: bool) -> Any:
        backend = ctx.backend
        ctx.set_materialize_grads(False)
        ctx.dim, ctx.shape = dim, a.shape
        if a.ndim == 0:
            values, indices = backend.asarray(a, copy=True), backend.zeros((), "int64")
        else:
            values, indices = backend.topk(a, k, dim, largest)
        ctx.indices = indices
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None, grad_indices: Any = None) -> Tensor | None:
        if grad is None:
            return None
        return value_selecting_backward(grad, ctx.dim, ctx.indices, ctx.shape, keepdim=True)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> Any:
    """The `k` largest (smallest when not `largest`) elements along `dim` and their indices,
    largest first (always sorted; PyTorch allows any order when `sorted=False`)."""
    a = input._data
    dim = _wrap_dim(dim, a.ndim)
    size = a.shape[dim] if a.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input._backend.is_bool(a.dtype):
        raise RuntimeError(f"topk does not support bool dtypes on {_device_name(input)}")
    values, indices = Topk.apply(input, k=int(k), dim=dim, largest=bool(largest))
    return return_types.topk((values, indices))


def _device_name(input: Tensor) -> str:
    return "CUDA" if input._backend.device.type == "cuda" else "CPU"


def require_sortable(name: str, input: Tensor) -> None:
    """PyTorch's refusal of bools by the selection kernels (kthvalue, median, mode...)."""
    if input._backend.is_bool(input._data.dtype):
        device = input._backend.device.type
        raise NotImplementedError(
            f'"{name}_{"cuda" if device == "cuda" else "cpu"}" not implemented for '
            f"'{scalar_type_name(input)}'"
        )
