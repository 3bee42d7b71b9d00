"""functorch.experimental: its control_flow module (cond and map, as torch._higher_order_ops'
own)."""

from . import control_flow

__all__ = ["control_flow"]
