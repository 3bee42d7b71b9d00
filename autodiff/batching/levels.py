"""The vmap levels open in this thread (thread-local, like grad mode). `Function.apply` reads
`levels.depth`: while it is zero, vmap costs one attribute test per op."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Level:
    """One open vmap: its number (outer vmaps have smaller ones), the size of the mapped
    dimension and how random ops behave ('error', 'different' or 'same')."""

    number: int
    batch_size: int
    randomness: str


class _Levels(threading.local):
    def __init__(self) -> None:
        self.stack: list[Level] = []
        self.depth = 0
        self.counter = 0

    def push(self, batch_size: int, randomness: str) -> Level:
        self.counter += 1
        level = Level(self.counter, batch_size, randomness)
        self.stack.append(level)
        self.depth = len(self.stack)
        return level

    def pop(self, level: Level) -> None:
        self.stack.remove(level)
        self.depth = len(self.stack)

    def find(self, number: int) -> Level:
        for level in self.stack:
            if level.number == number:
                return level
        raise RuntimeError("vmap: a batched Tensor escaped the vmap that made it")


levels = _Levels()
