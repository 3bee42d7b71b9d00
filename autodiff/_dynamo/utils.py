"""torch._dynamo.utils: `counters`, the compiler's counts as PyTorch keeps them
(compiler/compiled.py updates them)."""

from __future__ import annotations

from ..compiler.compiled import counters

__all__ = ["counters"]
