"""`torch.ao.nn.quantized`'s LinearPackedParams: the module that holds a quantized linear
layer's packed weight and bias, saved in a state dict as `_packed_params._packed_params`
(a (weight, bias) tuple) and `_packed_params.dtype`, as PyTorch saves it."""

from __future__ import annotations

from typing import Any

from .... import dtypes
from ....creation import zeros
from ....nn.modules.module import Module
from ....quantized_tensor import quantize_per_tensor
from ....tensor import Tensor
from ._packed import PackedLinearWeight


class LinearPackedParams(Module):
    _version = 3

    def __init__(self, dtype: Any = dtypes.qint8) -> None:
        super().__init__()
        self.dtype = dtype
        if dtype is dtypes.qint8:
            weight = quantize_per_tensor(zeros(1, 1), 1.0, 0, dtypes.qint8)
        elif dtype is dtypes.float16:
            weight = zeros(1, 1)
        else:
            raise RuntimeError("Unsupported dtype on dynamic quantized linear!")
        self.set_weight_bias(weight, None)

    def set_weight_bias(self, weight: Tensor, bias: Tensor | None) -> None:
        self._packed_params = PackedLinearWeight(weight, bias, self.dtype)

    def _weight_bias(self) -> tuple[Tensor, Tensor | None]:
        return self._packed_params.unpack()

    def forward(self, x: Any) -> Any:
        return x

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str,
                            keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_params"] = self._weight_bias()

    def _other_state_loaders(self) -> dict[str, Any]:
        def load_dtype(dtype: Any) -> None:
            self.dtype = dtype

        def load_weight_bias(weight_bias: Any) -> None:
            self.set_weight_bias(*weight_bias)

        return {"dtype": load_dtype, "_packed_params": load_weight_bias}

    def __repr__(self) -> str:
        return repr(self._weight_bias())


def hide_packed_params_repr(module: Module) -> str:
    """A module's repr without its LinearPackedParams child (PyTorch's
    `_hide_packed_params_repr`)."""
    from ....nn.modules.module import _addindent

    extra = module.extra_repr()
    lines = extra.split("\n") if extra else []
    children = [f"({name}): " + _addindent(repr(child), 2)
                for name, child in module._modules.items()
                if not isinstance(child, LinearPackedParams)]
    text = module._get_name() + "("
    if len(lines) == 1 and not children:
        return text + lines[0] + ")"
    if lines or children:
        text += "\n  " + "\n  ".join(lines + children) + "\n"
    return text + ")"
