"""The generic `Backend`: every array primitive the tape needs, written once against an
array-API namespace `xp`.

A subclass per library (NumPy, CuPy, array-api-strict) overrides only what the libraries really do
differently: scatter-add, random numbers, host transfer, fused kernels, synchronisation. The tape
(`autodiff/`) calls nothing else, so a new backend is one subclass of this class.

Elementwise functions whose array-API signature is already what the tape needs are bound straight
onto the instance (`self.exp = xp.exp`): one attribute lookup and no extra Python frame per op.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from . import kernels
from .device import Device

Array = Any
Shape = tuple[int, ...]

DTYPE_NAMES = (
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
)

# Taken from the namespace as they are: same name, same signature as the tape calls them.
DIRECT_FUNCTIONS = (
    "add", "subtract", "multiply", "divide", "negative", "pow", "exp", "expm1", "log", "log1p",
    "log2", "log10", "sqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin",
    "acos", "atan", "atan2", "floor", "ceil", "round", "trunc", "maximum", "minimum", "where",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
    "logical_or", "logical_not", "logical_xor", "isnan", "isinf", "isfinite", "square", "clip",
    "sum", "prod", "max", "min", "mean", "argmax", "argmin", "matmul", "tensordot", "reshape",
    "permute_dims", "broadcast_to", "expand_dims", "squeeze", "concat", "stack", "flip", "roll",
    "take", "take_along_axis", "sort", "argsort", "nonzero", "tile", "repeat", "floor_divide",
    "remainder", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert", "any", "all",
    "zeros_like", "ones_like", "cumulative_sum", "cumulative_prod",
)


class Backend:
    """One object per device; methods are the array primitives of the tape."""

    name = "generic"
    floating_dtypes: frozenset[Any]
    integer_dtypes: frozenset[Any]
    bool_dtype: Any

    # Bound in __init__ from DIRECT_FUNCTIONS (typed here for readers and mypy).
    add: Callable[..., Array]
    subtract: Callable[..., Array]
    multiply: Callable[..., Array]
    divide: Callable[..., Array]
    negative: Callable[..., Array]
    pow: Callable[..., Array]
    exp: Callable[..., Array]
    expm1: Callable[..., Array]
    log: Callable[..., Array]
    log1p: Callable[..., Array]
    log2: Callable[..., Array]
    log10: Callable[..., Array]
    sqrt: Callable[..., Array]
    abs: Callable[..., Array]
    sign: Callable[..., Array]
    sin: Callable[..., Array]
    cos: Callable[..., Array]
    tan: Callable[..., Array]
    tanh: Callable[..., Array]
    sinh: Callable[..., Array]
    cosh: Callable[..., Array]
    asin: Callable[..., Array]
    acos: Callable[..., Array]
    atan: Callable[..., Array]
    atan2: Callable[..., Array]
    floor: Callable[..., Array]
    ceil: Callable[..., Array]
    round: Callable[..., Array]
    trunc: Callable[..., Array]
    maximum: Callable[..., Array]
    minimum: Callable[..., Array]
    where: Callable[..., Array]
    equal: Callable[..., Array]
    not_equal: Callable[..., Array]
    greater: Callable[..., Array]
    greater_equal: Callable[..., Array]
    less: Callable[..., Array]
    less_equal: Callable[..., Array]
    logical_and: Callable[..., Array]
    logical_or: Callable[..., Array]
    logical_not: Callable[..., Array]
    logical_xor: Callable[..., Array]
    isnan: Callable[..., Array]
    isinf: Callable[..., Array]
    isfinite: Callable[..., Array]
    square: Callable[..., Array]
    clip: Callable[..., Array]
    sum: Callable[..., Array]
    prod: Callable[..., Array]
    max: Callable[..., Array]
    min: Callable[..., Array]
    mean: Callable[..., Array]
    argmax: Callable[..., Array]
    argmin: Callable[..., Array]
    matmul: Callable[..., Array]
    tensordot: Callable[..., Array]
    reshape: Callable[..., Array]
    permute_dims: Callable[..., Array]
    broadcast_to: Callable[..., Array]
    expand_dims: Callable[..., Array]
    squeeze: Callable[..., Array]
    concat: Callable[..., Array]
    stack: Callable[..., Array]
    flip: Callable[..., Array]
    roll: Callable[..., Array]
    take: Callable[..., Array]
    take_along_axis: Callable[..., Array]
    sort: Callable[..., Array]
    argsort: Callable[..., Array]
    nonzero: Callable[..., Array]
    tile: Callable[..., Array]
    repeat: Callable[..., Array]
    floor_divide: Callable[..., Array]
    remainder: Callable[..., Array]
    bitwise_and: Callable[..., Array]
    bitwise_or: Callable[..., Array]
    bitwise_xor: Callable[..., Array]
    bitwise_invert: Callable[..., Array]
    any: Callable[..., Array]
    all: Callable[..., Array]
    zeros_like: Callable[..., Array]
    ones_like: Callable[..., Array]
    cumulative_sum: Callable[..., Array]
    cumulative_prod: Callable[..., Array]

    def __init__(self, xp: Any, device: Device, native_device: Any = None) -> None:
        self.xp = xp
        self.device = device
        self.native_device = native_device
        # A subclass's own method wins over the namespace's function (an instance attribute
        # would shadow it).
        overridden = {name for klass in type(self).__mro__[:-1] if klass is not Backend
                      for name in vars(klass)}
        for function_name in DIRECT_FUNCTIONS:
            function = getattr(xp, function_name, None)
            if function is not None and function_name not in overridden:
                setattr(self, function_name, function)
        # The dtype objects arrays actually carry (NumPy's xp.float32 is a scalar type, and
        # np.dtype("float32") hashes differently), read off an empty array of each.
        # A namespace may lack some (array-api-strict has no float16): those dtypes are absent.
        self._native_dtypes = {
            name: xp.empty((0,), dtype=getattr(xp, name), device=native_device).dtype
            for name in DTYPE_NAMES
            if hasattr(xp, name)
        }
        # Keyed by the native dtype object: one dict lookup answers `Tensor.dtype`.
        self._dtype_names = {native: name for name, native in self._native_dtypes.items()}
        # The native dtypes of each kind, read by the predicates below. Hot paths (an op's
        # forward on a float tensor and a Python number) test `dtype in backend.floating_dtypes`
        # directly: the same set lookup without the call.
        self.floating_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if name.startswith("float")
        )
        self.integer_dtypes = frozenset(
            native for name, native in self._native_dtypes.items() if "int" in name
        )
        self.bool_dtype = self._native_dtypes["bool"]
        self.seed_generator(0)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device='{self.device}'>"

    # ----------------------------------------------------------------------------- dtypes
    # The tape asks about dtypes only through these: a native dtype is what `array.dtype` gives.
    def native_dtype(self, name: str) -> Any:
        return self._native_dtypes[name]

    def dtype_name(self, array: Array) -> str:
        """The name ("float32", "int64", "bool", ...) of an array's dtype."""
        return self._dtype_names[array.dtype]

    def name_of_dtype(self, dtype: Any) -> str:
        """The name of a native dtype."""
        return self._dtype_names[dtype]

    def is_floating(self, dtype: Any) -> bool:
        return dtype in self.floating_dtypes

    def is_integer(self, dtype: Any) -> bool:
        """Signed or unsigned integers; bool is not one (as in PyTorch)."""
        return dtype in self.integer_dtypes

    def is_bool(self, dtype: Any) -> bool:
        return dtype == self.bool_dtype

    def astype(self, array: Array, dtype: str, copy: bool = False) -> Array:
        return self.xp.astype(array, self._native_dtypes[dtype], copy=copy)

    # ----------------------------------------------------------------------------- creation
    def asarray(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> Array:
        native = None if dtype is None else self._native_dtypes[dtype]
        return self.xp.asarray(obj, dtype=native, device=self.native_device, copy=copy)

    def zeros(self, shape: Shape, dtype: str) -> Array:
        return self.xp.zeros(shape, dtype=self._native_dtypes[dtype], device=self.native_device)

    def ones(self, shape: Shape, dtype: str) -> Array:
        return self.xp.ones(shape, dtype=self._native_dtypes[dtype], device=self.native_device)

    def full(self, shape: Shape, fill_value: Any, dtype: str) -> Array:
        return self.xp.full(
            shape, fill_value, dtype=self._native_dtypes[dtype], device=self.native_device
        )

    def empty(self, shape: Shape, dtype: str) -> Array:
        return self.xp.empty(shape, dtype=self._native_dtypes[dtype], device=self.native_device)

    def eye(self, n: int, m: int | None, dtype: str) -> Array:
        return self.xp.eye(n, m, dtype=self._native_dtypes[dtype], device=self.native_device)

    def arange(self, start: Any, stop: Any, step: Any, dtype: str) -> Array:
        return self.xp.arange(
            start, stop, step, dtype=self._native_dtypes[dtype], device=self.native_device
        )

    def linspace(self, start: Any, stop: Any, num: int, dtype: str) -> Array:
        """`num` evenly spaced values from start to stop, computed as PyTorch computes them:
        the first half as start + step * i, the second as stop - step * (num - 1 - i), in the
        dtype itself (in double for integers, then truncated), so both ends are exact."""
        return self.astype(self._spaced(start, stop, num, dtype), dtype)

    def logspace(self, start: Any, stop: Any, num: int, base: float, dtype: str) -> Array:
        """base ** linspace(start, stop, num): the exponents in the dtype, the powers in
        double, then cast (PyTorch's order of operations)."""
        exponents = self.astype(self._spaced(start, stop, num, dtype), "float64")
        powers = self.pow(self.full((), float(base), "float64"), exponents)
        return self.astype(powers, dtype)

    def _spaced(self, start: Any, stop: Any, num: int, dtype: str) -> Array:
        work = dtype if dtype.startswith("float") else "float64"
        if not dtype.startswith("float"):  # the ends are first converted to the integer type
            start, stop = int(start), int(stop)
        if num <= 1:
            return self.full((num,), start, work)
        first = self.full((), start, work)
        last = self.full((), stop, work)
        step = self.divide(self.subtract(last, first), self.full((), num - 1, work))
        index = self.arange(0, num, 1, "int64")
        lower = self.add(first, self.multiply(step, self.astype(index, work)))
        upper = self.subtract(last, self.multiply(step, self.astype(
            self.subtract(num - 1, index), work)))
        return self.where(self.less(index, num // 2), lower, upper)

    # ----------------------------------------------------------------------------- random
    # The array API has no random numbers: each backend brings a generator.
    def seed_generator(self, seed: int) -> None:
        raise NotImplementedError

    def rand(self, shape: Shape, dtype: str) -> Array:
        """Uniform on [0, 1)."""
        raise NotImplementedError

    def randn(self, shape: Shape, dtype: str) -> Array:
        """Standard normal."""
        raise NotImplementedError

    def randint(self, low: int, high: int, shape: Shape, dtype: str) -> Array:
        raise NotImplementedError

    def randperm(self, n: int, dtype: str) -> Array:
        return self.astype(self.argsort(self.rand((n,), "float64")), dtype)

    # ----------------------------------------------------------------------------- reductions
    def var(self, array: Array, axis: Any = None, correction: float = 1,
            keepdims: bool = False) -> Array:
        return self.xp.var(array, axis=axis, correction=correction, keepdims=keepdims)

    def logsumexp(self, array: Array, axis: Any, keepdims: bool = False) -> Array:
        peak = self.max(array, axis=axis, keepdims=True)
        # An all -inf slice would give nan from (-inf) - (-inf); shift by 0 there instead.
        peak = self.where(self.isfinite(peak), peak, self.zeros_like(peak))
        out = self.log(self.sum(self.exp(array - peak), axis=axis, keepdims=True)) + peak
        return out if keepdims else self.squeeze(out, axis=axis)

    # ----------------------------------------------------------------------------- indexing
    def getitem(self, array: Array, key: Any) -> Array:
        return array[key]

    def setitem(self, array: Array, key: Any, value: Any) -> None:
        array[key] = value

    def windows(self, array: Array, axis: int, size: int, step: int) -> Array:
        """Every window of `size` elements, `step` apart, along `axis`: the windows' index in
        place of `axis`, each window's elements along a new last axis (a copy)."""
        shape = array.shape
        count = (shape[axis] - size) // step + 1
        starts = self.reshape(self.arange(0, count * step, step, "int64"), (count, 1))
        offsets = self.reshape(self.arange(0, size, 1, "int64"), (1, size))
        positions = self.reshape(self.add(starts, offsets), (-1,))
        taken = self.take(array, positions, axis=axis)
        taken = self.reshape(taken, (*shape[:axis], count, size, *shape[axis + 1:]))
        order = [d for d in range(taken.ndim) if d != axis + 1]
        return self.permute_dims(taken, (*order, axis + 1))

    def window_view(self, array: Array, axis: int, size: int, step: int) -> Array:
        """`windows` as a view of `array`'s memory. The array API has no strided views: a
        backend that can make one overrides this; ValueError says it cannot."""
        raise ValueError("this backend makes no strided views")

    def index_add(self, target: Array, key: Any, values: Array) -> Array:
        """target[key] += values, accumulating over repeated indices (scatter-add), in place.

        The array API has no scatter-add, so each backend supplies one (NumPy's `add.at`, CuPy's
        `cupyx.scatter_add`).
        """
        raise NotImplementedError

    # ----------------------------------------------------------------------------- host, devices
    def to_numpy(self, array: Array) -> Any:
        """A NumPy array with the same values (shares memory where the backend allows)."""
        raise NotImplementedError

    def from_numpy(self, array: Any) -> Array:
        return self.xp.asarray(array, device=self.native_device)

    def tolist(self, array: Array) -> Any:
        return self.to_numpy(array).tolist()

    def item(self, array: Array) -> Any:
        return self.to_numpy(array).item()

    def transfer(self, array: Array, source: Backend) -> Array:
        """Copy an array of another backend onto this one (through the host by default)."""
        return self.from_numpy(source.to_numpy(array))

    def is_exclusive(self, array: Array) -> bool:
        """True when `array` owns its memory and is writable, so a gradient may be stolen.

        The default is the safe answer: False makes the engine copy before storing a gradient.
        """
        return False

    def synchronize(self) -> None:
        """Wait for queued work; a no-op for synchronous backends."""

    # ----------------------------------------------------------------------------- fused kernels
    def sigmoid(self, x: Array) -> Array:
        return kernels.sigmoid(self.xp, x)

    def softplus(self, x: Array) -> Array:
        return kernels.softplus(self.xp, x)

    def erf(self, x: Array) -> Array:
        # The array API has no erf; a backend with a native one (CuPy) may override this.
        return kernels.erf(self.xp, x)

    def bce_with_logits(self, z: Array, y: Array, weight: Array | None,
                        pos_weight: Array | None) -> Array:
        return kernels.bce_with_logits(self.xp, z, y, weight, pos_weight)

    def bce_with_logits_backward(self, grad: Array, z: Array, y: Array, weight: Array | None,
                                 pos_weight: Array | None) -> Array:
        return kernels.bce_with_logits_backward(self.xp, grad, z, y, weight, pos_weight)

    def log_softmax(self, x: Array, axis: int) -> Array:
        return kernels.log_softmax(self.xp, x, axis)

    def log_softmax_backward(self, grad: Array, output: Array, axis: int) -> Array:
        return kernels.log_softmax_backward(self.xp, grad, output, axis)

    def adam_update(self, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, *,
                    lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                    step: int, decoupled: bool) -> None:
        """One Adam step (AdamW's when `decoupled`), in place on param, exp_avg, exp_avg_sq."""
        kernels.adam_update(self.xp, param, grad, exp_avg, exp_avg_sq, lr=lr, beta1=beta1,
                            beta2=beta2, eps=eps, weight_decay=weight_decay, step=step,
                            decoupled=decoupled)

    from .decompositions import cholesky, det, inv, slogdet, solve, svd  # type: ignore[misc]
    from .einsum import einsum  # type: ignore[misc]
    from .sorting import (  # type: ignore[misc]
        bincount,
        cumulative_extreme,
        index_reduce,
        inverse_permutation,
        logcumsumexp,
        searchsorted,
        sort_order,
        topk,
        unique,
        unique_consecutive,
        unique_rows,
    )


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """The shape that `shapes` broadcast to; ValueError naming them when they do not."""
    ndim = max((len(shape) for shape in shapes), default=0)
    result = [1] * ndim
    for shape in shapes:
        for axis, size in enumerate(shape, start=ndim - len(shape)):
            if size == 1 or size == result[axis]:
                continue
            if result[axis] != 1:
                raise ValueError(f"shapes {[tuple(s) for s in shapes]} cannot be broadcast")
            result[axis] = size
    return tuple(result)


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)
