from ..control_flow import cond

__all__ = ["cond"]
