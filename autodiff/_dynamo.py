"""autodiff._dynamo (torch._dynamo): the names user code reaches for there, which are
autodiff.compile's own: `reset`, `config` (recompile_limit, fail_on_recompile_limit_hit),
`set_stance`, `is_compiling`, OptimizedModule (what compile(module) returns)."""

from __future__ import annotations

from .compiler import config
from .compiler.compiled import OptimizedModule
from .compiler.switches import is_compiling, reset, set_stance

__all__ = ["OptimizedModule", "config", "is_compiling", "reset", "set_stance"]
