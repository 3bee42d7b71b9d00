"""autodiff.compile: tracing a function into a flat program of backend calls and replaying it
(`compiled.py` the entry, `tracing.py` the recording, `program.py` the generated replay,
`passes.py` the optimizations, `guards.py` the signature, `checks.py` the cache hit's check),
and torch.compiler's functions: `reset`, `set_stance` and `is_compiling` (`switches.py`)."""

from .switches import is_compiling, reset, set_stance

__all__ = ["is_compiling", "reset", "set_stance"]
