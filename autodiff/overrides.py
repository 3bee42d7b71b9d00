"""`autodiff.overrides` (torch.overrides): the `__torch_function__` protocol's public API.

Classes of arguments (Tensor subclasses, and tensor-like classes that are no Tensor) and
TorchFunctionModes take over calls of autodiff's public functions and Tensor's methods through
`__torch_function__`; the mechanism is in `torch_function.py`. Here: the helpers for functions
written outside autodiff (`has_torch_function`, `handle_torch_function`,
`wrap_torch_function`), the modes, and the tables of what can be overridden.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .override_tables import (
    get_ignored_functions,
    get_overridable_functions,
    get_testing_overrides,
    is_tensor_method_or_property,
    resolve_name,
)
from .torch_function import (
    DisableTorchFunction,
    DisableTorchFunctionSubclass,
    _disabled_torch_function_impl,
    dispatch,
    get_default_nowrap_functions,
    local,
    mode_enabled,
    overloaded_args,
    pop_mode,
    pop_mode_temporarily,
    push_mode,
    takes_over,
)
from .torch_function import convert as _convert
from .user_warnings import skip_frames_of, warn

__all__ = [
    "BaseTorchFunctionMode",
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "TorchFunctionMode",
    "enable_reentrant_dispatch",
    "get_default_nowrap_functions",
    "get_ignored_functions",
    "get_overridable_functions",
    "get_testing_overrides",
    "handle_torch_function",
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "is_tensor_like",
    "is_tensor_method_or_property",
    "resolve_name",
    "wrap_torch_function",
]


def _get_overloaded_args(relevant_args: Iterable[Any],
                         get_type_fn: Callable[[Any], type] | None = None) -> list[Any]:
    """The arguments whose classes define `__torch_function__` (plain Tensors included, as
    PyTorch's Python version has it): one per class, subclasses before their bases."""
    get_type = type if get_type_fn is None else get_type_fn
    found: list[Any] = []
    kinds: list[type] = []
    for arg in relevant_args:
        kind = get_type(arg)
        if kind in kinds or not takes_over(kind):
            continue
        position = next((index for index, seen in enumerate(kinds) if issubclass(kind, seen)),
                        len(kinds))
        kinds.insert(position, kind)
        found.insert(position, arg)
    return found


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    """Whether a call with these arguments goes through `__torch_function__`: a mode is on, or
    one of them (no plain Tensor) takes calls over."""
    return mode_enabled() or bool(overloaded_args(relevant_args))


def has_torch_function_unary(arg: Any) -> bool:
    return has_torch_function((arg,))


def has_torch_function_variadic(*args: Any) -> bool:
    return has_torch_function(args)


def handle_torch_function(public_api: Callable[..., Any], relevant_args: Iterable[Any],
                          *args: Any, **kwargs: Any) -> Any:
    """Call `public_api` through the innermost mode and the `__torch_function__` of the
    classes of `relevant_args`: the first result that is not NotImplemented, else TypeError."""
    return dispatch(public_api, overloaded_args(relevant_args), args, kwargs)


skip_frames_of(handle_torch_function)  # as the protocol's own frames (user_warnings.py)


def wrap_torch_function(dispatcher: Callable[..., Iterable[Any]]
                        ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the function goes through `__torch_function__` for the arguments
    `dispatcher(*args, **kwargs)` names."""
    def inner(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            relevant_args = dispatcher(*args, **kwargs)
            if has_torch_function(relevant_args):
                return handle_torch_function(wrapped, relevant_args, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return inner


def is_tensor_like(inp: Any) -> bool:
    """A Tensor, or an object whose class defines `__torch_function__`."""
    from .tensor import Tensor

    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


# ----------------------------------------------------------------------------- modes
class TorchFunctionMode:
    """A context manager that sees every call of a public function or Tensor method made in
    its thread while it is the innermost mode: subclasses define `__torch_function__(func,
    types, args, kwargs)`. Inside it, the mode is off the stack (calls it makes go to the
    modes further out)."""

    inner: TorchFunctionMode | None

    def __init__(self) -> None:
        pass

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: Any = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        _push_mode(self)
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        _pop_mode()

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchFunctionMode:

        warn("`Mode.push()` is no longer necessary and can be replaced with just "
             "`with Mode()`", stacklevel=2)
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs every call unchanged (a base for modes that watch)."""

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: Any = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        if kwargs is None:
            kwargs = {}
        return func(*args, **kwargs)


def _push_mode(mode: TorchFunctionMode) -> None:
    push_mode(mode)


def _pop_mode() -> TorchFunctionMode:
    return pop_mode()


def _get_current_function_mode() -> TorchFunctionMode | None:
    return local.modes[-1] if local.modes else None


def _get_current_function_mode_stack() -> list[TorchFunctionMode]:
    return list(local.modes)


def _len_torch_function_stack() -> int:
    return len(local.modes)


def _is_torch_function_mode_enabled() -> bool:
    return mode_enabled()


@contextmanager
def _pop_mode_temporarily() -> Iterator[TorchFunctionMode]:
    with pop_mode_temporarily() as mode:
        yield mode


@contextmanager
def _no_torch_function_mode() -> Iterator[None]:
    """Inside, no mode is on (the stack is set aside and put back after)."""
    saved = list(local.modes)
    for _ in saved:
        _pop_mode()
    try:
        yield
    finally:
        for mode in saved:
            _push_mode(mode)


@contextmanager
def enable_reentrant_dispatch() -> Iterator[None]:
    """Accepted for PyTorch's code: autodiff's dispatch is always reentrant."""
    yield


__all__ += ["_convert", "_disabled_torch_function_impl"]
