"""functorch.experimental.control_flow: torch.cond and torch._higher_order_ops.map."""

from ...control_flow import cond, map

__all__ = ["cond", "map"]
