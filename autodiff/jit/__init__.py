"""autodiff.jit (torch.jit): `trace` records the ops a function or module runs as an
autodiff.fx Graph and replays them; `script` keeps the Python (autodiff cannot compile
TorchScript; see docs/jit.md); `save`/`load` write and read a zip archive that rebuilds a
traced module without its class.

    traced = autodiff.jit.trace(model, (x,))
    print(traced.code)
    traced.save("model.pt")
    loaded = autodiff.jit.load("model.pt")
"""

from typing import Any

from ._async import Future, fork, wait
from ._freeze import freeze, optimize_for_inference, run_frozen_optimizations
from ._fuser import (
    enable_onednn_fusion,
    fuser,
    onednn_fusion_enabled,
    optimized_execution,
    set_fusion_strategy,
    strict_fusion,
)
from ._module import RecursiveScriptModule, ScriptFunction, ScriptModule
from ._script import (
    Attribute,
    Error,
    Final,
    ScriptWarning,
    annotate,
    export,
    ignore,
    interface,
    is_scripting,
    isinstance,
    script,
    script_if_tracing,
    script_method,
    unused,
)
from ._serialization import load, save
from ._trace import (
    TopLevelTracedModule,
    TracedModule,
    TracerWarning,
    TracingCheckError,
    is_tracing,
    trace,
    trace_module,
)


def _overload(func: Any) -> Any:
    return func


def _overload_method(func: Any) -> Any:
    return func


__all__ = ["Attribute", "Error", "Final", "Future", "RecursiveScriptModule", "ScriptFunction",
           "ScriptModule", "ScriptWarning", "TopLevelTracedModule", "TracedModule",
           "TracerWarning", "TracingCheckError", "annotate", "enable_onednn_fusion", "export",
           "fork", "freeze", "fuser", "ignore", "interface", "is_scripting", "is_tracing",
           "isinstance", "load", "onednn_fusion_enabled", "optimize_for_inference",
           "optimized_execution", "run_frozen_optimizations", "save", "script",
           "script_if_tracing", "script_method", "set_fusion_strategy", "strict_fusion",
           "trace", "trace_module", "unused", "wait"]
