"""The NumPy backend: the generic backend on array-api-compat's NumPy namespace, plus NumPy's own
scatter-add, random generator and zero-copy host transfer."""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as xp
import numpy as np

from . import dlpack, numpy_kernels
from .base import Array, Backend, Shape, window_positions
from .decompositions import translate_errors
from .device import Device
from .host_random import HostGenerator
from .kernels import Kernels
from .special import host_function

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

    def bind_special(self, name: str, library: str) -> Any:
        # NumPy's and SciPy's functions take and return NumPy arrays as they are.
        return host_function(name, library)

    # SciPy's distance kernels: one pass in C, in double precision (results cast back).
    def minkowski_distances(self, x1: Array, x2: Array, p: float) -> Array:
        from scipy.spatial.distance import cdist

        batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
        rows1, rows2, columns = x1.shape[-2], x2.shape[-2], x1.shape[-1]
        metric, options = _scipy_metric(p)
        if not (rows1 and rows2 and columns) or 0 in batch:
            return np.zeros((*batch, rows1, rows2), dtype=x1.dtype)
        if not batch:  # the common case: SciPy's result is the output (no copy for float64)
            out = cdist(x1, x2, metric, **options).astype(x1.dtype, copy=False)
            return out if p != 0 else out * columns
        out = np.empty((*batch, rows1, rows2), dtype=x1.dtype)
        x1 = np.broadcast_to(x1, (*batch, rows1, columns))
        x2 = np.broadcast_to(x2, (*batch, rows2, columns))
        for index in np.ndindex(*batch):
            out[index] = cdist(x1[index], x2[index], metric, **options)
        return out if p != 0 else out * columns

    def euclidean_distances(self, x1: Array, x2: Array) -> Array:
        return self.minkowski_distances(x1, x2, 2.0)

    def pairwise_distances(self, x: Array, p: float) -> Array:
        from scipy.spatial.distance import pdist

        count, columns = x.shape
        if count < 2 or columns == 0:
            return np.zeros((count * (count - 1) // 2,), dtype=x.dtype)
        metric, options = _scipy_metric(p)
        out = pdist(x, metric, **options)
        return (out if p != 0 else out * columns).astype(x.dtype, copy=False)

    def complex_of(self, real: Array, imag: Array) -> Array:
        out = np.empty(np.broadcast_shapes(real.shape, imag.shape),
                       dtype=np.result_type(real.dtype, imag.dtype, np.complex64))
        out.real, out.imag = real, imag
        return out

    def isin(self, elements: Array, test_elements: Array, invert: bool = False) -> Array:
        return np.isin(elements, test_elements, invert=invert)

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


def _scipy_metric(p: float) -> tuple[str, dict[str, float]]:
    """SciPy's metric for the p-norm distance (p = 0: the fraction of components that differ,
    to be scaled by their number)."""
    named = {0.0: "hamming", 1.0: "cityblock", 2.0: "euclidean", float("inf"): "chebyshev"}
    if p in named:
        return named[p], {}
    return "minkowski", {"p": p}
