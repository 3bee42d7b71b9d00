"""The exceptions PyTorch's symbolic shapes raise, under PyTorch's names, so that code catching
them catches autodiff.export's: a branch on a tensor's data while exporting, and an example
input outside the range its `dynamic_shapes` allow."""

from __future__ import annotations

__all__ = ["ConstraintViolationError", "GuardOnDataDependentSymNode"]


class GuardOnDataDependentSymNode(RuntimeError):
    """Python control flow asked for a value that depends on a tensor's data (`if x.sum() > 0`)
    while exporting: the graph cannot hold that branch (use autodiff.cond)."""


class ConstraintViolationError(RuntimeError):
    """An input's size breaks the constraint its `dynamic_shapes` entry states."""
