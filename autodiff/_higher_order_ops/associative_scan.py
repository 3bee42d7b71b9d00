from ..control_flow import associative_scan

__all__ = ["associative_scan"]
