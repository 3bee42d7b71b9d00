"""Memory layout: stride(), storage_offset(), is_contiguous(), contiguous(), dim_order() and
ravel, as the
backend reports its arrays; as_strided (a view of the memory a tensor views, with any sizes and
strides), as_strided_scatter, empty_strided and new_empty_strided.

NumPy (and CuPy) arrays carry real strides, so a view's strides and offset are what PyTorch
reports for the same view, and as_strided is a view. The array API has no layouts: on such a
backend every array reads as a fresh C-contiguous one and as_strided copies (its values are
the same; writes through it do not reach the input). as_strided's gradient is PyTorch's: the
output's gradient summed into the memory positions it came from (overlapping elements add),
read back at the input's positions. as_strided_scatter's gradient for its input is the
gradient outside the written positions (PyTorch 2.13 returns the complement, which fails its
own gradcheck; this is the right one).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import backends
from backends import contiguous_strides, default_device, get_backend

from .. import dtypes, layouts
from ..batching.dispatch import function_rule
from ..function import Function
from ..jvp_rules import auto_linear, rule_facts
from ..layouts import CHANNELS_LAST_ORDER, check_layout, check_memory_format, preserve_format
from ..quantized_tensor import QuantizedData
from ..saved_fields import fields, value
from ..sparse_compressed import SparseCompressed, no_strides
from ..sparse_coo import SparseCOO
from ..tensor import Tensor, _wrap, _wrap_dim
from ._checks import require_tensors
from .flat_indexing import Put, Take
from .inplace import view_
from .memory_formats import Contiguous, dense_in_order, memory_order
from .shape import shape_arg, view_op

_NOT_VIEWABLE = (ValueError, AttributeError)


# ----------------------------------------------------------------------------- reading the layout
def stride(input: Tensor, dim: int | None = None) -> Any:
    """The tensor's strides in elements (the one of `dim` when given)."""
    if type(input._data) is SparseCompressed:
        no_strides(input._data, "strides")
    if input.is_sparse:  # no strided memory: PyTorch reports zeros
        strides: Any = (0,) * input._data.ndim
    else:
        strides = input._backend.strides(_strided_array(input))
    if dim is None:
        return tuple(strides)
    return strides[_wrap_dim(dim, len(strides))] if strides else 1


def storage_offset(input: Tensor) -> int:
    """Where the tensor's first element is in the memory it views, in elements."""
    if type(input._data) in (SparseCOO, SparseCompressed):  # PyTorch's answer for sparse
        return 0
    return int(input._backend.storage_offset(_strided_array(input)))


def _strided_array(input: Tensor) -> Any:
    """The array whose layout is the tensor's: its own, or a quantized tensor's integers."""
    data = input._data
    return data.int_repr if type(data) is QuantizedData else data


def is_contiguous(input: Tensor, memory_format: Any = None) -> bool:
    """True when the elements lie in memory without gaps in the order `memory_format` names:
    row-major by default, the channels innermost for channels_last (dims of size 1 and tensors
    without elements are contiguous whatever their strides)."""
    check_memory_format("is_contiguous", memory_format)
    if type(input._data) is SparseCompressed:
        no_strides(input._data, "is_contiguous")
    if input.is_sparse:
        return False
    shape = input._data.shape
    order = CHANNELS_LAST_ORDER.get(memory_format, range(len(shape)))
    if len(order) != len(shape):  # a channels-last format of another rank
        return False
    if 0 in shape or input._batched:  # inside vmap one example's layout is not observable
        return True
    return dense_in_order(shape, stride(input), order)


_AMBIGUITY_CHECK = "The ambiguity_check argument must be a bool or a list of memory formats."


def dim_order(input: Tensor, ambiguity_check: Any = False) -> tuple[int, ...]:
    """The dims from the outermost to the innermost in memory (Tensor.dim_order). Where several
    orders fit (dims of size 1, equal strides) `ambiguity_check` decides: False picks one,
    True refuses, a list of memory formats accepts a tensor laid out in exactly one of them."""
    if input.is_sparse:
        raise AttributeError(f"Can't get dim order on sparse type: {input.type()} Use "
                             "Tensor.to_dense() to convert to a dense tensor first.")
    if not isinstance(ambiguity_check, bool) and not (
            isinstance(ambiguity_check, list)
            and all(isinstance(kind, layouts.memory_format) for kind in ambiguity_check)):
        raise TypeError(_AMBIGUITY_CHECK)
    shape, strides = tuple(input.shape), tuple(stride(input))
    formats = ambiguity_check if isinstance(ambiguity_check, list) else []
    check = ambiguity_check if isinstance(ambiguity_check, bool) else True
    several = 1 in shape or any(a == b for a, b in itertools.pairwise(strides))
    if check and several and sum(is_contiguous(input, kind) for kind in formats) != 1:
        raise RuntimeError("The tensor does not have unique dim order, or cannot map to exact "
                           "one of the given memory formats.")
    order, ambiguous = _physical_order(input, shape, strides, bool(ambiguity_check))
    if ambiguous:
        raise RuntimeError("The tensor does not have unique dim order.")
    return order


def _physical_order(input: Tensor, shape: tuple[int, ...], strides: tuple[int, ...],
                    check: bool) -> tuple[tuple[int, ...], bool]:
    """PyTorch's logical-to-physical permutation of an elementwise output: contiguous and
    channels-last layouts directly, else dims sorted by stride (ties by size), innermost
    first, with an insertion sort that keeps incomparable dims in place."""
    ndim = len(shape)
    if ndim <= 1:
        return tuple(range(ndim)), False
    row_major = is_contiguous(input)
    channels_last = is_contiguous(input, layouts.channels_last)
    if row_major and not channels_last:
        return tuple(range(ndim)), False
    if channels_last and not row_major:
        return (0, *range(2, ndim), 1), False

    def covers(a: int, b: int) -> bool:  # a >= b for sizes and strides, 0 always covered
        return b == 0 or (a != 0 and (a >= b or a % b == 0))

    def order(first: int, second: int) -> int:
        a, b = strides[first], strides[second]
        if a == 0 or b == 0:
            return 0
        if a == b:
            return 0 if covers(shape[second], shape[first]) else 1
        return -1 if covers(b, a) else 1

    perm = list(reversed(range(ndim)))  # innermost first while sorting
    for i in range(1, ndim):
        moving = i
        for before in reversed(range(i)):
            comparison = order(perm[before], perm[moving])
            if comparison > 0:
                perm[before], perm[moving] = perm[moving], perm[before]
                moving = before
            elif comparison < 0:
                break
    ambiguous = check and any(order(perm[i], perm[i + 1]) != -1 for i in range(ndim - 1))
    return tuple(reversed(perm)), ambiguous


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself when it is contiguous in `memory_format`, else a copy that is."""
    if type(input._data) is SparseCompressed:
        no_strides(input._data, "is_contiguous")
    if input.is_sparse:
        raise RuntimeError("unsupported memory format option Contiguous")
    order = memory_order("contiguous", memory_format, input.dim())
    if is_contiguous(input, None if memory_format is preserve_format else memory_format):
        return input
    return Contiguous.apply(input, order=order)


def ravel(input: Tensor) -> Tensor:
    """The elements in row-major order, 1-d: a view of a contiguous tensor, else of a
    contiguous copy (PyTorch's contiguous().view(-1))."""
    return contiguous(input).view(-1)


# ----------------------------------------------------------------------------- as_strided
def _positions(backend: Any, shape: tuple[int, ...], strides: tuple[int, ...],
               offset: int) -> Any:
    """offset + sum(i * stride) for every index of `shape`: each element's memory position."""
    positions = backend.full((), offset, "int64")
    for size, step in zip(shape, strides):
        steps = backend.multiply(backend.arange(0, size, 1, "int64"), step)
        positions = backend.add(backend.expand_dims(positions, axis=-1), steps)
    return positions


class AsStridedView(Function):
    """A view of the memory the input views: element i at offset + sum(i * stride). The
    gradient goes to the memory positions and back to the input's own (shared among the
    input's elements that view one position, as PyTorch's as_strided_backward divides it);
    the tangent is laid out in memory as the input is, then viewed the same way.

    `examples` counts leading dims that a vmap batching rule put in front of the input and
    the view: the examples, each viewing memory of its own. The view is the one the strides
    give; the gradient and the tangent are taken per example, so an input the examples share
    (an unbatched tensor expanded over them, stride 0) still has a gradient and a tangent per
    example."""

    node_name = "AsStridedBackward0"
    saved_fields = fields(size=value("geometry.view", lambda view: tuple(view[0])),
                          stride=value("geometry.view", lambda view: tuple(view[1])),
                          storage_offset=value("storage_offset"))

    @staticmethod
    def forward(ctx: Any, a: Any, *, size: tuple[int, ...], stride: tuple[int, ...],
                offset: int, examples: int = 0, storage_offset: int | None = None) -> Any:
        """`storage_offset`: the offset as the caller gave it (None: none), which PyTorch's
        node keeps."""
        backend = ctx.backend
        ctx.storage_offset = storage_offset
        ctx.geometry = _ViewGeometry(
            (a.shape, backend.strides(a), backend.storage_offset(a)), (size, stride, offset),
            examples)
        return ctx._view(backend, a, size, stride, offset)

    @staticmethod
    def _view(backend: Any, a: Any, size: tuple[int, ...], stride: tuple[int, ...],
              offset: int) -> Any:
        return backend.strided_view(a, size, stride, offset)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        backend = grad._backend
        geometry = ctx.geometry
        count, read, written = geometry.positions(backend)
        memory = _wrap(backend.zeros((count,), backend.dtype_name(grad._data)), backend)
        memory = Put.apply(memory, grad, index=written, accumulate=True)
        if geometry.input_overlaps():
            hits = backend.zeros((count,), backend.dtype_name(grad._data))
            backend.index_add(hits, (backend.reshape(read, (-1,)),),
                              backend.ones((math.prod(read.shape),),
                                           backend.dtype_name(grad._data)))
            memory = memory / _wrap(backend.maximum(hits, 1), backend)
        return Take.apply(memory, index=read)

    @staticmethod
    @rule_facts(reads_saved=False, complex_safe=True)
    def jvp(ctx: Any, tangent: Tensor) -> Tensor:
        """PyTorch's: the tangent laid out in memory as the primal is (zeros elsewhere in
        that memory, as `_new_zeros_with_same_feature_meta` makes it), then the same view of
        that memory; the tangent's own layout never matters."""
        args, kwargs, _ = ctx._dual_call
        primal = args[0]
        backend = primal._backend
        geometry = _ViewGeometry(
            (primal._data.shape, backend.strides(primal._data),
             backend.storage_offset(primal._data)),
            (kwargs["size"], kwargs["stride"], kwargs["offset"]), kwargs.get("examples", 0))
        count, read, written = geometry.positions(backend)
        memory = _wrap(backend.zeros((count,), backend.dtype_name(tangent._data)), backend)
        memory = Put.apply(memory, tangent, index=read, accumulate=False)
        return Take.apply(memory, index=written)


class _ViewGeometry:
    """An as_strided view's input and output geometries (shape, strides, offset), the first
    `examples` dims of each the examples of a vmap."""

    __slots__ = ("examples", "examples_shape", "input", "view")

    def __init__(self, input: tuple[Any, Any, Any], view: tuple[Any, Any, Any],
                 examples: int) -> None:
        self.examples = examples
        self.input = _within_example(input, examples)
        self.view = _within_example(view, examples)
        self.examples_shape = tuple(input[0][:examples])

    def positions(self, backend: Any) -> tuple[int, Any, Any]:
        """The memory the examples need (each in positions of its own, `span` long), and the
        positions there of the input's elements and of the view's."""
        span = 1 + max(_last_position(*self.input), _last_position(*self.view))
        read, written = _positions(backend, *self.input), _positions(backend, *self.view)
        examples = math.prod(self.examples_shape)
        if self.examples:  # example e's memory: [e * span, (e + 1) * span)
            starts = backend.multiply(backend.arange(0, examples, 1, "int64"), span)
            read, written = (
                backend.add(backend.reshape(starts, (*self.examples_shape, *(1,) * inner.ndim)),
                            inner) for inner in (read, written))
        return examples * span, read, written

    def input_overlaps(self) -> bool:
        """Whether two of an example's input elements may share a memory position (dims in
        order of stride, each must step past all the smaller ones reach)."""
        shape, strides, _ = self.input
        reach = 0
        for step, size in sorted((step, size) for size, step in zip(shape, strides)
                                 if size > 1):
            if step <= reach:
                return True
            reach += (size - 1) * step
        return False


def _within_example(geometry: tuple[Any, Any, Any], examples: int,
                    ) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    shape, strides, offset = geometry
    return tuple(shape[examples:]), tuple(strides[examples:]), int(offset)


def _last_position(shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> int:
    """The highest memory position a geometry reaches (-1 when it has no elements)."""
    if 0 in shape:
        return -1
    return offset + sum((size - 1) * step for size, step in zip(shape, strides) if step > 0)


class AsStridedInPlace(AsStridedView):
    """as_strided_: the tensor itself takes the view's geometry."""

    node_name = "AsStridedBackward1"


class AsStridedCopy(AsStridedView):
    """as_strided where the backend makes no strided views: the same elements, copied."""

    @staticmethod
    def _view(backend: Any, a: Any, size: tuple[int, ...], stride: tuple[int, ...],
              offset: int) -> Any:
        if 0 in size:  # nothing to copy: only the strides
            return backend.restrided(a, size, stride)
        return backend.as_strided(backend.storage(a), size, stride, offset)


def as_strided_view(input: Tensor, size: Any, stride: Any, storage_offset: int | None,
                    op: type[AsStridedView], examples: int = 0) -> Tensor:
    """as_strided's view of `input`, recorded as `op` (a copy where the backend makes no
    strided views); `examples`: leading dims a vmap rule added (AsStridedView)."""
    size, stride, offset = _geometry(input, size, stride, storage_offset)
    options = {"size": size, "stride": stride, "offset": offset,
               "storage_offset": storage_offset}
    if examples:
        options["examples"] = examples
    try:
        return view_op(op, input, **options)
    except _NOT_VIEWABLE:
        copy = AsStridedCopy if op is AsStridedView else _AsStridedCopyInPlace
        return copy.apply(input, **options)


def _geometry(input: Tensor, size: Any, stride: Any, storage_offset: int | None,
              ) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The checked (size, stride, offset) of an as_strided view of `input`'s memory."""
    size, stride = shape_arg((size,)), shape_arg((stride,))
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(
            f"Storage size calculation overflowed with sizes={list(size)} and "
            f"strides={list(stride)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(
            "as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}")
    offset = storage_offset if storage_offset is not None else \
        input._backend.storage_offset(input._data)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    available = input._backend.storage_size(input._data)
    if needed > available:
        itemsize = input.dtype.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {needed * itemsize} are out "
            f"of bounds for storage of size {available * itemsize}"
        )
    return size, stride, int(offset)


@function_rule("as_strided")
def as_strided(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None,
               ) -> Tensor:
    """A view of `input`'s memory with the given sizes, strides (in elements) and offset
    (the input's own by default)."""
    return as_strided_view(input, size, stride, storage_offset, AsStridedView)


class _AsStridedCopyInPlace(AsStridedCopy):
    node_name = "AsStridedBackward1"


AS_STRIDED_IN_PLACE_UNDER_VMAP = (
    "vmap: as_strided_ is not supported inside vmap (the examples of a batched tensor cannot "
    "each take another geometry in place); use as_strided out of place")


def as_strided_(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None,
                ) -> Tensor:
    """The tensor itself becomes the as_strided view of its memory."""
    require_tensors("as_strided_", ("input", input))
    if input._batched:
        # PyTorch's vmap runs it per example and leaves the batched tensor's shape as it was.
        raise RuntimeError(AS_STRIDED_IN_PLACE_UNDER_VMAP)
    return view_(input, lambda source: as_strided_view(source, size, stride, storage_offset,
                                                       AsStridedInPlace))


class AsStridedScatter(Function):
    """A copy of the input (read as row-major) with `src` written at the positions an
    as_strided view with these sizes, strides and offset would have."""

    node_name = "AsStridedScatterBackward0"
    saved_fields = fields(size=value("view", lambda view: view[0]),
                          stride=value("view", lambda view: view[1]),
                          storage_offset=value("view", lambda view: view[2]))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, src: Any, *, size: tuple[int, ...],
                stride: tuple[int, ...], offset: int,
                storage_offset: int | None = None) -> Any:
        backend = ctx.backend
        ctx.view = (size, stride, storage_offset)  # as the caller gave them
        ctx.index = _positions(backend, size, stride, offset)
        ctx.src_shape = src.shape
        flat = backend.asarray(backend.reshape(backend.contiguous_copy(a), (-1,)), copy=True)
        values = backend.reshape(src, (-1,))
        if values.dtype != a.dtype:
            values = backend.astype(values, backend.dtype_name(a))
        if values.shape[0]:
            backend.setitem(flat, (backend.reshape(ctx.index, (-1,)),), values)
        return backend.reshape(flat, a.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_src = ctx.needs_input_grad
        grad_input = grad_src = None
        if needs_input:
            backend = grad._backend
            nothing = _wrap(backend.zeros(ctx.src_shape, backend.dtype_name(grad._data)),
                            backend)
            grad_input = Put.apply(grad, nothing, index=ctx.index, accumulate=False)
        if needs_src:
            grad_src = Take.apply(grad, index=ctx.index)
        return grad_input, grad_src


def as_strided_scatter(input: Tensor, src: Tensor, size: Any, stride: Any,
                       storage_offset: int | None = None) -> Tensor:
    """A copy of `input` whose as_strided(size, stride, storage_offset) view is `src` (the
    positions counted in `input` read as row-major, as for PyTorch's contiguous inputs)."""
    size, stride = shape_arg((size,)), shape_arg((stride,))
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > input.numel():
        itemsize = input.dtype.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {needed * itemsize} are out "
            f"of bounds for storage of size {input.numel() * itemsize}"
        )
    if tuple(src._data.shape) != size:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src._data.shape)}, slice size = {list(size)}"
        )
    return AsStridedScatter.apply(input, src, size=size, stride=stride, offset=offset,
                                  storage_offset=storage_offset)


# ----------------------------------------------------------------------------- empty_strided
def strided_empty(backend: Any, size: Any, stride: Any, dtype: str) -> Any:
    """An uninitialised array of `size` whose strides are `stride` where the backend has
    strided views (a C-contiguous one elsewhere)."""
    size, stride = shape_arg((size,)), shape_arg((stride,))
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    needed = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    memory = backend.empty((needed,), dtype)
    if math.prod(size) == 0:  # no memory to view: only the strides
        return backend.restrided(memory, size, stride)
    if tuple(stride) == contiguous_strides(size):
        return backend.reshape(memory, size)
    try:
        return backend.strided_view(memory, size, stride, 0)
    except _NOT_VIEWABLE:
        return backend.empty(size, dtype)


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of `size` laid out with `stride`."""
    backend = get_backend(device if device is not None else default_device() or "cpu")
    kind = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    return _wrap(strided_empty(backend, size, stride, kind.name),
                 backend).requires_grad_(requires_grad)


def empty_permuted(size: Any, physical_layout: Any, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of `size` whose dims lie in memory in the order
    `physical_layout` (outermost first): empty_permuted((2, 3, 4), (0, 2, 1)) has strides
    (12, 1, 3)."""
    size, order = shape_arg((size,)), shape_arg((physical_layout,))
    ndim = len(size)
    if len(order) != ndim:
        raise RuntimeError("Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {ndim} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    seen: set[int] = set()
    for position, dim in enumerate(order):
        if not 0 <= dim < ndim:
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and "
                               f"{ndim - 1}, but got {dim} at index {position}).  NB: negative "
                               "dims not currently supported; file an issue if you want it.")
        if dim in seen:
            raise RuntimeError("Duplicate dim not allowed")
        seen.add(dim)
    physical = [size[dim] for dim in order]
    if any(extent < 0 for extent in physical):
        negative = next(extent for extent in physical if extent < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: "
                           f"{physical}")
    stride = [0] * ndim
    step = 1
    for dim in reversed(order):
        stride[dim] = step
        step *= max(size[dim], 1)
    check_layout("empty_permuted", layout)
    result = empty_strided(size, stride, dtype=dtype, device=device)
    if pin_memory:  # (a page-locked copy is row-major: pinning keeps no strides)
        result = _wrap(backends.pinned(result._data), result._backend)
    if requires_grad:
        result._set_requires_grad(True, "Only Tensors of floating point and complex dtype can "
                                        "require gradients")
    return result


def new_empty_strided(input: Tensor, size: Any, stride: Any, *, dtype: Any = None,
                      device: Any = None, requires_grad: bool = False) -> Tensor:
    """empty_strided with `input`'s dtype and device unless given."""
    return empty_strided(size, stride, dtype=input.dtype if dtype is None else dtype,
                         device=input.device if device is None else device,
                         requires_grad=requires_grad)


def is_set_to(input: Tensor, tensor: Any) -> bool:
    """Whether `input` and `tensor` are the same memory seen the same way: the same first
    element, sizes and strides (and so, on one device, the same elements)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"is_set_to(): argument 'tensor' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    if input._backend is not tensor._backend or input.dtype is not tensor.dtype:
        return False
    if input._data is tensor._data:
        return True
    if tuple(input._data.shape) != tuple(tensor._data.shape) or not input.numel():
        return False
    return stride(input) == stride(tensor) and input.data_ptr() == tensor.data_ptr()
