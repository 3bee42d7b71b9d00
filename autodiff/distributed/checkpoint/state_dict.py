"""The state dicts of a model and its optimizers keyed by fully qualified names (FQNs), as
PyTorch's `torch.distributed.checkpoint.state_dict` makes them: the optimizer's state and
param_groups name each parameter by its FQN, not by its index, so they survive a change in the
order or the wrapping of the parameters. Wrappers add no prefix: DistributedDataParallel's
`module.` and a compiled module's `_orig_mod.` are left out of the FQNs (DataParallel's stays,
as in PyTorch).

A fresh optimizer has no state to load into: getting or setting its state dict first runs one
step with zero gradients and a learning rate of 0 (PyTorch's _init_optim_state)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ... import grad_mode
from ...creation import zeros_like
from ...nn.modules.module import Module, _IncompatibleKeys
from ...optim.optimizer import Optimizer
from ...tensor import Tensor

_STATE, _PARAM_GROUPS, _PARAMS = "state", "param_groups", "params"


@dataclass
class StateDictOptions:
    """How the state dicts are made and loaded.

    full_state_dict: gather every tensor (one process holds them all already).
    cpu_offload: the returned tensors are on the CPU.
    ignore_frozen_params: leave out the parameters that do not require grad.
    keep_submodule_prefixes: kept for PyTorch's signature (it applies to `submodules`, which
        autodiff does not take).
    strict: set_model_state_dict's `model.load_state_dict(strict=...)`.
    broadcast_from_rank0: needs a process group of several ranks (refused).
    flatten_optimizer_state_dict: the optimizer state dict as one level of keys,
        "state.<fqn>.<name>" and "param_groups.<fqn>.<name>".
    """

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


def _options(options: StateDictOptions | None) -> StateDictOptions:
    options = options or StateDictOptions()
    if options.broadcast_from_rank0:
        raise NotImplementedError("broadcast_from_rank0 needs a process group of several ranks; "
                                  "autodiff.distributed.checkpoint works in one process")
    return options


def _skipped_wrapper(module: Any, name: str) -> bool:
    """Whether `name` under `module` is a wrapper's attribute that FQNs leave out."""
    from ...compiler.compiled import OptimizedModule  # compile imports the nn stack
    from ...nn.parallel import DistributedDataParallel

    return (isinstance(module, DistributedDataParallel) and name == "module") or \
        (isinstance(module, OptimizedModule) and name == "_orig_mod")


def _fqn(model: Module, name: str) -> str:
    """The FQN of a state-dict key: the key without the wrappers' attributes."""
    parts = name.split(".")
    kept = []
    current: Any = model
    for part in parts[:-1]:
        if not _skipped_wrapper(current, part):
            kept.append(part)
        current = getattr(current, part)
    kept.append(parts[-1])
    return ".".join(kept)


def _optimizers(optimizers: Optimizer | Iterable[Optimizer]) -> list[Optimizer]:
    return [optimizers] if isinstance(optimizers, Optimizer) else list(optimizers)


def _offload(value: Any, options: StateDictOptions) -> Any:
    if options.cpu_offload and isinstance(value, Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {key: _offload(entry, options) for key, entry in value.items()}
    return value


# ----------------------------------------------------------------------------- model
def get_model_state_dict(model: Module, *,
                         options: StateDictOptions | None = None) -> dict[str, Any]:
    """model.state_dict() keyed by FQN."""
    options = _options(options)
    frozen = {name for name, param in model.named_parameters() if not param.requires_grad}
    return {_fqn(model, name): _offload(value, options)
            for name, value in model.state_dict().items()
            if not (options.ignore_frozen_params and name in frozen)}


def set_model_state_dict(model: Module, model_state_dict: dict[str, Any], *,
                         options: StateDictOptions | None = None) -> _IncompatibleKeys:
    """model.load_state_dict of a state dict keyed by FQN (strict as options.strict)."""
    options = _options(options)
    names = {_fqn(model, name): name for name in model.state_dict()}
    renamed = {names.get(fqn, fqn): value for fqn, value in model_state_dict.items()}
    return model.load_state_dict(renamed, strict=options.strict)


# ----------------------------------------------------------------------------- optimizer
def _param_fqns(model: Module) -> dict[int, str]:
    """id(parameter) -> its FQN (the first name of a shared parameter)."""
    fqns: dict[int, str] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        fqns.setdefault(id(param), _fqn(model, name))
    return fqns


def _init_optim_state(optimizer: Optimizer) -> None:
    """One step of zero gradients at lr 0, so the optimizer has state to save and load into;
    nothing when it has state, or when some parameter has a gradient (a stateless optimizer)."""
    if optimizer.state:
        return
    params = [param for group in optimizer.param_groups for param in group[_PARAMS]]
    if any(param.grad is not None for param in params):
        return
    for param in params:
        if param.requires_grad:
            param.grad = zeros_like(param)
    lrs = []
    for group in optimizer.param_groups:
        if "lr" in group:
            lrs.append(group["lr"])
            group["lr"] = zeros_like(group["lr"]) if isinstance(group["lr"], Tensor) else 0.0
    with grad_mode.no_grad():
        optimizer.step()
    for group in optimizer.param_groups:
        if "lr" in group:
            group["lr"] = lrs.pop(0)
    optimizer.zero_grad(set_to_none=True)


def _optimizer_state_dict(model: Module, optimizer: Optimizer) -> dict[str, Any]:
    _init_optim_state(optimizer)
    fqns = _param_fqns(model)
    by_index = [fqns[id(param)] for group in optimizer.param_groups for param in group[_PARAMS]]
    state_dict = optimizer.state_dict()
    state = {by_index[index]: value for index, value in state_dict[_STATE].items()}
    groups = [{**group, _PARAMS: [by_index[index] for index in group[_PARAMS]]}
              for group in state_dict[_PARAM_GROUPS]]
    return {_STATE: state, _PARAM_GROUPS: groups}


def _flatten_optimizer(state_dict: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for fqn, state in state_dict[_STATE].items():
        for name, value in state.items():
            flat[f"{_STATE}.{fqn}.{name}"] = value
    for group in state_dict[_PARAM_GROUPS]:
        for fqn in group[_PARAMS]:
            for name, value in group.items():
                if name != _PARAMS:
                    flat[f"{_PARAM_GROUPS}.{fqn}.{name}"] = value
    return flat


def get_optimizer_state_dict(model: Module, optimizers: Optimizer | Iterable[Optimizer], *,
                             options: StateDictOptions | None = None) -> dict[str, Any]:
    """The optimizers' state dict (merged), each parameter named by its FQN."""
    options = _options(options)
    merged: dict[str, Any] = {_STATE: {}, _PARAM_GROUPS: []}
    for optimizer in _optimizers(optimizers):
        state_dict = _optimizer_state_dict(model, optimizer)
        merged[_STATE].update(state_dict[_STATE])
        merged[_PARAM_GROUPS].extend(state_dict[_PARAM_GROUPS])
    merged[_STATE] = _offload(merged[_STATE], options)
    return _flatten_optimizer(merged) if options.flatten_optimizer_state_dict else merged


def _unflatten_optimizer(model: Module, optimizers: list[Optimizer],
                         flat: dict[str, Any]) -> dict[str, Any]:
    """The nested optimizer state dict of a flattened one: the FQNs come from the optimizers'
    own parameters (an FQN may hold dots, so the keys are not split blindly)."""
    fqns = _param_fqns(model)
    state: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            names = [fqns[id(param)] for param in group[_PARAMS]]
            for fqn in names:
                prefix = f"{_STATE}.{fqn}."
                entry = {key[len(prefix):]: value for key, value in flat.items()
                         if key.startswith(prefix)}
                if entry:
                    state[fqn] = entry
            group_prefix = f"{_PARAM_GROUPS}.{names[0]}." if names else ""
            settings = {key[len(group_prefix):]: value for key, value in flat.items()
                        if group_prefix and key.startswith(group_prefix)}
            groups.append({**settings, _PARAMS: names})
    return {_STATE: state, _PARAM_GROUPS: groups}


def set_optimizer_state_dict(model: Module, optimizers: Optimizer | Iterable[Optimizer],
                             optim_state_dict: dict[str, Any], *,
                             options: StateDictOptions | None = None) -> None:
    """Load an optimizer state dict keyed by FQN (nested, or flattened) into `optimizers`."""
    _options(options)
    optimizer_list = _optimizers(optimizers)
    if _STATE not in optim_state_dict and _PARAM_GROUPS not in optim_state_dict:
        optim_state_dict = _unflatten_optimizer(model, optimizer_list, optim_state_dict)
    fqns = _param_fqns(model)
    group_of = {fqn: group for group in optim_state_dict[_PARAM_GROUPS]
                for fqn in group[_PARAMS]}
    for optimizer in optimizer_list:
        _init_optim_state(optimizer)
        index = 0
        state: dict[int, Any] = {}
        groups = []
        for group in optimizer.param_groups:
            names = [fqns[id(param)] for param in group[_PARAMS]]
            indices = list(range(index, index + len(names)))
            index += len(names)
            for position, fqn in zip(indices, names):
                if fqn in optim_state_dict[_STATE]:
                    state[position] = optim_state_dict[_STATE][fqn]
            saved = group_of.get(names[0]) if names else None
            if saved is None:
                raise RuntimeError(f"Missing key: {names[0] if names else '<empty group>'}.")
            groups.append({**{key: value for key, value in saved.items() if key != _PARAMS},
                           _PARAMS: indices})
        optimizer.load_state_dict({_STATE: state, _PARAM_GROUPS: groups})


# ----------------------------------------------------------------------------- both
def get_state_dict(model: Module, optimizers: Optimizer | Iterable[Optimizer], *,
                   options: StateDictOptions | None = None
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(get_model_state_dict, get_optimizer_state_dict)."""
    return (get_model_state_dict(model, options=options),
            get_optimizer_state_dict(model, optimizers, options=options))


def set_state_dict(model: Module, optimizers: Optimizer | Iterable[Optimizer], *,
                   model_state_dict: dict[str, Any], optim_state_dict: dict[str, Any],
                   options: StateDictOptions | None = None) -> _IncompatibleKeys:
    """set_model_state_dict, then set_optimizer_state_dict; returns the model's
    incompatible keys."""
    incompatible = set_model_state_dict(model, model_state_dict, options=options)
    if optim_state_dict:
        set_optimizer_state_dict(model, optimizers, optim_state_dict, options=options)
    return incompatible


__all__ = ["StateDictOptions", "get_model_state_dict", "get_optimizer_state_dict",
           "get_state_dict", "set_model_state_dict", "set_optimizer_state_dict",
           "set_state_dict"]
