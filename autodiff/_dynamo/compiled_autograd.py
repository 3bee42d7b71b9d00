"""autodiff._dynamo.compiled_autograd (torch._dynamo.compiled_autograd): `enable(compiler_fn)`
(PyTorch 2.13 spells it `_enable`), `disable` (`_disable`) and `reset`. The capture, the cache
and the graph's calls are `autodiff/compiler/compiled_autograd.py`."""

from __future__ import annotations

from ..compiler.compiled_autograd import disable, enable, reset

_enable = enable
_disable = disable

__all__ = ["_disable", "_enable", "disable", "enable", "reset"]
