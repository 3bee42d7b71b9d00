"""Checks shared by the built-in DataPipes (torch.utils.data.datapipes.utils.common)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .....user_warnings import warn


def _is_local_fn(fn: Any) -> bool:
    if hasattr(fn, "__code__"):
        return bool(fn.__code__.co_flags & inspect.CO_NESTED)
    if hasattr(fn, "__qualname__"):
        return "<locals>" in fn.__qualname__
    return "<locals>" in getattr(type(fn), "__qualname__", "")


def _check_unpickable_fn(fn: Callable[..., Any]) -> None:
    """TypeError for a non-callable; a warning for a lambda or local function, which cannot be
    pickled (a DataPipe holding one cannot go to spawned worker processes)."""
    if not callable(fn):
        raise TypeError(f"A callable function is expected, but {type(fn)} is provided.")
    if isinstance(fn, functools.partial):
        fn = fn.func
    if _is_local_fn(fn):
        warn("Local function is not supported by pickle, please use regular python "
             "function or functools.partial instead.", stacklevel=3)
        return
    if getattr(fn, "__name__", None) == "<lambda>":
        warn("Lambda function is not supported by pickle, please use regular python "
             "function or functools.partial instead.", stacklevel=3)


def validate_input_col(fn: Callable[..., Any], input_col: Any) -> None:
    """Check that `fn` takes as many positional arguments as `input_col` names columns."""
    try:
        signature = inspect.signature(fn)
    except ValueError:  # a builtin without a signature
        return
    size = len(input_col) if isinstance(input_col, (list, tuple)) else 1
    positional = []
    var_positional = False
    required_keyword_only = []
    for parameter in signature.parameters.values():
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY,
                              inspect.Parameter.POSITIONAL_OR_KEYWORD):
            positional.append(parameter)
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            var_positional = True
        elif parameter.kind is inspect.Parameter.KEYWORD_ONLY and \
                parameter.default is parameter.empty:
            required_keyword_only.append(parameter)
    function = fn.func if isinstance(fn, functools.partial) else fn
    name = getattr(function, "__name__", repr(function))
    if required_keyword_only:
        raise ValueError(f"The function {name} takes {len(required_keyword_only)} non-default "
                         "keyword-only parameters, which is not allowed.")
    if len(signature.parameters) < size:
        if not var_positional:
            raise ValueError(f"The function {name} takes {len(signature.parameters)} "
                             f"parameters, but {size} are required.")
    elif len(positional) > size:
        if any(p.default is p.empty for p in positional[size:]):
            raise ValueError(f"The function {name} takes {len(positional)} positional "
                             f"parameters, but {size} are required.")
    elif len(positional) < size and not var_positional:
        raise ValueError(f"The function {name} takes {len(positional)} positional parameters, "
                         f"but {size} are required.")


def _no_length(datapipe: Any) -> TypeError:
    return TypeError(f"{type(datapipe).__name__} instance doesn't have valid length")
