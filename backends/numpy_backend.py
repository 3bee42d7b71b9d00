"""The NumPy backend: the generic backend on array-api-compat's NumPy namespace, plus NumPy's own
scatter-add, random generator and zero-copy host transfer."""

from __future__ import annotations

import mmap
from typing import Any

import array_api_compat.numpy as xp
import numpy as np

from . import dlpack, numpy_kernels
from .base import Array, Backend, Shape, window_positions
from .decompositions import translate_errors
from .device import Device
from .host_random import HostGenerator
from .kernels import Kernels

# The ufunc reductions the backend calls (typed Any: NumPy's stubs overload them on a literal
# keepdims, and ours is a plain bool).
_add_reduce: Any = np.add.reduce
_multiply_reduce: Any = np.multiply.reduce
_maximum_reduce: Any = np.maximum.reduce
_minimum_reduce: Any = np.minimum.reduce
_FLOAT16 = np.dtype(np.float16)


class NumpyBackend(Backend):
    name = "numpy"

    def __init__(self) -> None:
        super().__init__(xp, Device("cpu"), native_device="cpu")
        # array-api-compat wraps these for NumPy 1.x compatibility; NumPy 2's own functions take
        # the same arguments and skip a Python frame per call.
        self.matmul = np.matmul
        self.zeros_like = np.zeros_like
        self.ones_like = np.ones_like
        self.take_along_axis = np.take_along_axis
        # numpy.linalg takes batches and raises numpy's LinAlgError, made ours here.
        self.inv = translate_errors(np.linalg.inv)
        self.solve = translate_errors(np.linalg.solve)
        self.cholesky = translate_errors(np.linalg.cholesky)
        self.det = np.linalg.det

    # Creation without array-api-compat's wrappers (they cost microseconds on tiny tensors).
    def asarray(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> Array:
        native = None if dtype is None else self._native_dtypes[dtype]
        if copy:
            return np.array(obj, dtype=native, copy=True)
        return np.asarray(obj, dtype=native)

    def zeros(self, shape: Shape, dtype: str) -> Array:
        return np.zeros(shape, self._native_dtypes[dtype])

    def ones(self, shape: Shape, dtype: str) -> Array:
        return np.ones(shape, self._native_dtypes[dtype])

    def full(self, shape: Shape, fill_value: Any, dtype: str) -> Array:
        return np.full(shape, fill_value, self._native_dtypes[dtype])

    def empty(self, shape: Shape, dtype: str) -> Array:
        return np.empty(shape, self._native_dtypes[dtype])

    def astype(self, array: Array, dtype: str, copy: bool = False) -> Array:
        return array.astype(self._native_dtypes[dtype], copy=copy)

    def sigmoid(self, x: Array) -> Array:
        # exp(-x) = inf for very negative x gives the right 0; without errstate a user's
        # np.seterr(over="raise") would make sigmoid raise where PyTorch does not.
        with np.errstate(over="ignore"):
            return Kernels.sigmoid(xp, x)

    # The optimizer kernels. NumPy cannot fuse: on large parameters the in-place versions write
    # into a reused workspace instead of making a full-size temporary per expression
    # (numpy_kernels.py); on small ones kernels.py's expressions make fewer calls, and their
    # temporaries are cheap. Both without floating-point warnings: PyTorch gives inf and nan
    # silently (0 / 0 with eps=0, say).
    def adam_step(self, param: Array, *args: Any, **flags: bool) -> None:
        with np.errstate(all="ignore"):
            if param.size >= numpy_kernels.IN_PLACE_FROM:
                numpy_kernels.adam_step(param, *args, **flags)
            else:
                Kernels.adam_step(xp, param, *args, **flags)

    def nadam_step(self, param: Array, *args: Any, **flags: bool) -> None:
        with np.errstate(all="ignore"):
            if param.size >= numpy_kernels.IN_PLACE_FROM:
                numpy_kernels.nadam_step(param, *args, **flags)
            else:
                Kernels.nadam_step(xp, param, *args, **flags)

    def radam_step(self, param: Array, *args: Any, **flags: bool) -> None:
        with np.errstate(all="ignore"):
            if param.size >= numpy_kernels.IN_PLACE_FROM:
                numpy_kernels.radam_step(param, *args, **flags)
            else:
                Kernels.radam_step(xp, param, *args, **flags)

    # Shape functions and reductions through NumPy's methods and ufunc reductions: np.reshape,
    # np.sum, np.mean, np.max... spend 0.5-3 us each in Python argument handling, more than the
    # work itself on small tensors (measured: np.mean 3.4 us, np.add.reduce 0.8 us).
    def reshape(self, array: Array, shape: Any, copy: bool | None = None) -> Array:
        return array.reshape(shape, copy=copy)

    def permute_dims(self, array: Array, axes: Any) -> Array:
        return array.transpose(axes)

    def expand_dims(self, array: Array, axis: int) -> Array:
        shape = array.shape
        axis = axis if axis >= 0 else axis + len(shape) + 1
        return array.reshape((*shape[:axis], 1, *shape[axis:]))

    # float16 sums and products accumulate in float32 and round once, as PyTorch's (NumPy
    # accumulates in float16 along any axis but the last: 70000 halves sum to 1024 there).
    def sum(self, array: Array, axis: Any = None, keepdims: bool = False,
            dtype: Any = None) -> Array:
        if dtype is None and array.dtype is _FLOAT16:
            total = _add_reduce(array, axis=axis, keepdims=keepdims, dtype=np.float32)
            return total.astype(_FLOAT16)
        return _add_reduce(array, axis=axis, keepdims=keepdims, dtype=dtype)

    def prod(self, array: Array, axis: Any = None, keepdims: bool = False,
             dtype: Any = None) -> Array:
        if dtype is None and array.dtype is _FLOAT16:
            total = _multiply_reduce(array, axis=axis, keepdims=keepdims, dtype=np.float32)
            return total.astype(_FLOAT16)
        return _multiply_reduce(array, axis=axis, keepdims=keepdims, dtype=dtype)

    def max(self, array: Array, axis: Any = None, keepdims: bool = False) -> Array:
        return _maximum_reduce(array, axis=axis, keepdims=keepdims)

    def min(self, array: Array, axis: Any = None, keepdims: bool = False) -> Array:
        return _minimum_reduce(array, axis=axis, keepdims=keepdims)

    def mean(self, array: Array, axis: Any = None, keepdims: bool = False) -> Array:
        dtype = array.dtype
        if dtype not in self.floating_dtypes or not array.size:
            return np.mean(array, axis=axis, keepdims=keepdims)  # ints; nan for no elements
        # One true division of the sum; float16 accumulates and divides in float32 and rounds
        # once, as in PyTorch (the count itself would overflow float16 past 65504).
        if axis is None:
            count = array.size
        else:
            shape = array.shape
            count = 1
            for a in (axis,) if isinstance(axis, int) else axis:
                count *= shape[a]
        if dtype is _FLOAT16:
            total = _add_reduce(array, axis=axis, keepdims=keepdims, dtype=np.float32)
            return np.true_divide(total, count, dtype=np.float32).astype(_FLOAT16)
        total = _add_reduce(array, axis=axis, keepdims=keepdims)
        return np.true_divide(total, count, dtype=dtype)

    default_generator: HostGenerator

    def _generator(self, generator: HostGenerator | None) -> HostGenerator:
        return self.default_generator if generator is None else generator

    def new_generator(self, seed: int) -> HostGenerator:
        return HostGenerator(seed)

    def rand(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return numpy.random(shape, dtype=self._float_dtype(dtype)).astype(
            self._native_dtypes[dtype], copy=False
        )

    def randn(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return numpy.standard_normal(shape, dtype=self._float_dtype(dtype)).astype(
            self._native_dtypes[dtype], copy=False
        )

    def randint(self, low: int, high: int, shape: Shape, dtype: str,
                generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return numpy.integers(low, high, shape, dtype=self._native_dtypes[dtype])

    def randperm(self, n: int, dtype: str, generator: Any = None) -> Array:
        numpy = self._generator(generator).numpy
        return numpy.permutation(n).astype(self._native_dtypes[dtype])

    def _float_dtype(self, dtype: str) -> Any:
        # NumPy's generator draws float32 and float64 only; float16 is drawn as float32 and cast.
        return np.float32 if dtype in ("float16", "float32") else np.float64

    def einsum(self, subscripts: str, *operands: Array) -> Array:
        # Without `optimize`, einsum loops in C even where BLAS would do the product; planning
        # costs microseconds, worth it for more than two operands or big ones.
        optimize = len(operands) > 2 or any(operand.size > 4096 for operand in operands)
        return np.einsum(subscripts, *operands, optimize=optimize)

    def slogdet(self, a: Array) -> tuple[Array, Array]:
        sign, logabsdet = np.linalg.slogdet(a)
        return sign, logabsdet

    def svd(self, a: Array) -> tuple[Array, Array, Array]:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return u, s, vh

    def sliding_windows(self, array: Array, window_shape: Shape, stride: Shape,
                        dilation: Shape) -> Array:
        # A read-only view: the windows share the array's memory (no copy until reshaped).
        lead = array.ndim - len(window_shape)
        strides = array.strides[lead:]
        positions = tuple(window_positions(size, *geometry) for size, *geometry in
                          zip(array.shape[lead:], window_shape, stride, dilation))
        return np.lib.stride_tricks.as_strided(
            array, (*array.shape[:lead], *positions, *window_shape),
            (*array.strides[:lead], *(s * step for s, step in zip(strides, stride)),
             *(s * spacing for s, spacing in zip(strides, dilation))),
            writeable=False,
        )

    def _add_slice(self, out: Array, key: Any, values: Array) -> None:
        out[key] += values

    def put_along_axis(self, target: Array, indices: Array, values: Array, axis: int) -> None:
        np.put_along_axis(target, indices, values, axis)

    def index_add(self, target: Array, key: Any, values: Array) -> Array:
        np.add.at(target, key, values)
        return target

    def to_numpy(self, array: Array) -> Any:
        return array

    def from_numpy(self, array: Any) -> Array:
        return array

    def tolist(self, array: Array) -> Any:
        return array.tolist()

    def item(self, array: Array) -> Any:
        return array.item()

    def share_memory(self, array: Array) -> Array:
        """A copy in an anonymous shared mapping: processes forked later (DataLoader workers,
        multiprocessing with fork) write into the same memory."""
        if self.is_shared(array):
            return array
        buffer = mmap.mmap(-1, max(array.nbytes, 1))
        shared = np.frombuffer(buffer, dtype=array.dtype, count=array.size).reshape(array.shape)
        shared[...] = array
        return shared

    def is_shared(self, array: Array) -> bool:
        base = array
        while base is not None:
            if isinstance(base, mmap.mmap):
                return True
            base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
        return False

    def is_exclusive(self, array: Array) -> bool:
        # A fresh result owns its buffer; views (reshape, broadcast_to, slices) have a base.
        return array.base is None and array.flags.writeable

    def from_dlpack(self, obj: Any, copy: bool | None = None) -> Array:
        if dlpack.is_capsule(obj):
            array = dlpack.capsule_to_numpy(obj)
            return array.copy() if copy else array
        if copy is None:  # NumPy before 2.1 has no `copy` argument
            return np.from_dlpack(obj)
        return np.from_dlpack(obj, copy=copy)

    def as_strided(self, storage: Array, shape: Shape, strides: Shape, offset: int) -> Array:
        itemsize = storage.itemsize
        return np.lib.stride_tricks.as_strided(
            storage[offset:], shape, tuple(stride * itemsize for stride in strides))
