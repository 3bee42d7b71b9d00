"""autodiff._dynamo (torch._dynamo): the names user code reaches for there, which are
autodiff.compile's own: `reset`, `config` (recompile_limit, fail_on_recompile_limit_hit,
compiled_autograd), `set_stance`, `is_compiling`, OptimizedModule (what compile(module)
returns), `compiled_autograd` (a whole backward captured and compiled as one graph),
`graph_break`, `utils.counters` and `explain`."""

from __future__ import annotations

from ..compiler import config, tracing
from ..compiler.compiled import OptimizedModule
from ..compiler.switches import is_compiling, reset, set_stance
from . import compiled_autograd, utils
from .explain import explain

__all__ = ["OptimizedModule", "compiled_autograd", "config", "explain", "graph_break",
           "is_compiling", "reset", "set_stance", "utils"]


def graph_break(msg: str = "") -> None:
    """A graph break where it is called inside `autodiff.compile` (PyTorch's user-inserted
    break; under fullgraph=True an error); outside compile, nothing. autodiff's compile does
    not resume a graph after a break: the signature whose trace broke runs eagerly, each
    call (docs/compile.md)."""
    tracing.graph_break("Call to `torch._dynamo.graph_break()`" + (f": {msg}" if msg else ""))
