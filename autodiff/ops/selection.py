"""Ops that pick or blend between values elementwise: where, maximum/minimum, fmax/fmin (which
ignore NaN), clamp, lerp.

Their gradients go to the value that was picked. Ties follow PyTorch: maximum/minimum split the
gradient evenly between equal operands; clamp passes it to the input when the input equals a
bound (and to a tensor bound only when the input is strictly outside it).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..function import Function
from ..jvp_rules import auto_element_wise
from ..saved_fields import Computed, fields, saved, value
from ..tensor import Tensor
from ._checks import invalid_arguments, not_implemented_for, require_tensors
from ._out import CAST, SAME, same, takes_out
from ._promotion import cast_operand, check_broadcast_all, checked_number, promote
from .searching import nonzero

_SCALARS = (bool, int, float)


# ----------------------------------------------------------------------------- where
class Where(Function):
    node_name = "WhereBackward0"
    saved_fields = fields(condition=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, condition: Any, a: Any, b: Any) -> Any:
        backend = ctx.backend
        if not backend.is_bool(condition.dtype):
            raise RuntimeError(
                "where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{dtypes.SCALAR_TYPE_NAMES[backend.dtype_name(condition)]}"
            )
        ctx.save_for_backward(condition)
        a, b = _checked_against(backend, a, b), _checked_against(backend, b, a)
        check_broadcast_all(condition.shape, *(x.shape for x in (a, b) if type(x) not in _SCALARS))
        a, b = promote(backend, a, b)
        if type(a) in _SCALARS and type(b) in _SCALARS:
            # Two numbers: the result takes their promoted dtype (bool, int64 or default float).
            kind = dtypes.result_type(a, b).name
            a = backend.full(condition.shape, cast_operand(backend, a, kind), kind)
        else:
            a, b = _low_precision_number(backend, a, b), _low_precision_number(backend, b, a)
        return backend.where(condition, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        condition, = ctx.saved_tensors
        _, needs_a, needs_b = ctx.needs_input_grad
        return (
            None,
            where(condition, grad, 0.0) if needs_a else None,
            where(condition, 0.0, grad) if needs_b else None,
        )


def _low_precision_number(backend: Any, value: Any, other: Any) -> Any:
    """A Python number beside a float16 or bfloat16 array, as a 0-d array of that dtype: NumPy
    gives ml_dtypes' bfloat16 and a Python float a float32 result."""
    if (type(value) in _SCALARS and type(other) not in _SCALARS
            and other.dtype in backend.floating_dtypes
            and other.dtype not in backend.full_precision_floating):
        return backend.asarray(value, backend.dtype_name(other))
    return value


def _checked_against(backend: Any, value: Any, other: Any) -> Any:
    """A Python int `value` beside an integer array `other` must fit its dtype (PyTorch)."""
    if type(value) is int and type(other) not in _SCALARS and backend.is_integer(other.dtype):
        return checked_number(value, backend.dtype_name(other))
    return value


_ABSENT: Any = object()
_WHERE_SIGNATURES = (
    "Tensor condition",
    "Tensor condition, Tensor input, Tensor other, *, Tensor out = None",
    "Tensor condition, Number self, Tensor other",
    "Tensor condition, Tensor input, Number other",
    "Tensor condition, Number self, Number other",
)


@takes_out(same("Expected out type to be {result} but got {out}"))
def where(condition: Tensor, input: Any = _ABSENT, other: Any = _ABSENT) -> Any:
    """`input` where `condition` holds, else `other`; with the condition alone, the indices
    of its nonzero elements, one tensor per dim (`nonzero(condition, as_tuple=True)`)."""
    if input is _ABSENT and other is _ABSENT:
        return nonzero(condition, as_tuple=True)
    if input is _ABSENT or other is _ABSENT:
        given = tuple(value for value in (input, other) if value is not _ABSENT)
        raise invalid_arguments("where", (condition, *given), {}, _WHERE_SIGNATURES)
    return Where.apply(condition, input, other)


# ----------------------------------------------------------------------------- maximum, minimum
def _maximum(backend: Any, a: Any, b: Any) -> Any:
    if backend.is_bool(a.dtype):  # the array API orders no bools: max is `or`, min is `and`
        return backend.logical_or(a, b)
    return backend.maximum(a, b)


def _minimum(backend: Any, a: Any, b: Any) -> Any:
    if backend.is_bool(a.dtype):
        return backend.logical_and(a, b)
    return backend.minimum(a, b)


def _split_ties(ctx: Any, grad: Tensor, a: Tensor, b: Tensor) -> tuple[Tensor | None, ...]:
    """The gradients of maximum(a, b) (minimum's, with a and b swapped in the comparisons):
    as PyTorch, ties split the gradient evenly and NaNs (no order) pass it to both."""
    shared = where(a == b, grad / 2, grad)
    needs_a, needs_b = ctx.needs_input_grad
    return (where(a < b, 0.0, shared) if needs_a else None,
            where(a > b, 0.0, shared) if needs_b else None)


class Maximum(Function):
    node_name = "MaximumBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        a, b = promote(ctx.backend, a, b)
        return _maximum(ctx.backend, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        a, b = ctx.saved_tensors
        return _split_ties(ctx, grad, a, b)


@takes_out(CAST)
def maximum(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("maximum", ("input", input), ("other", other))
    return Maximum.apply(input, other)


class Minimum(Function):
    node_name = "MinimumBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        a, b = promote(ctx.backend, a, b)
        return _minimum(ctx.backend, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        a, b = ctx.saved_tensors
        return _split_ties(ctx, grad, b, a)  # a loses where a > b: maximum's rule, mirrored


@takes_out(CAST)
def minimum(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("minimum", ("input", input), ("other", other))
    return Minimum.apply(input, other)


class Fmax(Function):
    """maximum that ignores NaN: the other operand where one is NaN."""

    node_name = "FmaxBackward0"
    saved_fields = fields(self=saved(0), other=saved(1))
    keeps_first = "greater_equal"  # fmin: less_equal

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        backend = ctx.backend
        a, b = promote(backend, a, b)
        if backend.is_bool(a.dtype):  # no NaN; fmax is `or`, fmin is `and`
            return _maximum(backend, a, b) if ctx.keeps_first == "greater_equal" else \
                _minimum(backend, a, b)
        keep = getattr(backend, ctx.keeps_first)(a, b)
        if backend.is_floating(a.dtype):
            keep = backend.logical_or(keep, backend.isnan(b))
        return backend.where(keep, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        first = (a >= b) if ctx.keeps_first == "greater_equal" else (a <= b)
        picked_a = first | b.isnan()
        return (where(picked_a, grad, 0.0) if needs_a else None,
                where(picked_a, 0.0, grad) if needs_b else None)


class Fmin(Fmax):
    node_name = "FminBackward0"

    keeps_first = "less_equal"
    jvp = auto_element_wise


def fmax(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("fmax", ("input", input), ("other", other))
    return Fmax.apply(input, other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    require_tensors("fmin", ("input", input), ("other", other))
    return Fmin.apply(input, other)


# ----------------------------------------------------------------------------- clamp
def _clamp_dtype(backend: Any, a: Any, bounds: tuple[Any, ...]) -> str:
    """The dtype to compute in: PyTorch's result_type over the input and the given bounds."""
    operands: list[Any] = [(dtypes.BY_NAME[backend.dtype_name(a)], a.ndim)]
    for bound in bounds:
        if bound is None:
            continue
        if type(bound) in _SCALARS:
            operands.append(bound)
        else:
            operands.append((dtypes.BY_NAME[backend.dtype_name(bound)], bound.ndim))
    return dtypes.result_type(*operands).name


def _inside(a: Tensor, low: Any, high: Any) -> Tensor:
    """Where low <= a <= high (a bound may be None): there the input gets clamp's gradient."""
    if low is None:
        return a <= high
    if high is None:
        return a >= low
    return (a >= low) & (a <= high)


class Clamp(Function):
    """clamp with number bounds; the gradient passes where min <= x <= max."""

    node_name = "ClampBackward1"
    saved_fields = fields(self=saved(0), min=Computed(lambda node: node.bounds[0]),
                          max=Computed(lambda node: node.bounds[1]))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, min: Any, max: Any) -> Any:
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        backend = ctx.backend
        if not backend.is_floating(a.dtype):
            dtype = _clamp_dtype(backend, a, (min, max))
            if dtype == "bool":  # bools clamped by bools: PyTorch has no kernel
                kernel = "clamp_scalar" if min is not None and max is not None else \
                    "clamp_min_scalar" if min is not None else "clamp_max_scalar"
                raise not_implemented_for(kernel, backend, a)
            a = cast_operand(backend, a, dtype)
        # min(max(x, min), max), as PyTorch: min > max gives max everywhere.
        out = a if min is None else _maximum(backend, a, min)
        return out if max is None else _minimum(backend, out, max)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return where(_inside(a, *ctx.bounds), grad, 0.0)


class ClampMin(Clamp):
    node_name = "ClampMinBackward0"
    saved_fields = fields(self=saved(0), min=Computed(lambda node: node.bounds[0]))


class ClampMax(Clamp):
    node_name = "ClampMaxBackward0"
    saved_fields = fields(self=saved(0), max=Computed(lambda node: node.bounds[1]))


class ClampTensor(Function):
    """clamp with tensor bounds (either may be None). Following PyTorch's clamp_backward, the
    input gets the gradient where min <= x <= max; min where x < min < max; max where x > max
    or max < min (there the result is max)."""

    node_name = "ClampBackward0"
    saved_fields = fields(self=saved(0), min=saved(1), max=saved(2))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, low: Any, high: Any) -> Any:
        ctx.save_for_backward(a, low, high)
        backend = ctx.backend
        check_broadcast_all(*(x.shape for x in (a, low, high) if x is not None))
        kind = _clamp_dtype(backend, a, (low, high))
        a, low, high = (None if x is None else cast_operand(backend, x, kind)
                        for x in (a, low, high))
        out = a if low is None else _maximum(backend, a, low)
        return out if high is None else _minimum(backend, out, high)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        a, low, high = ctx.saved_tensors
        needs_a, needs_low, needs_high = ctx.needs_input_grad
        grad_a = grad_low = grad_high = None
        if needs_a:
            grad_a = where(_inside(a, low, high), grad, 0.0)
        if needs_low:
            below = a < low if high is None else (a < low) & (low < high)
            grad_low = where(below, grad, 0.0)
        if needs_high:
            above = a > high if low is None else (a > high) | (high < low)
            grad_high = where(above, grad, 0.0)
        return grad_a, grad_low, grad_high


@takes_out(SAME)
def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    min_is_tensor, max_is_tensor = isinstance(min, Tensor), isinstance(max, Tensor)
    if min_is_tensor or max_is_tensor:
        if (min is not None and not min_is_tensor) or (max is not None and not max_is_tensor):
            raise TypeError(
                "clamp() received an invalid combination of arguments - got (Tensor, "
                f"min={type(min).__name__}, max={type(max).__name__}): min and max must both be "
                "Tensors or both be numbers"
            )
        return ClampTensor.apply(input, min, max)
    return Clamp.apply(input, min=_bound(input, min), max=_bound(input, max))


def _bound(input: Tensor, bound: Any) -> Any:
    """An int bound of an integer input must fit its dtype (PyTorch's check)."""
    if type(bound) is int and not input.dtype.is_floating_point and input.dtype is not dtypes.bool_:
        return checked_number(bound, input.dtype.name)
    return bound


clip = clamp


def _bounds_signatures(*bounds: str) -> tuple[str, ...]:
    return tuple(f"Tensor input, {', '.join(f'{kind} {bound}' for bound in bounds)}"
                 for kind in ("Tensor", "Number"))


_CLAMP_SIGNATURES = _bounds_signatures("min = None", "max = None")


def _check_input(function: str, input: Any, given: tuple[Any, ...],
                 signatures: tuple[str, ...]) -> None:
    """The torch-level in-place clamps take a tensor first (either overload)."""
    if not isinstance(input, Tensor):
        raise invalid_arguments(function, (input, *given), {}, signatures)


def clamp_(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """In place: `input.clamp_(min, max)`."""
    _check_input("clamp_", input, (min, max), _CLAMP_SIGNATURES)
    return input.clamp_(min, max)


def clip_(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """In place: `input.clip_(min, max)` (clamp_)."""
    _check_input("clip_", input, (min, max), _CLAMP_SIGNATURES)
    return input.clamp_(min, max)


class ClampMinTensor(ClampTensor):
    node_name = "ClampMinBackward1"
    saved_fields = fields(self=saved(0), min=saved(1))


class ClampMaxTensor(ClampTensor):
    node_name = "ClampMaxBackward1"
    saved_fields = fields(self=saved(0), max=saved(2))


@takes_out(SAME)
def clamp_min(input: Tensor, min: Any) -> Tensor:
    if isinstance(min, Tensor):
        return ClampMinTensor.apply(input, min, None)
    return ClampMin.apply(input, min=_bound(input, min), max=None)


def clamp_min_(input: Tensor, min: Any) -> Tensor:
    """In place: `input.clamp_min_(min)`."""
    _check_input("clamp_min_", input, (min,), _bounds_signatures("min"))
    return input.clamp_min_(min)


@takes_out(SAME)
def clamp_max(input: Tensor, max: Any) -> Tensor:
    if isinstance(max, Tensor):
        return ClampMaxTensor.apply(input, None, max)
    return ClampMax.apply(input, min=None, max=_bound(input, max))


def clamp_max_(input: Tensor, max: Any) -> Tensor:
    """In place: `input.clamp_max_(max)`."""
    _check_input("clamp_max_", input, (max,), _bounds_signatures("max"))
    return input.clamp_max_(max)


# ----------------------------------------------------------------------------- lerp
def _check_lerp(backend: Any, a: Any, other: Any, name: str, allow_0d: bool) -> None:
    if other.dtype != a.dtype and not (allow_0d and other.ndim == 0):
        raise RuntimeError(
            f"expected dtype {dtypes.CPP_TYPE_NAMES[backend.dtype_name(a)]} for `{name}` but "
            f"got dtype {dtypes.CPP_TYPE_NAMES[backend.dtype_name(other)]}"
        )


class Lerp(Function):
    """start + weight * (end - start) with a number weight."""

    node_name = "LerpBackward0"
    saved_fields = fields(weight=value("weight"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, start: Any, end: Any, *, weight: float) -> Any:
        backend = ctx.backend
        _check_lerp(backend, start, end, "end", allow_0d=False)
        check_broadcast_all(start.shape, end.shape)
        if not backend.is_floating(start.dtype):
            raise not_implemented_for("lerp_kernel_scalar", backend, start, on_device=False)
        ctx.weight = weight
        difference = backend.subtract(end, start)
        # PyTorch's form: exact at both ends (weight 0 gives start, weight 1 gives end).
        if abs(weight) < 0.5:
            return backend.add(start, backend.multiply(difference, weight))
        return backend.subtract(end, backend.multiply(difference, 1 - weight))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        weight = ctx.weight
        needs_start, needs_end = ctx.needs_input_grad
        return (grad * (1 - weight) if needs_start else None,
                grad * weight if needs_end else None)


class LerpTensor(Function):
    """start + weight * (end - start) with a tensor weight (differentiable too)."""

    node_name = "LerpBackward1"
    saved_fields = fields(self=saved(0), end=saved(1), weight=saved(2))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, start: Any, end: Any, weight: Any) -> Any:
        backend = ctx.backend
        _check_lerp(backend, start, end, "end", allow_0d=False)
        _check_lerp(backend, start, weight, "weight", allow_0d=True)
        check_broadcast_all(start.shape, end.shape, weight.shape)
        if not backend.is_floating(start.dtype):
            raise not_implemented_for("lerp_kernel_tensor", backend, start, on_device=False)
        ctx.save_for_backward(start, end, weight)
        if weight.dtype != start.dtype:
            weight = backend.astype(weight, backend.dtype_name(start))
        difference = backend.subtract(end, start)
        small = backend.less(backend.abs(weight), 0.5)
        return backend.where(small, backend.add(start, backend.multiply(difference, weight)),
                             backend.subtract(end, backend.multiply(difference, 1 - weight)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        start, end, weight = ctx.saved_tensors
        needs_start, needs_end, needs_weight = ctx.needs_input_grad
        return (grad * (1 - weight) if needs_start else None,
                grad * weight if needs_end else None,
                grad * (end - start) if needs_weight else None)


@takes_out(CAST)
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    if isinstance(weight, Tensor):
        return LerpTensor.apply(input, end, weight)
    return Lerp.apply(input, end, weight=weight)
