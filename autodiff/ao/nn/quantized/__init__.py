"""`torch.ao.nn.quantized`: modules over quantized weights. Only the dynamic ones
(`quantized.dynamic`) and the packed-weight holder are implemented."""

from . import dynamic
from .linear import LinearPackedParams

__all__ = ["LinearPackedParams", "dynamic"]
