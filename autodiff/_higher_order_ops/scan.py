from ..control_flow import scan

__all__ = ["scan"]
