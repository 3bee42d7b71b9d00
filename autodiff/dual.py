"""Forward-mode AD's state: the open dual levels and the tensors that carry a tangent at each.

A dual tensor is an ordinary Tensor whose `_fw_grads` maps each open level to its tangent there
(PyTorch's forward gradient per level). Levels nest: `func.jvp` inside `func.jvp` opens level 1
over level 0, so an op given a tensor with tangents at both computes the output's tangent at
each (`Function._apply_dual`). The public `forward_ad.dual_level` opens one level at a time, as
PyTorch's does (`forward_ad.py`).

Which levels propagate is `state.visible`: every open level while user code runs. A jvp rule for
level L runs with `visible = L - 1`: its ops compute on primals and level-L tangents, so level L
must not propagate again, but the outer levels must (the tangent at L is itself differentiated
by the levels around it: that is what makes jvp of jvp a second derivative). Inner levels
close first, so a tangent at an outer level never needs one at an inner level.
`state.enabled` (visible >= 0) is what `Function.apply` tests on its hot path.

Closing a level drops every tangent made at it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tensor import Tensor


class DualLevel:
    """One open level: its generation (unique among all levels ever opened: a saved tangent
    from a closed level is stale) and the tensors given a tangent at it."""

    __slots__ = ("duals", "generation", "public")

    def __init__(self, generation: int, public: bool) -> None:
        self.generation = generation
        self.public = public  # opened by forward_ad.dual_level (not by a func transform)
        self.duals: list[weakref.ref[Tensor]] = []


class _DualState:
    """The open levels (innermost last), and the highest level that propagates now."""

    def __init__(self) -> None:
        self.level = -1  # the innermost open level, -1: none
        self.visible = -1
        self.enabled = False
        self.generations = 0  # counts levels entered
        self.open: list[DualLevel] = []

    def set_tangent(self, tensor: Tensor, tangent: Tensor | None, level: int) -> None:
        """Give `tensor` its tangent at the open `level` (None: no tangent there). The dict is
        replaced, never changed: a tensor made from another may share its dict."""
        grads = tensor._fw_grads
        if tangent is None:
            if grads is not None and level in grads:
                rest = {key: value for key, value in grads.items() if key != level}
                tensor._fw_grads = rest or None
            return
        if grads is None:
            tensor._fw_grads = {level: tangent}
        else:
            tensor._fw_grads = {**grads, level: tangent}
        self.open[level].duals.append(weakref.ref(tensor))

    def is_open(self, level: int, generation: int) -> bool:
        return 0 <= level <= self.level and self.open[level].generation == generation

    def enter(self, public: bool = False) -> int:
        self.generations += 1
        self.open.append(DualLevel(self.generations, public))
        self.level = len(self.open) - 1
        self.visible = self.level
        self.enabled = True
        return self.level

    def exit(self, level: int) -> None:
        if level < 0:
            raise RuntimeError("Dual level must be a positive number.")
        if level != self.level:
            raise RuntimeError(
                "Trying to exit a forward AD level that was not the last one that was created. "
                "This is not supported."
            )
        for reference in self.open.pop().duals:
            tensor = reference()
            if tensor is not None:
                self.drop(tensor, level)
        self.level = len(self.open) - 1
        self.visible = self.level
        self.enabled = self.visible >= 0

    @staticmethod
    def drop(tensor: Tensor, level: int) -> None:
        grads = tensor._fw_grads
        if grads is not None and level in grads:
            rest = {key: value for key, value in grads.items() if key != level}
            tensor._fw_grads = rest or None

    def visible_levels(self, tensors: list[Tensor]) -> list[int]:
        """The levels, ascending, at which one of `tensors` has a tangent that propagates now."""
        visible = self.visible
        found: list[int] = []
        for tensor in tensors:
            grads = tensor._fw_grads
            if grads is not None:
                for level in grads:
                    if level <= visible and level not in found:
                        found.append(level)
        if len(found) > 1:
            found.sort()
        return found


state = _DualState()


def tangent_at(tensor: Tensor, level: int) -> Tensor | None:
    """`tensor`'s tangent at `level` (None: none)."""
    grads = tensor._fw_grads
    return None if grads is None else grads.get(level)


class rules_running:
    """While a jvp rule for `level` runs: that level and the inner ones propagate no tangent
    (PyTorch's formulas see the primal of each input at the level, never its tangent); the
    outer ones do. Without a level: none propagates."""

    def __init__(self, level: int = 0) -> None:
        self.level = level

    def __enter__(self) -> None:
        self.previous = state.visible
        state.visible = min(self.previous, self.level - 1)
        state.enabled = state.visible >= 0

    def __exit__(self, *exc: object) -> None:
        state.visible = self.previous
        state.enabled = self.previous >= 0
