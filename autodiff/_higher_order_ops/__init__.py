"""torch._higher_order_ops: the control-flow operators user code imports from here, run
eagerly (they live in autodiff/control_flow.py), and foreach_map."""

from .associative_scan import associative_scan
from .cond import cond
from .foreach_map import foreach_map
from .map import map
from .scan import scan
from .while_loop import while_loop

__all__ = ["associative_scan", "cond", "foreach_map", "map", "scan", "while_loop"]
