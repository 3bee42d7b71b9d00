"""`torch.ao`: quantization (`ao.quantization`) and the quantized modules (`ao.nn`)."""

from . import nn, quantization

__all__ = ["nn", "quantization"]
