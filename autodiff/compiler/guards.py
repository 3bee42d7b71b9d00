"""What a compiled function reaches, and the signature a program is cached under.

The state is found from the function's arguments, its closure, the globals its code names, the
module it is (or the `self` of a bound method): modules (their parameters and buffers),
optimizers (their parameters and state tensors) and Tensors, also inside lists, tuples and
dicts. The signature is everything a trace baked in: each argument Tensor's device, shape,
dtype and requires_grad, Python arguments by value, grad mode, and for the state each tensor's
identity, shape, dtype and whether it has a `.grad` (of what shape), the modules' training
flags and classes, the optimizers' hyperparameters and the keys of their state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..amp.grad_scaler import GradScaler
from ..grad_mode import state as grad_state
from ..layout_dispatch import LayoutData
from ..nn.modules.module import Module
from ..optim.optimizer import Optimizer, _global_step_post_hooks, _global_step_pre_hooks
from ..tensor import Tensor
from .checks import PLAIN, Structure, module_constants, scaler_key


class Reach:
    """The state one call of a compiled function reaches."""

    __slots__ = ("hooks", "modules", "optimizers", "scalers", "tensors")

    def __init__(self) -> None:
        self.modules: list[Module] = []
        self.optimizers: list[Optimizer] = []
        self.scalers: list[GradScaler] = []
        self.tensors: list[Tensor] = []
        self.hooks: str | None = None  # why a hook makes this state untraceable


class Binding:
    """A closure cell or a global name the function reads, with the object it held."""

    __slots__ = ("name", "source", "value")

    def __init__(self, source: Any, name: str | None, value: Any) -> None:
        self.source, self.name, self.value = source, name, value


def roots_of(function: Callable[..., Any]) -> tuple[list[Any], list[Binding]]:
    """The objects a function reaches besides its arguments, and the closure cells and globals
    they were read from (read again at each call that computes a signature: a variable may be
    bound to another object)."""
    roots: list[Any] = []
    bindings: list[Binding] = []
    target = function
    self_object = getattr(target, "__self__", None)
    if self_object is not None:
        roots.append(self_object)
        target = getattr(target, "__func__", target)
    if isinstance(function, Module):
        roots.append(function)
        target = type(function).forward
    code = getattr(target, "__code__", None)
    closure = getattr(target, "__closure__", None) or ()
    for cell in closure:
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        roots.append(value)
        bindings.append(Binding(cell, None, value))
    if code is not None:
        names = getattr(target, "__globals__", {})
        for name in code.co_names:
            if name in names:
                value = names[name]
                roots.append(value)
                bindings.append(Binding(names, name, value))
    return roots, bindings


def plain_key(roots: list[Any]) -> tuple[Any, ...]:
    """The numbers and strings the function reads from its closure and globals: a program
    holds them as constants."""
    return tuple((type(root), root) for root in roots if type(root) in PLAIN)


def reach(roots: list[Any], arguments: list[Tensor],
          structure: Structure | None = None) -> Reach:
    """The state reached from `roots`; the argument Tensors are inputs, not state. With
    `structure`, the modules, optimizers, lists and dicts walked are recorded in it."""
    found = Reach()
    seen: set[int] = {id(tensor) for tensor in arguments}
    stack = list(reversed(roots))
    while stack:
        obj = stack.pop()
        if type(obj) in PLAIN or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Tensor):
            found.tensors.append(obj)
        elif isinstance(obj, Module):
            found.modules.append(obj)
            for module in obj.modules():
                if module._forward_hooks or module._forward_pre_hooks:
                    found.hooks = "a module forward hook"
                if structure is not None:
                    structure.modules.append(module)
            stack.extend(reversed(list(obj.parameters())))
            stack.extend(reversed([buffer for _, buffer in obj.named_buffers()]))
        elif isinstance(obj, Optimizer):
            found.optimizers.append(obj)
            if structure is not None:
                structure.optimizers.append(obj)
            if (obj._optimizer_step_pre_hooks or obj._optimizer_step_post_hooks
                    or _global_step_pre_hooks or _global_step_post_hooks):
                found.hooks = "an optimizer step hook"
            for group in obj.param_groups:
                stack.extend(reversed(group["params"]))
                # Tensor hyperparameters (lr=tensor(0.01)) are read by value: state, so a
                # replay reads the current value (a guard) instead of the traced one.
                stack.extend(value for name, value in group.items()
                             if name != "params" and isinstance(value, (Tensor, tuple, list)))
            for param_state in obj.state.values():
                stack.extend(value for value in param_state.values() if isinstance(value, Tensor))
        elif isinstance(obj, GradScaler):
            # Its scale and growth tracker are read and written by each step: state tensors
            # (a program reads them at replay; a constant would keep the traced scale).
            found.scalers.append(obj)
            if structure is not None:
                structure.scalers.append(obj)
            stack.extend(tensor for tensor in (obj._scale, obj._growth_tracker)
                         if tensor is not None)
        elif type(obj) in (list, tuple):
            if structure is not None and type(obj) is list:
                structure.lists.append(obj)
            stack.extend(reversed(obj))
        elif type(obj) is dict:
            if structure is not None:
                structure.dicts.append(obj)
            stack.extend(reversed(list(obj.values())))
    for tensor in found.tensors:
        if tensor._hooks or tensor._post_accumulate_hooks:
            found.hooks = "a tensor hook"
    return found


class LayoutArgument(Exception):
    """An argument is a sparse or nested tensor: its ops go to layout rules, which a program
    of array operations does not replay, so the call runs eagerly."""


def arguments_key(args: tuple[Any, ...], kwargs: dict[str, Any],
                  tensors: list[Tensor]) -> tuple[Any, ...]:
    """The arguments' part of the signature; their Tensors are appended to `tensors`."""
    key: list[Any] = []
    _argument(args, key, tensors)
    if kwargs:
        key.append(tuple(sorted(kwargs)))
        _argument(tuple(kwargs[name] for name in sorted(kwargs)), key, tensors)
    return tuple(key)


def _argument(obj: Any, key: list[Any], tensors: list[Tensor]) -> None:
    kind = type(obj)
    if kind in PLAIN:
        key.append((kind, obj))
    elif isinstance(obj, Tensor):
        data = obj._data
        if isinstance(data, LayoutData):
            raise LayoutArgument
        grad = obj._grad  # (a leaf's .grad is an input of the program when it has one)
        key.append((Tensor, id(obj._backend), data.shape, data.dtype, obj._requires_grad,
                    obj.grad_fn is None,
                    None if grad is None else (grad._data.shape, grad._data.dtype)))
        tensors.append(obj)
    elif kind in (list, tuple):
        key.append((kind, len(obj)))
        for item in obj:
            _argument(item, key, tensors)
    elif kind is dict:
        key.append((dict, tuple(obj)))
        for item in obj.values():
            _argument(item, key, tensors)
    else:  # modules, optimizers, anything else: by identity
        key.append((kind, id(obj)))


def containers_in(obj: Any) -> set[int]:
    """The ids of the lists, tuples and dicts in `obj` (an argument), itself included."""
    found: set[int] = set()
    stack = [obj]
    while stack:
        item = stack.pop()
        if type(item) in (list, tuple):
            found.add(id(item))
            stack.extend(item)
        elif type(item) is dict:
            found.add(id(item))
            stack.extend(item.values())
    return found


def state_key(found: Reach) -> tuple[Any, ...]:
    key: list[Any] = [grad_state.enabled, found.hooks]
    for tensor in found.tensors:
        data = tensor._data
        grad = tensor._grad
        key.append((id(tensor), data.shape, data.dtype, tensor._requires_grad,
                    None if grad is None else (grad._data.shape, grad._data.dtype)))
    for module in found.modules:
        # (the classes too: a submodule replaced by one of another class with the same plain
        # attributes, Tanh by Sigmoid, runs another forward)
        key.append(tuple((type(sub), sub.training, module_constants(sub))
                         for sub in module.modules()))
    for optimizer in found.optimizers:
        groups = tuple(tuple((name, _hashable(value)) for name, value in group.items()
                             if name != "params") for group in optimizer.param_groups)
        keys = tuple(tuple(sorted(optimizer.state[param])) if param in optimizer.state else ()
                     for group in optimizer.param_groups for param in group["params"])
        key.append((id(optimizer), groups, keys))
    for scaler in found.scalers:
        key.append((id(scaler), scaler_key(scaler)))
    return tuple(key)



def _hashable(value: Any) -> Any:
    if type(value) in PLAIN:
        return value
    if isinstance(value, Tensor):
        return (Tensor, id(value))
    if type(value) in (list, tuple):
        return tuple(_hashable(item) for item in value)
    return (type(value), id(value))
