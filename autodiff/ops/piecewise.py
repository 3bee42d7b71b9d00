"""Piecewise activations: hardtanh (and relu6), hardsigmoid, hardswish, softshrink, hardshrink,
threshold, prelu and rrelu.

Each is one node named as PyTorch's, with PyTorch's side of every kink (the gradient at a
breakpoint is the one its kernel gives) and its handling of NaN (a NaN input passes the gradient
where the kernel's comparisons are false). The in-place forms of threshold and rrelu are nodes of
their own (`ThresholdBackward1`, `RreluWithNoiseBackward1`; rrelu_'s saves the result).
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..batching.dispatch import random_op
from ..function import Function
from ..generator import draw
from ..jvp_rules import auto_element_wise
from ..saved_fields import Computed, fields, saved, value
from ..tensor import Tensor
from ._checks import not_implemented_for, require_floating
from .activation import _FILE_AN_ISSUE, _NEGATIVE_SLOPE_IN_PLACE, ThresholdBackward
from .selection import where


# ----------------------------------------------------------------------------- hardtanh
class Hardtanh(Function):
    """clamp(x, min_val, max_val); the gradient passes strictly inside the bounds."""

    node_name = "HardtanhBackward0"
    saved_fields = fields(self=saved(0), min_val=Computed(lambda node: node.bounds[0]),
                          max_val=Computed(lambda node: node.bounds[1]))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, min_val: float, max_val: float) -> Any:
        backend = ctx.backend
        if backend.is_bool(a.dtype):
            raise RuntimeError("Bool inputs not supported for hardtanh")
        ctx.save_for_backward(a)
        ctx.bounds = (min_val, max_val)
        dtype = backend.dtype_name(a)
        low, high = min_val, max_val
        if not backend.is_floating(a.dtype):  # PyTorch casts the bounds to the integer type
            low, high = math.trunc(min_val), math.trunc(max_val)
        # where, not clip: NaN stays NaN (x <= min and x >= max are both false for it).
        out = backend.where(backend.less_equal(a, low), backend.full(a.shape, low, dtype), a)
        return backend.where(backend.greater_equal(a, high), backend.full(a.shape, high, dtype),
                             out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        low, high = ctx.bounds
        return where((a <= low) | (a >= high), 0.0, grad)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor) -> Tensor:
    """min(max(x, 0), 6): PyTorch's hardtanh(0, 6), with its node."""
    return Hardtanh.apply(input, min_val=0.0, max_val=6.0)


# ----------------------------------------------------------------------------- hard sigmoid, swish
class Hardsigmoid(Function):
    """x / 6 + 1/2 on (-3, 3), 0 below, 1 above."""

    node_name = "HardsigmoidBackward0"
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        require_floating("hardsigmoid", backend, a)
        ctx.save_for_backward(a)
        return backend.clip(backend.add(backend.divide(a, 6.0), 0.5), 0.0, 1.0)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return where((a > -3.0) & (a < 3.0), grad / 6.0, 0.0)


def hardsigmoid(input: Tensor) -> Tensor:
    return Hardsigmoid.apply(input)


class Hardswish(Function):
    """x * hardsigmoid(x): 0 up to -3, x (x + 3) / 6 on (-3, 3), x from 3 on."""

    node_name = "HardswishBackward0"
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        require_floating("hardswish", backend, a)
        ctx.save_for_backward(a)
        gate = backend.clip(backend.add(backend.divide(a, 6.0), 0.5), 0.0, 1.0)
        return backend.multiply(a, gate)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        # PyTorch's kernel: 0 at x <= -3, x / 3 + 1/2 below 3, 1 from 3 on.
        return where(a <= -3.0, 0.0, where(a < 3.0, grad * (a / 3.0 + 0.5), grad))


def hardswish(input: Tensor) -> Tensor:
    return Hardswish.apply(input)


# ----------------------------------------------------------------------------- shrinkage
class Softshrink(Function):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    node_name = "SoftshrinkBackward0"
    saved_fields = fields(self=saved(0), lambd=value("lambd"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, lambd: float) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a)
        ctx.lambd = lambd
        shrunk = backend.where(backend.greater(a, lambd), backend.subtract(a, lambd),
                               backend.multiply(a, 0))
        return backend.where(backend.less(a, -lambd), backend.add(a, lambd), shrunk)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        lambd = ctx.lambd
        return where((a >= -lambd) & (a <= lambd), 0.0, grad)


_FLOAT_MAX = {"float16": "65504", "bfloat16": "3.38953e+38",
              "float32": "3.40282e+38", "float64": "1.79769e+308"}


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    backend = input._backend
    if not backend.is_floating(input._data.dtype):
        raise not_implemented_for("softshrink_check", backend, input._data, on_device=False)
    if not lambd >= 0:
        name = backend.dtype_name(input._data)
        raise RuntimeError(
            f"lambda must be in range [0, {_FLOAT_MAX[name]}] for input dtype "
            f"{dtypes.SCALAR_TYPE_NAMES[name]}, but found {lambd:g}")
    return Softshrink.apply(input, lambd=lambd)


class Hardshrink(Function):
    """x where |x| > lambd, 0 elsewhere."""

    node_name = "HardshrinkBackward0"
    saved_fields = fields(self=saved(0), lambd=value("lambd"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, lambd: float) -> Any:
        backend = ctx.backend
        require_floating("hardshrink", backend, a)
        ctx.save_for_backward(a)
        ctx.lambd = lambd
        inside = backend.logical_and(backend.greater_equal(a, -lambd),
                                     backend.less_equal(a, lambd))
        return backend.where(inside, backend.zeros_like(a), a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        lambd = ctx.lambd
        return where((a >= -lambd) & (a <= lambd), 0.0, grad)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return Hardshrink.apply(input, lambd=lambd)


# ----------------------------------------------------------------------------- threshold
class Threshold(Function):
    """value where x <= threshold, x elsewhere (a NaN is kept)."""

    node_name = "ThresholdBackward0"
    saved_fields = fields(self=saved(0), threshold=value("threshold"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, threshold: float, value: float) -> Any:
        backend = ctx.backend
        if backend.is_bool(a.dtype):
            raise not_implemented_for("threshold", backend, a)
        ctx.threshold = threshold
        dtype = backend.dtype_name(a)
        bound = threshold
        if not backend.is_floating(a.dtype):  # PyTorch casts both to the integer type
            bound, value = math.trunc(threshold), math.trunc(value)
        ctx.save_for_backward(a)
        return backend.where(backend.less_equal(a, bound), backend.full(a.shape, value, dtype), a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return ThresholdBackward.apply(grad, a, threshold=ctx.threshold)


class ThresholdInPlace(Threshold):
    """threshold_: PyTorch's node of its own, which saves the input as it was before."""

    node_name = "ThresholdBackward1"


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return Threshold.apply(input, threshold=threshold, value=value)


def threshold_in_place(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold as its in-place form records it (`ThresholdBackward1`)."""
    return ThresholdInPlace.apply(input, threshold=threshold, value=value)


# ----------------------------------------------------------------------------- prelu
class PreluKernel(Function):
    """x where x > 0, weight * x elsewhere; weight broadcasts over x."""

    node_name = "PreluKernelBackward0"
    saved_fields = fields(self=saved(0), weight=saved(1))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, weight: Any) -> Any:
        backend = ctx.backend
        ctx.save_for_backward(a, weight)
        return backend.where(backend.greater(a, 0), a, backend.multiply(weight, a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, weight = ctx.saved_tensors
        needs_a, needs_weight = ctx.needs_input_grad
        positive = a > 0
        grad_a = where(positive, grad, weight * grad) if needs_a else None
        # Summed back to the weight's (broadcast) shape by the base class.
        grad_weight = where(positive, 0.0, a * grad) if needs_weight else None
        return grad_a, grad_weight


@autocast_op("prelu")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """leaky_relu with a learned slope: one for all channels or one per channel (dim 1)."""
    ndim = input._data.ndim
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(
            "prelu: Type promoting not supported. Got "
            f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]} and "
            f"{dtypes.SCALAR_TYPE_NAMES[weight.dtype.name]}")
    count = weight._data.size
    if count != 1:
        if ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input._data.shape[1] if ndim > 1 else 1
        if channels != count:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {count} and channel size = {channels}.")
    if weight._data.ndim > 1:
        raise RuntimeError(
            "prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
            f"{weight._data.ndim}")
    if ndim != weight._data.ndim:  # PyTorch views the weight as (1, C, 1, ...) first
        shape = [1] * ndim
        if ndim > 1:
            shape[1] = count
        weight = weight.reshape(shape)
    return PreluKernel.apply(input, weight)


# ----------------------------------------------------------------------------- rrelu
class RreluWithNoise(Function):
    """Training: x * r for x <= 0, r drawn from U(lower, upper) per element (the `noise`, 1 for
    x > 0); evaluation: leaky_relu with slope (lower + upper) / 2. As in PyTorch, the gradient
    is grad * noise only when the bounds differ by more than 1e-6, leaky_relu's otherwise."""

    node_name = "RreluWithNoiseBackward0"
    of_result = False  # rrelu_ saves the result instead of the input
    # PyTorch's noise in evaluation is an uninitialized buffer; autodiff has none (None).
    saved_fields = fields(self=saved(0), noise=saved(1), lower=value("lower"),
                          upper=value("upper"), training=value("training"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, noise: Any, lower: float, upper: float,
                use_noise: bool) -> Any:
        backend = ctx.backend
        ctx.lower, ctx.upper, ctx.training = lower, upper, noise is not None
        ctx.slope, ctx.use_noise = (lower + upper) / 2, use_noise
        if noise is not None:
            out = backend.multiply(a, noise)
        else:
            out = backend.where(backend.greater(a, 0), a, backend.multiply(a, ctx.slope))
        ctx.save_for_backward(out if ctx.of_result else a, noise)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        saved, noise = ctx.saved_tensors
        if ctx.use_noise:
            return grad * noise
        if ctx.of_result and ctx.slope < 0:
            raise RuntimeError(_NEGATIVE_SLOPE_IN_PLACE.format(name="leakyReLu") + _FILE_AN_ISSUE)
        return where(saved > 0, grad, grad * ctx.slope)


class RreluWithNoiseResult(RreluWithNoise):
    node_name = "RreluWithNoiseBackward1"
    of_result = True
    saved_fields = fields(result=saved(0), noise=saved(1), lower=value("lower"),
                          upper=value("upper"), training=value("training"))


def _rrelu(op: type[RreluWithNoise], input: Tensor, lower: float, upper: float,
           training: bool, generator: Any) -> Tensor:
    if not lower <= upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    backend, data = input._backend, input._data
    noise = None
    if training:
        require_floating("rrelu_with_noise_out", backend, data)
        draws = draw("rrelu_with_noise", backend, generator, "rand", data.shape,
                     backend.dtype_name(data))
        slopes = backend.add(backend.multiply(draws, upper - lower), lower)
        noise = backend.where(backend.greater(data, 0), backend.ones_like(data), slopes)
    else:
        require_floating("leaky_relu", backend, data)
    return op.apply(input, noise=noise, lower=lower, upper=upper,
                    use_noise=training and upper - lower > 1e-6)


def _training(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
              training: bool = False, generator: Any = None) -> bool:
    return training


@random_op(draws=_training)
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, generator: Any = None) -> Tensor:
    """Randomized leaky ReLU: a random negative slope per element in training (drawn from
    `generator`, or the device's default one), the mean slope (lower + upper) / 2 otherwise."""
    return _rrelu(RreluWithNoise, input, lower, upper, training, generator)


@random_op(draws=_training)
def rrelu_result(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 training: bool = False, generator: Any = None) -> Tensor:
    """rrelu as its in-place form records it (`RreluWithNoiseBackward1`)."""
    return _rrelu(RreluWithNoiseResult, input, lower, upper, training, generator)
