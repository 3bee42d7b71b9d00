"""The vmap levels open in this thread (thread-local, like grad mode). `Function.apply` reads
`levels.depth` once `hot_path.modes.active` says some mode is on (an open level counts as
one); while a vmap is open
it calls `levels.dispatch` (set by `dispatch.py`, which every vmap imports first)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..hot_path import modes

# What `levels.dispatch` returns for an op none of whose inputs is batched.
NOT_BATCHED = object()


@dataclass
class Level:
    """One open vmap: its number (outer vmaps have smaller ones), the size of the mapped
    dimension and how random ops behave ('error', 'different' or 'same')."""

    number: int
    batch_size: int
    randomness: str


class _Levels(threading.local):
    dispatch: Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]

    def __init__(self) -> None:
        self.stack: list[Level] = []
        self.depth = 0
        self.counter = 0

    def push(self, batch_size: int, randomness: str) -> Level:
        self.counter += 1
        level = Level(self.counter, batch_size, randomness)
        self.stack.append(level)
        self.depth = len(self.stack)
        modes.enter(vmap=True)
        return level

    def pop(self, level: Level) -> None:
        self.stack.remove(level)
        self.depth = len(self.stack)
        modes.exit(vmap=True)

    def find(self, number: int) -> Level:
        for level in self.stack:
            if level.number == number:
                return level
        raise RuntimeError("vmap: a batched Tensor escaped the vmap that made it")


levels = _Levels()


def set_dispatch(function: Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]) -> None:
    """Make `function` the one `Function.apply` calls while a vmap is open (every thread)."""
    _Levels.dispatch = staticmethod(function)
