"""autodiff.sparse (torch.sparse): products, sums, softmax and log_softmax of sparse COO
tensors, products of compressed ones (mm, addmm, sampled_addmm), and the switch for checking a
new sparse tensor's invariants."""

from __future__ import annotations

from typing import Any

from ..ops.sparse_compressed_products import sampled_addmm
from ..ops.sparse_elementwise import sparse_sum as sum
from ..ops.sparse_products import sparse_addmm as addmm
from ..ops.sparse_products import sparse_mm as mm
from ..ops.sparse_softmax import log_softmax, softmax
from ..sparse_coo import invariant_checks


class check_sparse_tensor_invariants:
    """Check the indices of every sparse tensor made (`sparse_coo_tensor` with
    check_invariants=None) while enabled: a context manager and decorator that enables it, or
    `enable()` / `disable()` / `is_enabled()` for the global switch (off by default)."""

    @staticmethod
    def is_enabled() -> bool:
        return invariant_checks.enabled

    @staticmethod
    def enable() -> None:
        invariant_checks.enabled = True

    @staticmethod
    def disable() -> None:
        invariant_checks.enabled = False

    def __init__(self, enable: bool = True) -> None:
        self.state = enable
        self.saved_state: bool | None = None

    def __enter__(self) -> None:
        if self.saved_state is not None:
            raise RuntimeError("This context manager instance is already activated. Use a "
                               "different context manager instance for context nesting.")
        self.saved_state = invariant_checks.enabled
        invariant_checks.enabled = self.state

    def __exit__(self, *args: Any) -> None:
        assert self.saved_state is not None
        invariant_checks.enabled = self.saved_state
        self.saved_state = None

    def __call__(self, function: Any) -> Any:
        def checked(*args: Any, **kwargs: Any) -> Any:
            with check_sparse_tensor_invariants(self.state):
                return function(*args, **kwargs)
        return checked


__all__ = ["addmm", "check_sparse_tensor_invariants", "log_softmax", "mm", "sampled_addmm",
           "softmax", "sum"]
