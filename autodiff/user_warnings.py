"""`warn`: how autodiff raises a warning, so that it points at the line it would point at if
the `__torch_function__` layer (torch_function.py) were not on the stack.

Every public function, and every Tensor method and property once the protocol is switched on,
runs inside a wrapper of that layer: one or two frames more between the user's line and the
function that warns. `warn(message, category, stacklevel)` counts `stacklevel` as
`warnings.warn` does, but steps over the frames of that layer (the code objects it registers
here with `skip_frames_of`) and over the `__torch_function__` handlers it calls (a subclass's
or a mode's), so a warning points where PyTorch's does: at the user's line.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from importlib.machinery import BuiltinImporter, FrozenImporter
from types import CodeType, FrameType
from typing import Any

# The code of the protocol's own frames, and of the function whose callees are handlers.
_skipped: set[CodeType] = set()
_handler_callers: set[CodeType] = set()


def skip_frames_of(*functions: Callable[..., Any], handlers_called_by: bool = False) -> None:
    """Frames running these functions are not counted by `warn`'s stacklevel; with
    `handlers_called_by`, neither are the frames these functions call (the handlers)."""
    for function in functions:
        code = function.__code__
        _skipped.add(code)
        if handlers_called_by:
            _handler_callers.add(code)


def _is_internal(frame: FrameType) -> bool:
    # importlib's own frames, which warnings.warn also steps over
    filename = frame.f_code.co_filename
    return "importlib" in filename and "_bootstrap" in filename


def _skipped_frame(frame: FrameType) -> bool:
    if frame.f_code in _skipped or _is_internal(frame):
        return True
    caller = frame.f_back
    return caller is not None and caller.f_code in _handler_callers


def warn(message: str | Warning, category: type[Warning] | None = None, stacklevel: int = 1,
         source: Any = None) -> None:
    """`warnings.warn`, with the protocol's frames (and the handlers it calls) not counted."""
    frame: FrameType | None = sys._getframe(1)
    for _ in range(stacklevel - 1):
        if frame is None:
            break
        frame = frame.f_back
        while frame is not None and _skipped_frame(frame):
            frame = frame.f_back
    if frame is None:  # past the outermost frame: as warnings.warn reports it
        module_globals: dict[str, Any] = sys.__dict__
        filename, lineno = "sys", 1
    else:
        module_globals = frame.f_globals
        filename, lineno = frame.f_code.co_filename, frame.f_lineno
    if category is None:
        category = UserWarning
    if isinstance(message, Warning):
        category = message.__class__
    registry = module_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(message, category, filename, lineno,
                           module_globals.get("__name__", "<string>"), registry,
                           _with_readable_source(module_globals), source)


def _with_readable_source(module_globals: dict[str, Any]) -> dict[str, Any] | None:
    """The globals warn_explicit reads the warned line through (their loader's get_source),
    or None where that loader has no source to give and would raise: the built-in importer
    that `python -c` leaves as `__main__`'s loader (warnings.warn passes none either)."""
    if module_globals.get("__loader__") in (BuiltinImporter, FrozenImporter):
        return None
    return module_globals


# ----------------------------------------------------------------------------- warn once
_warn_always = False


def set_warn_always(b: bool) -> None:
    """torch.set_warn_always: with True, the warnings PyTorch gives once per process (such as
    set_default_tensor_type's deprecation) are given every time."""
    global _warn_always
    _warn_always = bool(b)


def is_warn_always_enabled() -> bool:
    return _warn_always


def first_time(seen: list[bool]) -> bool:
    """For a warning given once per process: True the first time (`seen` records it), and
    every time while set_warn_always(True)."""
    if seen and not _warn_always:
        return False
    if not seen:
        seen.append(True)
    return True
