"""What PyTorch's fbgemm kernels for dynamic quantization compute (`quantized::linear_dynamic`,
`linear_dynamic_fp16` and the dynamic RNN cells), written with Tensor ops on the CPU backend.

`PackedLinearWeight` is PyTorch's `LinearPackedParamsBase`: a qint8 weight (per tensor or per
channel, in a quantized tensor) or a float16 one, and a float bias. `apply_dynamic(x)` runs
fbgemm's dynamic linear:

1. the input's min and max (over the whole tensor) give a quint8 scale and zero point
   (`quantized_tensor.choose_qparams`, ATen's `ChooseQuantizationParams`; `reduce_range`
   halves the range to 0..127, so that AVX2's pairwise int16 sums never saturate);
2. the input is quantized with fbgemm's fused multiply-add rounding (`quantized_tensor.py`);
3. the integer product sum((a - a_zero) * (w - w_zero)) is exact (float64 holds it);
4. the result is `float(acc) * float32(a_scale * w_scale) + bias`, one fused multiply-add
   (fbgemm's AVX2 requantization).

The qint8 kernels are not differentiable: PyTorch registers no autograd kernel for them, so an
input that requires grad gets an output whose node (`torch::autograd::WarnNotImplemented`) warns
on backward and passes no gradient on (`not_differentiable`). The float16 kernel's product is
out of the graph too, but its bias is added in it, as PyTorch's is (the bias parameter gets a
gradient, the input none).
"""

from __future__ import annotations

from typing import Any

from .... import dtypes
from ....function import Function
from ....grad_mode import is_grad_enabled, no_grad
from ....quantized_tensor import (
    _float32,
    choose_qparams,
    inverse_scale,
    is_quantized,
    shift_and_round,
)
from ....tensor import Tensor
from ....user_warnings import warn

_FLOAT16_MAX = 65504.0


class PackedLinearWeight:
    """A linear layer's weight and bias as fbgemm packs them: `dtype` qint8 (the weight a
    quantized tensor) or float16 (the weight a float32 tensor of float16 values)."""

    __slots__ = ("_integer_weight", "bias", "dtype", "weight")

    def __init__(self, weight: Tensor, bias: Tensor | None, dtype: Any) -> None:
        if dtype is dtypes.qint8:
            if not is_quantized(weight) or weight.dtype is not dtypes.qint8:
                raise RuntimeError("quantized::linear_prepack (fbgemm): Weight should be a "
                                   "quantized tensor of dtype qint8")
        elif dtype is dtypes.float16:
            weight = _to_float16(weight)
        else:
            raise RuntimeError("Unsupported dtype on dynamic quantized linear!")
        if weight.dim() != 2:
            raise RuntimeError("The weight tensor for quantized::linear_prepack (fbgemm) should "
                               "be 2-dimensional.")
        if bias is not None and (bias.dim() != 1 or bias.shape[0] != weight.shape[0]):
            raise RuntimeError("bias should be a vector (1D Tensor)")
        self.weight = weight
        self.bias = bias
        self.dtype = dtype
        self._integer_weight: tuple[Tensor, Any] | None = None

    def unpack(self) -> tuple[Tensor, Tensor | None]:
        """(weight, bias), as `quantized::linear_unpack` gives them."""
        return self.weight, self.bias

    def __getstate__(self) -> tuple[Any, ...]:
        return self.weight, self.bias, self.dtype

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.weight, self.bias, self.dtype = state
        self._integer_weight = None

    def apply_dynamic(self, input: Tensor, reduce_range: bool = False) -> Tensor:
        """`input @ weight.T + bias` the way fbgemm's dynamic kernels compute it."""
        if input.dtype is not dtypes.float32:
            raise RuntimeError("expected scalar type Float but found "
                               f"{dtypes.SCALAR_TYPE_NAMES[input.dtype.name]}")
        in_features = self.weight.shape[1]
        if input.dim() == 0 or input.shape[-1] != in_features:
            size = input.shape[-1] if input.dim() else 1
            raise RuntimeError(f"The number of rows in the packB should be equal to K: {size}")
        if self.dtype is dtypes.float16:
            # As PyTorch's kernel: the product is out of the graph, the bias added in it (its
            # parameter gets a gradient through whatever follows).
            with no_grad():
                output = input.detach().matmul(self.weight.t())
            return output if self.bias is None else output + self.bias
        with no_grad():
            bias = None if self.bias is None else self.bias.detach()
            output = self._int8_product(input.detach(), bias, reduce_range)
        return not_differentiable(output, input, "quantized::linear_dynamic")

    def _integers(self) -> tuple[Tensor, Any]:
        """The weight's integers and scale as the product uses them, made once."""
        if self._integer_weight is None:
            self._integer_weight = _weight_integers(self.weight)
        return self._integer_weight

    def _int8_product(self, x: Tensor, bias: Tensor | None, reduce_range: bool) -> Tensor:
        if x.numel() == 0:
            return x.new_zeros((*x.shape[:-1], self.weight.shape[0]))
        low, high = x.min().item(), x.max().item()
        scale, zero_point = choose_qparams(low, high, 0, 255, reduce_range)
        scale = _float32(scale)
        activations = shift_and_round(x, inverse_scale(scale), zero_point, fused=True)
        activations = activations.clamp(0, 255).to(dtypes.float64) - zero_point
        weights, weight_scale = self._integers()
        if isinstance(weight_scale, Tensor):  # float32(a_scale * w_scale) per output channel
            multiplier: Any = (weight_scale * scale).to(dtypes.float64)
        else:
            multiplier = _float32(scale * weight_scale)
        accumulated = activations.matmul(weights)  # exact: integers below 2**53
        # fbgemm's AVX2 requantization: float(acc) * multiplier + bias, one fused
        # multiply-add (in float64 the product is exact), rounded once to float32
        output = accumulated.to(dtypes.float32).to(dtypes.float64) * multiplier
        if bias is not None:
            output = output + bias.to(dtypes.float64)
        return output.to(dtypes.float32)


def _weight_integers(weight: Tensor) -> tuple[Tensor, Any]:
    """(w - w_zero).T in float64 and the float32 weight scale (a float, or a float32 tensor
    per output channel), the weight's part of every product."""
    weights = weight.int_repr().to(dtypes.float64)
    if weight.qscheme().name.startswith("per_channel"):
        weights = weights - weight.q_per_channel_zero_points().to(dtypes.float64)[:, None]
        return weights.t(), weight.q_per_channel_scales().to(dtypes.float32)
    return (weights - weight.q_zero_point()).t(), _float32(weight.q_scale())


def _to_float16(weight: Tensor) -> Tensor:
    """fbgemm's float16 packing: values past float16's range saturate, with its warning."""
    with no_grad():
        weight = weight.detach().to(dtypes.float32)
        if weight.numel() and weight.abs().max().item() > _FLOAT16_MAX:
            warn("Found weights out of fp16 range. They will be saturated to the "
                 "fp16 range.", UserWarning, stacklevel=4)
        return weight.clamp(-_FLOAT16_MAX, _FLOAT16_MAX).to(dtypes.float16).to(dtypes.float32)


class WarnNotImplemented(Function):
    """The node PyTorch gives the output of an op without an autograd kernel whose inputs
    require grad: backward warns and passes no gradient on."""

    node_name = "torch::autograd::WarnNotImplemented"

    @staticmethod
    def forward(ctx: Any, input: Any, *, output: Any, operator: str) -> Any:
        ctx.operator = operator
        return output

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> None:
        warn(
            f"{ctx.operator}: an autograd kernel was not registered to the Autograd key(s) but "
            "we are trying to backprop through it. This may lead to silently incorrect "
            "behavior. This behavior is deprecated and will be removed in a future version of "
            "PyTorch. If your operator is differentiable, please ensure you have registered an "
            "autograd kernel to the correct Autograd key (e.g. DispatchKey::Autograd, "
            "DispatchKey::CompositeImplicitAutograd). If your operator is not differentiable, "
            "or to squash this warning and use the previous behavior, please register "
            "torch::CppFunction::makeFallthrough() to DispatchKey::Autograd.", UserWarning,
            stacklevel=2)
        return None


def not_differentiable(output: Tensor, input: Tensor, operator: str) -> Tensor:
    """`output`, in the graph behind a WarnNotImplemented node when `input` requires grad."""
    if not (input.requires_grad and is_grad_enabled()):
        return output
    return WarnNotImplemented.apply(input, output=output._data, operator=operator)
