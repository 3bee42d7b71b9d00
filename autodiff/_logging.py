"""autodiff._logging (torch._logging): `set_logs` for autodiff.compile's artifacts.

`recompiles=True` logs each new trace of a function that already has programs, with what
changed since the last signature; `graph_breaks=True` logs each graph break with its reason
and line; `dynamo=<level>` sets the level of the compiler's own logger ("autodiff.compile",
whose warnings are the recompile-limit and fallback messages). The records go to the logging
module's "autodiff.compile.recompiles" and "autodiff.compile.graph_breaks" loggers, printed to
stderr as PyTorch prints its artifacts. `set_logs()` with no argument turns them off again.
"""

from __future__ import annotations

import logging

from .compiler import compiled

_HANDLERS: dict[str, logging.Handler] = {}


def _artifact(name: str, on: bool) -> None:
    logger = logging.getLogger(f"autodiff.compile.{name}")
    setattr(compiled._logs, name, on)
    handler = _HANDLERS.pop(name, None)
    if handler is not None:
        logger.removeHandler(handler)
    if on:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(f"[__{name}] %(message)s"))
        logger.addHandler(handler)
        _HANDLERS[name] = handler
        logger.setLevel(logging.DEBUG)
    else:
        logger.setLevel(logging.NOTSET)


def set_logs(*, dynamo: int | None = None, recompiles: bool = False,
             graph_breaks: bool = False) -> None:
    """Turn the compiler's log artifacts on or off (all of them off when called bare)."""
    _artifact("recompiles", recompiles)
    _artifact("graph_breaks", graph_breaks)
    logging.getLogger("autodiff.compile").setLevel(logging.NOTSET if dynamo is None else dynamo)
