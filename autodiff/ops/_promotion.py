"""PyTorch's type promotion and broadcasting checks, shared by the op families: on arrays
(`promote`, `cast_operand`, `check_broadcast`, `default_float`) and on the Tensors that sums and
products over elements take (`cast_for_accumulation`)."""

from __future__ import annotations

from typing import Any

from backends import Backend

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
        if type(b) is not bool and (
            a.dtype in backend.floating_dtypes or (type(b) is int and a.dtype != backend.bool_dtype)
        ):
            return a, b
    elif type(a) in _SCALARS:
        if type(a) is not bool and (
            b.dtype in backend.floating_dtypes or (type(a) is int and b.dtype != backend.bool_dtype)
        ):
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


def cast_operand(backend: Backend, x: Any, dtype: str) -> Any:
    if type(x) in _SCALARS:
        if dtype in ("complex64", "complex128"):
            return complex(x)
        if dtype in ("float16", "float32", "float64"):
            return float(x)
        return bool(x) if dtype == "bool" else int(x)
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


def default_float(backend: Backend, x: Any) -> Any:
    """Integers and bools become the default float dtype (true division, mean of ints...)."""
    if x.dtype in backend.floating_dtypes:  # every unary op's forward: the set, not the call
        return x
    if x.dtype in backend.complex_dtypes:
        return x
    return backend.astype(x, dtypes.get_default_dtype().name)


def cast_for_accumulation(input: Tensor, dtype: Any) -> Tensor:
    """How sums and products over elements (prod, cumsum, cumprod) take their input, as
    PyTorch: cast to `dtype=` first (differentiably); without it integers and bools become
    int64."""
    if dtype is not None:
        return input.to(dtypes.to_dtype(dtype))
    if not input.dtype.is_floating_point and input.dtype is not dtypes.int64:
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
