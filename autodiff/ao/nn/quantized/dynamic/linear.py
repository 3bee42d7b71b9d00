"""`torch.ao.nn.quantized.dynamic.Linear`: a linear layer with a qint8 (or float16) weight whose
input is quantized at run time, per call (`_packed.py` has the arithmetic)."""

from __future__ import annotations

from typing import Any

from ..... import dtypes
from .....creation import tensor as make_tensor
from .....creation import zeros
from .....nn.modules.linear import Linear as FloatLinear
from .....nn.modules.linear import NonDynamicallyQuantizableLinear
from .....nn.modules.module import Module
from .....quantized_tensor import quantize_per_tensor
from .....tensor import Tensor
from ..linear import LinearPackedParams, hide_packed_params_repr


def quantize_weight(float_weight: Tensor, observer: Any) -> Tensor:
    """A weight quantized to qint8 with the parameters `observer` (which has seen it) chose:
    per tensor or per channel, as the observer's scheme says."""
    from .....quantized_tensor import quantize_per_channel

    scale, zero_point = observer.calculate_qparams()
    scheme = observer.qscheme.name
    if scheme in ("per_tensor_symmetric", "per_tensor_affine"):
        return quantize_per_tensor(float_weight, float(scale), int(zero_point), dtypes.qint8)
    if scheme in ("per_channel_symmetric", "per_channel_affine"):
        return quantize_per_channel(float_weight, scale.to(dtypes.float64),
                                    zero_point.to(dtypes.int64), observer.ch_axis,
                                    dtypes.qint8)
    raise ValueError(f"Unexpected qscheme {observer.qscheme}")


def weight_observer(module: Module) -> Any:
    """The weight observer a float module's qconfig names (the default dynamic one without)."""
    qconfig = getattr(module, "qconfig", None)
    if qconfig is not None and qconfig.weight is not None:
        return qconfig.weight()
    from ....quantization.qconfig import default_dynamic_qconfig

    return default_dynamic_qconfig.weight()


class Linear(Module):
    """`y = x @ W.T + b` with W stored as qint8 (or float16); x (float32) is quantized to quint8
    per call, with the range of its own values. Inference only: no gradients flow through."""

    _version = 4

    def __init__(self, in_features: int, out_features: int, bias_: bool = True,
                 dtype: Any = dtypes.qint8) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        bias = zeros(out_features) if bias_ else None
        if dtype is dtypes.qint8:
            weight = quantize_per_tensor(zeros(out_features, in_features), 1.0, 0,
                                         dtypes.qint8)
        elif dtype is dtypes.float16:
            weight = zeros(out_features, in_features)
        else:
            raise RuntimeError("Unsupported dtype specified for quantized Linear!")
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(weight, bias)
        self.scale = 1.0
        self.zero_point = 0
        self.version = 4

    def _get_name(self) -> str:
        return "DynamicQuantizedLinear"

    def extra_repr(self) -> str:
        text = (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"dtype={self._packed_params.dtype}")
        if self._packed_params.dtype is dtypes.qint8:
            text += f", qscheme={self.weight().qscheme()}"
        return text

    def __repr__(self) -> str:
        return hide_packed_params_repr(self)

    def forward(self, x: Tensor) -> Tensor:
        packed = self._packed_params._packed_params
        # Version 4 on quantizes the input to half the quint8 range (fbgemm's reduce_range).
        reduce_range = packed.dtype is dtypes.qint8 and self.version >= 4
        return packed.apply_dynamic(x, reduce_range).to(x.dtype)

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str,
                            keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "scale"] = make_tensor(self.scale)
        destination[prefix + "zero_point"] = make_tensor(self.zero_point)

    def _other_state_loaders(self) -> dict[str, Any]:
        def load_scale(scale: Tensor) -> None:
            self.scale = float(scale)

        def load_zero_point(zero_point: Tensor) -> None:
            self.zero_point = int(zero_point)

        return {"scale": load_scale, "zero_point": load_zero_point}

    def _weight_bias(self) -> tuple[Tensor, Tensor | None]:
        return self._packed_params._weight_bias()

    def weight(self) -> Tensor:
        return self._weight_bias()[0]

    def bias(self) -> Tensor | None:
        return self._weight_bias()[1]

    def set_weight_bias(self, weight: Tensor, bias: Tensor | None) -> None:
        self._packed_params.set_weight_bias(weight, bias)

    @classmethod
    def from_float(cls, mod: Module, use_precomputed_fake_quant: bool = False) -> Linear:
        """The dynamic quantized form of float `mod` (an nn.Linear carrying a qconfig)."""
        if type(mod) not in (FloatLinear, NonDynamicallyQuantizableLinear):
            raise AssertionError("nn.quantized.dynamic.Linear.from_float only works for one "
                                 "of['Linear', 'NonDynamicallyQuantizableLinear']")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        observer = weight_observer(mod)
        dtype = observer.dtype
        if dtype not in (dtypes.qint8, dtypes.float16):
            raise AssertionError("The only supported dtypes for dynamic quantized linear are "
                                 f"qint8 and float16 got: {dtype}")
        observer(mod.weight)
        if dtype is dtypes.qint8:
            weight = quantize_weight(mod.weight.float(), observer)
        else:
            weight = mod.weight.float()
        linear = cls(mod.in_features, mod.out_features, dtype=dtype)
        linear.set_weight_bias(weight, mod.bias)
        return linear
