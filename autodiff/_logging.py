"""autodiff._logging (torch._logging): `set_logs` for autodiff.compile's artifacts.

Artifacts, each a logger under "autodiff.compile.<name>" printed to stderr as `[__<name>] ...`
(PyTorch's prefix): `recompiles` (each new trace of a function that already has programs, with
the part of its signature that changed), `graph_breaks` (each graph break, its reason and
line), `graph` (each traced program's steps), `output_code` (each program's generated replay
function, its buffers and blocked runs: what `explain()` lists), `fusion` (the fusion
decisions: cross_entropy pairs fused, elementwise runs blocked), `compiled_autograd` (each
backward graph compiled autograd captures) and `compiled_autograd_verbose` (the same, with why
the cache missed). `dynamo=<level>` sets the
level of the compiler's own logger ("autodiff.compile": its warnings, and at DEBUG each trace
and its outcome). A call sets every option: `set_logs()` with no argument turns them all off.
"""

from __future__ import annotations

import logging

from .compiler import compiled
from .compiler import compiled_autograd as _compiled_autograd

ARTIFACTS = ("recompiles", "graph_breaks", "graph", "output_code", "fusion",
             "compiled_autograd", "compiled_autograd_verbose")
_HANDLERS: dict[str, logging.Handler] = {}


def _only(name: str) -> logging.Filter:
    """A handler on "autodiff.compile" must not print its artifacts' records a second time."""
    class Only(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return record.name == name
    return Only()


def _handle(logger_name: str, key: str, level: int | None, prefix: str) -> None:
    logger = logging.getLogger(logger_name)
    handler = _HANDLERS.pop(key, None)
    if handler is not None:
        logger.removeHandler(handler)
    if level is None:
        logger.setLevel(logging.NOTSET)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(f"{prefix}%(message)s"))
    handler.addFilter(_only(logger_name))
    logger.addHandler(handler)
    _HANDLERS[key] = handler
    logger.setLevel(level)


def set_logs(*, dynamo: int | None = None, recompiles: bool = False,
             graph_breaks: bool = False, graph: bool = False, output_code: bool = False,
             fusion: bool = False, compiled_autograd: bool = False,
             compiled_autograd_verbose: bool = False) -> None:
    """Turn the compiler's log artifacts on or off, and set its logger's level."""
    chosen = {"recompiles": recompiles, "graph_breaks": graph_breaks, "graph": graph,
              "output_code": output_code, "fusion": fusion,
              "compiled_autograd": compiled_autograd,
              "compiled_autograd_verbose": compiled_autograd_verbose}
    for name, on in chosen.items():
        logs = _compiled_autograd.logs if name.startswith("compiled_autograd") else compiled._logs
        setattr(logs, name, bool(on))
        _handle(f"autodiff.compile.{name}", name, logging.DEBUG if on else None, f"[__{name}] ")
    _handle("autodiff.compile", "dynamo", dynamo, "[autodiff.compile] ")
