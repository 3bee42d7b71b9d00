"""torch.jit.freeze / optimize_for_inference: a ScriptModule in eval mode whose submodules,
parameters, buffers, plain attributes and methods other than forward are inlined into it, as
PyTorch's are: reading them raises PyTorch's AttributeError, except those named in
`preserved_attrs`.

The frozen module holds a copy of the module it froze (its parameters and buffers turned into
plain tensors: no state_dict, no gradients) out of sight, and runs it; what is preserved is
read from that copy (preserved parameters and buffers are also the frozen module's own, so
they are in its state_dict)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ._module import _MISSING, ScriptModule

if TYPE_CHECKING:
    from autodiff.fx import Graph

__all__ = ["freeze", "optimize_for_inference", "run_frozen_optimizations"]


def _forward(self: FrozenModule, *args: Any, **kwargs: Any) -> Any:
    return self.__dict__["_frozen_inner"].forward(*args, **kwargs)


class _FrozenForward:
    """forward: on a frozen module, the inner module's (with its .graph and .code); on the
    class, a function that runs it."""

    def __get__(self, owner: FrozenModule | None, cls: Any = None) -> Any:
        if owner is None:
            return _forward
        return owner.__dict__["_frozen_inner"].forward


class FrozenModule(ScriptModule):
    """What `freeze` returns: a RecursiveScriptModule (as PyTorch names it) that shows only
    forward and the preserved attributes of the module inside it."""

    forward = _FrozenForward()

    def __init__(self, inner: ScriptModule, preserved: frozenset[str],
                 loaded: bool = False) -> None:
        super().__init__()
        self.training = False
        object.__setattr__(self, "_frozen_inner", inner)
        object.__setattr__(self, "_frozen_preserved", preserved)
        object.__setattr__(self, "_original_name", inner.original_name)
        object.__setattr__(self, "_frozen", True)
        for name in preserved:  # (PyTorch keeps them in the frozen module's state_dict)
            if name in inner._parameters:
                self._parameters[name] = inner._parameters[name]
            elif name in inner._buffers:
                self._buffers[name] = inner._buffers[name]
            elif loaded and name in inner._modules:  # (PyTorch's load lists those too)
                self._modules[name] = inner._modules[name]

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__
        if name in state.get("_frozen_preserved", ()):
            return getattr(state["_frozen_inner"], name)
        raise AttributeError(_MISSING.format(name))

    @property
    def graph(self) -> Graph:
        return self.__dict__["_frozen_inner"].graph

    @property
    def inlined_graph(self) -> Graph:
        return self.graph

    @property
    def code(self) -> str:
        code: str = self.__dict__["_frozen_inner"].code
        return code


def _resolve(mod: ScriptModule, name: str) -> bool:
    """Whether `name` (dotted for a submodule's attribute) names something of `mod`."""
    target: Any = mod
    for part in name.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


def freeze(mod: ScriptModule, preserved_attrs: list[str] | None = None,
           optimize_numerics: bool = True) -> ScriptModule:
    """A frozen copy of `mod`: forward and the attributes and methods named in
    `preserved_attrs` stay reachable; the rest is inlined (see this module's docstring)."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use "
                           "torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    source = mod.__dict__.get("_frozen_inner", mod)
    preserved = set(preserved_attrs or ())
    for name in preserved:
        if not _resolve(mod, name):
            raise RuntimeError(f"Unknown name: {name}")
    inner = copy.deepcopy(source)
    methods = inner.__dict__.get("_graph_methods", {})
    for name in list(methods):
        if name != "forward" and name not in preserved:
            del methods[name]
    from ._script import exported_methods

    object.__setattr__(inner, "_dropped_methods", frozenset(
        name for name in exported_methods(type(inner)) if name not in preserved))
    for path, module in inner.named_modules():
        if any(path == kept or path.startswith(f"{kept}.") for kept in preserved):
            continue  # (a preserved submodule keeps its parameters and buffers)
        prefix = f"{path}." if path else ""
        for registry in ("_parameters", "_buffers"):
            tensors = getattr(module, registry)
            for name in list(tensors):
                if prefix + name in preserved:
                    continue
                tensor = tensors.pop(name)
                object.__setattr__(module, name, None if tensor is None else tensor.detach())
    return FrozenModule(inner, frozenset(name.split(".")[0] for name in preserved))


def optimize_for_inference(mod: ScriptModule, other_methods: list[str] | None = None
                           ) -> ScriptModule:
    """`freeze(mod.eval())` where `mod` is not frozen yet; nothing else is rewritten here."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("optimize_for_inference expects a ScriptModule as input. Please "
                           "use torch.jit.script or torch.jit.trace to script your "
                           "'nn.Module'.")
    if not getattr(mod, "_frozen", False):
        mod = freeze(mod.eval(), preserved_attrs=other_methods)
    return mod


def run_frozen_optimizations(mod: ScriptModule, optimize_numerics: bool = True,
                             preserved_methods: list[str] | None = None) -> None:
    """PyTorch rewrites a frozen module's graphs in place (dropout removal, conv-batchnorm
    folding, ...); the module runs the same without them, so nothing is done here."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("run_frozen_optimizations expects a ScriptModule as input")
