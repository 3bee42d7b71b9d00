"""torch.jit.freeze / optimize_for_inference: a copy of a ScriptModule in eval mode whose
parameters and buffers are constants (plain attributes: no state_dict, no gradients), behind a
`FrozenModule` that shows only forward and the preserved attributes, as PyTorch's does."""

from __future__ import annotations

import copy
from typing import Any

from ._module import RecursiveScriptModule, ScriptModule

__all__ = ["freeze", "optimize_for_inference"]


def freeze(mod: ScriptModule, preserved_attrs: list[str] | None = None,
           optimize_numerics: bool = True) -> ScriptModule:
    """A copy of `mod` with its parameters and buffers folded into constants, except the
    attributes named in `preserved_attrs`."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use "
                           "torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    preserved = set(preserved_attrs or ())
    folded = copy.deepcopy(mod)
    for path, module in folded.named_modules():
        prefix = f"{path}." if path else ""
        for registry in ("_parameters", "_buffers"):
            tensors = getattr(module, registry)
            for name in list(tensors):
                if prefix + name in preserved or (name in preserved and not path):
                    continue
                tensor = tensors.pop(name)
                object.__setattr__(module, name, None if tensor is None else tensor.detach())
    return FrozenModule.of(folded, preserved)


class FrozenModule(RecursiveScriptModule):
    """What `freeze` returns, as PyTorch's frozen module is: `forward` and the preserved
    attributes and methods. The submodules, parameters and buffers are folded into it (the
    module computing `forward` holds them as constants), and any other attribute is gone."""

    @classmethod
    def of(cls, folded: ScriptModule, preserved: set[str]) -> FrozenModule:
        frozen = cls()
        state = frozen.__dict__
        state["_folded"] = folded
        state["_preserved"] = frozenset(name.split(".")[0] for name in preserved)
        state["_original_name"] = folded.original_name
        state["_frozen"] = True
        frozen.training = False
        for name in preserved:  # a preserved parameter or buffer stays one (in state_dict)
            if name in folded._parameters:
                frozen._parameters[name] = folded._parameters[name]
            elif name in folded._buffers:
                frozen._buffers[name] = folded._buffers[name]
        return frozen

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.__dict__["_folded"](*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__
        if name in state.get("_preserved", ()) and name not in self._parameters \
                and name not in self._buffers:
            return getattr(state["_folded"], name)
        if name in self._parameters or name in self._buffers:
            return super().__getattr__(name)
        raise AttributeError(f"'RecursiveScriptModule' object has no attribute '{name}'")

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    @property
    def graph(self) -> Any:
        return self.__dict__["_folded"].graph

    @property
    def code(self) -> str:
        return str(self.__dict__["_folded"].code)


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
