"""Forward-mode AD's state: the open dual level and the tensors that carry a tangent at it.

A dual tensor is an ordinary Tensor whose `_fw_grad` holds its tangent (PyTorch's forward
gradient at the level). One level is open at a time, as in PyTorch's `forward_ad`: entering a
second raises. While a level is open `state.enabled` is true and `Function.apply` asks each op's
`jvp` rule for the tangent of its outputs (`function.py`); while a rule runs it is false, since
rules compute on primals, whose tangents must not be propagated again. Closing the level drops
every tangent made at it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tensor import Tensor


class _DualState:
    """The open level (-1: none); `enabled` is what the ops' hot path tests."""

    def __init__(self) -> None:
        self.level = -1
        self.enabled = False
        self.generation = 0  # counts levels entered: a tangent kept past its level is stale
        self._duals: list[weakref.ref[Tensor]] = []

    def set_tangent(self, tensor: Tensor, tangent: Tensor | None) -> None:
        """Give `tensor` its tangent at the open level (None: no tangent)."""
        if tangent is None:
            tensor._fw_grad = None
            return
        tensor._fw_grad = tangent
        self._duals.append(weakref.ref(tensor))

    def enter(self) -> int:
        if self.level >= 0:
            raise RuntimeError("Nested forward mode AD is not supported at the moment")
        self.level = 0
        self.enabled = True
        self.generation += 1
        return self.level

    def exit(self, level: int) -> None:
        if level < 0:
            raise RuntimeError("Dual level must be a positive number.")
        if level != self.level:
            raise RuntimeError(
                "Trying to exit a forward AD level that was not the last one that was created. "
                "This is not supported."
            )
        for reference in self._duals:
            tensor = reference()
            if tensor is not None:
                tensor._fw_grad = None
        self._duals = []
        self.level = -1
        self.enabled = False


state = _DualState()


class rules_running:
    """While a jvp rule runs: ops on primals propagate no tangent (PyTorch's formulas see the
    primal of each input at the level, never its tangent)."""

    def __enter__(self) -> None:
        self.previous = state.enabled
        state.enabled = False

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.previous
