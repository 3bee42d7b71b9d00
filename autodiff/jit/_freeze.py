"""torch.jit.freeze / optimize_for_inference: a copy of a ScriptModule in eval mode whose
parameters and buffers are constants (plain attributes: no state_dict, no gradients) and
whose only method is forward, unless others are preserved."""

from __future__ import annotations

import copy

from ._module import ScriptModule

__all__ = ["freeze", "optimize_for_inference", "run_frozen_optimizations"]


def freeze(mod: ScriptModule, preserved_attrs: list[str] | None = None,
           optimize_numerics: bool = True) -> ScriptModule:
    """A copy of `mod` with its parameters and buffers folded into constants, and without
    its methods other than forward (traced or exported), except the attributes and methods
    named in `preserved_attrs`."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use "
                           "torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    preserved = set(preserved_attrs or ())
    for name in preserved:
        if not hasattr(mod, name):
            raise RuntimeError(f"Unknown name: {name}")
    frozen = copy.deepcopy(mod)
    methods = frozen.__dict__.get("_graph_methods", {})
    for name in list(methods):
        if name != "forward" and name not in preserved:
            del methods[name]
    from ._script import exported_methods

    object.__setattr__(frozen, "_dropped_methods", frozenset(
        name for name in exported_methods(type(frozen)) if name not in preserved))
    for path, module in frozen.named_modules():
        prefix = f"{path}." if path else ""
        for registry in ("_parameters", "_buffers"):
            tensors = getattr(module, registry)
            for name in list(tensors):
                if prefix + name in preserved or (name in preserved and not path):
                    continue
                tensor = tensors.pop(name)
                object.__setattr__(module, name, None if tensor is None else tensor.detach())
    object.__setattr__(frozen, "_frozen", True)
    return frozen


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
