"""Integer arithmetic: gcd and lcm, and the bit shifts (bitwise_left_shift / `<<`,
bitwise_right_shift / `>>`).

Integer dtypes only (bools and floats raise PyTorch's "not implemented" errors); results are
not differentiable and sit outside the graph. Shifts by a negative amount or by the width of
the type or more are defined as PyTorch defines them: 0 to the left, the sign to the right.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..batching.dispatch import elementwise_op
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for_dtype, require_operands, require_tensors, same_device
from ._promotion import promote

_SCALARS = (bool, int, float)


def _integer_operands(name: str, input: Any, other: Any) -> tuple[Any, Any, Any]:
    """The backend and both operands as arrays of their promoted integer dtype."""
    tensors = [x for x in (input, other) if isinstance(x, Tensor)]
    same_device(*tensors)
    backend = tensors[0]._backend
    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    a, b = promote(backend, a, b)
    kind = backend.dtype_name(a) if type(a) not in _SCALARS else backend.dtype_name(b)
    if not dtypes.BY_NAME[kind].category == 1:
        raise not_implemented_for_dtype(name, backend, kind)
    a, b = (x if type(x) not in _SCALARS else backend.asarray(x, dtype=kind) for x in (a, b))
    return backend, a, b


# ----------------------------------------------------------------------------- gcd, lcm
@elementwise_op
def gcd(input: Tensor, other: Tensor) -> Tensor:
    """The greatest common divisor (non-negative; gcd(0, 0) = 0)."""
    require_tensors("gcd", ("input", input), ("other", other))
    backend, a, b = _integer_operands("gcd", input, other)
    return _wrap(backend.gcd(a, b), backend)


def gcd_(input: Tensor, other: Tensor) -> Tensor:
    """In place: `input.gcd_(other)`."""
    require_tensors("gcd_", ("input", input))
    return input.gcd_(other)


@elementwise_op
def lcm(input: Tensor, other: Tensor) -> Tensor:
    """The least common multiple (non-negative; 0 when either is 0)."""
    require_tensors("lcm", ("input", input), ("other", other))
    backend, a, b = _integer_operands("lcm", input, other)
    return _wrap(backend.lcm(a, b), backend)


def lcm_(input: Tensor, other: Tensor) -> Tensor:
    """In place: `input.lcm_(other)`."""
    require_tensors("lcm_", ("input", input))
    return input.lcm_(other)


# ----------------------------------------------------------------------------- shifts
@elementwise_op
def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    require_operands("bitwise_left_shift", input, other)
    backend, a, b = _integer_operands("lshift", input, other)
    bits = 8 * dtypes.BY_NAME[backend.dtype_name(a)].itemsize
    out_of_range = backend.logical_or(backend.less(b, 0), backend.greater_equal(b, bits))
    shifted = backend.bitwise_left_shift(a, backend.where(out_of_range, backend.zeros_like(b), b))
    return _wrap(backend.where(out_of_range, backend.zeros_like(shifted), shifted), backend)


@elementwise_op
def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    require_operands("bitwise_right_shift", input, other)
    backend, a, b = _integer_operands("rshift", input, other)
    kind = dtypes.BY_NAME[backend.dtype_name(a)]
    bits = 8 * kind.itemsize
    out_of_range = backend.logical_or(backend.less(b, 0), backend.greater_equal(b, bits))
    shifted = backend.bitwise_right_shift(a, backend.where(out_of_range, backend.zeros_like(b),
                                                           b))
    if kind.is_signed:  # every bit shifted out: what is left is the sign (0 or -1)
        beyond = backend.bitwise_right_shift(a, backend.full((), bits - 1, kind.name))
    else:
        beyond = backend.zeros_like(shifted)
    return _wrap(backend.where(out_of_range, beyond, shifted), backend)
