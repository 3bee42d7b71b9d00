"""Shape ops: the views of PyTorch (they share data and the version counter with their input:
see views.py), atleast_1d/2d/3d, Tensor.unfold, and sum_to_size."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..batching.batched_tensor import make_batched
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import Computed, InputSizes, fields, int_tuple, value
from ..sparse_coo import SparseCOO
from ..tensor import Tensor, _wrap, _wrap_dim
from ..user_warnings import warn
from .conversion import clone
from .sparse_compressed import SparseCompressed
from .sparse_compressed import t as compressed_t
from .sparse_compressed import transpose as compressed_transpose
from .sparse_elementwise import SparseTranspose
from .sparse_elementwise import t as sparse_t
from .sparse_elementwise import transpose as sparse_transpose
from .views import as_view, prepare_view_input


def shape_arg(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept `f(2, 3)`, `f((2, 3))`, `f([2, 3])` and `f(torch.Size([2, 3]))`."""
    if len(args) == 1 and not isinstance(args[0], int):
        return tuple(int(size) for size in args[0])
    return tuple(int(size) for size in args)


def view_op(op: type[Function], input: Tensor, **options: Any) -> Tensor:
    """Apply a view op and record its output as a view of `input`."""
    prepare_view_input(input)
    return as_view(op.apply(input, **options), input, op, options)


# ----------------------------------------------------------------------------- reshape
class View(Function):
    node_name = "ViewBackward0"
    saved_fields = fields(self_sym_sizes=InputSizes())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, shape: tuple[int, ...]) -> Any:
        ctx.input_shape = a.shape
        # copy=False: a view or nothing (NumPy raises ValueError, CuPy and strict AttributeError).
        # Without elements there is no memory to share (and array-api-strict would refuse).
        return ctx.backend.reshape(a, shape, copy=False if 0 not in a.shape else None)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.reshape(ctx.input_shape)


class ReshapeAlias(View):
    """A reshape that ATen's composite ops (linalg.tensorinv) record as `_reshape_alias`."""

    node_name = "ReshapeAliasBackward0"


def reshape_alias(input: Tensor, shape: tuple[int, ...]) -> Tensor:
    """A view of `input` (whose layout must allow one) in `shape`, as ReshapeAliasBackward0."""
    return view_op(ReshapeAlias, input, shape=shape)


class UnsafeView(Function):
    """reshape of a copy (when the input's layout allows no view)."""

    node_name = "UnsafeViewBackward0"
    saved_fields = fields(self_sym_sizes=InputSizes())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, shape: tuple[int, ...]) -> Any:
        ctx.input_shape = a.shape
        return ctx.backend.reshape(a, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.reshape(ctx.input_shape)


# What a backend's reshape(copy=False) raises when the layout allows no view.
NOT_VIEWABLE = (ValueError, AttributeError)


def _infer_shape(shape: tuple[int, ...], numel: int) -> tuple[int, ...]:
    known = 1
    unknown = None
    for axis, size in enumerate(shape):
        if size == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = axis
        elif size < 0:
            raise RuntimeError(f"invalid shape dimension {size}")
        else:
            known *= size
    if unknown is not None and known != 0 and numel % known == 0:
        return (*shape[:unknown], numel // known, *shape[unknown + 1:])
    if known != numel or unknown is not None:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """A view when the layout allows one, else a copy (as PyTorch's reshape)."""
    if type(input._data) is SparseCOO:
        raise RuntimeError("reshape is not implemented for sparse tensors")
    target = _infer_shape(shape_arg(shape), input.numel())
    try:
        return view_op(View, input, shape=target)
    except NOT_VIEWABLE:
        return UnsafeView.apply(clone(input), shape=target)


def view(input: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        return view_dtype(input, shape[0])
    target = _infer_shape(shape_arg(shape), input.numel())
    try:
        return view_op(View, input, shape=target)
    except NOT_VIEWABLE:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None


def view_dtype(input: Tensor, dtype: dtypes.dtype) -> Tensor:
    """The tensor's memory read as `dtype` (Tensor.view(dtype)): the last dim scaled by the
    ratio of the element sizes. Not differentiable, and not a view autograd tracks: the result
    shares the memory and requires no grad, as in PyTorch."""
    old_size, new_size = input.dtype.itemsize, dtype.itemsize
    if old_size != new_size:
        names = (f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} as "
                 f"{dtypes.SCALAR_TYPE_NAMES[dtype.name]} (different element sizes)")
        if input.dim() == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names}")
        strides = input.stride()
        if strides[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {names}, but got "
                               f"{strides[-1]}")
        if new_size > old_size:
            ratio = new_size // old_size
            if input.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} to view "
                                   f"{names}, but got {input.shape[-1]}")
            if input.storage_offset() % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} to "
                                   f"view {names}, but got {input.storage_offset()}")
            for dim, stride in enumerate(strides[:-1]):
                if stride % ratio:
                    raise RuntimeError(f"self.stride({dim}) must be divisible by {ratio} to "
                                       f"view {names}, but got {stride}")
    backend = input._backend
    return _wrap(backend.bitcast_view(input._data, dtype.name), backend)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start, end = _wrap_dim(start_dim, len(shape)), _wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    merged = 1
    for size in shape[start:end + 1]:
        merged *= size
    return reshape(input, (*shape[:start], merged, *shape[end + 1:]))


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    shape = input._data.shape
    dim = _wrap_dim(dim, len(shape))
    sizes = _infer_shape(tuple(int(size) for size in sizes), shape[dim])
    return view(input, shape[:dim] + sizes + shape[dim + 1:])


# ----------------------------------------------------------------------------- broadcasting
class Expand(Function):
    node_name = "ExpandBackward0"
    saved_fields = fields(self_sym_sizes=InputSizes())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, shape: tuple[int, ...], overlap: bool = False) -> Any:
        ctx.input_shape = a.shape
        backend = ctx.backend
        out = backend.broadcast_to(a, shape)
        if 1 in shape or 0 in shape:
            # NumPy zeroes the strides of every size-1 dim; PyTorch only of the expanded ones
            strides = _expanded_strides(a.shape, backend.strides(a), shape)
            if backend.strides(out) != strides:
                out = backend.restrided(out, shape, strides)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return sum_to_size(grad, ctx.input_shape)


def _expanded_strides(size: tuple[int, ...], strides: tuple[int, ...], shape: tuple[int, ...],
                      ) -> tuple[int, ...]:
    """inferExpandGeometry's strides: a dim keeps its stride unless expanded from size 1 (then
    0); a new leading dim of size 1 gets the size times the stride of the dim after it (all
    are 0 for a 0-d input)."""
    result = [0] * len(shape)
    if not size:
        return tuple(result)
    lead = len(shape) - len(size)
    for dim in reversed(range(len(shape))):
        if dim >= lead:
            kept, stride = size[dim - lead], strides[dim - lead]
        else:
            kept, stride = 1, shape[dim + 1] * result[dim + 1]
        result[dim] = stride if kept == shape[dim] else 0
    return tuple(result)


def expand(input: Tensor, *sizes: Any) -> Tensor:
    requested = shape_arg(sizes)
    target = list(requested)
    shape = input._data.shape
    if len(target) < len(shape):
        raise RuntimeError(
            f"expand({input.type()}{{{list(shape)}}}, "
            f"size={target}): the number of sizes provided ({len(target)}) must be greater or "
            f"equal to the number of dimensions in the tensor ({len(shape)})"
        )
    offset = len(target) - len(shape)
    for axis in range(offset):
        if target[axis] < 0:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[axis]}) isn't allowed in a leading, "
                f"non-existing dimension {axis}"
            )
    # Several elements share one memory location when a size-1 (or new) dim grows past 1:
    # in-place ops on such a view are refused (views.has_overlap).
    overlap = any(size > 1 for size in target[:offset])
    for axis, size in enumerate(shape):
        wanted = target[offset + axis]
        if wanted == -1:
            target[offset + axis] = size
        elif size != wanted:
            if size != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({wanted}) must match the existing size "
                    f"({size}) at non-singleton dimension {offset + axis}.  Target sizes: "
                    f"{list(requested)}.  Tensor sizes: {list(shape)}"
                )
            overlap = overlap or wanted > 1
    if type(input._data) is SparseCOO:
        raise RuntimeError("expand is unsupported for Sparse tensors")
    return view_op(Expand, input, shape=tuple(target), overlap=overlap)


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    return expand(input, *size)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


class SumToSize(Function):
    """Sum a broadcast tensor back to `shape` (the adjoint of expand)."""

    node_name = "SumBackward1"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, shape: tuple[int, ...]) -> Any:
        ctx.input_shape = a.shape
        backend = ctx.backend
        lead = a.ndim - len(shape)
        kept = tuple(lead + axis for axis, size in enumerate(shape)
                     if size == 1 and a.shape[lead + axis] != 1)
        if not kept:  # only leading dims to drop (a bias's gradient): one fresh array, no view
            return backend.sum(a, axis=tuple(range(lead))) if lead else a
        out = backend.sum(a, axis=tuple(range(lead)) + kept, keepdims=True)
        return backend.reshape(out, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.expand(ctx.input_shape)


def sum_to_size(input: Tensor, shape: tuple[int, ...]) -> Tensor:
    shape = tuple(shape)
    if input._data.shape == shape:
        return input
    return SumToSize.apply(input, shape=shape)


# ----------------------------------------------------------------------------- dims
class Permute(Function):
    node_name = "PermuteBackward0"
    saved_fields = fields(dims=value("dims", int_tuple))

    # memory_report: the gradient handed on is a view of the one received.
    backward_is_view = True

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dims: tuple[int, ...]) -> Any:
        ctx.dims = dims
        return ctx.backend.permute_dims(a, dims)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        inverse = [0] * len(ctx.dims)
        for position, axis in enumerate(ctx.dims):
            inverse[axis] = position
        return grad.permute(inverse)


def permute(input: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
    if kwargs:  # the order also by keyword, as PyTorch's `permute(dims=...)`
        unexpected = [name for name in kwargs if name != "dims"]
        if not dims and "dims" not in kwargs:
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        if unexpected:
            raise TypeError(f"permute() got an unexpected keyword argument '{unexpected[0]}'")
        if dims:
            raise TypeError("permute() got multiple values for argument 'dims'")
        dims = (kwargs["dims"],)
    ndim = input._data.ndim
    order = tuple(_wrap_dim(d, ndim) for d in shape_arg(dims))
    if len(order) != ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not "
            f"equal to len(dims) = {len(order)}"
        )
    if len(set(order)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return view_op(Permute, input, dims=order)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move the dims `source` to the places `destination`, the others keeping their order (a
    permute; on a 0-d tensor an alias, as in PyTorch). PyTorch's checks, in its order."""
    ndim = input._data.ndim
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            "movedim: Invalid source or destination dims: source "
            f"({source} dims) should contain the same number of dims as destination "
            f"({destination} dims)"
        )
    sources = [_wrap_dim(d, ndim) for d in source]
    targets = [_wrap_dim(d, ndim) for d in destination]
    for name, given, wrapped in (("source", source, sources),
                                 ("destination", destination, targets)):
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    if ndim == 0:
        return alias(input)
    order: list[int | None] = [None] * ndim
    for src, dst in zip(sources, targets):
        order[dst] = src
    rest = iter(d for d in range(ndim) if d not in sources)
    return permute(input, tuple(d if d is not None else next(rest) for d in order))


class Transpose(Function):
    node_name = "TransposeBackward0"
    saved_fields = fields(dim0=Computed(lambda node: node.swap[0]),
                          dim1=Computed(lambda node: node.swap[1]))

    # memory_report: the gradient handed on is a view of the one received.
    backward_is_view = True

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim0: int, dim1: int) -> Any:
        ctx.swap = (dim0, dim1)
        order = list(range(a.ndim))
        if a.ndim:
            order[dim0], order[dim1] = order[dim1], order[dim0]
        return ctx.backend.permute_dims(a, tuple(order))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.transpose(*ctx.swap)


class T(Transpose):
    node_name = "TBackward0"
    saved_fields = fields()


# The in-place forms (t_, transpose_, unsqueeze_, squeeze_) change a tensor's shape to its view's
# and record the same ops under PyTorch's names for them.
class TransposeInPlace(Transpose):
    node_name = "TransposeBackward1"


class TInPlace(T):
    node_name = "TBackward1"


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    if type(input._data) is SparseCompressed:
        ndim = input._data.ndim
        return compressed_transpose(input, _wrap_dim(dim0, ndim), _wrap_dim(dim1, ndim))
    if input.is_sparse:
        ndim = input._data.ndim
        return sparse_transpose(input, _wrap_dim(dim0, ndim), _wrap_dim(dim1, ndim),
                                SparseTranspose)
    return transposed(input, dim0, dim1, Transpose)


def transposed(input: Tensor, dim0: int, dim1: int, op: type[Transpose]) -> Tensor:
    """transpose's view, recorded as `op` (Transpose, or its in-place form)."""
    ndim = input._data.ndim
    dim0, dim1 = _wrap_dim(dim0, ndim), _wrap_dim(dim1, ndim)
    return view_op(op, input, dim0=dim0, dim1=dim1)


swapaxes = transpose
swapdims = transpose


def t(input: Tensor) -> Tensor:
    if type(input._data) is SparseCompressed:
        return compressed_t(input)
    if input.is_sparse:
        return sparse_t(input)
    return t_view(input, T)


def t_view(input: Tensor, op: type[T]) -> Tensor:
    """t's view, recorded as `op` (T, or its in-place form)."""
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return view_op(op, input, dim0=0, dim1=ndim - 1 if ndim else 0)


def numpy_T(input: Tensor) -> Tensor:
    ndim = input._data.ndim
    if ndim != 2 and ndim != 0:
        warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=3,
        )
    return permute(input, tuple(range(ndim - 1, -1, -1)))


def matrix_T(input: Tensor) -> Tensor:
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(
            "tensor.mT is only supported on matrices or batches of matrices. Got "
            f"{ndim}-D tensor."
        )
    return transpose(input, -2, -1)


class Unsqueeze(Function):
    node_name = "UnsqueezeBackward0"
    saved_fields = fields(dim=value("dim"))

    # memory_report: the gradient handed on is a view of the one received.
    backward_is_view = True

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int) -> Any:
        ctx.dim = dim
        backend = ctx.backend
        if 0 in a.shape:  # the new dim's stride is PyTorch's: size * stride of the dim it precedes
            strides = backend.strides(a)
            inserted = a.shape[dim] * strides[dim] if dim < a.ndim else 1
            return backend.restrided(a, (*a.shape[:dim], 1, *a.shape[dim:]),
                                      (*strides[:dim], inserted, *strides[dim:]))
        return backend.expand_dims(a, axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.squeeze(ctx.dim)


class UnsqueezeInPlace(Unsqueeze):
    node_name = "UnsqueezeBackward1"


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return unsqueezed(input, dim, Unsqueeze)


def unsqueezed(input: Tensor, dim: int, op: type[Unsqueeze]) -> Tensor:
    dim = _wrap_dim(dim, input._data.ndim + 1)
    if input._batched:
        # Inside vmap (`x.unsqueeze(0)`, one example as a batch of one): what the batching
        # rule does, the physical tensor's dim past the batch dim, without the dispatch to it
        return make_batched(unsqueezed(input._value, dim + 1, op),  # type: ignore[attr-defined]
                            input._level)  # type: ignore[attr-defined]
    return view_op(op, input, dim=dim)


class Squeeze(Function):
    node_name = "SqueezeBackward0"
    saved_fields = fields(self_sym_sizes=InputSizes())
    # The dims asked for, wrapped (squeeze(dim) of a dim that is not 1 squeezes no axis).
    dims: tuple[int, ...] = ()

    # memory_report: the gradient handed on is a view of the one received.
    backward_is_view = True

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, axes: tuple[int, ...], dims: tuple[int, ...] = ()) -> Any:
        ctx.input_shape = a.shape
        ctx.dims = dims
        if not axes:
            return ctx.backend.reshape(a, a.shape)  # a new view object, never `a` itself
        return ctx.backend.squeeze(a, axis=axes)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.reshape(ctx.input_shape)


class SqueezeDim(Squeeze):
    node_name = "SqueezeBackward1"
    saved_fields = fields(dim=Computed(lambda node: node.dims[0]), self_sym_sizes=InputSizes())


class SqueezeDims(Squeeze):
    node_name = "SqueezeBackward2"
    saved_fields = fields(dim=value("dims", int_tuple), self_sym_sizes=InputSizes())


class SqueezeInPlace(Squeeze):
    node_name = "SqueezeBackward3"


class SqueezeDimInplace(Squeeze):
    """squeeze_(dim): PyTorch numbers the in-place form's node apart (composite ops such as
    quantile end with it)."""

    node_name = "SqueezeBackward4"
    saved_fields = fields(dim=Computed(lambda node: node.dims[0]), self_sym_sizes=InputSizes())


class SqueezeDimsInPlace(Squeeze):
    node_name = "SqueezeBackward5"
    saved_fields = fields(dim=value("dims", int_tuple), self_sym_sizes=InputSizes())


_SQUEEZE_OPS = (Squeeze, SqueezeDim, SqueezeDims)
SQUEEZE_IN_PLACE_OPS = (SqueezeInPlace, SqueezeDimInplace, SqueezeDimsInPlace)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    return squeezed(input, dim, _SQUEEZE_OPS)


def squeezed(input: Tensor, dim: Any, ops: tuple[type[Squeeze], ...]) -> Tensor:
    """squeeze's view, recorded as ops[0] (every size-1 dim), ops[1] (one dim) or ops[2]
    (several dims)."""
    shape = input._data.shape
    if dim is None:
        axes = tuple(axis for axis, size in enumerate(shape) if size == 1)
        op = ops[0]
    else:
        dims = tuple(_wrap_dim(d, len(shape)) for d in ((dim,) if isinstance(dim, int) else dim))
        axes = tuple(axis for axis in dims if shape and shape[axis] == 1)
        op = ops[1] if isinstance(dim, int) else ops[2]
        return view_op(op, input, axes=axes, dims=dims)
    return view_op(op, input, axes=axes)


class Alias(Function):
    """`x[...]`: the same elements as a new view."""

    node_name = "AliasBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.reshape(a, a.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


def alias(input: Tensor) -> Tensor:
    return view_op(Alias, input)


_SUBCLASS_NOT_TENSOR = ("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
_TRACKED_SUBCLASSES: dict[tuple[type, type], type] = {}


def as_subclass(input: Tensor, cls: Any) -> Tensor:
    """An alias of `input` (AliasBackward0 in the graph) whose class is `cls`. A view that
    follows its base's history keeps doing so: its class then derives from both."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(_SUBCLASS_NOT_TENSOR)
    out = alias(input)
    kind = type(out)
    if kind is Tensor or issubclass(cls, kind):
        out.__class__ = cls
    else:
        made = _TRACKED_SUBCLASSES.get((kind, cls))
        if made is None:
            made = type(cls.__name__, (kind, cls), {"__module__": cls.__module__,
                                                     "_protocol_class": cls})
            _TRACKED_SUBCLASSES[kind, cls] = made
        out.__class__ = made
    return out


# ----------------------------------------------------------------------------- at least n dims
def _at_least(ndim: int, input: Tensor) -> Tensor:
    """`input` with size-1 dims added until it has `ndim` (PyTorch's choice of where)."""
    have = input._data.ndim
    if have >= ndim:
        return input
    if have == 0:
        return reshape(input, (1,) * ndim)
    if have == 1 and ndim == 3:
        return unsqueeze(unsqueeze(input, 0), -1)
    return unsqueeze(input, 0) if ndim == 2 else unsqueeze(input, -1)


def _each(ndim: int, tensors: tuple[Any, ...]) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return _at_least(ndim, tensors[0])
    if len(tensors) == 1:
        tensors = tuple(tensors[0])
    return tuple(_at_least(ndim, tensor) for tensor in tensors)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-d one becomes shape (1,)); one tensor in, one out."""
    return _each(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims (a vector becomes a row)."""
    return _each(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims (a vector (n,) becomes (1, n, 1), a matrix (m, n, 1))."""
    return _each(3, tensors)


# ----------------------------------------------------------------------------- unfold
class Unfold(Function):
    """Tensor.unfold: every window of `size` elements, `step` apart, along `dim`; the windows'
    dim replaces `dim` and the window's elements make a new last dim. A view where the backend
    lays one over the input's memory (NumPy), else a copy (UnfoldCopy)."""

    node_name = "UnfoldBackward0"
    saved_fields = fields(dimension=value("dim"), size=value("size"), step=value("step"),
                          self_sym_sizes=InputSizes())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, size: int, step: int,
                overlap: bool = False) -> Any:
        ctx.shape, ctx.dim, ctx.size, ctx.step = a.shape, dim, size, step
        if a.ndim == 0:
            return ctx.backend.reshape(a, (1,))
        return ctx._windows(ctx.backend, a, dim, size, step)

    @staticmethod
    def _windows(backend: Any, a: Any, dim: int, size: int, step: int) -> Any:
        return backend.window_view(a, dim, size, step)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return UnfoldBackward.apply(grad, shape=ctx.shape, dim=ctx.dim, size=ctx.size,
                                    step=ctx.step)


class UnfoldCopy(Unfold):
    @staticmethod
    def _windows(backend: Any, a: Any, dim: int, size: int, step: int) -> Any:
        if 0 in a.shape:  # nothing to copy: the strides of PyTorch's view
            strides = backend.strides(a)
            shape = (*a.shape[:dim], (a.shape[dim] - size) // step + 1, *a.shape[dim + 1:], size)
            return backend.restrided(
                a, shape, (*strides[:dim], step * strides[dim], *strides[dim + 1:], strides[dim]))
        return backend.windows(a, dim, size, step)


class UnfoldBackward(Function):
    """The sum of the windows' gradients back at the positions they cover."""

    node_name = "UnfoldBackwardBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, grad: Any, *, shape: tuple[int, ...], dim: int, size: int,
                step: int) -> Any:
        backend = ctx.backend
        ctx.dim, ctx.size, ctx.step = dim, size, step
        if not shape:
            return backend.reshape(grad, ())
        # With `dim` first: the windows' gradients (count, size, rest...) are added into rows
        # start + 0..size-1 of a zero tensor, then `dim` goes back in place.
        rest = [axis for axis in range(len(shape)) if axis != dim]
        out = backend.zeros((shape[dim], *(shape[axis] for axis in rest)),
                            backend.dtype_name(grad))
        count = grad.shape[dim]
        if count and size:
            starts = backend.reshape(backend.arange(0, count * step, step, "int64"), (count, 1))
            offsets = backend.reshape(backend.arange(0, size, 1, "int64"), (1, size))
            windows = backend.permute_dims(grad, (dim, grad.ndim - 1, *rest))
            backend.index_add(out, backend.add(starts, offsets), windows)
        inverse = [0] * len(shape)
        for position, axis in enumerate((dim, *rest)):
            inverse[axis] = position
        return backend.asarray(backend.permute_dims(out, tuple(inverse)), copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        if grad.ndim == 0:
            return grad.reshape(1)
        return UnfoldCopy.apply(grad, dim=ctx.dim, size=ctx.size, step=ctx.step)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Tensor.unfold: the windows of `size` elements `step` apart along `dimension`."""
    shape = input._data.shape
    dim = _wrap_dim(dimension, len(shape))
    length = shape[dim] if shape else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(
            f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    options = {"dim": dim, "size": int(size), "step": int(step), "overlap": step < size}
    try:
        return view_op(Unfold, input, **options)
    except NOT_VIEWABLE:
        return UnfoldCopy.apply(input, **options)
