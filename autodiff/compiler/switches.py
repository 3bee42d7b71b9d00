"""torch.compiler's switches: the stance, how every compiled function treats its calls
(`set_stance`); `is_compiling`; `reset`, which makes every compiled function forget its programs.

Stances, as PyTorch names them: "default" (trace a new signature, replay a known one),
"force_eager" (every call runs eagerly), "eager_on_recompile" (a known signature replays, a new
one runs eagerly instead of tracing), "fail_on_recompile" (a new signature raises),
"eager_then_compile" and "aot_eager_then_compile" (a function's first call runs eagerly, later
ones as "default"; there is no AOT stage here, so the two are the same). An unknown stance is
accepted by `set_stance` and refused by the next compiled call, as PyTorch does.

The stance is one setting for the whole process, as PyTorch's is: a DataLoader thread or a
spawned thread sees the stance the program set. It may not change while a compiled function
traces (PyTorch forbids tracing `set_stance` and functions it decorates).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import tracing

STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile",
           "eager_then_compile", "aot_eager_then_compile")


@dataclass(frozen=True)
class DynamoStance:
    stance: str = "default"
    skip_guard_eval_unsafe: bool = False
    backend: str | Callable[..., Any] | None = None


DEFAULT = DynamoStance()


class _State:
    stance = DEFAULT


state = _State()


class _Backward(threading.local):
    """Compiled autograd's switch in this thread (`compiled_autograd.enable` sets it): the
    compiler the engine hands each `backward()` to, or None for the engine's own walk; and
    whether a `compiled_autograd.disable()` block is open."""

    compiler: Any = None
    disabled = False


backward = _Backward()


class Forgetful:
    """What `reset` reaches: a compiled function, which forgets its programs."""

    def forget(self) -> None:
        raise NotImplementedError


# Every compiled function (weakly: a function its owner dropped goes).
COMPILED: weakref.WeakSet[Forgetful] = weakref.WeakSet()


def reset() -> None:
    """Forget every compiled function's programs (torch.compiler.reset, torch._dynamo.reset):
    each traces its next call afresh, with its recompile limit counted from zero."""
    for compiled in list(COMPILED):
        compiled.forget()


def is_compiling() -> bool:
    """Whether this thread is inside a compiled function's traced call: code that runs while
    `autodiff.compile` records it (a replay repeats what that call did)."""
    return tracing.current() is not None


def _forbidden(what: object) -> None:
    if tracing.current() is not None:
        raise AssertionError(f"Attempt to trace forbidden callable {what}")


def _set(stance: DynamoStance) -> DynamoStance:
    prior = state.stance
    # The default is kept as one object: a compiled call tests the stance by identity.
    state.stance = DEFAULT if stance == DEFAULT else stance
    return prior


class set_stance:  # (PyTorch's name: a function, context manager and decorator at once)
    """Set how compiled functions treat their calls: `set_stance("force_eager")` as a call (until
    the next one), `with set_stance(...):` for a block, or `@set_stance(...)` for the calls of
    one function. `force_backend`, with the "default" stance only: "eager" runs every compiled
    call eagerly, "inductor" compiles as usual. `skip_guard_eval_unsafe` lets PyTorch skip
    guards it may; autodiff's checks always run, so results are the same with it or without."""

    def __init__(self, stance: str = "default", *, skip_guard_eval_unsafe: bool = False,
                 force_backend: str | Callable[..., Any] | None = None) -> None:
        _forbidden(set_stance)
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        if force_backend not in (None, "inductor", "eager"):
            raise ValueError(f"autodiff.compile: backend={force_backend!r} is not supported "
                             "(only 'inductor', the default, and 'eager')")
        self.stance = DynamoStance(stance, skip_guard_eval_unsafe, force_backend)
        self.prev = _set(self.stance)

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        _set(self.prev)  # as a decorator the stance holds only during the function's calls
        stance = self.stance

        @functools.wraps(function)
        def with_stance(*args: Any, **kwargs: Any) -> Any:
            _forbidden(with_stance)
            prior = _set(stance)
            try:
                return function(*args, **kwargs)
            finally:
                _set(prior)

        return with_stance

    def __enter__(self) -> None:
        _forbidden(set_stance)
        _set(self.stance)

    def __exit__(self, *exc_info: object) -> None:
        _set(self.prev)


def check(stance: DynamoStance) -> None:
    """Refuse a stance PyTorch does not know (at the compiled call, as PyTorch does)."""
    if stance.stance not in STANCES:
        raise RuntimeError(f"invalid torch.compile stance '{stance}'")
