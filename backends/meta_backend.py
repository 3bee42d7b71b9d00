"""The meta backend (`device="meta"`): tensors with a shape, a dtype and strides but no values.

Its arrays are `MetaArray`s (`meta_array.py`): NumPy arrays of one element repeated (every
stride 0), so any shape costs O(1) memory, and NumPy's code runs on them with every shape,
dtype and broadcasting rule the CPU's, while no kernel computes anything. What needs values is
refused with PyTorch's errors: reading them out (`item`, `tolist`, a copy to another device) and
ops whose output shape depends on them (`nonzero`, boolean masks). Checks on values (indices in
range, probabilities valid) are skipped, as PyTorch's meta kernels skip them. Factories and
random fills make blank arrays, drawing nothing from any generator; in-place writes write
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from . import shared_memory
from .base import Array, Backend, Shape, contiguous_strides, window_positions
from .device import Device
from .meta_array import ITEM_ERROR, MetaArray, blank, blanked, stand_in
from .numpy_backend import NumpyBackend

_NO_DATA = "Cannot copy out of meta tensor; no data!"

# Methods whose answers are not arrays (or are this backend's own, already blank): the safety
# net that turns any plain array another method returns into a blank leaves them alone.
_UNWRAPPED = frozenset({
    "item", "tolist", "to_numpy", "strides", "storage_offset", "storage_size", "data_ptr",
    "is_array", "dtype_name", "name_of_dtype", "native_dtype", "has_dtype", "is_floating",
    "is_complex", "is_integer", "is_bool", "dtype_object", "any_true", "all_true", "repeats_along",
    "needs_values", "host_operand",
    "is_exclusive", "owns_memory", "memory_owner", "new_generator", "synchronize",
})


class MetaBackend(NumpyBackend):
    name = "meta"
    holds_values = False

    def __init__(self) -> None:
        super().__init__()
        self.device = Device("meta")
        # A method that reaches past MetaArray (NumPy code that converts its input with
        # np.asarray, say) returns a plain array: its result becomes a blank all the same.
        for name in dir(self):
            if name.startswith("_") or name in _UNWRAPPED:
                continue
            member = getattr(self, name, None)
            if callable(member) and not isinstance(member, type):
                setattr(self, name, _blanking(member))

    def out_argument(self, function: Callable[..., Any]) -> str | None:
        # No buffers to plan on arrays without values; NumPy's ufuncs in a compiled program
        # are the CPU backend's (a compiled program plans buffers for one backend only).
        return None

    def blank(self, shape: Shape, dtype: Any) -> Array:
        """An array of `shape` and `dtype` (a NumPy dtype) holding one element."""
        return blank(shape, dtype)

    def _blank_named(self, shape: Shape, dtype: str) -> Array:
        return blank(shape, self._native_dtypes[dtype])

    # Factories: no values to write.
    def zeros(self, shape: Shape, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def ones(self, shape: Shape, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def full(self, shape: Shape, fill_value: Any, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def empty(self, shape: Shape, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def rand(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        return self._blank_named(shape, dtype)

    def randn(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        return self._blank_named(shape, dtype)

    def randint(self, low: int, high: int, shape: Shape, dtype: str,
                generator: Any = None) -> Array:
        return self._blank_named(shape, dtype)

    def randperm(self, n: int, dtype: str, generator: Any = None) -> Array:
        return self._blank_named((n,), dtype)

    def poisson(self, rates: Array, generator: Any = None) -> Array:
        return blank(rates.shape, np.float64)

    # Moving data in keeps only its shape and dtype; nothing moves out.
    def transfer(self, array: Array, source: Backend) -> Array:
        return self._blank_named(tuple(array.shape), source.dtype_name(array))

    def from_numpy(self, array: Any) -> Array:
        if isinstance(array, MetaArray):
            return array
        array = np.asarray(array)
        return blank(array.shape, array.dtype)

    def asarray(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> Array:
        if isinstance(obj, MetaArray):
            if dtype is not None and self._native_dtypes[dtype] != obj.dtype:
                return obj.astype(self._native_dtypes[dtype])
            return obj.copy() if copy else obj
        return self.from_numpy(super().asarray(obj, dtype, copy))

    def astype(self, array: Array, dtype: str, copy: bool = False) -> Array:
        if not copy and array.dtype == self._native_dtypes[dtype]:
            return array
        return blank(array.shape, self._native_dtypes[dtype], _layout(array))

    def to_numpy(self, array: Array) -> NoReturn:
        raise NotImplementedError(_NO_DATA)

    def tolist(self, array: Array) -> NoReturn:
        raise NotImplementedError(_NO_DATA)

    def needs_values(self, operator: str) -> NoReturn:
        raise NotImplementedError(
            f"{operator}: attempted to run this operator with Meta tensors, but there was no "
            "fake impl or Meta kernel registered.")

    def host_operand(self, array: Array) -> Any:
        return stand_in(array)

    def host_result(self, array: Any) -> Array:
        return blanked(np.asarray(array))

    def item(self, array: Array) -> NoReturn:
        raise RuntimeError(ITEM_ERROR)

    # Checks on values: PyTorch's meta kernels skip them (nothing is known to fail).
    def any_true(self, array: Array) -> bool:
        return False

    def all_true(self, array: Array) -> bool:
        return True

    def nonzero(self, array: Array) -> NoReturn:
        # (PyTorch's message goes on to name a torch.fx setting that makes up a result.)
        raise NotImplementedError(
            "The register_meta function for torch.nonzero() raises unimplemented by default, "
            "as a correct data-independent implementation does not exist.")

    # Layouts: PyTorch's strides, carried by each MetaArray; the memory is one element.
    def strides(self, array: Array) -> Shape:
        return _layout(array)

    def storage_offset(self, array: Array) -> int:
        return 0

    def data_ptr(self, array: Array) -> int:
        return 0

    def storage_size(self, array: Array) -> int:
        return _extent(array.shape, _layout(array))

    def storage(self, array: Array) -> Array:
        return blank((self.storage_size(array),), array.dtype)

    def lay_out_empty(self, array: Array) -> Array:
        return array

    def restrided(self, array: Array, shape: Shape, strides: Shape) -> Array:
        return blank(shape, array.dtype, strides)

    def strided_view(self, array: Array, shape: Shape, strides: Shape, offset: int) -> Array:
        return blank(shape, array.dtype, strides)

    def as_strided(self, storage: Array, shape: Shape, strides: Shape, offset: int) -> Array:
        return blank(shape, storage.dtype, strides)

    def broadcast_to(self, x: Array, shape: Shape) -> Array:
        return np.broadcast_to(x, shape)  # (the CPU's shortcut would lose the zero strides)

    def matrix_exp(self, a: Array) -> Array:
        # (the generic one solves through array-api-compat, which reads its operands' values)
        return blank(a.shape, a.dtype)

    def contiguous_copy(self, array: Array) -> Array:
        return blank(array.shape, array.dtype)

    def window_view(self, array: Array, axis: int, size: int, step: int) -> Array:
        shape, layout = array.shape, _layout(array)
        count = (shape[axis] - size) // step + 1
        return blank((*shape[:axis], count, *shape[axis + 1:], size), array.dtype,
                     (*layout[:axis], layout[axis] * step, *layout[axis + 1:], layout[axis]))

    def sliding_windows(self, array: Array, window_shape: Shape, stride: Shape,
                        dilation: Shape) -> Array:
        lead = array.ndim - len(window_shape)
        layout = _layout(array)
        strides = layout[lead:]
        positions = tuple(window_positions(size, *geometry) for size, *geometry in
                          zip(array.shape[lead:], window_shape, stride, dilation))
        return blank((*array.shape[:lead], *positions, *window_shape), array.dtype,
                     (*layout[:lead], *(s * step for s, step in zip(strides, stride)),
                      *(s * spacing for s, spacing in zip(strides, dilation))))

    def repeats_along(self, array: Array, axis: int) -> bool:
        return bool(array.size) and _layout(array)[axis] == 0

    def share_memory(self, array: Array) -> Array:
        # PyTorch's refusal names the strategy's storage call (_share_fd_ or _share_filename_)
        call = "_share_filename_" if shared_memory.sharing_strategy() == "file_system" \
            else "_share_fd_"
        raise RuntimeError(f"{call}: only available on CPU")

    def is_shared(self, array: Array) -> bool:
        return False

    def is_exclusive(self, array: Array) -> bool:
        return False  # a blank array's element is shared by all its positions

    def owns_memory(self, array: Array) -> bool:
        return not isinstance(array, MetaArray) or array.base is None


def _layout(array: Any) -> Shape:
    if isinstance(array, MetaArray):
        return array.layout
    return contiguous_strides(np.shape(array))


def _extent(shape: Shape, strides: Shape) -> int:
    """The elements of memory a view of this shape and these strides spans."""
    if 0 in shape:
        return 0
    return 1 + sum((size - 1) * abs(stride) for size, stride in zip(shape, strides))


def _blanking(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return blanked(method(*args, **kwargs))

    call.__name__ = getattr(method, "__name__", "method")
    call.__wrapped__ = method  # type: ignore[attr-defined]
    return call
