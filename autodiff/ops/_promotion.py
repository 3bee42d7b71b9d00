"""PyTorch's type promotion and broadcasting checks, shared by the op families: on arrays
(`promote`, `cast_operand`, `check_broadcast`, `default_float`), Python numbers meeting arrays
(`with_number`, `wrap_integer`, `checked_number`), the dtypes PyTorch computes and accumulates
in (`opmath`, `accumulation_dtype`), and the Tensors that sums and products over elements take
(`cast_for_accumulation`)."""

from __future__ import annotations

from typing import Any

from backends import Backend, broadcast_shapes

from .. import dtypes
from ..tensor import Tensor

_SCALARS = (bool, int, float, complex)


def promote(backend: Backend, a: Any, b: Any, elementwise: bool = True) -> tuple[Any, Any]:
    """Cast two operands (arrays or Python scalars) to PyTorch's result dtype for them, and
    (for elementwise ops) check that their shapes broadcast.

    The common cases (a tensor with a Python number of its category or lower; two tensors of
    one dtype) return at once: this runs for every arithmetic op.
    """
    # Python bools always take the slow path: array API libraries (array-api-strict, like
    # PyTorch) refuse `float_array + True`, so they become numbers of the result dtype.
    # (The backend's dtype sets are read directly, not through its predicates: the hot path.)
    if type(b) in _SCALARS:
        if type(a) in _SCALARS:
            return a, b  # two Python numbers: the caller's business
        # (A complex number meeting a real tensor takes the slow path: bfloat16 and float16
        # become complex there, where the arrays' own promotion would keep them real.)
        if type(b) is not bool and type(b) is not complex and (
            a.dtype in backend.floating_dtypes or (type(b) is int and a.dtype != backend.bool_dtype)
        ):
            if type(b) is int and not 0 <= b <= 127 and a.dtype not in backend.floating_dtypes \
                    and a.dtype not in backend.complex_dtypes:
                b = wrap_integer(b, backend.dtype_name(a))
            return a, b
    elif type(a) in _SCALARS:
        if type(a) is not bool and type(a) is not complex and (
            b.dtype in backend.floating_dtypes or (type(a) is int and b.dtype != backend.bool_dtype)
        ):
            if type(a) is int and not 0 <= a <= 127 and b.dtype not in backend.floating_dtypes \
                    and b.dtype not in backend.complex_dtypes:
                a = wrap_integer(a, backend.dtype_name(b))
            return a, b
    elif a.dtype == b.dtype:
        if elementwise and a.shape != b.shape:
            check_broadcast(a.shape, b.shape)
        return a, b
    operands = [
        x if type(x) in _SCALARS else (dtypes.BY_NAME[backend.dtype_name(x)], x.ndim)
        for x in (a, b)
    ]
    result = dtypes.result_type(*operands).name
    a = cast_operand(backend, a, result)
    b = cast_operand(backend, b, result)
    if elementwise and type(a) not in _SCALARS and type(b) not in _SCALARS and a.shape != b.shape:
        check_broadcast(a.shape, b.shape)
    return a, b


# Each integer dtype's range, and the C++ type PyTorch's overflow message names.
_INTEGER_BOUNDS = {
    "uint8": (0, 2 ** 8 - 1), "int8": (-2 ** 7, 2 ** 7 - 1), "int16": (-2 ** 15, 2 ** 15 - 1),
    "int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1),
}
_CHECKED_TYPES = {
    "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
}


def integer_bounds(dtype: str) -> tuple[int, int]:
    """The smallest and largest value of an integer dtype."""
    return _INTEGER_BOUNDS[dtype]


def wrap_integer(value: int, dtype: str) -> int:
    """A Python int meeting an integer tensor of `dtype` in arithmetic or a comparison, cast as
    PyTorch casts it: wrapped around into the dtype's range (uint8 + 300 adds 44, + -1 adds
    255). NumPy raises OverflowError instead."""
    low, high = _INTEGER_BOUNDS[dtype]
    if low <= value <= high:
        return value
    return (value - low) % (high - low + 1) + low


def checked_number(value: Any, dtype: str, type_name: str | None = None) -> Any:
    """A Python number to be stored in a tensor of `dtype` (full, fill_, masked_fill, where,
    clamp, pow): PyTorch's RuntimeError where it does not fit an integer dtype (an unsigned one
    also takes negatives down to -max, wrapped around), NumPy's OverflowError never."""
    bounds = _INTEGER_BOUNDS.get(dtype)
    if bounds is None or type(value) is bool or type(value) not in _SCALARS:
        return value
    low, high = bounds
    if not (-high if low == 0 else low) <= value <= high:  # nan fails too
        name = _CHECKED_TYPES[dtype] if type_name is None else type_name
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    return wrap_integer(value, dtype) if type(value) is int else value


def with_number(backend: Backend, function: Any, a: Any, b: Any) -> Any:
    """`function(a, b)` for promoted operands of which one is a Python number. A float16 array
    meets the number as in PyTorch: in float32 (its "opmath" type, the number rounded to
    float32), the result rounded to float16 once. Other arrays meet it as they are."""
    array = b if type(a) in _SCALARS else a
    dtype = array.dtype
    if dtype in backend.full_precision_floating or dtype not in backend.floating_dtypes:
        return function(a, b)
    wide = backend.astype(array, "float32")
    result = function(a, wide) if array is b else function(wide, b)
    return backend.astype(result, backend.dtype_name(array))


def cast_operand(backend: Backend, x: Any, dtype: str) -> Any:
    if type(x) in _SCALARS:
        if dtype in ("complex64", "complex128"):
            return complex(x)
        if dtype in ("float16", "bfloat16", "float32", "float64"):
            return float(x)
        if dtype == "bool":
            return bool(x)
        return wrap_integer(int(x), dtype)
    if backend.dtype_name(x) == dtype:
        return x
    return backend.astype(x, dtype)


def check_broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    """Raise PyTorch's message when two shapes do not broadcast."""
    for axis in range(1, min(len(a), len(b)) + 1):
        size_a, size_b = a[-axis], b[-axis]
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {max(len(a), len(b)) - axis}"
            )


def check_broadcast_all(*shapes: tuple[int, ...]) -> None:
    """Raise PyTorch's message when shapes do not broadcast, folding them left to right as its
    TensorIterator does ("tensor a" is the shape of the operands so far)."""
    shape = shapes[0]
    for other in shapes[1:]:
        if other != shape:
            check_broadcast(shape, other)
            shape = broadcast_shapes(shape, other)


def default_float(backend: Backend, x: Any) -> Any:
    """Integers and bools become the default float dtype (true division, mean of ints...)."""
    if x.dtype in backend.floating_dtypes:  # every unary op's forward: the set, not the call
        return x
    if x.dtype in backend.complex_dtypes:
        return x
    return backend.astype(x, dtypes.get_default_dtype().name)


# PyTorch's CPU kernels compute float16 in float32 ("opmath": softmax, layer_norm, norms) and
# accumulate cumulative sums and products and variances one level up (`acc_type`: float16 in
# float32, float32 in float64), rounding the result once.
_OPMATH = {"float16": "float32", "bfloat16": "float32"}
_ACCUMULATE = {"float16": "float32", "bfloat16": "float32", "float32": "float64"}


def opmath(backend: Backend, array: Any) -> tuple[Any, str | None]:
    """`array` in the dtype PyTorch computes it in (float16 as float32), and the dtype to round
    the result to (None when the array is unchanged)."""
    name = backend.dtype_name(array)
    wide = _OPMATH.get(name)
    return (array, None) if wide is None else (backend.astype(array, wide), name)


def accumulation_dtype(backend: Backend, array: Any) -> str | None:
    """The dtype PyTorch's CPU kernels accumulate `array`'s cumulative sums and products and
    its variance in, when wider than its own (float16: float32, float32: float64)."""
    return _ACCUMULATE.get(backend.dtype_name(array))


def rounded(backend: Backend, array: Any, dtype: str | None) -> Any:
    """`array` rounded to `dtype` (unchanged for None): the end of an `opmath` computation."""
    return array if dtype is None else backend.astype(array, dtype)


def cast_for_accumulation(input: Tensor, dtype: Any) -> Tensor:
    """How sums and products over elements (prod, cumsum, cumprod) take their input, as
    PyTorch: cast to `dtype=` first (differentiably); without it integers and bools become
    int64."""
    if dtype is not None:
        return input.to(dtypes.to_dtype(dtype))
    kind = input.dtype
    if not (kind.is_floating_point or kind.is_complex) and kind is not dtypes.int64:
        return input.to(dtypes.int64)
    return input


def float_dtype(backend: Backend, *operands: Any) -> str:
    """PyTorch's dtype for a floating-point function of `operands` (arrays or Python numbers):
    their promoted dtype, or the default float dtype when that is an integer or bool."""
    if len(operands) == 1 and type(operands[0]) not in _SCALARS:
        kind = dtypes.BY_NAME[backend.dtype_name(operands[0])]
    else:
        kind = dtypes.result_type(*[
            x if type(x) in _SCALARS else (dtypes.BY_NAME[backend.dtype_name(x)], x.ndim)
            for x in operands
        ])
    return kind.name if kind.is_floating_point else dtypes.get_default_dtype().name


def in_float(backend: Backend, compute: Any, *operands: Any, dtype: str | None = None) -> Any:
    """`compute(*operands)` for a library function (SciPy's special functions, NumPy's own) in
    PyTorch's floating dtype of the operands (`float_dtype`, or `dtype`): float16 is computed in
    float32 (PyTorch's opmath) and the result, or each result of a tuple, comes back in that
    dtype whatever the library returned (some have no float32 loop)."""
    if dtype is None:
        dtype = float_dtype(backend, *operands)
    compute_dtype = "float32" if dtype == "float16" else dtype
    result = compute(*[cast_operand(backend, x, compute_dtype) for x in operands])
    native = backend.native_dtype(dtype)
    if type(result) is tuple:
        return tuple(r if r.dtype == native else backend.astype(r, dtype) for r in result)
    return result if result.dtype == native else backend.astype(result, dtype)
