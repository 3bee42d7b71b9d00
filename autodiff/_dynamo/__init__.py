"""autodiff._dynamo (torch._dynamo): the names user code reaches for there, which are
autodiff.compile's own: `reset`, `config` (recompile_limit, fail_on_recompile_limit_hit,
compiled_autograd), `set_stance`, `is_compiling`, OptimizedModule (what compile(module)
returns), and `compiled_autograd` (a whole backward captured and compiled as one graph)."""

from __future__ import annotations

from ..compiler import config
from ..compiler.compiled import OptimizedModule
from ..compiler.switches import is_compiling, reset, set_stance
from . import compiled_autograd

__all__ = ["OptimizedModule", "compiled_autograd", "config", "is_compiling", "reset",
           "set_stance"]
