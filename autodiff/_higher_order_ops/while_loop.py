from ..control_flow import while_loop

__all__ = ["while_loop"]
