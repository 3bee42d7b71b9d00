"""`tensor[key]` and `tensor[key] = value`, with PyTorch's rules.

A key is applied in two stages, as PyTorch does: first the basic entries, each a view op of its
own (an int selects, a slice slices, None unsqueezes, Ellipsis skips dims), then, if there are
any, the advanced entries (integer arrays, lists, boolean masks) in one `Index` op over the
result. Advanced entries broadcast together; their dims go where the first one was when they
are adjacent and to the front otherwise (NumPy's rule, applied after the ints are gone).

The gradient of an advanced index is a scatter-add (`Backend.index_add`), so repeated indices
accumulate. Assignment is an in-place op: a basic key writes through a view (`copy_`, giving
the base a CopySlices node), an advanced key is `index_put_` (IndexPutBackward0).
"""

from __future__ import annotations

import numbers
from typing import Any

from backends import broadcast_shapes

from .. import dtypes
from ..batching.batched_tensor import BatchedArray
from ..batching.dispatch import all_examples, indexing_op
from ..function import Function
from ..jvp_rules import auto_linear
from ..saved_fields import Computed, InputSizes, fields, value
from ..tensor import Tensor, _wrap, _wrap_dim
from . import inplace, sparse_indexing
from ._promotion import checked_number
from .conversion import clone
from .shape import alias, unsqueeze, view_op
from .sparse_compressed import CompressedSelectForm

_FULL = slice(None)


class FirstClassIndexing:
    """Where keys with first-class dims (autodiff.functorch.dim) go: that package registers
    its functions when imported (ops never import it); until then no key can hold one."""

    def __init__(self) -> None:
        self.active = False
        self.holds: Any = None
        self.getitem: Any = None
        self.setitem: Any = None

    def register(self, holds: Any, getitem: Any, setitem: Any) -> None:
        self.holds, self.getitem, self.setitem = holds, getitem, setitem
        self.active = True


first_class = FirstClassIndexing()


# ----------------------------------------------------------------------------- index arrays
def index_array(backend: Any, index: Any, op: str = "index") -> Any:
    """A Tensor, array or (nested) list of indices as an array on `backend`; an index Tensor
    of another device follows `op`'s device rule (`index_on_device`)."""
    if isinstance(index, Tensor):
        array = index._data
        if index._backend is not backend:
            array = index_on_device(op, backend, index)
    else:
        array = backend.asarray(_plain(index))
        if array.size == 0 and backend.dtype_name(array) == "float64":  # `[]`
            return backend.astype(array, "int64")
    if not (backend.is_integer(array.dtype) or backend.is_bool(array.dtype)):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return array


# The method PyTorch's generated device check names, for the ops that want the input's device.
_CHECKED_METHODS = {
    "index_select": "_index_select", "embedding": "_index_select", "gather": "gather",
    "scatter": "scatter_src", "scatter_value": "scatter_value", "scatter_add": "scatter_add",
    "index_add": "index_add", "take": "_take", "put_": "_put_", "index_copy_": "index_copy",
    "scatter_reduce": "scatter_reduce_two", "index_reduce": "index_reduce",
}


def index_on_device(op: str, backend: Any, index: Tensor) -> Any:
    """The array of `index`, a Tensor of another device than the input's (on `backend`),
    under PyTorch's device rule, with PyTorch's message where it refuses:

    - advanced indexing (`op` "index": `x[i]`, `x[i] = v`, `index_put_`) takes an index on the
      CPU, which is moved to the input's device, and a 0-d index from any device (PyTorch
      reads it as a number);
    - every other op ("gather", "index_select", "scatter", "take_along_dim", "masked_fill",
      ...) takes only indices on the input's own device.

    One difference: PyTorch's `index_put_` (so `x[i] = v`) moves an index from any device
    without a check; here it follows the indexing rule, as `x[i]` does."""
    source = index._backend.device
    if op == "index" and (source.type == "cpu" or index._data.ndim == 0):
        return backend.transfer(index._data, index._backend)
    raise _device_error(op, backend.device, source)


def same_device_index(op: str, input: Tensor, index: Any) -> None:
    """Refuse, with `op`'s message, an index Tensor that is not on `input`'s device."""
    if isinstance(index, Tensor) and index._backend is not input._backend:
        raise _device_error(op, input._backend.device, index._backend.device)


def _device_error(op: str, target: Any, source: Any) -> RuntimeError:
    """PyTorch's error for an index of `op` on device `source`, the input being on `target`."""
    if op == "index":
        return RuntimeError("indices should be either on cpu or on the same device as the "
                            f"indexed tensor ({target})")
    if op == "take_along_dim":
        return RuntimeError(f"Expected tensor to have {target} Device, but got tensor with "
                            f"{source} Device (while checking arguments for "
                            "torch.take_along_dim():)")
    if op == "masked_fill":
        return RuntimeError("expected self and mask to be on the same device, but got mask on "
                            f"{source} and self on {target}")
    # The dispatcher picks the kernel of the non-CPU device, whose wrapper checks devices.
    key = (target if target.type != "cpu" else source).type.upper()
    return RuntimeError(
        f"Expected all tensors to be on the same device, but got index is on {source}, "
        f"different from other tensors on {target} (when checking argument in method "
        f"wrapper_{key}_{_CHECKED_METHODS[op]})"
    )


def _plain(index: Any) -> Any:
    if isinstance(index, (list, tuple, range)):
        return [_plain(item) for item in index]
    if isinstance(index, Tensor):
        return index.tolist()
    return index


def out_of_bounds(backend: Any, index: Any, size: int, allow_negative: bool = True) -> Any:
    """The first index outside [-size, size) (or [0, size)), or None when all are in range."""
    if type(index) is BatchedArray:  # one index per example (vmap): every example's checked
        index = all_examples(index.tensor)._data
    if index.size == 0:
        return None
    low = -size if allow_negative else 0
    bad = backend.logical_or(backend.less(index, low), backend.greater_equal(index, size))
    if not backend.any_true(bad):
        return None
    return backend.item(backend.getitem(index, bad)[0])


def wrap_negative(backend: Any, index: Any, size: int) -> Any:
    if type(index) is BatchedArray:  # one index per example (vmap): batched ops
        tensor = index.tensor
        return tensor.where(tensor >= 0, tensor + size)._data
    return backend.where(backend.less(index, 0), backend.add(index, size), index)


def zeros(backend: Any, shape: tuple[int, ...], like: Any) -> Tensor:
    return _wrap(backend.zeros(shape, backend.dtype_name(like)), backend)


def expand_ellipsis(key: tuple[Any, ...], rank: int) -> tuple[Any, ...]:
    """A key of full slices, one Ellipsis at most and index arrays as one entry per dim (the
    Ellipsis and the missing trailing dims as full slices)."""
    for at, entry in enumerate(key):
        if entry is Ellipsis:
            key = (*key[:at], *(_FULL,) * (rank - len(key) + 1), *key[at + 1:])
            break
    return (*key, *(_FULL,) * (rank - len(key)))


def full_index_key(backend: Any, shape: tuple[int, ...], key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A key of full slices (or Ellipsis) and index arrays as one integer array per dim, each
    shaped so that they broadcast to exactly NumPy's result for `key`.

    The array API defines integer-array indexing only for such keys (no slices among the
    arrays), so every backend takes them; scatter-add and assignment use the same key.
    """
    key = expand_ellipsis(key, len(shape))
    positions = [axis for axis, entry in enumerate(key) if not isinstance(entry, slice)]
    if len(positions) == len(shape):
        return key
    broadcast = broadcast_shapes(*(key[axis].shape for axis in positions)) if positions else ()
    adjacent = bool(positions) and positions == list(range(positions[0], positions[-1] + 1))
    # The index dims go where the first index array was when the arrays are adjacent, else in
    # front (NumPy's rule); the sliced dims keep their order around them.
    first = positions[0] if adjacent else 0
    out_ndim = len(shape) - len(positions) + len(broadcast)
    sliced = [axis for axis in range(len(shape)) if axis not in positions]
    place = {axis: rank + (len(broadcast) if axis >= first and positions else 0)
             for rank, axis in enumerate(sliced)}
    full = []
    for axis, size in enumerate(shape):
        if axis in place:
            grid_shape = [1] * out_ndim
            grid_shape[place[axis]] = size
            full.append(backend.reshape(backend.arange(0, size, 1, "int64"), tuple(grid_shape)))
        else:
            array = key[axis]
            lead = first + len(broadcast) - array.ndim
            grid_shape = (1,) * lead + tuple(array.shape) + (1,) * (out_ndim - lead - array.ndim)
            full.append(backend.reshape(array, grid_shape))
    return tuple(full)


def take_index(backend: Any, a: Any, key: tuple[Any, ...]) -> Any:
    """`a[key]` for a key of full slices and index arrays, with NumPy's result layout, as one
    `take` along the index dims flattened together (the array API's gather; much faster than
    indexing with one array per dim)."""
    shape = a.shape
    for at, entry in enumerate(key):
        if entry is Ellipsis:
            key = (*key[:at], *(_FULL,) * (len(shape) - len(key) + 1), *key[at + 1:])
            break
    positions = [axis for axis, entry in enumerate(key) if not isinstance(entry, slice)]
    arrays = [key[axis] for axis in positions]
    if positions != list(range(positions[0], positions[-1] + 1)):  # not adjacent: to the front
        rest = [axis for axis in range(len(shape)) if axis not in positions]
        a = backend.permute_dims(a, (*positions, *rest))
        shape = a.shape
        positions = list(range(len(positions)))
    first, count = positions[0], len(positions)
    sizes = shape[first:first + count]
    linear = arrays[-1]
    stride = sizes[-1]
    for array, size in zip(arrays[-2::-1], sizes[-2::-1]):
        linear = backend.add(backend.multiply(array, stride), linear)
        stride *= size
    broadcast = broadcast_shapes(*(array.shape for array in arrays))
    if linear.shape != broadcast:
        linear = backend.broadcast_to(linear, broadcast)
    merged = 1
    for size in sizes:
        merged *= size
    flat = a if count == 1 else backend.reshape(a, (*shape[:first], merged,
                                                    *shape[first + count:]))
    out = backend.take(flat, backend.reshape(linear, (-1,)), axis=first)
    return backend.reshape(out, (*shape[:first], *broadcast, *shape[first + count:]))


def _has_arrays(key: tuple[Any, ...]) -> bool:
    return any(not isinstance(entry, (int, slice)) and entry is not Ellipsis for entry in key)


def canonical_key(backend: Any, shape: tuple[int, ...], key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Basic keys (ints, slices) as they are, with a closing Ellipsis; keys with index arrays
    as one index array per dim (full_index_key)."""
    if _has_arrays(key):
        return full_index_key(backend, shape, key)
    return key if any(entry is Ellipsis for entry in key) else (*key, ...)


# ----------------------------------------------------------------------------- view ops
class ViewScatter(Function):
    """Zeros of `shape` with `grad` written at `key`: the backward of select/slice/diagonal."""

    node_name = "SliceScatterBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, grad: Any, *, shape: tuple[int, ...], key: tuple[Any, ...]) -> Any:
        ctx.key = key = canonical_key(ctx.backend, shape, key)
        out = ctx.backend.zeros(shape, ctx.backend.dtype_name(grad))
        ctx.backend.setitem(out, key, grad)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ViewGather.apply(grad, key=ctx.key)


class ViewGather(Function):
    """`grad[key]` for ViewScatter's key (only met when differentiating a backward)."""

    node_name = "SliceBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, key: tuple[Any, ...]) -> Any:
        ctx.key, ctx.shape = key, a.shape
        if _has_arrays(key):
            return take_index(ctx.backend, a, key)
        return ctx.backend.getitem(a, canonical_key(ctx.backend, a.shape, key))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ViewScatter.apply(grad, shape=ctx.shape, key=ctx.key)


class Select(Function):
    node_name = "SelectBackward0"
    sparse_form = sparse_indexing.SparseSelect  # no views of a sparse tensor: entries picked
    compressed_form = CompressedSelectForm()  # a batch of a batched compressed tensor
    saved_fields = fields(dim=Computed(lambda node: len(node.key) - 2),
                          index=Computed(lambda node: node.key[-2]), self_sym_sizes=InputSizes())

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, index: int) -> Any:
        # The trailing Ellipsis keeps a 0-d result an array view (NumPy would give a scalar).
        ctx.key, ctx.shape = (_FULL,) * dim + (index, ...), a.shape
        return ctx.backend.getitem(a, ctx.key)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ViewScatter.apply(grad, shape=ctx.shape, key=ctx.key)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, len(shape))
    index = int(index)
    if not -shape[dim] <= index < shape[dim]:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(shape)} at "
            f"dimension {dim}"
        )
    return view_op(Select, input, dim=dim, index=index % shape[dim])


def _key_slice(node: Any) -> slice:
    return node.key[-2]


class Slice(Function):
    node_name = "SliceBackward0"
    saved_fields = fields(
        dim=value("key", lambda key: len(key) - 2), start=value("given", lambda given: given[0]),
        end=value("given", lambda given: given[1]),
        step=Computed(lambda node: _key_slice(node).step), self_sym_sizes=value("shape", tuple))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, start: int, stop: int, step: int,
                given: tuple[int, int] | None = None) -> Any:
        """`given`: the start and end as the caller wrote them (`given_bounds`), which
        PyTorch's node keeps; the clamped ones where None."""
        ctx.key, ctx.shape = (*(_FULL,) * dim, slice(start, stop, step), ...), a.shape
        ctx.given = (start, stop) if given is None else given
        return ctx.backend.getitem(a, ctx.key)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ViewScatter.apply(grad, shape=ctx.shape, key=ctx.key)


def given_bounds(item: slice) -> tuple[int, int]:
    """A Python slice's start and end as PyTorch's slice node keeps them: as written, 0 and
    the largest int64 for those left out."""
    return (0 if item.start is None else int(item.start),
            _INT64_MAX if item.stop is None else int(item.stop))


_INT64_MAX = 2**63 - 1


def slice_bounds(item: slice, size: int) -> tuple[int, int, int]:
    step = 1 if item.step is None else int(item.step)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    start, stop, _ = slice(
        None if item.start is None else int(item.start),
        None if item.stop is None else int(item.stop),
    ).indices(size)
    return start, max(stop, start), step


def _narrow_bounds(input: Tensor, dim: int, start: Any, length: int) -> tuple[int, int, int]:
    """(dim, start, stop) of narrow's slice, after PyTorch's checks."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, len(shape))
    size = shape[dim]
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return dim, start, start + length


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    dim, start, stop = _narrow_bounds(input, dim, start, length)
    return view_op(Slice, input, dim=dim, start=start, stop=stop, step=1)


class NarrowCopy(Function):
    """narrow as a copy (no memory shared)."""

    node_name = "NarrowCopyBackward0"
    saved_fields = fields(
        dim=value("key", lambda key: len(key) - 2),
        start=Computed(lambda node: _key_slice(node).start),
        length=Computed(lambda node: _key_slice(node).stop - _key_slice(node).start),
        self_sym_sizes=value("shape", tuple))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, dim: int, start: int, stop: int) -> Any:
        ctx.key, ctx.shape = (*(_FULL,) * dim, slice(start, stop, 1), ...), a.shape
        return ctx.backend.asarray(ctx.backend.getitem(a, ctx.key), copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return ViewScatter.apply(grad, shape=ctx.shape, key=ctx.key)


def narrow_copy(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """narrow's elements as a new tensor."""
    dim, start, stop = _narrow_bounds(input, dim, start, length)
    return NarrowCopy.apply(input, dim=dim, start=start, stop=stop)


# ----------------------------------------------------------------------------- advanced indexing
def _index_tensors(attribute: str) -> Computed:
    """An advanced key (kept on the node as `attribute`) as PyTorch's index nodes save it: a
    tuple with a tensor per indexed dim and None per sliced one, up to the last tensor."""
    def read(node: Any) -> tuple[Tensor | None, ...]:
        entries = [None if isinstance(entry, slice) or entry is Ellipsis
                   else _wrap(entry, node.backend) for entry in getattr(node, attribute)]
        while entries and entries[-1] is None:
            entries.pop()
        return tuple(entries)

    return Computed(read, tensor=True)


class Index(Function):
    node_name = "IndexBackward0"
    saved_fields = fields(indices=_index_tensors("key"), self_sym_sizes=value("shape", tuple))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, key: tuple[Any, ...]) -> Any:
        ctx.key, ctx.shape = key, a.shape
        return take_index(ctx.backend, a, key)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        # A scatter-add into zeros: repeated indices accumulate their gradients.
        # Inside vmap the gradient holds one example per row while the zeros are shared:
        # out of place there (as PyTorch's index_backward for a batched gradient), so each
        # example gets its own copy.
        target = zeros(grad._backend, ctx.shape, grad._data)
        return IndexPut.apply(target, grad, key=ctx.key, accumulate=True,
                              inplace=not grad._batched)


class IndexPut(Function):
    """`a[key] = values` (or `+=` with accumulate); in place when `inplace` (index_put_)."""

    node_name = "IndexPutBackward0"
    saved_fields = fields(indices=_index_tensors("given_key"),
                          accumulate=value("accumulate"))

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, values: Any, *, key: tuple[Any, ...], accumulate: bool,
                inplace: bool = False) -> Any:
        backend = ctx.backend
        ctx.given_key = key
        ctx.key = key = full_index_key(backend, a.shape, key)
        ctx.accumulate = accumulate
        out = a if inplace else backend.asarray(a, copy=True)
        if values.dtype != a.dtype:
            values = backend.astype(values, backend.dtype_name(a))
        if accumulate:
            backend.index_add(out, key, values)
        else:
            backend.setitem(out, key, values)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_values = ctx.needs_input_grad
        grad_input = None
        if needs_input:
            grad_input = grad if ctx.accumulate else IndexPut.apply(
                grad, zeros(grad._backend, (), grad._data), key=ctx.key, accumulate=False)
        grad_values = Index.apply(grad, key=ctx.key) if needs_values else None
        return grad_input, grad_values


def index_result_shape(shape: tuple[int, ...], key: tuple[Any, ...]) -> tuple[int, ...]:
    """The shape of `x[key]` for a key of full slices and index arrays (NumPy's rule)."""
    positions = [axis for axis, entry in enumerate(key) if not isinstance(entry, slice)]
    broadcast = broadcast_shapes(*(key[axis].shape for axis in positions))
    rest = [size for axis, size in enumerate(shape) if axis not in positions]
    if positions == list(range(positions[0], positions[-1] + 1)):
        return tuple(shape[:positions[0]]) + broadcast + tuple(shape[positions[-1] + 1:])
    return broadcast + tuple(rest)


# ----------------------------------------------------------------------------- keys
def _is_index_like(item: Any) -> bool:
    """A Tensor or an array (a NumPy scalar is a number, not an array of indices)."""
    return isinstance(item, Tensor) or (hasattr(item, "shape") and hasattr(item, "dtype")
                                        and not isinstance(item, numbers.Number))


def _as_tuple(key: Any) -> tuple[Any, ...]:
    """PyTorch's treatSequenceAsTuple: a short list holding slices, None, Ellipsis, tensors
    or sequences is a tuple of indices; any other list is one index array."""
    if type(key) is tuple:
        return key
    if isinstance(key, list) and len(key) < 32 and any(
        item is None or item is Ellipsis or isinstance(item, (slice, list, tuple, range))
        or _is_index_like(item) for item in key
    ):
        return tuple(key)
    return (key,)


def _classify(backend: Any, item: Any) -> tuple[str, Any]:
    """('int', n), ('slice', s), ('none', None), ('ellipsis', None), ('bool', b) or
    ('array', array) for one entry of a key."""
    if item is None:
        return "none", None
    if item is Ellipsis:
        return "ellipsis", None
    if isinstance(item, slice):
        return "slice", item
    if isinstance(item, bool):
        return "bool", item
    if isinstance(item, int):
        return "int", item
    if isinstance(item, range):  # a sequence, as PyTorch reads it
        item = list(item)
    if isinstance(item, (list, tuple)) or _is_index_like(item):
        array = index_array(backend, item)
        name = backend.dtype_name(array)
        if array.ndim == 0:
            if name == "bool":
                return "bool", bool(backend.item(array))
            return "int", int(backend.item(array))
        return "array", array
    if hasattr(item, "__index__"):
        return "int", item.__index__()
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
        f"valid indices (got {type(item).__name__})"
    )


def _consumed(backend: Any, kind: str, value: Any) -> int:
    if kind in ("int", "slice"):
        return 1
    if kind == "array":
        return value.ndim if backend.dtype_name(value) in ("bool", "uint8") else 1
    return 0


def apply_basic(tensor: Tensor, key: Any) -> tuple[Tensor, tuple[Any, ...] | None, bool]:
    """Apply the basic entries of `key` as view ops. Returns the view, the advanced key over
    it (full slices and index arrays; None when there is none), and whether any view op ran."""
    backend = tensor._backend
    entries = [_classify(backend, item) for item in _as_tuple(key)]
    ndim = tensor._data.ndim
    consumed = sum(_consumed(backend, kind, value) for kind, value in entries)
    ellipses = sum(kind == "ellipsis" for kind, _ in entries)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        if ndim == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    result = tensor
    dim = 0
    advanced: dict[int, Any] = {}
    applied = False
    for kind, item in entries:
        if kind == "int":
            size = result._data.shape[dim]
            if not -size <= item < size:
                raise IndexError(
                    f"index {item} is out of bounds for dimension {dim} with size {size}"
                )
            result = view_op(Select, result, dim=dim, index=item % size)
            applied = True
        elif kind == "slice":
            size = result._data.shape[dim]
            start, stop, step = slice_bounds(item, size)
            if (start, stop, step) != (0, size, 1):  # a full slice is skipped
                result = view_op(Slice, result, dim=dim, start=start, stop=stop, step=step,
                                 given=given_bounds(item))
                applied = True
            dim += 1
        elif kind == "none" or kind == "bool":
            result = unsqueeze(result, dim)
            applied = True
            if kind == "bool":  # x[True] adds a dim of 1, x[False] one of 0
                advanced[dim] = backend.asarray([0] if item else [], dtype="int64")
            dim += 1
        elif kind == "ellipsis":
            dim += ndim - consumed
        else:
            dim = _add_advanced(result, dim, item, advanced)
    if not advanced:
        return result, None, applied
    shapes = [array.shape for array in advanced.values()]
    try:
        broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes "
            + ", ".join(str(list(shape)) for shape in shapes)
        ) from None
    last = max(advanced)
    key_out = tuple(advanced.get(axis, _FULL) for axis in range(last + 1))
    return result, key_out, applied


def _add_advanced(tensor: Tensor, dim: int, array: Any, advanced: dict[int, Any]) -> int:
    """Record an index array (or a mask, as the index arrays of its True elements) at `dim`;
    return the next dim."""
    backend = tensor._backend
    shape = tensor._data.shape
    if backend.dtype_name(array) in ("bool", "uint8"):
        mask_shape = array.shape
        for offset, size in enumerate(mask_shape):
            if dim + offset >= len(shape) or shape[dim + offset] != size:
                raise IndexError(
                    f"The shape of the mask {list(mask_shape)} at index {offset} does not match "
                    f"the shape of the indexed tensor {list(shape)} at index {dim + offset}"
                )
        if backend.dtype_name(array) == "uint8":
            array = backend.not_equal(array, 0)
        for offset, positions in enumerate(backend.nonzero(array)):
            advanced[dim + offset] = positions
        return dim + len(mask_shape)
    size = shape[dim]
    bad = out_of_bounds(backend, array, size)
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
    advanced[dim] = wrap_negative(backend, array, size)
    return dim + 1


@indexing_op
def getitem(tensor: Tensor, key: Any) -> Tensor:
    if type(key) is int:  # the most common key: one view op, nothing else to look at
        return select_index(tensor, key)
    if isinstance(key, slice):  # a lone slice is always a SliceBackward0, even when full
        shape = tensor._data.shape
        if not shape:
            return getitem(tensor, (key,))
        start, stop, step = slice_bounds(key, shape[0])
        return view_op(Slice, tensor, dim=0, start=start, stop=stop, step=step,
                       given=given_bounds(key))
    if key is Ellipsis:
        return alias(tensor)
    if first_class.active and first_class.holds(key):
        return first_class.getitem(tensor, key)
    result, advanced, applied = apply_basic(tensor, key)
    if advanced is not None:
        return Index.apply(result, key=advanced)
    return result if applied else alias(result)


def select_index(tensor: Tensor, index: int) -> Tensor:
    shape = tensor._data.shape
    if not shape:
        return getitem(tensor, (index,))
    if not -shape[0] <= index < shape[0]:
        raise IndexError(f"index {index} is out of bounds for dimension 0 with size {shape[0]}")
    return view_op(Select, tensor, dim=0, index=index % shape[0])


# ----------------------------------------------------------------------------- assignment
@indexing_op
def setitem(tensor: Tensor, key: Any, value: Any) -> None:
    if first_class.active and (first_class.holds(key) or first_class.holds(value)):
        first_class.setitem(tensor, key, value)
        return
    source = value if isinstance(value, Tensor) else None
    value = _value_tensor(tensor, value)
    if key is Ellipsis:
        inplace.copy_(tensor, value)
        return
    if isinstance(key, slice) or type(key) is int:
        target, advanced = getitem(tensor, key), None
    else:
        target, advanced, _ = apply_basic(tensor, key)
    if advanced is None:
        inplace.copy_(target, _expand_value(value, target._data.shape))
    else:
        if source is not None:
            _check_put_dtype(tensor, key, source)
        put_(target, advanced, value)


def _check_put_dtype(tensor: Tensor, key: Any, source: Tensor,
                     accumulate: bool = False) -> None:
    """PyTorch's index_put_ takes a source of the destination's dtype only, unless it becomes
    masked_fill_ (not accumulating, a one-element source, one boolean mask as the only index
    tensor beside ints, slices and ellipses)."""
    if source.dtype is tensor.dtype:
        return
    items = key if isinstance(key, tuple) else (key,)
    indices = [item for item in items if isinstance(item, (Tensor, list))]
    if not accumulate and source.numel() == 1 and len(indices) == 1 and _is_mask(indices[0]):
        return
    raise RuntimeError(
        "Index put requires the source and destination dtypes match, got "
        f"{dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]} for the destination and "
        f"{dtypes.SCALAR_TYPE_NAMES[source.dtype.name]} for the source."
    )


def _is_mask(index: Any) -> bool:
    if isinstance(index, Tensor):
        return index.dtype in (dtypes.bool_, dtypes.uint8)
    return bool(index) and all(type(item) is bool for item in index)


def _value_tensor(tensor: Tensor, value: Any) -> Tensor:
    """The assigned value as a Tensor of `tensor`'s dtype (PyTorch converts it first)."""
    if isinstance(value, Tensor):
        if value._backend is not tensor._backend or value.dtype is not tensor.dtype:
            return value.to(tensor._backend.device, tensor.dtype)
        return value
    backend = tensor._backend
    value = checked_number(value, tensor.dtype.name)
    return _wrap(backend.asarray(value, dtype=backend.dtype_name(tensor._data)), backend)


def _expand_value(value: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Leading dims of size 1 are dropped, then the value must expand to the target."""
    value_shape = value._data.shape
    lead = 0
    while lead < len(value_shape) - len(shape) and value_shape[lead] == 1:
        lead += 1
    if lead:
        value = value.reshape(value_shape[lead:])
    return value.expand(shape) if value._data.shape != shape else value


def put_(tensor: Tensor, key: tuple[Any, ...], values: Tensor,
         accumulate: bool = False) -> Tensor:
    """`tensor[key] = values` in place, for a key of full slices and index arrays."""
    values = _put_values(tensor, key, values)
    return inplace.apply(
        tensor, (values,),
        lambda source: IndexPut.apply(source, values, key=key, accumulate=accumulate,
                                      inplace=True),
    )


def _put_values(tensor: Tensor, key: tuple[Any, ...], values: Tensor) -> Tensor:
    """The values of `tensor[key] = values`, checked against the indexing result's shape
    (leading dims of size 1 dropped)."""
    result_shape = index_result_shape(tensor._data.shape, key)
    values_shape = values._data.shape
    trimmed = values_shape
    while len(trimmed) > len(result_shape) and trimmed[0] == 1:
        trimmed = trimmed[1:]
    if len(trimmed) > len(result_shape) or any(
        size not in (1, target) for size, target in zip(trimmed[::-1], result_shape[::-1])
    ):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(values_shape)} cannot be broadcast to "
            f"indexing result of shape {list(result_shape)}"
        )
    if trimmed != values_shape:
        values = values.reshape(trimmed)
    return values


def index_put_(tensor: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """Tensor.index_put_: `indices` is a tuple of index tensors (None for a whole dim)."""
    _check_put_dtype(tensor, tuple(indices), values, accumulate)
    _, key, _ = apply_basic(tensor, tuple(_FULL if i is None else i for i in indices))
    if key is None:
        key = tuple(_FULL for _ in indices)
    return put_(tensor, key, values, accumulate)


def index_put(tensor: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """Tensor.index_put: index_put_ on a copy. Inside vmap one op out of place, so an
    unbatched tensor takes values that vary over the examples (a copy per example)."""
    if not (tensor._batched or getattr(values, "_batched", False)
            or any(getattr(index, "_batched", False) for index in indices)):
        return index_put_(clone(tensor), indices, values, accumulate)
    _check_put_dtype(tensor, tuple(indices), values, accumulate)
    _, key, _ = apply_basic(tensor, tuple(_FULL if i is None else i for i in indices))
    if key is None:
        key = tuple(_FULL for _ in indices)
    values = _put_values(tensor, key, values)
    return IndexPut.apply(tensor, values, key=key, accumulate=accumulate)


def torch_index_put_(input: Tensor, indices: Any, values: Tensor,
                     accumulate: bool = False) -> Tensor:
    """torch.index_put_(input, indices, values, accumulate=False)."""
    _check_put_arguments("index_put_", input, values)
    return index_put_(input, indices, values, accumulate)


def torch_index_put(input: Tensor, indices: Any, values: Tensor,
                    accumulate: bool = False) -> Tensor:
    """torch.index_put(input, indices, values, accumulate=False)."""
    _check_put_arguments("index_put", input, values)
    return index_put(input, indices, values, accumulate)


def _check_put_arguments(function: str, input: Any, values: Any) -> None:
    for name, position, argument in (("input", 1, input), ("values", 3, values)):
        if not isinstance(argument, Tensor):
            raise TypeError(f"{function}(): argument '{name}' (position {position}) must be "
                            f"Tensor, not {type(argument).__name__}")
