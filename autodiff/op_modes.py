"""Whether any mode that reaches into every op call is on: vmap, forward-mode AD, the profiler,
anomaly mode, `autograd.graph.replayable()`, saved_tensors_hooks, autocast.

`Function.apply` and the wrappers of the public functions test `modes.active` and nothing else:
while it is False an op runs its plain path (forward, then record the node or wrap the result).
While it is True they take the full path, which asks each mode itself, exactly as before. So
`active` need not say which mode is on, nor in which thread: it must only never be False while
one is on. Each mode calls `enter()` when it switches on and `exit()` when it switches off
(`active` is True while entries outnumber exits, counted over all threads).
"""

from __future__ import annotations

import threading


class OpModes:
    """The switch the hot path reads (`active`), and the count of modes on behind it."""

    __slots__ = ("_lock", "_on", "active")

    def __init__(self) -> None:
        self.active = False
        self._on = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        """A mode switched on (in some thread)."""
        with self._lock:
            self._on += 1
            self.active = True

    def exit(self) -> None:
        """A mode switched off: the one `enter` it balances."""
        with self._lock:
            self._on -= 1
            self.active = self._on > 0


modes = OpModes()
