"""Grad modes: whether ops record the graph. Thread-local, so a data-loading thread under
`no_grad` does not switch recording off for the training thread.

Each mode is a tiny class that is both a context manager and a decorator and restores the
previous state on exit, as PyTorch's are.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.inference = False


state = _State()


class _InferenceSeen:
    """Whether any thread has ever entered inference mode. Until one has, every thread's
    `state.inference` is False, and the hot path (`_wrap`, `Function.apply`) reads this plain
    attribute instead: a thread-local attribute costs several times as much per read. It never
    goes back to False: a mode that restores state on exit may leave `inference` True later."""

    __slots__ = ("entered",)

    def __init__(self) -> None:
        self.entered = False


inference_seen = _InferenceSeen()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _Mode:
    """Base: subclasses set the state in __enter__; exiting restores what was there before."""

    def __call__(self, function: F) -> F:
        if inspect.isgeneratorfunction(function):
            return self._wrap_generator(function)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _wrap_generator(self, function: F) -> F:
        """The mode holds while the generator's body runs, step by step, not while it waits."""

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            generator = function(*args, **kwargs)
            try:
                with self.clone():
                    request = next(generator)
                while True:
                    try:
                        response = yield request
                    except GeneratorExit:
                        with self.clone():
                            generator.close()
                        raise
                    except BaseException as error:  # thrown in: pass it to the body
                        with self.clone():
                            request = generator.throw(error)
                    else:
                        with self.clone():
                            request = generator.send(response)
            except StopIteration as stop:
                return stop.value

        return wrapper  # type: ignore[return-value]

    def clone(self) -> _Mode:
        return type(self)()

    def __enter__(self) -> None:
        self._previous = (state.enabled, state.inference)
        self._set()

    def __exit__(self, *exc_info: object) -> None:
        state.enabled, state.inference = self._previous

    def _set(self) -> None:
        raise NotImplementedError


class _BareDecorator(_Mode):
    """A mode that can also decorate without parentheses: `@no_grad` as well as `@no_grad()`."""

    def __new__(cls, function: Any = None) -> Any:
        if function is None:
            return super().__new__(cls)
        return cls()(function)

    def __init__(self, function: Any = None) -> None:
        pass


class no_grad(_BareDecorator):
    """Ops inside do not record the graph; results have requires_grad=False."""

    def _set(self) -> None:
        state.enabled = False


class enable_grad(_BareDecorator):
    """Turn recording back on inside a `no_grad` region."""

    def _set(self) -> None:
        state.enabled = True


class set_grad_enabled(_Mode):
    """`set_grad_enabled(False)` switches recording off now; used with `with`, only inside."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous = (state.enabled, state.inference)
        state.enabled = self.mode

    def __call__(self, function: F) -> F:
        state.enabled = self._previous[0]  # as a decorator it changes nothing until called
        return super().__call__(function)

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.mode)

    def __enter__(self) -> None:
        pass  # already set by the constructor; _previous was taken there

    def _set(self) -> None:
        state.enabled = self.mode


class inference_mode(_Mode):
    """Like `no_grad` (this library has no separate inference tensors)."""

    def __new__(cls, mode: Any = True) -> Any:
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used bare: @inference_mode

    def __init__(self, mode: Any = True) -> None:
        self.mode = bool(mode) if isinstance(mode, bool) else True

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)

    def _set(self) -> None:
        if self.mode:
            inference_seen.entered = True  # before the state: no read may miss it
            state.enabled = False
            state.inference = True
