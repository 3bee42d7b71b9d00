"""`torch.ao.nn`: the quantized modules."""

from . import quantized

__all__ = ["quantized"]
