"""`torch.testing`: `assert_close` (with PyTorch's pairs, default tolerances and messages) and
`make_tensor` (random test inputs)."""

from __future__ import annotations

import cmath
import collections.abc
import math
from collections.abc import Callable
from typing import Any, NoReturn

from backends import interop

from . import creation, dtypes
from .dtypes import Size
from .ops.complex import view_as_complex
from .tensor import Tensor
from .user_warnings import warn

__all__ = ["assert_close", "make_tensor"]

# Default (rtol, atol) per dtype; integers and bools compare exactly.
_PRECISIONS = {
    dtypes.float16: (0.001, 1e-5),
    dtypes.bfloat16: (0.016, 1e-5),
    dtypes.float32: (1.3e-6, 1e-5),
    dtypes.float64: (1e-7, 1e-7),
    dtypes.complex64: (1.3e-6, 1e-5),
    dtypes.complex128: (1e-7, 1e-7),
}
# The dtype a Python number compares as.
_NUMBER_DTYPES = {int: dtypes.int64, float: dtypes.float64}


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise and PyTorch's message."""

    def __init__(self, kind: type[Exception], message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Assert that `actual` and `expected` are close: tensors (or NumPy arrays) by shape, device,
    dtype and values within `rtol`/`atol` (defaults by dtype), Python numbers likewise, and
    sequences and mappings of them element by element."""
    options = _Options(allow_subclasses, rtol, atol, equal_nan, check_device, check_dtype,
                       check_stride)
    try:
        _compare(actual, expected, options, ())
    except _Mismatch as mismatch:
        message = mismatch.message
        if not isinstance(msg, str):
            where = getattr(mismatch, "where", ())
            if where:
                message += "\n\nThe failure occurred for item " + "".join(
                    str([item]) for item in where)
            if msg is not None:
                message = msg(message)
        else:
            message = msg
        raise mismatch.kind(message) from None


class _Options:
    def __init__(self, allow_subclasses: bool, rtol: float | None, atol: float | None,
                 equal_nan: bool, check_device: bool, check_dtype: bool,
                 check_stride: bool) -> None:
        if (rtol is None) != (atol is None):
            raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                             f"no {'rtol' if rtol is None else 'atol'}.")
        self.allow_subclasses = allow_subclasses
        self.rtol, self.atol = rtol, atol
        self.equal_nan = equal_nan
        self.check_device = check_device
        self.check_dtype = check_dtype
        self.check_stride = check_stride

    def tolerances(self, *kinds: dtypes.dtype) -> tuple[float, float]:
        if self.rtol is not None and self.atol is not None:
            return self.rtol, self.atol
        pairs = [_PRECISIONS.get(kind, (0.0, 0.0)) for kind in kinds]
        return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _fail(kind: type[Exception], message: str, where: tuple[Any, ...]) -> NoReturn:
    mismatch = _Mismatch(kind, message)
    mismatch.where = where  # type: ignore[attr-defined]
    raise mismatch


def _compare(actual: Any, expected: Any, options: _Options, where: tuple[Any, ...]) -> None:
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            _fail(AssertionError, f"The length of the sequences mismatch: {len(actual)} != "
                                  f"{len(expected)}", where)
        for index, (first, second) in enumerate(zip(actual, expected)):
            _compare(first, second, options, (*where, index))
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected,
                                                                  collections.abc.Mapping):
        missing = sorted(set(expected) - set(actual), key=str)
        extra = sorted(set(actual) - set(expected), key=str)
        if missing or extra:
            _fail(AssertionError, "The keys of the mappings do not match:\n"
                                  f"Missing keys in the actual mapping: {missing}\n"
                                  f"Additional keys in the actual mapping: {extra}", where)
        for key in actual:
            _compare(actual[key], expected[key], options, (*where, key))
        return
    if actual is None or expected is None:
        if actual is not expected:
            _fail(AssertionError, f"None mismatch: {actual} is not {expected}", where)
        return
    if _is_bool(actual) and _is_bool(expected):
        if bool(actual) is not bool(expected):
            _fail(AssertionError, f"Booleans mismatch: {actual} is not {expected}", where)
        return
    if _is_number(actual) and _is_number(expected):
        _compare_numbers(actual, expected, options, where)
        return
    if _is_tensor_like(actual) and _is_tensor_like(expected) and _related(
            actual, expected, options.allow_subclasses):
        _compare_tensors(_as_tensor(actual), _as_tensor(expected), options, where)
        return
    _fail(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                     f"{type(expected)}.", where)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, complex)) and not isinstance(value, bool)


def _is_tensor_like(value: Any) -> bool:
    return isinstance(value, Tensor) or interop.is_numpy_array(value)


def _related(actual: Any, expected: Any, allow_subclasses: bool) -> bool:
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        return False
    return allow_subclasses or type(actual) is type(expected)


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else creation.as_tensor(value)


def _compare_numbers(actual: Any, expected: Any, options: _Options,
                     where: tuple[Any, ...]) -> None:
    if options.check_dtype and type(actual) is not type(expected):
        _fail(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.",
              where)
    kinds = [_NUMBER_DTYPES.get(type(number), dtypes.float64) for number in (actual, expected)]
    rtol, atol = options.tolerances(*kinds)
    both_nan = _isnan(actual) and _isnan(expected)
    if both_nan and options.equal_nan:
        return
    if not both_nan and abs(actual - expected) <= atol + rtol * abs(expected):
        return
    _fail(AssertionError, _scalar_message(actual, expected, rtol, atol), where)


def _isnan(value: Any) -> bool:
    return cmath.isnan(value) if isinstance(value, complex) else math.isnan(value)


def _scalar_message(actual: Any, expected: Any, rtol: float, atol: float) -> str:
    difference = abs(actual - expected)
    relative = float("inf") if expected == 0 else difference / abs(expected)
    return _mismatch_message(f"Expected {expected} but got {actual}.", difference, None, atol,
                             relative, None, rtol)


def _mismatch_message(extra: str, absolute: Any, absolute_at: Any, atol: float,
                      relative: Any, relative_at: Any, rtol: float,
                      identifier: str = "Scalars") -> str:
    equality = rtol == 0 and atol == 0

    def line(kind: str, difference: Any, at: Any, tolerance: float) -> str:
        text = (f"{kind.title()} difference: {difference}" if at is None
                else f"Greatest {kind} difference: {difference} at index {at}")
        return text + ("" if equality else f" (up to {tolerance} allowed)") + "\n"

    message = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    message += line("absolute", absolute, absolute_at, atol)
    message += line("relative", relative, relative_at, rtol)
    return message.strip()


def _compare_tensors(actual: Tensor, expected: Tensor, options: _Options,
                     where: tuple[Any, ...]) -> None:
    def mismatch(attribute: str, first: Any, second: Any) -> NoReturn:
        _fail(AssertionError, f"The values for attribute '{attribute}' do not match: {first} != "
                              f"{second}.", where)

    if actual.shape != expected.shape:
        mismatch("shape", actual.shape, expected.shape)
    if options.check_device and actual.device != expected.device:
        mismatch("device", actual.device, expected.device)
    if options.check_dtype and actual.dtype is not expected.dtype:
        mismatch("dtype", actual.dtype, expected.dtype)
    if options.check_stride and hasattr(actual, "stride") and actual.stride() != \
            expected.stride():
        mismatch("stride()", actual.stride(), expected.stride())
    actual, expected = actual.detach(), expected.detach()
    if actual.device != expected.device:
        actual, expected = actual.cpu(), expected.cpu()
    if actual.dtype is not expected.dtype:
        common = dtypes.promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(common), expected.to(common)
    rtol, atol = options.tolerances(actual.dtype, expected.dtype)
    matches = actual.isclose(expected, rtol=rtol, atol=atol, equal_nan=options.equal_nan)
    if bool(matches.all()):
        return
    if actual.shape == Size([]):
        message = _scalar_message(actual.item(), expected.item(), rtol, atol)
    else:
        message = _tensor_message(actual, expected, matches, rtol, atol)
    _fail(AssertionError, message, where)


def _tensor_message(actual: Tensor, expected: Tensor, matches: Tensor, rtol: float,
                    atol: float) -> str:
    count = matches.numel()
    mismatched = count - int(matches.sum().item())
    extra = f"Mismatched elements: {mismatched} / {count} ({mismatched / count:.1%})"
    actual_flat, expected_flat = actual.flatten(), expected.flatten()
    matched = matches.flatten()
    if not (actual.dtype.is_floating_point or actual.dtype.is_complex):
        actual_flat, expected_flat = actual_flat.to(dtypes.int64), expected_flat.to(dtypes.int64)
    absolute = (actual_flat - expected_flat).abs().masked_fill(matched, 0)
    largest, largest_at = absolute.max(0)
    relative = (absolute / expected_flat.abs()).masked_fill(matched, 0)
    ratio, ratio_at = relative.max(0)
    return _mismatch_message(extra, largest.item(), _unravel(int(largest_at), matches.shape),
                             atol, ratio.item(), _unravel(int(ratio_at), matches.shape), rtol,
                             identifier="Tensor-likes")


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        flat, position = divmod(flat, size)
        index.append(position)
    return tuple(reversed(index))


# ----------------------------------------------------------------------------- make_tensor
def make_tensor(*shape: Any, dtype: dtypes.dtype, device: Any, low: float | None = None,
                high: float | None = None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Tensor:
    """A tensor of `shape` with values drawn uniformly from [low, high) (defaults: [-9, 9] for
    floats, [-9, 10) for integers, both bools), on `device`."""
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = tuple(shape[0])
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    floating = dtype.is_floating_point or dtype.is_complex
    if requires_grad and not floating:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is dtypes.bool_:
        first, last = _bounds(dtype, low, high, 0, 2, 0, 2)
        result = creation.randint(int(first), int(last), shape, dtype=dtype, device=device)
    elif dtype.is_complex:  # real and imaginary parts each uniform on [low, high)
        part = dtype.to_real()
        limit = {dtypes.float32: 3.4028234663852886e38}.get(part, 1.7976931348623157e308)
        first, last = _bounds(part, low, high, -limit, limit, -9, 9)
        parts = creation.rand((*shape, 2), dtype=part, device=device) * (last - first) + first
        result = view_as_complex(parts)
    elif not dtype.is_floating_point:
        from .ops._promotion import integer_bounds

        smallest, largest = integer_bounds(dtype.name)
        first, last = _bounds(dtype, low, high, smallest,
                              largest + (1 if dtype is not dtypes.int64 else 0), -9, 10)
        result = creation.randint(int(first), int(last), shape, dtype=dtype, device=device)
    else:
        limit = {dtypes.float16: 65504.0, dtypes.float32: 3.4028234663852886e38}.get(
            dtype, 1.7976931348623157e308)
        first, last = _bounds(dtype, low, high, -limit, limit, -9, 9)
        result = creation.rand(shape, dtype=dtype, device=device) * (last - first) + first
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        tiny = {dtypes.float16: 6.103515625e-05, dtypes.float32: 1.1754943508222875e-38,
                dtypes.float64: 2.2250738585072014e-308}.get(dtype.to_real(), 1)
        result = result.masked_fill(result == 0, complex(tiny, tiny) if dtype.is_complex
                                    else tiny)
    if floating:
        result.requires_grad = requires_grad
    return result


def _bounds(dtype: dtypes.dtype, low: float | None, high: float | None, lowest: float,
            highest: float, default_low: float, default_high: float) -> tuple[float, float]:
    """PyTorch's checks and clamping of make_tensor's [low, high)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.is_floating_point:
        warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
             "complex types is deprecated since 2.1 and will be removed in 2.3. Use "
             "`torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if not dtype.is_floating_point:
        return math.ceil(low), math.ceil(high)
    return low, high
