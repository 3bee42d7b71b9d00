"""Smooth and ReLU-like activations: sigmoid, softplus, relu, leaky_relu, gelu (exact and
tanh), the ELU family (elu, selu, celu), silu, mish, logsigmoid, softsign, tanhshrink, glu.
(tanh lives in `unary`; the piecewise ones, hardtanh to rrelu, in `piecewise`.)
`autodiff.nn.functional` exposes them with PyTorch's signatures, including `inplace=`.

Kinks take PyTorch's side: relu's gradient at 0 is 0, leaky_relu's and elu's are the negative
slope's. The in-place forms of elu, celu, selu and leaky_relu are nodes of their own
(`EluBackward1`, ...), as in PyTorch: they save the result, not the overwritten input.
"""

from __future__ import annotations

import math
from typing import Any

from ..autocast_state import autocast_op
from ..function import Function
from ..jvp_rules import auto_element_wise, jvp_from_backward
from ..saved_fields import Computed, fields, saved, value
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for, require_floating, require_tensors
from ._out import CAST, takes_out
from .joining import cat
from .selection import where
from .sparse_coo import OnValues
from .unary import UnaryOfOutput, erf, exp, tanh

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_BETA = math.sqrt(2.0 / math.pi)  # gelu(approximate="tanh") constants, as PyTorch's
_TANH_KAPPA = 0.044715


class Sigmoid(UnaryOfOutput):
    node_name = "SigmoidBackward0"
    kernel = "sigmoid"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return grad * out * (1 - out)


@takes_out(CAST)
def sigmoid(input: Tensor) -> Tensor:
    return Sigmoid.apply(input)


def sigmoid_(input: Tensor) -> Tensor:
    """In place: `input.sigmoid_()`."""
    require_tensors("sigmoid_", ("input", input))
    return input.sigmoid_()


class Softplus(Function):
    node_name = "SoftplusBackward0"
    saved_fields = fields(self=saved(0), beta=value("beta"), threshold=value("threshold"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, beta: float, threshold: float) -> Any:
        require_floating("softplus", ctx.backend, a)
        ctx.save_for_backward(a)
        ctx.beta, ctx.threshold = beta, threshold
        backend = ctx.backend
        if beta == 1:
            out = backend.softplus(a)
        else:
            out = backend.divide(backend.softplus(backend.multiply(a, beta)), beta)
        # Above the threshold softplus is the identity (PyTorch's linear region).
        return backend.where(backend.greater(backend.multiply(a, beta), threshold), a, out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        scaled = a * ctx.beta
        return where(scaled > ctx.threshold, grad, grad * sigmoid(scaled))


@autocast_op("softplus")
def softplus(input: Tensor, beta: float = 1, threshold: float = 20) -> Tensor:
    return Softplus.apply(input, beta=beta, threshold=threshold)


class Relu(Function):
    sparse_form = OnValues()
    node_name = "ReluBackward0"
    saved_fields = fields(result=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        if backend.is_bool(a.dtype):
            raise RuntimeError("Boolean inputs not supported for relu")
        out = backend.maximum(a, 0)  # keeps NaN, as PyTorch
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        out, = ctx.saved_tensors
        return ThresholdBackward.apply(grad, out)

    @staticmethod
    def backward_temporaries(ctx: Any) -> int:
        """Bytes the backward holds besides its gradient, for `memory_report`: the mask of
        dead units, one byte an element."""
        return math.prod(ctx._input_meta[0][0])


class ThresholdBackward(Function):
    """ReLU's and threshold's gradient, `where(x <= threshold, 0, grad)`, as one op (PyTorch's
    threshold_backward): NaNs pass the gradient, and a dead unit gives exactly 0 even for an
    infinite grad."""

    node_name = "ThresholdBackwardBackward0"

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, grad: Any, out: Any, *, threshold: float = 0) -> Any:
        backend = ctx.backend
        dead = backend.less_equal(out, threshold)
        ctx.save_for_backward(dead)
        # A 0-d zero, broadcast: no gradient-sized array of zeros next to the result.
        return backend.where(dead, backend.zeros((), backend.dtype_name(grad)), grad)

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> tuple[Tensor, None]:
        dead, = ctx.saved_tensors
        return where(dead, 0.0, outer), None  # linear in grad; nothing flows to `out`


def relu(input: Tensor) -> Tensor:
    return Relu.apply(input)


def relu_(input: Tensor) -> Tensor:
    """In place: `input.relu_()`."""
    require_tensors("relu_", ("input", input))
    return input.relu_()


class LeakyRelu(Function):
    node_name = "LeakyReluBackward0"
    saved_fields = fields(self=saved(0), negative_slope=value("negative_slope"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, negative_slope: float) -> Any:
        backend = ctx.backend
        require_floating("leaky_relu", backend, a)
        ctx.save_for_backward(a)
        ctx.negative_slope = negative_slope
        return backend.where(backend.greater(a, 0), a, backend.multiply(a, negative_slope))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return where(a > 0, grad, grad * ctx.negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(input, negative_slope=negative_slope)


_NEGATIVE_SLOPE_IN_PLACE = (
    "In-place {name} backward calculation is triggered with a negative slope which is not "
    "supported. This is caused by calling in-place forward function with a negative slope, "
    "please call out-of-place version instead.")
_FILE_AN_ISSUE = (
    " File an issue at https://github.com/pytorch/pytorch if you do require supporting in-place "
    "leakRelu backward calculation with negative slope")  # sic, PyTorch's message


class LeakyReluResult(Function):
    """leaky_relu_: the gradient from the result (its sign is the input's for a slope >= 0;
    PyTorch refuses a negative slope when the backward runs)."""

    node_name = "LeakyReluBackward1"
    saved_fields = fields(result=saved(0), negative_slope=value("negative_slope"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, negative_slope: float) -> Any:
        backend = ctx.backend
        require_floating("leaky_relu", backend, a)
        out = backend.where(backend.greater(a, 0), a, backend.multiply(a, negative_slope))
        ctx.save_for_backward(out)
        ctx.negative_slope = negative_slope
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        if ctx.negative_slope < 0:
            raise RuntimeError(_NEGATIVE_SLOPE_IN_PLACE.format(name="leakyReLu") + _FILE_AN_ISSUE)
        out, = ctx.saved_tensors
        return where(out > 0, grad, grad * ctx.negative_slope)


def leaky_relu_result(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu as the in-place form records it (see `LeakyReluResult`)."""
    return LeakyReluResult.apply(input, negative_slope=negative_slope)


class Gelu(Function):
    node_name = "GeluBackward0"
    saved_fields = fields(self=saved(0), approximate=value("approximate"))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, approximate: str) -> Any:
        backend = ctx.backend
        if not backend.is_floating(a.dtype):  # PyTorch names this kernel without a device
            raise not_implemented_for("GeluKernelImpl", backend, a, on_device=False)
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        name = backend.dtype_name(a)
        half = name in ("float16", "bfloat16")
        x = backend.astype(a, "float32") if half else a  # float16 computes in float32
        if approximate == "tanh":
            inner = backend.multiply(backend.add(x, backend.multiply(x * x * x, _TANH_KAPPA)),
                                     _TANH_BETA)
            cdf = backend.multiply(backend.add(backend.tanh(inner), 1.0), 0.5)
        else:
            cdf = backend.multiply(backend.add(backend.erf(backend.multiply(x, _SQRT1_2)), 1.0),
                                   0.5)
        out = backend.multiply(x, cdf)
        return backend.astype(out, name) if half else out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        if ctx.approximate == "tanh":
            inner = (a + a * a * a * _TANH_KAPPA) * _TANH_BETA
            tanh_inner = tanh(inner)
            left_derivative = (tanh_inner + 1) * 0.5
            right_derivative = (1 - tanh_inner * tanh_inner) * (
                (a * a * (3 * _TANH_KAPPA) + 1) * _TANH_BETA)
            return grad * (left_derivative + a * 0.5 * right_derivative)
        cdf = (erf(a * _SQRT1_2) + 1) * 0.5
        pdf = exp(a * a * -0.5) * _INV_SQRT_2PI
        return grad * (cdf + a * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate=approximate)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class Elu(Function):
    """scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) elsewhere: elu (scale
    and input_scale 1), selu (PyTorch's constants) and celu (input_scale 1 / alpha)."""

    node_name = "EluBackward0"
    saved_fields = fields(self=saved(0), alpha=Computed(lambda node: node.options[0]),
                          scale=Computed(lambda node: node.options[1]),
                          input_scale=Computed(lambda node: node.options[2]))
    of_result = False  # the in-place forms save the result instead of the input

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any, *, alpha: float, scale: float = 1,
                input_scale: float = 1) -> Any:
        backend = ctx.backend
        require_floating("elu", backend, a)
        ctx.options = (alpha, scale, input_scale)
        out = _elu(backend, a, alpha, scale, input_scale)
        ctx.save_for_backward(out if ctx.of_result else a)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        saved, = ctx.saved_tensors
        alpha, scale, input_scale = ctx.options
        # The negative branch's own derivative is taken for x < 0 only (PyTorch's double
        # backward): `where(saved < 0, saved, 0)` stands for saved there.
        negative_part = where(saved < 0, saved, 0.0)
        if ctx.of_result:
            if alpha < 0:
                raise RuntimeError(_NEGATIVE_SLOPE_IN_PLACE.format(name="elu"))
            # exp(input_scale x) = out / (scale alpha) + 1 on the negative side.
            negative = grad * ((negative_part + alpha * scale) * input_scale)
        else:
            # d/dx = scale alpha input_scale exp(input_scale x), for x <= 0 (PyTorch's side of
            # the kink); exp stays finite where that branch is not taken.
            negative = grad * (exp(negative_part * input_scale) * (alpha * scale * input_scale))
        return where(saved <= 0, negative, grad * scale if scale != 1.0 else grad)


def _elu(backend: Any, a: Any, alpha: float, scale: float, input_scale: float) -> Any:
    # expm1 of min(x, 0): accurate near 0 and no overflow for large x (that branch is x).
    small = backend.minimum(a, 0)
    if input_scale != 1.0:
        small = backend.multiply(small, input_scale)
    negative = backend.multiply(backend.expm1(small), alpha * scale)
    positive = a if scale == 1.0 else backend.multiply(a, scale)
    return backend.where(backend.greater(a, 0), positive, negative)


class EluResult(Elu):
    """The in-place forms (elu_, selu_): the gradient from the saved result."""

    node_name = "EluBackward1"
    saved_fields = fields(result=saved(0), alpha=Computed(lambda node: node.options[0]),
                          scale=Computed(lambda node: node.options[1]),
                          input_scale=Computed(lambda node: node.options[2]))
    of_result = True


class Celu(Elu):
    node_name = "CeluBackward0"
    saved_fields = fields(self=saved(0), alpha=Computed(lambda node: node.options[0]))


class CeluResult(Elu):
    node_name = "CeluBackward1"
    saved_fields = fields(result=saved(0), alpha=Computed(lambda node: node.options[0]))
    of_result = True


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return Elu.apply(input, alpha=alpha)


def elu_result(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu as its in-place form records it (`EluBackward1`)."""
    return EluResult.apply(input, alpha=alpha)


def selu(input: Tensor) -> Tensor:
    return Elu.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def selu_result(input: Tensor) -> Tensor:
    return EluResult.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def _celu_scale(alpha: float) -> float:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return 1.0 / alpha


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return Celu.apply(input, alpha=alpha, input_scale=_celu_scale(alpha))


def celu_result(input: Tensor, alpha: float = 1.0) -> Tensor:
    return CeluResult.apply(input, alpha=alpha, input_scale=_celu_scale(alpha))


class Silu(Function):
    node_name = "SiluBackward0"
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        require_floating("silu", backend, a)
        ctx.save_for_backward(a)
        return backend.multiply(a, backend.sigmoid(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        sig = sigmoid(a)
        return grad * (sig * (1 + a * (1 - sig)))


def silu(input: Tensor) -> Tensor:
    return Silu.apply(input)


class Mish(Function):
    """x tanh(softplus(x))."""

    node_name = "MishBackward0"
    saved_fields = fields(self=saved(0))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        require_floating("mish", backend, a)
        ctx.save_for_backward(a)
        return backend.multiply(a, backend.tanh(backend.softplus(a)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        tanh_softplus = tanh(softplus(a))
        return grad * (tanh_softplus + a * sigmoid(a) * (1 - tanh_softplus * tanh_softplus))


def mish(input: Tensor) -> Tensor:
    return Mish.apply(input)


def _log_sigmoid_buffer(node: Any) -> Tensor:
    """exp(-|x|), which PyTorch's CPU kernel keeps beside the output."""
    a = _INPUT.read(node)._data
    backend = node.backend
    return _wrap(backend.exp(backend.negative(backend.abs(a))), backend)


_INPUT = saved(0)


class LogSigmoid(Function):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite in both tails."""

    node_name = "LogSigmoidBackward0"
    saved_fields = fields(self=saved(0), buffer=Computed(_log_sigmoid_buffer, tensor=True))

    jvp = auto_element_wise

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        backend = ctx.backend
        require_floating("log_sigmoid", backend, a)
        ctx.save_for_backward(a)
        return backend.negative(backend.softplus(backend.negative(a)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, = ctx.saved_tensors
        return grad * sigmoid(-a)


def logsigmoid(input: Tensor) -> Tensor:
    return LogSigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|), composed as PyTorch composes it (DivBackward0)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x), composed as PyTorch composes it (SubBackward0)."""
    return input - input.tanh()


class Glu(Function):
    """a * sigmoid(b), a and b the two halves of the input along dim."""

    node_name = "GluBackward0"
    saved_fields = fields(self=saved(0), dim=value("dim"))

    jvp = jvp_from_backward

    @staticmethod
    def forward(ctx: Any, x: Any, *, dim: int) -> Any:
        backend = ctx.backend
        half = x.shape[dim] // 2
        first = backend.take(x, backend.arange(0, half, 1, "int64"), axis=dim)
        second = backend.take(x, backend.arange(half, 2 * half, 1, "int64"), axis=dim)
        ctx.save_for_backward(x)
        ctx.dim, ctx.half = dim, half
        return backend.multiply(first, backend.sigmoid(second))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        dim, half = ctx.dim, ctx.half
        first, second = x.narrow(dim, 0, half), x.narrow(dim, half, half)
        gate = sigmoid(second)
        grad_first = grad * gate
        return cat([grad_first, grad_first * first * (1 - gate)], dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: the first half of input along dim times the sigmoid of the
    second."""
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but "
            f"got {dim})")
    dim %= ndim
    size = input._data.shape[dim]
    if size % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim} is size {size}")
    if not input._backend.is_floating(input._data.dtype):
        raise not_implemented_for("glu", input._backend, input._data)
    return Glu.apply(input, dim=dim)
