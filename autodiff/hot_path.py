"""Whether any mode that reaches into every op call is on: vmap, forward-mode AD, the profiler,
anomaly mode, `autograd.graph.replayable()`, saved_tensors_hooks, autocast.

`Function.apply` and the public functions' decorators (`fast_path`) test `modes.active` alone:
while it is False an op runs its plain path (forward, then record the node or wrap the result).
While it is True they take the full path, which asks each mode itself. So
`active` need not say which mode is on, nor in which thread: it must only never be False while
one is on. Each mode calls `enter()` when it switches on and `exit()` when it switches off
(`active` is True while entries outnumber exits, counted over all threads).

vmap levels are counted apart as well (`enter(vmap=True)`): `beyond_vmap` is True while some
other mode is on. Inside vmap, `Function.apply` sends every op to the batching dispatch; an op
none of whose inputs is batched (the ops a batching rule runs on physical tensors, a backward
pass under grad) then needs nothing more of vmap, and takes the plain path unless
`beyond_vmap` says another mode wants the full one.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any


class OpModes:
    """The switch the hot path reads (`active`), and the count of modes on behind it."""

    __slots__ = ("_lock", "_on", "_vmaps", "active", "beyond_vmap")

    def __init__(self) -> None:
        self.active = False
        self.beyond_vmap = False
        self._on = 0
        self._vmaps = 0
        self._lock = threading.Lock()

    def enter(self, vmap: bool = False) -> None:
        """A mode switched on (in some thread); `vmap` for a vmap level."""
        with self._lock:
            self._on += 1
            self._vmaps += vmap
            self.active = True
            self.beyond_vmap = self._on > self._vmaps

    def exit(self, vmap: bool = False) -> None:
        """A mode switched off: the one `enter` it balances."""
        with self._lock:
            self._on -= 1
            self._vmaps -= vmap
            self.active = self._on > 0
            self.beyond_vmap = self._on > self._vmaps


modes = OpModes()


def fast_path(wrapper: Callable[..., Any], function: Callable[..., Any], *,
              out: bool = False, vmap_blind: bool = False) -> Callable[..., Any]:
    """The public function a decorator returns for `function`, where its `wrapper` only passes
    the call on while no mode is on (autocast's casts, vmap's batching) and, with `out`, while
    no `out=` is given (`takes_out`): one frame that calls the undecorated function directly
    then, and the decorators' wrappers otherwise. Stacked decorators share it: each one's
    shortcut goes to the innermost function, skipping all of their wrappers at once.
    `vmap_blind`: the wrapper wants nothing of vmap either (autocast, `out=`), so the shortcut
    is also taken while vmap is the only mode on, where every stacked wrapper is blind to it."""
    plain = getattr(function, "_plain", function)
    checks_out = out or getattr(function, "_checks_out", False)
    blind = vmap_blind and getattr(function, "_vmap_blind", True)
    if blind and checks_out:
        def public(*args: Any, **kwargs: Any) -> Any:
            if modes.beyond_vmap or "out" in kwargs:
                return wrapper(*args, **kwargs)
            return plain(*args, **kwargs)
    elif blind:
        def public(*args: Any, **kwargs: Any) -> Any:
            if modes.beyond_vmap:
                return wrapper(*args, **kwargs)
            return plain(*args, **kwargs)
    elif checks_out:
        def public(*args: Any, **kwargs: Any) -> Any:
            if modes.active or "out" in kwargs:
                return wrapper(*args, **kwargs)
            return plain(*args, **kwargs)
    else:
        def public(*args: Any, **kwargs: Any) -> Any:
            if modes.active:
                return wrapper(*args, **kwargs)
            return plain(*args, **kwargs)
    functools.update_wrapper(public, wrapper)
    public._plain = plain  # type: ignore[attr-defined]
    public._checks_out = checks_out  # type: ignore[attr-defined]
    public._vmap_blind = blind  # type: ignore[attr-defined]
    return public
