"""The strict test backend: the generic backend on `array_api_strict`.

array-api-strict implements the array API and nothing more: no silent conversion to NumPy, no
mixing of devices, no dtype promotion the standard does not define. It simulates extra devices,
so two tensors on "strict:0" and "strict:1" behave like tensors on two GPUs. Running the test
suite on "strict:1" proves on a CPU-only machine that the tape calls nothing outside the backend
interface and keeps every result on its input's device.

It is a test backend: random numbers are drawn with NumPy on the host and moved over, and host
transfers reach into the wrapped NumPy array. Speed is not a goal; correctness is.
"""

from __future__ import annotations

from typing import Any

import array_api_strict as xp
import numpy as np

from .base import Array, Backend, Shape, contiguous_strides
from .device import Device
from .host_random import HostGenerator

# strict:N -> the array-api-strict device it runs on. Index 0 is the library's default device.
_NATIVE_DEVICES = {0: xp.Device("CPU_DEVICE"), 1: xp.Device("device1")}
DEVICE_COUNT = len(_NATIVE_DEVICES)


class StrictBackend(Backend):
    name = "strict"

    def __init__(self, index: int = 0) -> None:
        if index not in _NATIVE_DEVICES:
            available = ", ".join(f"strict:{i}" for i in _NATIVE_DEVICES)
            raise RuntimeError(
                f"invalid device ordinal: strict:{index} was asked for, but the strict test "
                f"backend has {len(_NATIVE_DEVICES)} devices ({available})"
            )
        super().__init__(xp, Device("strict", index), native_device=_NATIVE_DEVICES[index])

    # ----------------------------------------------------------------------------- random
    # Drawn on the host with NumPy's generator, then moved to the device: a test backend needs
    # reproducible numbers, not a device-side generator.
    default_generator: HostGenerator

    def _generator(self, generator: HostGenerator | None) -> HostGenerator:
        return self.default_generator if generator is None else generator

    def new_generator(self, seed: int) -> HostGenerator:
        return HostGenerator(seed)

    def rand(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return self.asarray(numpy.random(shape), dtype)

    def randn(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return self.asarray(numpy.standard_normal(shape), dtype)

    def randint(self, low: int, high: int, shape: Shape, dtype: str,
                generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return self.asarray(numpy.integers(low, high, shape), dtype)

    def poisson(self, rates: Array, generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return self.asarray(numpy.poisson(self.to_numpy(rates)), "float64")

    def randperm(self, n: int, dtype: str, generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return self.asarray(numpy.permutation(n), dtype)

    # ----------------------------------------------------------------------------- indexing
    def setitem(self, array: Array, key: Any, value: Any) -> None:
        """array[key] = value. The array API assigns through slices, ints and one boolean mask,
        but not through integer arrays; for a key of integer arrays (one per dim, the form the
        tape passes) the positions are scattered here, the last of repeated positions winning
        as in NumPy's assignment."""
        if not (isinstance(key, tuple) and key and all(
                hasattr(k, "dtype") and xp.isdtype(k.dtype, "integral") for k in key)):
            # The array API writes no number into an array of a lower kind; NumPy (the CPU
            # backend) converts it as C does: truncated to an integer, nonzero as True.
            if array.dtype == xp.bool and type(value) in (int, float):
                value = bool(value)
            elif type(value) is float and xp.isdtype(array.dtype, "integral"):
                value = int(value)
            array[key] = value
            return
        size = _numel(array.shape)
        grid = xp.reshape(xp.arange(size, dtype=xp.int64, device=self.native_device),
                          array.shape)
        selected = grid[key]
        positions = xp.reshape(selected, (-1,))
        if positions.shape[0] == 0:
            return
        value = xp.asarray(value, dtype=array.dtype, device=self.native_device)
        values = xp.reshape(xp.broadcast_to(value, selected.shape), (-1,))
        order = xp.argsort(positions, stable=True)
        positions, values = xp.take(positions, order), xp.take(values, order)
        last = xp.concat([positions[1:] != positions[:-1],
                          xp.ones((1,), dtype=xp.bool, device=self.native_device)])
        positions, values = positions[last], values[last]
        # Scattered by index_add, which adds: bools (no addition in the array API) as uint8.
        kind = xp.uint8 if array.dtype == xp.bool else array.dtype
        dense = xp.zeros((size,), dtype=kind, device=self.native_device)
        hits = xp.zeros((size,), dtype=xp.int64, device=self.native_device)
        self.index_add(dense, (positions,), xp.astype(values, kind))
        self.index_add(hits, (positions,), xp.ones_like(positions))
        array[...] = xp.where(xp.reshape(hits > 0, array.shape),
                              xp.astype(xp.reshape(dense, array.shape), array.dtype), array)

    def index_add(self, target: Array, key: Any, values: Array) -> Array:
        return self.sorted_index_add(target, key, values)

    def selected_positions(self, grid: Array, key: Any) -> Array:
        """grid[key] with NumPy's meaning. A lone integer array indexes the first axis
        (embedding gradients pass one); array-api-strict only takes that through `take`."""
        if (not isinstance(key, tuple) and hasattr(key, "shape") and grid.ndim > 1
                and xp.isdtype(key.dtype, "integral")):
            rows = xp.take(grid, xp.reshape(key, (-1,)), axis=0)
            return xp.reshape(rows, (*key.shape, *grid.shape[1:]))
        return grid[key]

    # ----------------------------------------------------------------------------- host
    # Test backend: the layout of the NumPy array array-api-strict wraps is reported as it is
    # (views of views share it); there are no strided views (as_strided copies).
    def strides(self, array: Array) -> tuple[int, ...]:
        wrapped = np.asarray(array._array)
        if not wrapped.size and wrapped.base is None:
            # NumPy gives a new empty array zero strides; PyTorch's factories, contiguous ones.
            return contiguous_strides(array.shape)
        return tuple(stride // wrapped.itemsize for stride in wrapped.strides)

    def lay_out_empty(self, array: Array) -> Array:
        # The wrapped NumPy array's views of a zero-strided empty array inherit its strides.
        if not is_strict_array(array):
            return array
        wrapped = np.asarray(array._array)
        if wrapped.size or wrapped.base is not None:
            return array
        return self.restrided(array, wrapped.shape, contiguous_strides(wrapped.shape))

    def restrided(self, array: Array, shape: Shape, strides: Shape) -> Array:
        # Test backend: the wrapped NumPy array is viewed (there are no elements to alias).
        wrapped = np.asarray(array._array)
        strided = np.lib.stride_tricks.as_strided(
            wrapped, shape, tuple(stride * wrapped.itemsize for stride in strides))
        return _ARRAY_TYPE._new(strided, device=array.device)

    def memory_owner(self, array: Array) -> Any:
        return _owner(np.asarray(array._array))

    def owns_memory(self, array: Array) -> bool:
        return np.asarray(array._array).base is None

    def storage_offset(self, array: Array) -> int:
        wrapped = np.asarray(array._array)
        owner = _owner(wrapped)
        return (wrapped.__array_interface__["data"][0]
                - owner.__array_interface__["data"][0]) // wrapped.itemsize

    def storage_size(self, array: Array) -> int:
        return int(_owner(np.asarray(array._array)).size)

    def storage(self, array: Array) -> Array:
        owner = _owner(np.asarray(array._array))
        return xp.asarray(owner.reshape(-1, order="A"), device=self.native_device, copy=True)

    def bitcast_view(self, array: Array, dtype: str) -> Array:
        # Test backend: the wrapped NumPy array is viewed, so the memory stays shared.
        wrapped = np.asarray(array._array)
        native = self._native_dtypes[dtype]
        return _ARRAY_TYPE._new(wrapped.view(native._np_dtype), device=array.device)

    def contiguous_copy(self, array: Array) -> Array:
        return xp.asarray(np.ascontiguousarray(array._array), device=self.native_device,
                          copy=True)

    def data_ptr(self, array: Array) -> int:
        # Test backend: the address of the NumPy array array-api-strict wraps.
        return int(array._array.__array_interface__["data"][0])

    def to_numpy(self, array: Array) -> Any:
        # Test backend: it may reach the NumPy array array-api-strict wraps (`_array`), which the
        # public API refuses off its default device, as a GPU library would. A copy, so the
        # result never aliases device memory.
        return np.array(array._array, copy=True)

    def from_numpy(self, array: Any) -> Array:
        return xp.asarray(np.asarray(array), device=self.native_device, copy=True)

    def transfer(self, array: Array, source: Backend) -> Array:
        if isinstance(source, StrictBackend):
            return array.to_device(self.native_device)  # a copy on the target device
        return self.from_numpy(source.to_numpy(array))


_ARRAY_TYPE = type(xp.empty((0,)))


def is_strict_array(obj: Any) -> bool:
    return isinstance(obj, _ARRAY_TYPE)


def device_of(array: Array) -> Device:
    """The strict device an array-api-strict array lives on."""
    for index, native in _NATIVE_DEVICES.items():
        if array.device == native:
            return Device("strict", index)
    raise BufferError(f"array-api-strict array on an unknown device {array.device!r}")


def _numel(shape: Shape) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def _select_rows(grid: Array, key: Any) -> Array:
    """grid[key] with NumPy's meaning. A lone integer array indexes the first axis (embedding
    gradients pass one); array-api-strict only takes that through `take`."""
    if (not isinstance(key, tuple) and hasattr(key, "shape") and grid.ndim > 1
            and xp.isdtype(key.dtype, "integral")):
        rows = xp.take(grid, xp.reshape(key, (-1,)), axis=0)
        return xp.reshape(rows, (*key.shape, *grid.shape[1:]))
    return grid[key]


def _owner(array: Any) -> Any:
    """The array that owns the memory `array` views (itself when it owns it). The views
    np.lib.stride_tricks.as_strided makes keep their source behind a holder object."""
    while True:
        base = array.base
        if not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)
        if not isinstance(base, np.ndarray):
            return array
        array = base
