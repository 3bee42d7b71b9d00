"""The cache hit: a signature's guards as one generated function.

Computing a call's signature (`guards.py`) walks the modules, optimizers and containers the
function reaches and builds a key of tuples: tens of microseconds a call. A program's `Check`
does the same job flat: while the signature is computed for a trace, the walk records every
container it went through with what it held (`Structure`); the check then compares, in
straight-line generated code, the arguments' layout, types, shapes, dtypes and flags, each
container's length and the identity of each item, each state tensor's shape, dtype, flags and
`.grad`, the modules' training flags, the optimizers' hyperparameters, the absence of hooks,
grad mode and the autocast state. It passes only where the full signature would be the same
and the walk would find the same tensors, and returns the argument Tensors and the program's
input arrays; otherwise the caller computes the signature in full.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .. import autocast_state
from ..grad_mode import state as grad_state
from ..nn.modules.module import Module, Registry
from ..nn.modules.module import structure as module_structure
from ..optim.optimizer import Optimizer, _global_step_post_hooks, _global_step_pre_hooks
from ..tensor import Tensor

PLAIN = (int, float, bool, str, bytes, type(None), complex)


class Structure:
    """What a walk of the state went through: modules, optimizers, lists and dicts, each with
    the items it held then."""

    __slots__ = ("bindings", "dicts", "lists", "modules", "optimizers", "scalers")

    def __init__(self) -> None:
        self.bindings: list[Any] = []  # guards.Binding: the closure cells and globals read
        self.modules: list[Module] = []
        self.optimizers: list[Optimizer] = []
        self.scalers: list[Any] = []  # amp.GradScaler
        self.lists: list[list[Any]] = []
        self.dicts: list[dict[Any, Any]] = []


class InputSource:
    """Where a program input is read: the array of the `index`-th Tensor of the arguments then
    the state, or of its `.grad`."""

    __slots__ = ("grad", "index")

    def __init__(self, index: int, grad: bool) -> None:
        self.index, self.grad = index, grad


Check = Callable[[tuple[Any, ...], dict[str, Any]], "tuple[list[Tensor], list[Any]] | None"]


def build(args: tuple[Any, ...], kwargs: dict[str, Any], state: list[Tensor],
          structure: Structure, inputs: list[InputSource]) -> Check:
    """The check of the signature `args`, `kwargs` and the state (as now) have."""
    writer = _Writer()
    lines = writer.lines
    lines.append("def check(args, kwargs):")
    arguments: list[str] = []
    writer.sequence("args", args, tuple, arguments)
    if kwargs:
        lines.append(f"    if len(kwargs) != {len(kwargs)}: return None")
        for name in sorted(kwargs):
            lines.append(f"    if {name!r} not in kwargs: return None")
            local = writer.local()
            lines.append(f"    {local} = kwargs[{name!r}]")
            writer.argument(local, kwargs[name], arguments)
    else:
        lines.append("    if kwargs: return None")
    lines.append(f"    if grad_state.enabled is not {grad_state.enabled}: return None")
    lines.append(f"    if autocast_signature() != {writer.constant(autocast_state.signature())}: "
                 "return None")
    for binding in structure.bindings:
        writer.binding(binding)
    state_names = [writer.constant(tensor) for tensor in state]
    for name, tensor in zip(state_names, state):
        writer.tensor(name, tensor)
    if structure.modules:
        writer.modules(structure.modules)
    if structure.optimizers:
        lines.append("    if global_pre_hooks or global_post_hooks: return None")
    for optimizer in structure.optimizers:
        writer.optimizer(optimizer)
    for scaler in structure.scalers:
        writer.scaler(scaler)
    for items in structure.lists:
        writer.same_list(writer.constant(items), items)
    for mapping in structure.dicts:
        writer.same_dict(writer.constant(mapping), mapping)
    everything = [*arguments, *state_names]
    sources = [writer.grads.get(everything[source.index], f"{everything[source.index]}._grad._data")
               if source.grad else writer.datas[everything[source.index]] for source in inputs]
    lines.append(f"    return [{', '.join(arguments)}], [{', '.join(sources)}]")
    namespace = writer.namespace
    namespace.update(grad_state=grad_state, autocast_signature=autocast_state.signature,
                     global_pre_hooks=_global_step_pre_hooks,
                     global_post_hooks=_global_step_post_hooks)
    source = "\n".join(lines)
    exec(compile(source, "<autodiff.compile check>", "exec"), namespace)
    check: Check = namespace["check"]
    check.source = source  # type: ignore[attr-defined]
    return check


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {}
        self.names: dict[int, str] = {}
        self.locals = 0
        # The local holding each checked Tensor's array (and its .grad's): the check reads
        # each once and returns them as the program's inputs.
        self.datas: dict[str, str] = {}
        self.grads: dict[str, str] = {}

    def constant(self, obj: Any) -> str:
        if obj is None or type(obj) in (bool, int, str):
            return repr(obj)
        name = self.names.get(id(obj))
        if name is None:
            name = f"k{len(self.names)}"
            self.names[id(obj)] = name
            self.namespace[name] = obj
        return name

    def bound(self, obj: Any) -> str:
        """A name for `obj` itself (never a literal: compared by identity)."""
        name = self.names.get(id(obj))
        if name is None:
            name = f"k{len(self.names)}"
            self.names[id(obj)] = name
            self.namespace[name] = obj
        return name

    def local(self) -> str:
        self.locals += 1
        return f"a{self.locals}"

    def fail_unless(self, condition: str) -> None:
        self.lines.append(f"    if not ({condition}): return None")

    # ------------------------------------------------------------------------- arguments
    def sequence(self, name: str, items: Any, kind: type, arguments: list[str]) -> None:
        self.fail_unless(f"type({name}) is {self.constant(kind)} and len({name}) == {len(items)}")
        for position, item in enumerate(items):
            local = self.local()
            self.lines.append(f"    {local} = {name}[{position}]")
            self.argument(local, item, arguments)

    def argument(self, name: str, obj: Any, arguments: list[str]) -> None:
        kind = type(obj)
        if kind in PLAIN:
            # (the signature compares (type, value): 1 and True differ, as 1.0 and 1 do)
            self.fail_unless(f"type({name}) is {self.constant(kind)} and "
                             f"{name} == {self.constant(obj)}")
        elif isinstance(obj, Tensor):
            data = obj._data
            local = self.datas[name] = self.local()
            self.fail_unless(f"{name}.__class__ is {self.constant(kind)}")
            self.fail_unless(
                f"{name}._backend is {self.constant(obj._backend)} and "
                f"({local} := {name}._data).shape == {self.constant(tuple(data.shape))} and "
                f"{self.same_dtype(local, data.dtype)} and "
                f"{name}._requires_grad is {obj._requires_grad} and "
                f"{name}.grad_fn is {'None' if obj.grad_fn is None else 'not None'}")
            # (a leaf argument's .grad is an input of the program when it has one)
            self.fail_unless(self.grad_test(name, obj._grad))
            arguments.append(name)
        elif kind in (list, tuple):
            self.sequence(name, obj, kind, arguments)
        elif kind is dict:
            self.fail_unless(f"type({name}) is dict and tuple({name}) == "
                             f"{self.constant(tuple(obj))}")
            for key, item in obj.items():
                local = self.local()
                self.lines.append(f"    {local} = {name}[{self.constant(key)}]")
                self.argument(local, item, arguments)
        else:  # modules, optimizers, anything else: by identity
            self.fail_unless(f"{name} is {self.constant(obj)}")

    # ------------------------------------------------------------------------- state
    def binding(self, binding: Any) -> None:
        value = self.bound(binding.value)
        if binding.name is None:  # a closure cell (not emptied since: it held a value)
            self.fail_unless(f"{self.constant(binding.source)}.cell_contents is {value}")
        else:
            self.namespace["_MISSING"] = _MISSING
            self.fail_unless(f"{self.constant(binding.source)}.get({binding.name!r}, _MISSING) "
                             f"is {value}")

    def same_dtype(self, local: str, dtype: Any) -> str:
        # (by identity first: a backend hands out one object per dtype, and `==` on NumPy's
        # dtypes costs a conversion)
        name = self.constant(dtype)
        return f"({local}.dtype is {name} or {local}.dtype == {name})"

    def grad_test(self, name: str, grad: Tensor | None) -> str:
        """The test that the Tensor `name` has a `.grad` as `grad` is (none, or its shape and
        dtype); its array goes into a local, an input of the program."""
        if grad is None:
            return f"{name}._grad is None"
        grad_local = self.grads[name] = self.local()
        return (f"({grad_local} := {name}._grad) is not None and "
                f"({grad_local} := {grad_local}._data).shape == "
                f"{self.constant(tuple(grad._data.shape))} and "
                f"{self.same_dtype(grad_local, grad._data.dtype)}")

    def tensor(self, name: str, tensor: Tensor) -> None:
        data, grad = tensor._data, tensor._grad
        local = self.datas[name] = self.local()
        grad_test = self.grad_test(name, grad)
        self.fail_unless(
            f"({local} := {name}._data).shape == {self.constant(tuple(data.shape))} and "
            f"{self.same_dtype(local, data.dtype)} and "
            f"{name}._requires_grad is {tensor._requires_grad} and "
            f"not {name}._hooks and not {name}._post_accumulate_hooks and {grad_test}")

    def modules(self, modules: list[Module]) -> None:
        """The modules compared in full only when a module was written since the comparison
        last passed (`structure.version` moved): each attribute write, registry write and
        forward hook registration counts there. Modules whose registries are not counting
        ones (replaced by hand) are compared at every call."""
        counted = all(type(getattr(module, attribute, None)) is Registry for module in modules
                      for attribute in ("_modules", "_parameters", "_buffers"))
        if not counted:
            for module in modules:
                self.module(module)
            return
        # The stamp starts out matching no version: the first call compares in full.
        stamp = self.constant([-1])
        self.namespace["structure"] = module_structure
        self.lines.append(f"    if structure.version != {stamp}[0]:")
        start = len(self.lines)
        for module in modules:
            self.module(module)
        self.lines[start:] = ["    " + line for line in self.lines[start:]]
        self.lines.append(f"        {stamp}[0] = structure.version")

    def module(self, module: Module) -> None:
        name = self.constant(module)
        self.fail_unless(f"{name}.training is {module.training} and not "
                         f"{name}._forward_hooks and not {name}._forward_pre_hooks")
        # The plain attributes as the signature saw them: at once where every attribute is
        # still the very object it was (a walk of tuples of them costs microseconds a module),
        # else compared one by one.
        self.namespace.update(module_constants=module_constants, is_=operator.is_)
        attributes = vars(module)
        self.fail_unless(f"(tuple({name}.__dict__) == {self.constant(tuple(attributes))} and "
                         f"all(map(is_, {name}.__dict__.values(), "
                         f"{self.constant(tuple(attributes.values()))}))) or "
                         f"module_constants({name}) == "
                         f"{self.constant(module_constants(module))}")
        for attribute in ("_modules", "_parameters", "_buffers"):
            mapping = getattr(module, attribute)
            if mapping:
                self.same_dict(f"{name}.{attribute}", mapping)
            else:
                self.fail_unless(f"not {name}.{attribute}")

    def optimizer(self, optimizer: Optimizer) -> None:
        name = self.constant(optimizer)
        self.fail_unless(f"not {name}._optimizer_step_pre_hooks and not "
                         f"{name}._optimizer_step_post_hooks")
        self.same_list(f"{name}.param_groups", optimizer.param_groups)
        for group in optimizer.param_groups:
            group_name = self.constant(group)
            self.fail_unless(f"len({group_name}) == {len(group)}")
            # The hyperparameters compared by value, in one comparison of tuples (each pair
            # by ==, as one by one).
            by_value = [key for key, value in group.items() if key != "params"
                        and _by_value(value)]
            if by_value:
                keys = self.constant(tuple(by_value))
                self.fail_unless(f"tuple(map({group_name}.get, {keys}, "
                                 f"{self.constant((_MISSING,) * len(by_value))})) == "
                                 f"{self.constant(tuple(group[key] for key in by_value))}")
            for key, value in group.items():
                item = f"{group_name}.get({key!r}, _MISSING)"
                if key == "params":
                    self.fail_unless(f"{item} is {self.constant(value)}")
                    self.same_list(self.constant(value), value)
                elif not _by_value(value):
                    self.fail_unless(f"{item} is {self.constant(value)}")
        state = optimizer.state
        self.fail_unless(f"len({name}.state) == {len(state)}")
        for group in optimizer.param_groups:
            for param in group["params"]:
                param_state = state.get(param)
                item = f"{name}.state.get({self.constant(param)})"
                if param_state is None:
                    self.fail_unless(f"{item} is None")
                    continue
                state_name = self.constant(param_state)
                conditions = [f"{item} is {state_name}",
                              f"len({state_name}) == {len(param_state)}"]
                for key, value in param_state.items():
                    if isinstance(value, Tensor):
                        conditions.append(f"{state_name}.get({key!r}) is {self.constant(value)}")
                    else:
                        conditions.append(f"{key!r} in {state_name}")
                self.fail_unless(" and ".join(conditions))
        self.namespace["_MISSING"] = _MISSING

    def scaler(self, scaler: Any) -> None:
        """The GradScaler's part of the signature (`guards.scaler_key`), recomputed."""
        name = self.constant(scaler)
        self.namespace["scaler_key"] = scaler_key
        self.fail_unless(f"scaler_key({name}) == {self.constant(scaler_key(scaler))}")

    def same_list(self, name: str, items: list[Any]) -> None:
        conditions = [f"len({name}) == {len(items)}"]
        conditions += [f"{name}[{index}] is {self.bound(item)}"
                       for index, item in enumerate(items)]
        self.fail_unless(" and ".join(conditions))

    def same_dict(self, name: str, mapping: dict[Any, Any]) -> None:
        conditions = [f"len({name}) == {len(mapping)}"]
        conditions += [f"{name}.get({self.constant(key)}, _MISSING) is {self.bound(item)}"
                       for key, item in mapping.items()]
        self.namespace["_MISSING"] = _MISSING
        self.fail_unless(" and ".join(conditions))


def module_constants(module: Module) -> tuple[Any, ...]:
    """A module's plain attributes (Dropout's p, a norm's eps and momentum, in_features...):
    a trace bakes the ones forward reads into the program, so a change is a new signature."""
    return tuple((name, type(value), value) for name, value in vars(module).items()
                 if type(value) in PLAIN)


def scaler_key(scaler: Any) -> tuple[Any, ...]:
    """What a trace bakes in of a GradScaler besides its tensors: whether it is on, its
    factors and interval (numbers of the program), and its per-optimizer stages (a step traced
    from a fresh iteration differs from one after unscale_)."""
    if not scaler._enabled:
        return (False,)
    return (True, scaler._growth_factor, scaler._backoff_factor,
            scaler._growth_interval, id(scaler._scale), id(scaler._growth_tracker),
            tuple((key, value["stage"]) for key, value in scaler._per_optimizer_states.items()))


class _Missing:
    pass


_MISSING = _Missing()


def _by_value(value: Any) -> bool:
    """Whether a hyperparameter is compared by value (numbers, strings, tuples of them) rather
    than by identity (Tensors, anything else), as the signature compares it."""
    if type(value) in PLAIN:
        return True
    return type(value) in (list, tuple) and all(_by_value(item) for item in value)
