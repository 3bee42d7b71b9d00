"""functional_call (a module run with parameters and buffers taken from dicts) and
stack_module_state (the states of several same-shaped modules stacked for vmap)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from typing import Any

from ..nn.modules.module import Module, Registry, structure
from ..ops.joining import stack
from ..tensor import Tensor


def functional_call(module: Module, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """torch.func.functional_call: `module(*args, **kwargs)` with the named parameters and
    buffers replaced by the given tensors for the call (the module is unchanged after)."""
    if isinstance(parameter_and_buffer_dicts, dict):
        replacements = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        replacements = {}
        for mapping in parameter_and_buffer_dicts:
            for key, value in mapping.items():
                if key in replacements:
                    raise ValueError(f"{key} appeared in multiple dictionaries; behavior of "
                                     "functional call is ambiguous")
                replacements[key] = value
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple "
                         f"of dicts, but got {type(parameter_and_buffer_dicts)}")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = kwargs or {}

    walk = _walk(module)
    named, places, tied = walk.named, walk.places, walk.tied
    # Slots (each tensor with all its names) only where they matter: ties, or strict's check
    slots = _slots(named) if tied or strict else []
    if tie_weights and tied:
        replacements = _tied(slots, replacements)
    if strict:
        _check_strict(module, slots, replacements)
    swapped: list[tuple[Module, str | None, str, Any]] = []
    # A Registry is written past its own counting (one count per name): `structure.version`
    # moves once for the swap and once for putting back.
    structure.version += 1
    try:
        for key, value in replacements.items():
            place = places.get(key)
            owner, registry, name = place if place is not None else _locate(module, key)
            if owner is None:  # (a walk names the module itself so: see _walks)
                owner = module
            if registry is None:  # a plain attribute (not a registered parameter or buffer)
                swapped.append((owner, None, name, getattr(owner, name, _MISSING)))
                object.__setattr__(owner, name, value)
                continue
            members = owner.__dict__[registry]
            swapped.append((owner, registry, name, members.get(name, _MISSING)))
            if type(members) is Registry:
                _set_item(members, name, value)
            else:
                members[name] = value
        return module(*args, **kwargs)
    finally:
        structure.version += 1
        for owner, registry, name, old in reversed(swapped):
            if registry is None:
                if old is _MISSING:
                    object.__delattr__(owner, name)
                else:
                    object.__setattr__(owner, name, old)
            elif old is _MISSING:
                del owner.__dict__[registry][name]
            else:
                members = owner.__dict__[registry]
                if type(members) is Registry:
                    _set_item(members, name, old)
                else:
                    members[name] = old
        walk.remember()


_set_item = dict.__setitem__


_MISSING = object()


class _Slot:
    """A registered parameter or buffer, by every name it is reachable under."""

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.names: list[str] = []


# (the owning module, None for the module walked, its registry, the name in it)
Place = tuple[Module | None, str, str]


class _Walk:
    """A module's registered tensors by name (`_registered`), where each name is registered,
    and whether a tensor is registered under several names (tied)."""

    __slots__ = ("module", "named", "places", "tied", "version")

    def __init__(self, module: Module) -> None:
        self.named, self.places = _registered(module)
        self.tied = len({id(tensor) for _, tensor in self.named}) < len(self.named)
        self.module = weakref.ref(module, functools.partial(_forget, id(module)))
        self.version = -1

    def remember(self) -> None:
        """Keep this walk for the module's next call: it holds while `structure.version` does
        not move (every write to a module's registries or attributes moves it)."""
        self.version = structure.version
        module = self.module()
        if module is not None:
            _walks[id(module)] = self


# Each module's last walk (by identity: a module may define __eq__), once the call that made
# it put the registries back (vmap(grad) over functional_call asks on every call). Its places
# name the module itself as owner None, so the walk does not keep its module alive.
_walks: dict[int, _Walk] = {}


def _forget(key: int, ref: weakref.ref[Module]) -> None:
    last = _walks.get(key)
    if last is not None and last.module is ref:
        del _walks[key]


def _walk(module: Module) -> _Walk:
    last = _walks.get(id(module))
    if last is not None and last.version == structure.version and last.module() is module:
        return last
    return _Walk(module)


def _registered(module: Module) -> tuple[list[tuple[str, Tensor]], dict[str, Place]]:
    """Every parameter and buffer by name (in the order of named_parameters then
    named_buffers, duplicates kept) and where each name is registered, from one walk of the
    modules (the named_* methods walk them twice, through generators, on every call)."""
    if not _plain_walk(module):
        named = [*module.named_parameters(remove_duplicate=False),
                 *module.named_buffers(remove_duplicate=False)]
        return named, {}
    parameters: list[tuple[str, Tensor]] = []
    buffers: list[tuple[str, Tensor]] = []
    places: dict[str, Place] = {}
    stack: list[tuple[str, Module]] = [("", module)]
    while stack:  # pre-order, as named_modules(remove_duplicate=False)
        prefix, owner = stack.pop()
        if type(owner).named_modules is not _NAMED_MODULES:
            named = [*module.named_parameters(remove_duplicate=False),
                     *module.named_buffers(remove_duplicate=False)]
            return named, {}
        state = owner.__dict__
        for registry, found in (("_parameters", parameters), ("_buffers", buffers)):
            for name, tensor in state[registry].items():
                if tensor is not None:
                    key = prefix + name
                    found.append((key, tensor))
                    places[key] = (None if owner is module else owner, registry, name)
        children = [(f"{prefix}{name}.", child) for name, child in state["_modules"].items()
                    if child is not None]
        stack.extend(reversed(children))
    return [*parameters, *buffers], places


_NAMED_MODULES = Module.named_modules


def _plain_walk(module: Module) -> bool:
    """Whether named_parameters and named_buffers are Module's own (else they are asked)."""
    kind = type(module)
    return (kind.named_parameters is Module.named_parameters
            and kind.named_buffers is Module.named_buffers
            and kind._named_members is Module._named_members)


def _slots(named: list[tuple[str, Tensor]]) -> list[_Slot]:
    by_id: dict[int, _Slot] = {}
    for name, tensor in named:
        if tensor is None:
            continue
        slot = by_id.get(id(tensor))
        if slot is None:
            slot = by_id[id(tensor)] = _Slot(tensor)
        slot.names.append(name)
    return list(by_id.values())


def _tied(slots: list[_Slot], replacements: dict[str, Any]) -> dict[str, Any]:
    """A value given for one name of a tied tensor replaces it under all its names."""
    out = dict(replacements)
    for slot in slots:
        if len(slot.names) < 2:
            continue
        given = [name for name in slot.names if name in replacements]
        if not given:
            continue
        values = {id(replacements[name]) for name in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {given}, which "
                             "are tied. Consider using tie_weights=False")
        for name in slot.names:
            out[name] = replacements[given[0]]
    return out


def _check_strict(module: Module, slots: list[_Slot], replacements: dict[str, Any]) -> None:
    names = [name for slot in slots for name in slot.names]
    missing = [name for name in names if name not in replacements]
    unexpected = [name for name in replacements if name not in names]
    messages = []
    if unexpected:
        messages.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        messages.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if messages:
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                           + "\n\t".join(messages))


def _locate(module: Module, key: str) -> tuple[Module, str | None, str]:
    *path, name = key.split(".")
    owner = module
    for part in path:
        owner = getattr(owner, part)
    for registry in ("_parameters", "_buffers"):
        if name in owner.__dict__.get(registry, {}):
            return owner, registry, name
    return owner, None, name


def stack_module_state(models: Sequence[Module]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """torch.func.stack_module_state: each parameter and buffer of same-shaped models stacked
    along a new dim 0 (parameters as new leaves that require grad)."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {name: _stacked([dict(m.named_parameters())[name] for m in models])
              for name, _ in models[0].named_parameters()}
    buffers = {name: _stacked([dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers


def _stacked(tensors: list[Tensor]) -> Tensor:
    result = stack([t.detach() for t in tensors])
    if tensors[0].requires_grad:
        result = result.requires_grad_()
    return result
