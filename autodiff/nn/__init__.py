"""`autodiff.nn`: layers and losses (see `functional` for the function forms)."""

from . import functional

__all__ = ["functional"]
