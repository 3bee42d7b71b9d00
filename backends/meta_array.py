"""`MetaArray`, the meta device's array: a shape, a dtype and strides, and one element of memory.

It is a NumPy array whose strides are all 0 over a single element, so it costs O(1) memory
whatever its shape, and NumPy code runs on it unchanged. What would compute values is answered
from shapes and dtypes alone, never by touching an element per position:

- ufuncs (`__array_ufunc__`): the dtype from the ufunc run on 0-d samples of the operands' dtypes,
  the shape from broadcasting (reductions, accumulations, `outer`, `at`, matmul likewise);
- NumPy functions (`__array_function__`): a shape rule for each that makes arrays in C
  (`RULES`); the rest run NumPy's own Python over MetaArrays, and whatever plain array comes out
  is replaced by a blank of its shape and dtype;
- the array's own methods that copy (astype, copy, repeat, argmax, ...) and indexing.

The strides PyTorch would report (`layout`, in elements) are carried beside the zero ones NumPy
sees: contiguous for a new array, computed for a view by applying the view to a stand-in that
has those strides and no memory that is ever read, and PyTorch's TensorIterator rule for an
elementwise result (the inputs' memory order). Values are never read: item(), tolist() and
truth tests raise PyTorch's errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .base import contiguous_strides

Shape = tuple[int, ...]

ITEM_ERROR = "Tensor.item() cannot be called on meta tensors"



class MetaArray(np.ndarray):
    """An array of a shape and dtype with no values (see the module docstring)."""

    _layout: Shape | None = None  # None: contiguous

    def __array_finalize__(self, obj: Any) -> None:
        self._layout = None

    # ------------------------------------------------------------------ layout
    @property
    def layout(self) -> Shape:
        """The strides, in elements, PyTorch gives this tensor."""
        layout = self._layout
        if layout is None or len(layout) != self.ndim:
            return contiguous_strides(self.shape)
        return layout

    def _stand_in(self) -> np.ndarray:
        """A plain array with this shape and `layout` as its strides. Its memory is one
        element and is never read: only views are taken of it, to read their strides."""
        itemsize = self.dtype.itemsize
        return np.lib.stride_tricks.as_strided(
            np.zeros(1, self.dtype), self.shape, tuple(s * itemsize for s in self.layout))

    def _viewed(self, view: Callable[[np.ndarray], np.ndarray]) -> MetaArray:
        """`view` applied to this array and to its stand-in (for the strides)."""
        result = view(self.view(np.ndarray))
        shaped = view(self._stand_in())
        return blank(result.shape, result.dtype,
                     tuple(s // max(shaped.itemsize, 1) for s in shaped.strides))

    def transpose(self, *axes: Any) -> MetaArray:
        return self._viewed(lambda a: a.transpose(*axes))

    def swapaxes(self, axis1: Any, axis2: Any) -> MetaArray:
        return self._viewed(lambda a: a.swapaxes(axis1, axis2))

    def diagonal(self, *args: Any, **kwargs: Any) -> MetaArray:
        return self._viewed(lambda a: a.diagonal(*args, **kwargs))

    def squeeze(self, *args: Any, **kwargs: Any) -> MetaArray:
        return self._viewed(lambda a: a.squeeze(*args, **kwargs))

    @property
    def T(self) -> MetaArray:
        return self.transpose()

    @property
    def mT(self) -> MetaArray:
        return self.swapaxes(-1, -2)

    # (NumPy's real and imag are settable; a MetaArray's are views with their own strides)
    @property  # type: ignore[misc]
    def real(self) -> MetaArray:  # type: ignore[override]
        return self._viewed(lambda a: a.real)

    @property  # type: ignore[misc]
    def imag(self) -> MetaArray:  # type: ignore[override]
        return self._viewed(lambda a: a.imag)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs:
            return super().view(type(self))
        kind = args[0] if args else kwargs.get("dtype", kwargs.get("type"))
        if isinstance(kind, type) and issubclass(kind, np.ndarray):
            return super().view(*args, **kwargs)
        return self._viewed(lambda a: a.view(*args, **kwargs))

    def reshape(self, *shape: Any, **kwargs: Any) -> MetaArray:
        copy = kwargs.pop("copy", None)
        result = self.view(np.ndarray).reshape(*shape, **kwargs)
        try:  # a view where the strides allow one; PyTorch's reshape copies otherwise
            layout = self._stand_in().reshape(result.shape, copy=False).strides
            layout = tuple(s // self.dtype.itemsize for s in layout)
        except ValueError:
            if copy is False:
                raise
            layout = None
        return blank(result.shape, result.dtype, None if copy else layout)

    def ravel(self, order: Any = "C") -> MetaArray:
        return self.reshape(-1)

    def flatten(self, order: Any = "C") -> MetaArray:
        return blank((self.size,), self.dtype)

    def __getitem__(self, key: Any) -> Any:
        if _is_basic(key):
            return self._viewed(lambda a: a[key])
        keys = key if isinstance(key, tuple) else (key,)
        if any(isinstance(item, MetaArray) and item.dtype == np.bool_ for item in keys):
            _nonzero(key)
        return blank(_advanced_shape(self.shape, key), self.dtype)

    def __setitem__(self, key: Any, value: Any) -> None:
        if _is_basic(key):
            self[key]  # the index is checked; nothing is written

    # ------------------------------------------------------------------ copies
    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> MetaArray:
        return blank(self.shape, np.dtype(dtype), self.layout)

    def copy(self, order: Any = "C") -> MetaArray:
        return blank(self.shape, self.dtype, self.layout if order in ("K", "A") else None)

    def __copy__(self) -> MetaArray:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> MetaArray:
        return self.copy()

    def fill(self, value: Any) -> None:
        pass

    def repeat(self, repeats: Any, axis: Any = None) -> MetaArray:
        return _repeat(self, repeats, axis)

    def argmax(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        return _index_reduction(self, axis, keepdims)

    def argmin(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        return _index_reduction(self, axis, keepdims)

    def take(self, indices: Any, axis: Any = None, out: Any = None, mode: Any = "raise") -> Any:
        return _take(self, indices, axis)

    def sort(self, axis: Any = -1, kind: Any = None, order: Any = None, **kw: Any) -> None:
        pass  # in place: nothing to move

    def argsort(self, axis: Any = -1, kind: Any = None, order: Any = None,
                **kw: Any) -> MetaArray:
        return blank(self.shape if axis is not None else (self.size,), np.intp)

    # ------------------------------------------------------------------ no values
    def item(self, *args: Any) -> Any:
        raise RuntimeError(ITEM_ERROR)

    def tolist(self) -> Any:
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def __bool__(self) -> bool:
        raise RuntimeError(ITEM_ERROR)

    def __float__(self) -> float:
        raise RuntimeError(ITEM_ERROR)

    def __int__(self) -> int:
        raise RuntimeError(ITEM_ERROR)

    def __index__(self) -> int:
        raise RuntimeError(ITEM_ERROR)

    def __complex__(self) -> complex:
        raise RuntimeError(ITEM_ERROR)

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype}, strides={self.layout})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        return blank, (self.shape, self.dtype, self._layout)

    # ------------------------------------------------------------------ NumPy protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rule = RULES.get(func)
        if rule is not None:
            return rule(*args, **kwargs)
        if func.__module__.startswith("numpy.linalg"):  # factorizations: on stand-in values
            return blanked(func(*_stand_ins(args), **kwargs))
        return blanked(super().__array_function__(func, types, args, kwargs))


def blank(shape: Sequence[int], dtype: Any, layout: Sequence[int] | None = None) -> MetaArray:
    """A MetaArray of `shape` and `dtype`; `layout`: its strides (default contiguous)."""
    shape = tuple(int(size) for size in shape)
    one = np.zeros(1, dtype)
    array = np.lib.stride_tricks.as_strided(one, shape, (0,) * len(shape)).view(MetaArray)
    if layout is not None and tuple(layout) != contiguous_strides(shape):
        array._layout = tuple(int(s) for s in layout)
    return array


def blanked(result: Any) -> Any:
    """`result` with every plain NumPy array in it replaced by a MetaArray of its shape."""
    if isinstance(result, MetaArray):
        return result
    if isinstance(result, np.ndarray):  # a computed array: its shape, dtype and layout
        itemsize = result.dtype.itemsize
        layout = None if not result.size or any(
            stride <= 0 for size, stride in zip(result.shape, result.strides) if size > 1) \
            else tuple(stride // itemsize for stride in result.strides)
        return blank(result.shape, result.dtype, layout)
    if isinstance(result, tuple):
        return type(result)(*map(blanked, result)) if hasattr(result, "_fields") else tuple(
            map(blanked, result))
    if isinstance(result, list):
        return [blanked(item) for item in result]
    return result


def plain(obj: Any) -> Any:
    """`obj` with each MetaArray seen as the plain stride-0 NumPy array it is."""
    if isinstance(obj, MetaArray):
        return obj.view(np.ndarray)
    if isinstance(obj, tuple):
        return tuple(plain(item) for item in obj)
    if isinstance(obj, list):
        return [plain(item) for item in obj]
    return obj


def stand_in(obj: Any) -> Any:
    """A plain array of `obj`'s shape and dtype with values every factorization and solve
    accepts, for NumPy and LAPACK code that needs some: identity matrices, and integers
    1, 2, ... along the last dim (pivots that exchange no rows: LAPACK does not check them,
    and zeros would make it write out of bounds)."""
    if not isinstance(obj, MetaArray):
        return obj
    if obj.dtype.kind in "iu" and obj.ndim:
        pivots = np.arange(1, obj.shape[-1] + 1, dtype=obj.dtype)
        return np.ascontiguousarray(np.broadcast_to(pivots, obj.shape))
    if obj.ndim < 2:
        return np.zeros(obj.shape, obj.dtype)
    eye = np.eye(obj.shape[-2], obj.shape[-1], dtype=obj.dtype)
    return np.ascontiguousarray(np.broadcast_to(eye, obj.shape))


def _stand_ins(obj: Any) -> Any:
    if isinstance(obj, (tuple, list)):
        return type(obj)(_stand_ins(item) for item in obj)
    return stand_in(obj)


# --------------------------------------------------------------------------- indexing
def _is_basic(key: Any) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return all(
        item is None or item is Ellipsis or isinstance(item, slice)
        or (isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)))
        for item in keys)


def _advanced_shape(shape: Shape, key: Any) -> Shape:
    """The shape NumPy's advanced indexing gives (no element read, nothing allocated)."""
    keys = list(key) if isinstance(key, tuple) else [key]
    entries: list[Any] = []
    for item in keys:
        if isinstance(item, (list, tuple, bool, np.bool_)):
            item = np.asarray(item)
        entries.append(item)

    def consumed(item: Any) -> int:
        if item is None or item is Ellipsis:
            return 0
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            return item.ndim
        return 1

    used = sum(consumed(item) for item in entries)
    if used > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {used} were indexed")
    if Ellipsis in [e for e in entries if not isinstance(e, np.ndarray)]:
        at = next(i for i, e in enumerate(entries) if e is Ellipsis)
        entries[at:at + 1] = [slice(None)] * (len(shape) - used)
    else:
        entries += [slice(None)] * (len(shape) - used)
    out: list[Any] = []  # sizes, and "A" where the advanced indices' shape goes
    advanced: list[Shape] = []
    positions: list[int] = []
    dim = 0
    for item in entries:
        if item is None:
            out.append(1)
        elif isinstance(item, slice):
            out.append(len(range(*item.indices(shape[dim]))))
            dim += 1
        elif isinstance(item, np.ndarray) and item.dtype == np.bool_:
            if item.shape != shape[dim:dim + item.ndim]:
                raise IndexError("boolean index did not match indexed array")
            advanced.append((int(np.count_nonzero(item)),) if not isinstance(item, MetaArray)
                            else (0,))
            positions.append(len(out))
            out.append("A")
            dim += item.ndim
        else:
            index = np.asarray(item) if not isinstance(item, np.ndarray) else item
            if index.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            if index.ndim == 0 and not isinstance(item, np.ndarray):
                size = shape[dim]
                if not -size <= int(item) < size:
                    raise IndexError(f"index {int(item)} is out of bounds for axis {dim} "
                                     f"with size {size}")
            advanced.append(index.shape)
            positions.append(len(out))
            out.append("A")
            dim += 1
    broadcast = np.broadcast_shapes(*advanced)
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    sizes = [size for size in out if size != "A"]
    at = positions[0] if adjacent else 0
    return (*sizes[:at], *broadcast, *sizes[at:])


def _take(array: Any, indices: Any, axis: Any) -> MetaArray:
    index_shape = np.shape(indices)
    if axis is None:
        return blank(index_shape, array.dtype)
    axis = normalize_axis_index(axis, array.ndim)
    return blank((*array.shape[:axis], *index_shape, *array.shape[axis + 1:]), array.dtype)


def _repeat(array: Any, repeats: Any, axis: Any) -> MetaArray:
    if axis is None:
        array = np.ravel(array)
        axis = 0
    axis = normalize_axis_index(axis, np.ndim(array))
    shape = list(np.shape(array))
    if np.ndim(repeats) == 0 and not isinstance(repeats, MetaArray):
        shape[axis] *= int(repeats)
    elif isinstance(repeats, MetaArray):
        raise RuntimeError("cannot repeat_interleave a meta tensor without output_size")
    else:
        shape[axis] = int(np.sum(repeats))
    return blank(shape, np.asarray(array).dtype)


def _index_reduction(array: Any, axis: Any, keepdims: bool) -> Any:
    shape = np.shape(array)
    if axis is None:
        return blank((1,) * len(shape) if keepdims else (), np.intp)
    axis = normalize_axis_index(axis, len(shape))
    if not shape[axis]:
        raise ValueError("attempt to get argmax of an empty sequence")
    kept = tuple(1 if d == axis else s for d, s in enumerate(shape)) if keepdims else \
        shape[:axis] + shape[axis + 1:]
    return blank(kept, np.intp)


# --------------------------------------------------------------------------- ufuncs
def _sample(obj: Any) -> Any:
    """A stand-in of `obj`'s dtype with at most one element (a Python number stays itself:
    NumPy's promotion treats it as weak)."""
    if isinstance(obj, np.ndarray):
        return np.zeros((), obj.dtype) if obj.size else np.zeros((0,), obj.dtype)
    return obj


def _shape(obj: Any) -> Shape:
    return tuple(np.shape(obj)) if isinstance(obj, (np.ndarray, np.generic, list, tuple)) \
        else ()


def _dtypes(ufunc: np.ufunc, method: str, samples: list[Any], kwargs: dict[str, Any]) -> Any:
    with np.errstate(all="ignore"):
        result = getattr(ufunc, method)(*samples, **kwargs)
    return tuple(np.asarray(r).dtype for r in result) if ufunc.nout > 1 and method == "__call__" \
        else np.asarray(result).dtype


def _ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    out = kwargs.pop("out", None)
    if out is not None and not isinstance(out, tuple):
        out = (out,)
    where = kwargs.pop("where", True)
    if method == "at":
        return None  # in place: nothing to write
    if ufunc is np.matmul or (method == "__call__" and ufunc.signature is not None):
        # (NumPy's linear algebra gufuncs run on stand-in values: identities, never singular)
        result = _matmul(ufunc, inputs, kwargs) if ufunc is np.matmul else blanked(
            getattr(ufunc, method)(*_stand_ins(inputs), **kwargs))
        return _into(out, result)
    if method == "__call__":
        shape = np.broadcast_shapes(*(_shape(x) for x in inputs))
        if where is not True:
            shape = np.broadcast_shapes(shape, _shape(where))
        kinds = _dtypes(ufunc, method, [_sample(x) for x in inputs], kwargs)
        layout = _elementwise_layout(shape, inputs)
        if ufunc.nout > 1:
            return _into(out, tuple(blank(shape, kind, layout) for kind in kinds))
        return _into(out, blank(shape, kinds, layout))
    if method in ("reduce", "accumulate"):
        array = inputs[0]
        shape = _shape(array)
        axis = kwargs.pop("axis", 0)
        keepdims = kwargs.pop("keepdims", False)
        kwargs.pop("initial", None) if method == "accumulate" else None
        sample = np.zeros(tuple(min(size, 1) for size in shape), np.asarray(array).dtype) \
            if isinstance(array, np.ndarray) else np.asarray(array)
        if method == "accumulate":
            axis = normalize_axis_index(axis, len(shape))
            kind = _dtypes(ufunc, method, [np.zeros(1, sample.dtype)], kwargs)
            return _into(out, blank(shape, kind))
        axes = tuple(range(len(shape))) if axis is None else normalize_axis_tuple(axis, len(shape))
        reduce_kwargs = dict(kwargs)
        if where is not True:
            reduce_kwargs["where"] = np.ones(np.broadcast_shapes(sample.shape), bool)
        kind = _dtypes(ufunc, method, [sample], {**reduce_kwargs, "axis": axes})
        reduced = tuple(1 if d in axes else s for d, s in enumerate(shape)) if keepdims else \
            tuple(s for d, s in enumerate(shape) if d not in axes)
        return _into(out, blank(reduced, kind))
    if method == "outer":
        kind = _dtypes(ufunc, method, [_sample(x) for x in inputs], kwargs)
        return _into(out, blank((*_shape(inputs[0]), *_shape(inputs[1])), kind))
    return _into(out, blanked(getattr(ufunc, method)(*plain(inputs), **kwargs)))


def _into(out: tuple[Any, ...] | None, result: Any) -> Any:
    """An out= argument takes the result's place (nothing is written into it)."""
    if out is None:
        return result
    return out if len(out) > 1 else out[0]


def _matmul(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> MetaArray:
    a, b = (_shape(x) for x in inputs)
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    left = (1, *a) if len(a) == 1 else a
    right = (*b, 1) if len(b) == 1 else b
    if left[-1] != right[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
            f"signature (n?,k),(k,m?)->(n?,m?) (size {right[-2]} is different from {left[-1]})")
    batch = np.broadcast_shapes(left[:-2], right[:-2])
    shape = (*batch, *((left[-2],) if len(a) > 1 else ()), *((right[-1],) if len(b) > 1 else ()))
    samples = [np.zeros((1, 1), np.asarray(x).dtype) if isinstance(x, np.ndarray)
               else np.asarray(x).reshape(1, 1) for x in inputs]
    return blank(shape, _dtypes(ufunc, "__call__", samples, kwargs))


def _elementwise_layout(shape: Shape, inputs: tuple[Any, ...]) -> Shape | None:
    """PyTorch's TensorIterator layout for an elementwise result: contiguous unless an input
    of the result's rank lays its dims out in another order, which the result then follows
    (the first input deciding ties)."""
    operands = []
    for x in inputs:
        if isinstance(x, MetaArray) and x.ndim == len(shape):
            layout = x.layout
            if layout == contiguous_strides(x.shape):
                continue
            operands.append(tuple(0 if x.shape[d] == 1 and shape[d] != 1 else layout[d]
                                  for d in range(len(shape))))
    if not operands or not shape:
        return None
    ndim = len(shape)
    permutation = list(range(ndim - 1, -1, -1))  # fastest-varying dim first

    def should_swap(dim0: int, dim1: int) -> int:
        for strides in operands:
            stride0, stride1 = strides[dim0], strides[dim1]
            if stride0 == 0 or stride1 == 0:
                continue
            if stride0 < stride1:
                return -1
            if stride0 > stride1:
                return 1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(permutation[dim0], permutation[dim1])
            if comparison > 0:
                permutation[dim0], permutation[dim1] = permutation[dim1], permutation[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    strides = [0] * ndim
    step = 1
    for dim in permutation:
        strides[dim] = step
        step *= max(shape[dim], 1)
    return tuple(strides)


# --------------------------------------------------------------------------- functions
def _like(prototype: Any, dtype: Any = None, order: Any = "K", subok: Any = True,
          shape: Any = None, **kwargs: Any) -> MetaArray:
    kind = np.asarray(prototype).dtype if dtype is None else np.dtype(dtype)
    if shape is not None:
        return blank((shape,) if isinstance(shape, int) else shape, kind)
    layout = prototype.layout if isinstance(prototype, MetaArray) and order in ("K", "A") \
        else None
    return blank(np.shape(prototype), kind, layout)


def _full_like(prototype: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> MetaArray:
    return _like(prototype, dtype, **kwargs)


def _result_type(*arrays: Any) -> Any:
    return np.result_type(*(_sample(a) if isinstance(a, np.ndarray) else a for a in arrays))


def _concatenate(arrays: Sequence[Any], axis: Any = 0, out: Any = None, dtype: Any = None,
                 casting: Any = "same_kind") -> MetaArray:
    shapes = [_shape(a) for a in arrays]
    if axis is None:
        shape: Shape = (sum(math.prod(s) for s in shapes),)
    else:
        axis = normalize_axis_index(axis, len(shapes[0]))
        for s in shapes[1:]:
            if len(s) != len(shapes[0]):
                raise ValueError(
                    "all the input array dimensions except for the concatenation axis must "
                    "match exactly")
        shape = (*shapes[0][:axis], sum(s[axis] for s in shapes), *shapes[0][axis + 1:])
    kind = np.dtype(dtype) if dtype is not None else _result_type(*arrays)
    return _into(None if out is None else (out,), blank(shape, kind))


def _stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, dtype: Any = None,
           casting: Any = "same_kind") -> MetaArray:
    shape = _shape(arrays[0])
    if any(_shape(a) != shape for a in arrays):
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axis_index(axis, len(shape) + 1)
    kind = np.dtype(dtype) if dtype is not None else _result_type(*arrays)
    return blank((*shape[:axis], len(arrays), *shape[axis:]), kind)


def _where(condition: Any, *values: Any) -> Any:
    if not values:
        raise NotImplementedError(
            "The register_meta function for torch.nonzero() raises unimplemented by default, "
            "as a correct data-independent implementation does not exist.")
    shape = np.broadcast_shapes(*(_shape(x) for x in (condition, *values)))
    kind = _result_type(*values)
    return blank(shape, kind, _elementwise_layout(shape, (condition, *values)))


def _einsum(*operands: Any, out: Any = None, dtype: Any = None, optimize: Any = False,
            **kwargs: Any) -> Any:
    # The subscripts applied to stand-ins with one element per dim keep every size but the
    # sizes; each label's size is read off the operands instead.
    subscripts, arrays = operands[0], operands[1:]
    if not isinstance(subscripts, str):
        return blanked(np.einsum(*plain(operands), out=out, dtype=dtype))
    inputs, _, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    sizes: dict[str, int] = {}
    ellipsis: list[Shape] = []
    for term, array in zip(terms, arrays):
        shape = _shape(array)
        if "..." in term:
            head, tail = term.split("...")
            ellipsis.append(shape[len(head):len(shape) - len(tail)])
            labels = head + tail
            dims = shape[:len(head)] + shape[len(shape) - len(tail):]
        else:
            labels, dims = term, shape
        for label, size in zip(labels, dims):
            if sizes.get(label, 1) != 1 and size not in (1, sizes[label]):
                raise ValueError(f"operands could not be broadcast together with remapped "
                                 f"shapes for label {label!r}")
            sizes[label] = max(size, sizes.get(label, size)) if size != 0 and \
                sizes.get(label) != 0 else 0
    broadcast = np.broadcast_shapes(*ellipsis) if ellipsis else ()
    if not _:
        counts = {label: inputs.count(label) for label in sizes}
        output = ("..." if ellipsis else "") + "".join(
            sorted(label for label, count in counts.items() if count == 1))
    sizes_out: list[int] = []
    for part in output.split("..."):
        sizes_out.extend(sizes[label] for label in part)
        sizes_out.extend(broadcast)
    sizes_out = sizes_out[:len(sizes_out) - len(broadcast)]
    kind = np.dtype(dtype) if dtype is not None else _result_type(*arrays)
    return _into(None if out is None else (out,), blank(sizes_out, kind))


def _tensordot(a: Any, b: Any, axes: Any = 2) -> MetaArray:
    sa, sb = _shape(a), _shape(b)
    if isinstance(axes, int):
        axes_a, axes_b = list(range(len(sa) - axes, len(sa))), list(range(axes))
    else:
        axes_a, axes_b = ([x] if isinstance(x, int) else list(x) for x in axes)
    axes_a = [normalize_axis_index(x, len(sa)) for x in axes_a]
    axes_b = [normalize_axis_index(x, len(sb)) for x in axes_b]
    if any(sa[x] != sb[y] for x, y in zip(axes_a, axes_b)) or len(axes_a) != len(axes_b):
        raise ValueError("shape-mismatch for sum")
    shape = (*(s for d, s in enumerate(sa) if d not in axes_a),
             *(s for d, s in enumerate(sb) if d not in axes_b))
    return blank(shape, _result_type(a, b))


def _dot(a: Any, b: Any, out: Any = None) -> Any:
    if not np.ndim(a) or not np.ndim(b):
        return np.multiply(a, b, out=out)
    if np.ndim(b) == 1:
        return _tensordot(a, b, ([-1], [0]))
    return _tensordot(a, b, ([-1], [-2]))


def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> MetaArray:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    own = _shape(array)
    np.broadcast_shapes(own, shape)
    if len(shape) < len(own):
        raise ValueError("input operand has more dimensions than allowed by the axis remapping")
    layout = array.layout if isinstance(array, MetaArray) else contiguous_strides(own)
    added = len(shape) - len(own)
    strides = (0,) * added + tuple(
        0 if size == 1 and target != 1 else stride
        for size, target, stride in zip(own, shape[added:], layout))
    return blank(shape, np.asarray(array).dtype, strides)


def _copyto(dst: Any, src: Any, casting: Any = "same_kind", where: Any = True) -> None:
    np.broadcast_shapes(_shape(src), _shape(dst))


def _contiguous(array: Any, dtype: Any = None, **kwargs: Any) -> MetaArray:
    return blank(np.shape(array) or (1,) * (np.ndim(array) == 0), dtype or np.asarray(
        array).dtype)


def _sorted(array: Any, axis: Any = -1, kind: Any = None, order: Any = None,
            **kwargs: Any) -> MetaArray:
    if axis is None:
        return blank((np.size(array),), np.asarray(array).dtype)
    return blank(_shape(array), np.asarray(array).dtype)


def _argsorted(array: Any, axis: Any = -1, *args: Any, **kwargs: Any) -> MetaArray:
    return blank(_shape(array) if axis is not None else (np.size(array),), np.intp)


def _partitioned(array: Any, kth: Any, axis: Any = -1, **kwargs: Any) -> MetaArray:
    return blank(_shape(array) if axis is not None else (np.size(array),), np.asarray(
        array).dtype)


def _argpartitioned(array: Any, kth: Any, axis: Any = -1, **kwargs: Any) -> MetaArray:
    return blank(_shape(array) if axis is not None else (np.size(array),), np.intp)


def _take_along_axis(array: Any, indices: Any, axis: Any = -1) -> MetaArray:
    if axis is None:
        return blank(_shape(indices), np.asarray(array).dtype)
    axis = normalize_axis_index(axis, np.ndim(array))
    shape = np.broadcast_shapes(
        tuple(1 if d == axis else s for d, s in enumerate(_shape(array))),
        tuple(1 if d == axis else s for d, s in enumerate(_shape(indices))))
    shape = tuple(_shape(indices)[axis] if d == axis else s for d, s in enumerate(shape))
    return blank(shape, np.asarray(array).dtype)


def _searchsorted(a: Any, v: Any, side: Any = "left", sorter: Any = None) -> MetaArray:
    return blank(_shape(v), np.intp)


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> MetaArray:
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (np.ndim(array), 2))
    shape = tuple(int(s + lo + hi) for s, (lo, hi) in zip(_shape(array), widths.tolist()))
    return blank(shape, np.asarray(array).dtype)


def _tile(array: Any, reps: Any) -> MetaArray:
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = _shape(array)
    count = max(len(reps), len(shape))
    shape = (1,) * (count - len(shape)) + shape
    reps = (1,) * (count - len(reps)) + reps
    return blank(tuple(s * r for s, r in zip(shape, reps)), np.asarray(array).dtype)


def _nonzero(array: Any) -> Any:
    raise NotImplementedError(
        "The register_meta function for torch.nonzero() raises unimplemented by default, "
        "as a correct data-independent implementation does not exist.")


RULES: dict[Any, Callable[..., Any]] = {
    np.empty_like: _like, np.zeros_like: _like, np.ones_like: _like, np.full_like: _full_like,
    np.concatenate: _concatenate, np.stack: _stack, np.where: _where, np.einsum: _einsum,
    np.tensordot: _tensordot, np.dot: _dot, np.broadcast_to: _broadcast_to, np.copyto: _copyto,
    np.ascontiguousarray: _contiguous, np.sort: _sorted, np.argsort: _argsorted,
    np.partition: _partitioned, np.argpartition: _argpartitioned,
    np.take_along_axis: _take_along_axis, np.put_along_axis: _nothing,
    np.take: lambda a, indices, axis=None, **kw: _take(a, indices, axis),
    np.repeat: lambda a, repeats, axis=None: _repeat(a, repeats, axis),
    np.argmax: lambda a, axis=None, out=None, *, keepdims=False: _index_reduction(
        a, axis, keepdims),
    np.argmin: lambda a, axis=None, out=None, *, keepdims=False: _index_reduction(
        a, axis, keepdims),
    np.searchsorted: _searchsorted, np.pad: _pad, np.tile: _tile, np.nonzero: _nonzero,
    np.argwhere: _nonzero, np.flatnonzero: _nonzero, np.count_nonzero: lambda a, axis=None,
    **kw: blank(() if axis is None else tuple(s for d, s in enumerate(_shape(a))
                                             if d not in normalize_axis_tuple(axis, np.ndim(a))),
                np.intp),
    np.shares_memory: lambda *a, **k: False, np.may_share_memory: lambda *a, **k: False,
    np.result_type: _result_type,
}
