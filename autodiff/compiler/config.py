"""Settings of `autodiff.compile`, named as `torch._dynamo.config`'s.

recompile_limit: how many signatures one compiled function traces. A function whose calls keep
    bringing new signatures (a learning rate that changes every step, a growing sequence length)
    would otherwise trace on every call and hold every program; past the limit a new signature
    runs eagerly, with one warning, while the signatures already traced keep replaying.
fail_on_recompile_limit_hit: raise instead (as `fullgraph=True` always does).
compiled_autograd: a compiled function's calls run under `compiled_autograd.enable`, with
    `autodiff.compile` as the compiler of the backward graph: a `backward()` inside the call
    (or inside its traced signature's eager run) is captured and compiled as one graph.

Setting any other name raises AttributeError, as torch._dynamo.config does for a name it does
not know: a setting of PyTorch's that autodiff lacks is refused rather than stored and ignored.
"""

from __future__ import annotations

import sys
import types
from typing import Any

recompile_limit = 8
fail_on_recompile_limit_hit = False
compiled_autograd = False

SETTINGS = ("recompile_limit", "fail_on_recompile_limit_hit", "compiled_autograd")


class _Config(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name not in SETTINGS and not name.startswith("__"):
            raise AttributeError(f"torch._dynamo.config.{name} does not exist in autodiff "
                                 f"(its settings: {', '.join(SETTINGS)})")
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Config
