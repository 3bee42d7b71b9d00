"""`torch.nn.quantized`: PyTorch's older name for `torch.ao.nn.quantized`."""

from ...ao.nn.quantized import LinearPackedParams
from . import dynamic

__all__ = ["LinearPackedParams", "dynamic"]
