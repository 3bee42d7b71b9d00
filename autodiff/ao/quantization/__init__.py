"""`torch.ao.quantization`: eager-mode dynamic quantization (quantize_dynamic), its qconfigs
and observers. Static quantization (prepare/calibrate/convert to quantized kernels), QAT and
the FX and PT2E flows are not implemented."""

from .observer import (
    MinMaxObserver,
    ObserverBase,
    PerChannelMinMaxObserver,
    PlaceholderObserver,
    default_dynamic_quant_observer,
    default_per_channel_weight_observer,
    default_placeholder_observer,
    default_weight_observer,
)
from .qconfig import (
    QConfig,
    default_dynamic_qconfig,
    float16_dynamic_qconfig,
    per_channel_dynamic_qconfig,
)
from .quantization_mappings import get_default_dynamic_quant_module_mappings
from .quantize import convert, propagate_qconfig_, quantize_dynamic, swap_module

__all__ = [
    "MinMaxObserver", "ObserverBase", "PerChannelMinMaxObserver", "PlaceholderObserver",
    "QConfig", "convert", "default_dynamic_qconfig", "default_dynamic_quant_observer",
    "default_per_channel_weight_observer", "default_placeholder_observer",
    "default_weight_observer", "float16_dynamic_qconfig",
    "get_default_dynamic_quant_module_mappings", "per_channel_dynamic_qconfig",
    "propagate_qconfig_", "quantize_dynamic", "swap_module",
]
