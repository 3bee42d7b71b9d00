"""The NumPy backend: the generic backend on array-api-compat's NumPy namespace, plus NumPy's own
scatter-add, random generator and zero-copy host transfer."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import array_api_compat.numpy as xp
import numpy as np

from . import dlpack, numpy_kernels, shared_memory
from .base import (
    Array,
    Backend,
    ProductReduction,
    Shape,
    contiguous_strides,
    window_positions,
)
from .decompositions import translate_errors
from .device import Device
from .host_random import HostGenerator
from .kernels import Kernels
from .numpy_masks import MaskedZero, masks_with_zero
from .special import host_function

# The ufunc reductions the backend calls (typed Any: NumPy's stubs overload them on a literal
# keepdims, and ours is a plain bool).
_add_reduce: Any = np.add.reduce
_multiply_reduce: Any = np.multiply.reduce
_maximum_reduce: Any = np.maximum.reduce
_minimum_reduce: Any = np.minimum.reduce
_or_reduce: Any = np.logical_or.reduce
_and_reduce: Any = np.logical_and.reduce
_unique: Any = np.unique
# np.einsum without `optimize` is a Python wrapper (an __array_function__ dispatch) around this
_c_einsum: Any = getattr(getattr(np, "_core", np).multiarray, "c_einsum", None) or np.einsum
_compat_clip: Any = xp.clip  # type: ignore[attr-defined]  # (absent from its stubs)
# `_peak`'s transposed maximum: timed on float32 logits of 64 x 10 to 1024 x 10 rows, 1.4 to 8
# times faster; slower past about 32 classes or below 16 rows.
_SHORT_AXIS = 16
_MANY_ROWS = 32


def _peak(x: Any, axis: int) -> Any:
    """The maximum of `x` along `axis`, kept as an axis of length 1. Along a short last axis
    of a C-contiguous matrix (a batch of logits) NumPy's reduction runs its inner loop once per
    row, a few times slower than reducing a transposed copy along its first axis, which runs
    it once per column; the maxima are the same values (a maximum does not depend on the
    order it is taken in)."""
    if (x.ndim == 2 and axis in (1, -1) and x.shape[1] <= _SHORT_AXIS
            and x.shape[0] >= _MANY_ROWS and x.flags.c_contiguous):
        return _maximum_reduce(x.T.copy(), axis=0)[:, None]
    return _maximum_reduce(x, axis=axis, keepdims=True)


try:  # NumPy's bfloat16 comes from ml_dtypes; without it, torch.bfloat16 is refused clearly
    import ml_dtypes
except ImportError:  # pragma: no cover - ml_dtypes is a dependency
    ml_dtypes = None  # type: ignore[assignment]

_FLOAT16 = np.dtype(np.float16)
_BFLOAT16 = np.dtype(ml_dtypes.bfloat16) if ml_dtypes is not None else None
# The dtypes PyTorch's CPU kernels compute in float32, rounding once.
_LOW_PRECISION = frozenset(kind for kind in (_FLOAT16, _BFLOAT16) if kind is not None)
# The dtypes BLAS multiplies in (product_reduction's).
_BLAS_FLOATING = (np.dtype(np.float32), np.dtype(np.float64))


# Python's binary operators on a NumPy array and a number or an array call these ufuncs.
_OPERATOR_UFUNCS: dict[Any, Any] = {
    operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply,
    operator.truediv: np.true_divide,
}


class NumpyBackend(Backend):
    name = "numpy"

    def __init__(self) -> None:
        super().__init__(xp, Device("cpu"), native_device="cpu")
        # array-api-compat wraps these for NumPy 1.x compatibility; NumPy 2's own functions take
        # the same arguments and skip a Python frame per call.
        self.zeros_like = np.zeros_like
        self.ones_like = np.ones_like
        # numpy.linalg takes batches and raises numpy's LinAlgError, made ours here.
        self.inv = translate_errors(np.linalg.inv)
        self.solve = translate_errors(np.linalg.solve)
        self.cholesky = translate_errors(np.linalg.cholesky)
        self.det = np.linalg.det
        self.eigh = translate_errors(np.linalg.eigh)

    def dtype_object(self, name: str) -> Any:
        # NumPy has no bfloat16; ml_dtypes' is a NumPy dtype with ufuncs (and casts) of its own.
        if name == "bfloat16":
            return None if ml_dtypes is None else ml_dtypes.bfloat16
        return super().dtype_object(name)

    @property
    def library_name(self) -> str:
        if ml_dtypes is None:
            return "numpy without ml_dtypes (pip install ml_dtypes)"
        return "numpy"

    def clip(self, x: Array, min: Any = None, max: Any = None) -> Array:
        # array-api-compat's clip refuses ml_dtypes' bfloat16 (its ufunc call casts with 'no'),
        # and np.clip gives float32: maximum and minimum keep the dtype.
        if x.dtype is _BFLOAT16:
            if min is not None:
                x = np.maximum(x, min)
            return x if max is None else np.minimum(x, max)
        return _compat_clip(x, min, max)

    def take(self, array: Array, indices: Array, axis: int | None = None) -> Array:
        # np.take is a Python wrapper (a few microseconds a call) around the array's method.
        if type(array) is np.ndarray:
            return array.take(indices, axis=axis)
        return np.take(array, indices, axis=axis)

    def take_along_axis(self, array: Array, indices: Array, axis: int = -1) -> Array:
        # NumPy's take_along_axis builds its index tuple in Python (about 8 us for a batch of
        # class targets); the 2-d gather along the last axis is the same fancy index, direct.
        if (array.ndim == 2 and indices.ndim == 2 and axis in (1, -1)
                and indices.shape[0] == array.shape[0] and indices.dtype.kind in "iu"):
            return array[np.arange(array.shape[0])[:, None], indices]
        return np.take_along_axis(array, indices, axis=axis)

    # np.any and np.all spend microseconds in Python before their reduction: on booleans
    # (masks, the bounds checks of targets) the reduction is called directly.
    def any(self, x: Array, axis: Any = None, keepdims: bool = False) -> Array:
        if x.dtype == np.bool_:
            return _or_reduce(x, axis=axis, keepdims=keepdims)
        return np.any(x, axis=axis, keepdims=keepdims)

    def all(self, x: Array, axis: Any = None, keepdims: bool = False) -> Array:
        if x.dtype == np.bool_:
            return _and_reduce(x, axis=axis, keepdims=keepdims)
        return np.all(x, axis=axis, keepdims=keepdims)

    # A 0-d array (or NumPy scalar), the usual argument (a reduction already taken), is its
    # own answer: bool() of it, without a second reduction and item().
    def any_true(self, array: Array) -> bool:
        return bool(array) if array.ndim == 0 else bool(self.any(array))

    def all_true(self, array: Array) -> bool:
        return bool(array) if array.ndim == 0 else bool(self.all(array))

    def broadcast_to(self, x: Array, shape: Shape) -> Array:
        shape = tuple(shape)
        added = len(shape) - x.ndim
        if added > 0 and shape[added:] == x.shape and x.flags.c_contiguous and x.size:
            # New leading dims only (vmap repeating a parameter along the batch): the view made
            # directly, stride 0 along them; np.broadcast_to builds an nditer, several times
            # slower. Read-only, as np.broadcast_to's.
            view = np.ndarray(shape, x.dtype, buffer=x, strides=(0,) * added + x.strides)
            view.flags.writeable = False
            return view
        return np.broadcast_to(x, shape)

    def matmul(self, a: Array, b: Array) -> Array:
        # Neither float16 nor ml_dtypes' bfloat16 has a BLAS matmul in NumPy (float16's is a
        # plain loop, tens of times slower; bfloat16's returns float32): compute in float32 and
        # round once, as PyTorch's CPU kernels accumulate low-precision products in float32.
        if a.dtype in _LOW_PRECISION:
            return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
        return np.matmul(a, b)

    # Creation without array-api-compat's wrappers (they cost microseconds on tiny tensors).
    def asarray(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> Array:
        native = None if dtype is None else self._native_dtypes[dtype]
        if copy:
            return np.array(obj, dtype=native, copy=True)
        return np.asarray(obj, dtype=native)

    def zeros(self, shape: Shape, dtype: str) -> Array:
        return np.zeros(shape, self._native_dtypes[dtype])

    def ones(self, shape: Shape, dtype: str) -> Array:
        array = np.empty(shape, self._native_dtypes[dtype])  # np.ones, without its Python frame
        array.fill(1)
        return array

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
        if dtype is None and array.dtype in _LOW_PRECISION:
            total = _add_reduce(array, axis=axis, keepdims=keepdims, dtype=np.float32)
            return total.astype(array.dtype)
        return _add_reduce(array, axis=axis, keepdims=keepdims, dtype=dtype)

    def prod(self, array: Array, axis: Any = None, keepdims: bool = False,
             dtype: Any = None) -> Array:
        if dtype is None and array.dtype in _LOW_PRECISION:
            total = _multiply_reduce(array, axis=axis, keepdims=keepdims, dtype=np.float32)
            return total.astype(array.dtype)
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
        if dtype in _LOW_PRECISION:
            total = _add_reduce(array, axis=axis, keepdims=keepdims, dtype=np.float32)
            return np.true_divide(total, count, dtype=np.float32).astype(dtype)
        # The count as a scalar of the dtype, as true_divide(..., dtype=) would cast it, then one
        # division of the dtype: the same bits, without true_divide's microsecond of argument
        # handling on a 0-d sum (most of a replayed loss's mean).
        total = _add_reduce(array, axis=axis, keepdims=keepdims)
        return total / dtype.type(count)

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
        # (NumPy draws int64: no copy for the default dtype, a DataLoader's every epoch)
        return numpy.permutation(n).astype(self._native_dtypes[dtype], copy=False)

    def poisson(self, rates: Array, generator: Any = None) -> Array:
        return self._generator(generator).numpy.poisson(rates).astype(np.float64)

    def _float_dtype(self, dtype: str) -> Any:
        # NumPy's generator draws float32 and float64 only; float16 is drawn as float32 and cast.
        return np.float32 if dtype in ("float16", "bfloat16", "float32") else np.float64

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

    def outer_each(self, a: Array, b: Array) -> Array:
        size, rows = a.shape
        columns = b.shape[1]
        if (a.dtype is b.dtype and a.dtype.char in "fd" and rows >= 8 and columns >= 2
                and rows * columns >= 256):
            # As products over an inner dim of 2 whose second terms are zero: matmul hands
            # each to BLAS (an inner dim of 1 takes NumPy's generic loop, ten times slower),
            # which writes the output once, where einsum clears it and then adds into it in
            # short rows: about 3x faster for the digits MLP's batch. x*y + 0*0 rounds as
            # x*y alone, so the values are einsum's to the bit.
            left = np.zeros((size, rows, 2), a.dtype)
            left[:, :, 0] = a
            right = np.zeros((size, 2, columns), b.dtype)
            right[:, 0, :] = b
            return np.matmul(left, right)
        return self.einsum("bo,bi->boi", a, b)

    def einsum(self, subscripts: str, *operands: Array) -> Array:
        # Without `optimize`, einsum loops in C even where BLAS would do the product; planning
        # costs microseconds, worth it for more than two operands or big ones. A product that
        # sums nothing (an outer product) has no contraction for BLAS: the C loop is faster
        # than the planned path (several times, for per-example outer products).
        inputs, output = subscripts.split("->") if "->" in subscripts else (subscripts, None)
        summed = output is None or not set(inputs).issubset(output + ",.")
        optimize = summed and (len(operands) > 2
                               or any(operand.size > 4096 for operand in operands))
        low = None
        for operand in operands:
            if operand.dtype in _LOW_PRECISION:
                low = operand.dtype
                break
        if low is not None:
            # NumPy's einsum has no bfloat16 loop (and float16's accumulates in float16):
            # float32, rounded once (PyTorch's opmath).
            wide = [operand.astype(np.float32) for operand in operands]
            return np.einsum(subscripts, *wide, optimize=optimize).astype(low)
        if not optimize:
            return _c_einsum(subscripts, *operands)
        return np.einsum(subscripts, *operands, optimize=True)

    def slogdet(self, a: Array) -> tuple[Array, Array]:
        sign, logabsdet = np.linalg.slogdet(a)
        return sign, logabsdet

    def svd(self, a: Array) -> tuple[Array, Array, Array]:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return u, s, vh

    def solve_triangular(self, a: Array, b: Array, *, upper: bool,
                         unitriangular: bool) -> Array:
        """SciPy's trtrs, batched; a zero on the diagonal (SciPy raises) goes to the generic
        substitution, which gives inf/nan as PyTorch does."""
        from scipy.linalg import solve_triangular

        if a.size == 0 or b.size == 0:  # SciPy refuses empty batches
            return super().solve_triangular(a, b, upper=upper, unitriangular=unitriangular)
        try:
            return solve_triangular(a, b, lower=not upper, unit_diagonal=unitriangular,
                                    check_finite=False)
        except np.linalg.LinAlgError:
            with np.errstate(divide="ignore", invalid="ignore"):
                return super().solve_triangular(a, b, upper=upper, unitriangular=unitriangular)

    # Sorting and scans: NumPy's partial sort, unique and ufunc accumulations, one pass each
    # where the generic backend sorts fully or scans in log2(n) steps.
    def topk(self, a: Array, k: int, axis: int, largest: bool) -> tuple[Array, Array]:
        size = a.shape[axis]
        if k == 0 or k == size or a.dtype == np.bool_:
            return super().topk(a, k, axis, largest)
        # argpartition orders NaN after every number, as the tape wants.
        lead = (slice(None),) * axis
        if largest:
            key = (*lead, slice(size - k, None))
            chosen = np.argpartition(a, size - k, axis=axis)[key]
        else:
            key = (*lead, slice(0, k))
            chosen = np.argpartition(a, k - 1, axis=axis)[key]
        values = np.take_along_axis(a, chosen, axis=axis)
        order = self.sort_order(values, axis, descending=largest)
        return (np.take_along_axis(values, order, axis=axis),
                np.take_along_axis(chosen, order, axis=axis))

    def sort_order(self, a: Array, axis: int = -1, descending: bool = False) -> Array:
        # NumPy's default argsort (a vectorised quicksort) is up to 3x faster than its stable
        # one, but orders tied elements arbitrarily. The order it gives is made stable after:
        # the positions of each run of equal values (-0.0 and 0.0, and the NaNs at the end,
        # included) get their indices back in increasing order, by one lexsort of just the
        # tied elements (few, for most data).
        size = a.shape[axis] if a.ndim else 0
        if size < 2 or a.dtype == np.bool_:
            return super().sort_order(a, axis, descending)
        if descending:  # stable descending = reversed stable ascending of the reversed array
            flipped = self.sort_order(np.flip(a, axis), axis)
            return np.flip(size - 1 - flipped, axis).copy()
        order = np.moveaxis(np.argsort(a, axis=axis), axis, -1)
        ordered = np.take_along_axis(np.moveaxis(a, axis, -1), order, -1)
        tied = ordered[..., 1:] == ordered[..., :-1]
        if a.dtype in self.floating_dtypes:
            nan = np.isnan(ordered)
            tied |= nan[..., 1:] & nan[..., :-1]
        if self.any_true(tied):
            order = np.ascontiguousarray(order).reshape(-1, size)
            tied = tied.reshape(-1, size - 1)
            involved = np.zeros(order.shape, dtype=bool)
            involved[:, 1:] |= tied
            involved[:, :-1] |= tied
            runs = np.cumsum(np.concatenate([np.ones((order.shape[0], 1), dtype=bool), ~tied],
                                            axis=1), axis=1)
            rows, columns = np.nonzero(involved)
            indices = order[rows, columns]
            order[rows, columns] = indices[np.lexsort((indices, runs[rows, columns], rows))]
            order = order.reshape(ordered.shape)
        return np.moveaxis(order, -1, axis).astype(np.int64, copy=False)

    def inverse_permutation(self, order: Array) -> Array:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.shape[0], dtype=order.dtype)
        return inverse

    def unique(self, a: Array, return_inverse: bool = False,
               return_counts: bool = False) -> tuple[Array, Array | None, Array | None]:
        result = _unique(a, return_inverse=return_inverse, return_counts=return_counts,
                           equal_nan=False)
        if not (return_inverse or return_counts):
            return result, None, None
        values, *rest = result
        inverse = rest.pop(0).reshape(-1).astype(np.int64, copy=False) if return_inverse \
            else None
        counts = rest.pop(0).astype(np.int64, copy=False) if return_counts else None
        return values, inverse, counts

    def cumulative_extreme(self, a: Array, axis: int, largest: bool) -> tuple[Array, Array]:
        if a.dtype == np.bool_ or a.shape[axis] == 0:
            return super().cumulative_extreme(a, axis, largest)
        values = (np.maximum if largest else np.minimum).accumulate(a, axis=axis)
        # The extreme was (re)reached where the element equals it; a NaN is reached where it
        # is. The latest such position so far is the index.
        shape = tuple(-1 if d == axis else 1 for d in range(a.ndim))
        positions = np.arange(a.shape[axis], dtype=np.int64).reshape(shape)
        reached = a == values
        if a.dtype in self.floating_dtypes:
            reached |= np.isnan(a)
        indices = np.maximum.accumulate(np.where(reached, positions, 0), axis=axis)
        return values, indices

    def logcumsumexp(self, a: Array, axis: int) -> Array:
        if a.shape[axis] == 0:
            return a.copy()
        return np.logaddexp.accumulate(a, axis=axis)

    def data_ptr(self, array: Array) -> int:
        return int(array.__array_interface__["data"][0])

    def window_view(self, array: Array, axis: int, size: int, step: int) -> Array:
        shape, strides = array.shape, array.strides
        count = (shape[axis] - size) // step + 1
        return np.lib.stride_tricks.as_strided(
            array, (*shape[:axis], count, *shape[axis + 1:], size),
            (*strides[:axis], strides[axis] * step, *strides[axis + 1:], strides[axis]))

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

    def index_reduce(self, target: Array, key: Any, values: Array, reduce: str) -> Array:
        ufunc: Any
        if target.dtype == np.bool_:
            ufunc = np.logical_and if reduce in ("prod", "amin") else np.logical_or
        else:  # np.maximum/minimum propagate NaN, as PyTorch's amax/amin do
            ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
        ufunc.at(target, key, values)
        return target

    def to_numpy(self, array: Array) -> Any:
        return array

    def from_numpy(self, array: Any) -> Array:
        return array

    def tolist(self, array: Array) -> Any:
        return array.tolist()

    def item(self, array: Array) -> Any:
        return array.item()

    def is_array(self, obj: Any) -> bool:
        return isinstance(obj, (np.ndarray, np.generic))

    def out_argument(self, function: Callable[..., Any]) -> str | None:
        if type(function) is MaskedZero:
            return "elementwise"
        if not isinstance(function, np.ufunc) or function.nout != 1:
            return None
        if function.signature is None:
            return "elementwise"
        return "matmul" if function is np.matmul else None

    # A kernel's Python is NumPy ufuncs and in-place operators: recorded one by one, a compiled
    # program writes them into its planned buffers instead of fresh temporaries.
    records_kernel_operations = True

    # A block of a few hundred KiB per array: the few arrays of an elementwise chain then stay
    # in a core's L2 cache between its passes (a ufunc call per block and step is the price).
    replay_block_bytes = 256 * 1024

    # A Python number costs a ufunc call about 1 us of conversion and weak-type promotion that
    # a 0-d array of the same dtype (where the number would take that dtype anyway) does not.
    # NumPy's SIMD loops of maximum and minimum run over two arrays only: with a number or 0-d
    # array as one operand they take a scalar loop about 3x slower. Elementwise the results
    # are the same values either way, signed zeros and NaNs included
    # (tests/compiler/test_fusion.py checks this).
    def scalar_operand(self, function: Callable[..., Any]) -> str | None:
        if function is np.maximum or function is np.minimum:
            return "array"
        return "0-d" if isinstance(function, np.ufunc) else None

    # log_softmax (cross_entropy's) and its backward: kernels.py's operations in its order,
    # the reductions as the ufuncs' own reduce (np.max and np.sum add a few microseconds of
    # Python per call, most of the cost at a batch of logits): the same bits.
    def log_softmax(self, x: Array, axis: int) -> Array:
        if type(x) is not np.ndarray or not x.ndim or not x.size:
            return super().log_softmax(x, axis)
        shifted = x - _peak(x, axis)
        total = _add_reduce(np.exp(shifted), axis=axis, keepdims=True)
        shifted -= np.log(total)
        return shifted

    def class_targets_in_range(self, target: Array, classes: int) -> bool:
        # Negative int64 targets read as uint64 lie past any class count: one reduction
        # instead of a minimum and a maximum (each a few microseconds on a batch of targets).
        if type(target) is np.ndarray and target.dtype == np.int64 and target.size:
            return int(_maximum_reduce(target.view(np.uint64))) < classes
        return super().class_targets_in_range(target, classes)

    def log_softmax_backward(self, grad: Array, output: Array, axis: int) -> Array:
        if type(grad) is not np.ndarray or not grad.ndim:
            return super().log_softmax_backward(grad, output, axis)
        grad_sum = _add_reduce(grad, axis=axis, keepdims=True)
        return self.log_softmax_backward_finish(grad, output, grad_sum)

    def replay_function(self, function: Callable[..., Any], arrays: list[Array]
                        ) -> Callable[..., Any]:
        # The matmul method only converts low-precision dtypes; Python's operators on arrays
        # (an optimizer's update rule) are NumPy's ufuncs. Both then take out=.
        if function == self.matmul:
            if not any(getattr(array, "dtype", None) in _LOW_PRECISION for array in arrays):
                return np.matmul
            return function
        if function is np.where and masks_with_zero(*arrays):
            return MaskedZero(arrays[2])
        ufunc = _OPERATOR_UFUNCS.get(function)
        # (on Python numbers alone an operator gives a Python number, the ufunc a NumPy one)
        if ufunc is not None and any(type(array) is np.ndarray for array in arrays):
            return ufunc
        return function

    # add.reduce sums pairwise (a whole array) or row after row (along the first axis); BLAS's
    # dot and matrix-vector products with ones measured about twice as fast, from 64 elements
    # to millions (the same sums in another order: a few units in the last place of float32).
    def product_reduction(self, function: Callable[..., Any], array: Array, axis: Any,
                          keepdims: bool) -> ProductReduction | None:
        mean = function == self.mean
        if (not mean and function != self.sum) or type(array) is not np.ndarray \
                or array.dtype not in _BLAS_FLOATING or not array.size or keepdims:
            return None
        ndim = array.ndim
        if axis is None:
            axes = tuple(range(ndim))
        else:
            try:
                axes = tuple(sorted(a % ndim for a in ((axis,) if isinstance(axis, int)
                                                        else axis)))
            except (TypeError, ZeroDivisionError):
                return None
        dtype = array.dtype
        if ndim and axes == tuple(range(ndim)):  # all of it: one dot of the flat arrays
            plan = ProductReduction(np.vdot, np.ones(array.shape, dtype), False)
        elif ndim == 2 and axes == (0,):  # the column sums: ones @ array
            plan = ProductReduction(np.matmul, np.ones(array.shape[0], dtype), True)
        elif ndim == 2 and axes == (1,):  # the row sums: array @ ones
            plan = ProductReduction(np.matmul, np.ones(array.shape[1], dtype), False)
        else:
            return None
        if mean:  # (as `mean` divides: by the count as a scalar of the dtype)
            count = 1
            for a in axes:
                count *= array.shape[a]
            plan.divisor = dtype.type(count)
        return plan

    def share_memory(self, array: Array) -> Array:
        """`array` in memory other processes map (the sharing strategy's kind of segment: see
        `shared_memory`): itself when it already is, else a copy."""
        return shared_memory.share(array)

    def is_shared(self, array: Array) -> bool:
        return shared_memory.is_shared(array)

    def shared_view(self, array: Array) -> shared_memory.SharedView:
        return shared_memory.view_of(array)

    def from_shared_view(self, view: shared_memory.SharedView) -> Array:
        return shared_memory.array_of(view)

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

    # The memory an array views is its owner's: the array at the end of its `.base` chain.
    def memory_owner(self, array: Array) -> Any:
        return _owner(array) if isinstance(array, np.ndarray) else array

    makes_views = True

    def owns_memory(self, array: Array) -> bool:
        return array.base is None

    def repeats_along(self, array: Array, axis: int) -> bool:
        return bool(array.size) and array.strides[axis] == 0

    def strides(self, array: Array) -> Shape:
        if not array.size and array.base is None:
            # NumPy gives a new empty array zero strides; PyTorch's factories, contiguous ones.
            return contiguous_strides(array.shape)
        itemsize = array.itemsize
        return tuple(stride // itemsize for stride in np.asarray(array).strides)

    def lay_out_empty(self, array: Array) -> Array:
        # NumPy's views of a zero-strided empty array inherit its zero strides.
        if not isinstance(array, np.ndarray) or array.size or array.base is not None:
            return array
        return self.restrided(array, array.shape, contiguous_strides(array.shape))

    def restrided(self, array: Array, shape: Shape, strides: Shape) -> Array:
        return np.lib.stride_tricks.as_strided(
            array, shape, tuple(stride * array.itemsize for stride in strides))

    def storage_offset(self, array: Array) -> int:
        array = np.asarray(array)
        owner = _owner(array)
        return (array.__array_interface__["data"][0]
                - owner.__array_interface__["data"][0]) // array.itemsize

    def storage_size(self, array: Array) -> int:
        return int(_owner(np.asarray(array)).size)

    def storage(self, array: Array) -> Array:
        owner = _owner(np.asarray(array))
        if not (owner.flags.c_contiguous or owner.flags.f_contiguous):
            raise ValueError("the memory is not one block")  # an owner always is
        return owner.reshape(-1, order="A")

    def strided_view(self, array: Array, shape: Shape, strides: Shape, offset: int) -> Array:
        flat = self.storage(array)
        itemsize = flat.itemsize
        return np.lib.stride_tricks.as_strided(
            flat[offset:], shape, tuple(stride * itemsize for stride in strides))

    def contiguous_copy(self, array: Array) -> Array:
        return np.array(array, order="C", copy=True)

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
