"""torch.ops.aten: operator identities as PyTorch's dispatcher names them.

`autodiff.ops.aten.mm` is an `OpOverloadPacket`, `autodiff.ops.aten.mm.default` an
`OpOverload`; each is made once, so `op is aten.mm.default`, `op in [...]` and sets work as in
PyTorch. The names are PyTorch 2.13's (`op_overload_names.py`): an unknown operator or overload
raises PyTorch's AttributeError.

autodiff runs no dispatcher, so these objects are names; only the few overloads that
`__torch_dispatch__` handlers call (`implement`, python_dispatch.py) run when called. An op mode
(`op_modes.py`) is told which overload each applied op is: `overload_of(ctx)` reads it from the
node's name through derivatives.yaml's table (`MmBackward0` -> `aten.mm.default`), the name
PyTorch's own autograd gives the node of that very overload.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from . import op_overload_names


def _read_overloads() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    last: list[str] = []
    for line in op_overload_names.OVERLOADS.splitlines():
        if not line.strip():
            continue
        words = line.split()
        if line[0].isspace():  # a continuation of the operator above
            last.extend(words)
        else:
            last = table.setdefault(words[0], [])
            last.extend(words[1:])
    return {name: tuple(overloads) for name, overloads in table.items()}


_OVERLOADS = _read_overloads()
_words = op_overload_names.NODE_OPS.split()
_NODE_OPS = dict(zip(_words[::2], _words[1::2]))
del _words


class OpOverload:
    """One overload of an operator (`aten.mm.default`)."""

    def __init__(self, packet: OpOverloadPacket, overload: str) -> None:
        self.overloadpacket = packet
        self._overloadname = overload
        self.namespace = packet._namespace
        self.__name__ = f"{packet.__name__}.{overload}"

    def name(self) -> str:
        """The schema's name: `aten::mm`, `aten::add.Tensor`."""
        base = f"{self.namespace}::{self.overloadpacket.__name__}"
        return base if self._overloadname == "default" else f"{base}.{self._overloadname}"

    def __repr__(self) -> str:
        return (f"<OpOverload(op='{self.namespace}.{self.overloadpacket.__name__}', "
                f"overload='{self._overloadname}')>")

    def __str__(self) -> str:
        return f"{self.namespace}.{self.__name__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        implementation = _IMPLEMENTATIONS.get(self)
        if implementation is not None:
            return implementation(*args, **kwargs)
        for call in reversed(handed_over.calls):  # inside a TorchDispatchMode's handler
            if call.func is self:
                return call.run_with(args, kwargs)
        raise RuntimeError(f"{self}: autodiff names aten operators (for policies such as "
                           "selective checkpointing's) but has no dispatcher to call "
                           "them; call the autodiff function instead")


class OpOverloadPacket:
    """An operator with all its overloads (`aten.mm`); an attribute per overload."""

    def __init__(self, namespace: str, name: str, overloads: tuple[str, ...]) -> None:
        self._namespace = namespace
        self.__name__ = name
        self._qualified_op_name = f"{namespace}::{name}"
        self._overload_names = overloads
        self._cache: dict[str, OpOverload] = {}

    def overloads(self) -> list[str]:
        return list(self._overload_names)

    def __getattr__(self, overload: str) -> OpOverload:
        if overload.startswith("__") or overload == "_cache":
            raise AttributeError(overload)
        cached = self._cache.get(overload)
        if cached is None:
            if overload not in self._overload_names:
                raise AttributeError(f"The underlying op of '{self}' has no overload name "
                                     f"'{overload}'")
            cached = self._cache[overload] = OpOverload(self, overload)
        return cached

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='{self._namespace}.{self.__name__}')>"

    def __str__(self) -> str:
        return f"{self._namespace}.{self.__name__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{self}: autodiff names aten operators but has no dispatcher to "
                           "call them; call the autodiff function instead")


class _OpNamespace:
    """`torch.ops.aten`: an attribute per operator."""

    def __init__(self, name: str, overloads: dict[str, tuple[str, ...]]) -> None:
        self.name = name
        self._overloads = overloads
        self._packets: dict[str, OpOverloadPacket] = {}

    def __getattr__(self, op_name: str) -> OpOverloadPacket:
        if op_name.startswith("__") or op_name in ("_packets", "_overloads", "name"):
            raise AttributeError(op_name)
        packet = self._packets.get(op_name)
        if packet is None:
            overloads = self._overloads.get(op_name)
            if overloads is None:
                raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute "
                                     f"'{op_name}'")
            packet = self._packets[op_name] = OpOverloadPacket(self.name, op_name, overloads)
        return packet

    def __dir__(self) -> list[str]:
        return sorted(self._overloads)

    def __repr__(self) -> str:
        return f"<module 'torch.ops.{self.name}'>"


aten = _OpNamespace("aten", _OVERLOADS)
# torch.ops.<namespace> of the operators torch.library defines (`_library/operators.py`).
USER_NAMESPACES: dict[str, Any] = {}

class _HandedOver(threading.local):
    """The op calls (`op_modes.OpCall`) whose handlers run now, innermost last: inside
    `__torch_dispatch__(func, ...)`, calling `func` runs its call."""

    def __init__(self) -> None:
        self.calls: list[Any] = []


handed_over = _HandedOver()

# The few overloads that run when called (what `__torch_dispatch__` handlers call on the
# tensors they wrap: python_dispatch.py registers them).
_IMPLEMENTATIONS: dict[OpOverload, Callable[..., Any]] = {}


def implement(overload: OpOverload) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make `overload(...)` run the decorated function."""
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        _IMPLEMENTATIONS[overload] = function
        return function
    return register

_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")
_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SCALARS = (bool, int, float, complex)
_BY_NODE: dict[str, OpOverload] = {}


def _by_arguments(packet: OpOverloadPacket, args: tuple[Any, ...]) -> OpOverload:
    """The overload a call with `args` reaches, for an op whose node does not name one: a
    Python number among the operands picks a Scalar overload, else Tensor, else default."""
    names = packet._overload_names
    scalar = any(type(arg) in _SCALARS for arg in args[1:])
    for choice in (("Scalar", "default", "Tensor") if scalar
                   else ("Tensor", "default", "Scalar")):
        if choice in names:
            return getattr(packet, choice)
    return getattr(packet, next((n for n in names if "out" not in n), names[0]))


def overload_of(ctx: Any, args: tuple[Any, ...]) -> OpOverload | None:
    """The aten overload an applied built-in op is (None for an op PyTorch has no operator
    for): the one derivatives.yaml gives its node name, else the op class's `aten_name` or
    its node name's stem, with the overload its arguments pick."""
    node_name = ctx.node_name
    found = _BY_NODE.get(node_name)
    if found is None:
        qualified = _NODE_OPS.get(node_name)
        if qualified is None:
            return _from_name(ctx, args)
        name, _, overload = qualified.partition(".")
        found = _BY_NODE[node_name] = getattr(getattr(aten, name), overload)
    return found


def _from_name(ctx: Any, args: tuple[Any, ...]) -> OpOverload | None:
    name = getattr(type(ctx), "aten_name", None)
    if name is None:
        stem = _BACKWARD_SUFFIX.sub("", ctx.node_name)
        name = _WORD.sub("_", stem).lower()
    name, _, overload = name.partition(".")
    if name not in _OVERLOADS:
        return None
    packet = getattr(aten, name)
    return getattr(packet, overload) if overload else _by_arguments(packet, args)
