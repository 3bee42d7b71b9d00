"""Which float module becomes which quantized one (`torch.ao.quantization.
quantization_mappings`)."""

from __future__ import annotations

from typing import Any


def get_default_dynamic_quant_module_mappings() -> dict[type, Any]:
    """Float module type -> its dynamic quantized module type."""
    from ... import nn
    from ...nn.modules.linear import NonDynamicallyQuantizableLinear
    from ..nn.quantized import dynamic

    return {
        nn.GRUCell: dynamic.GRUCell,
        nn.Linear: dynamic.Linear,
        NonDynamicallyQuantizableLinear: dynamic.Linear,
        nn.LSTM: dynamic.LSTM,
        nn.GRU: dynamic.GRU,
        nn.LSTMCell: dynamic.LSTMCell,
        nn.RNNCell: dynamic.RNNCell,
    }
