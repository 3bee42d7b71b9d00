"""Making dims: `dims()` and `dimlists()`, named after the variables they are assigned to (read
from the caller's bytecode, as functorch.dim does), and `DimList`, a list of dims whose length
may be bound on first use."""

from __future__ import annotations

import dis
import sys
from collections.abc import Sequence
from types import CodeType
from typing import Any

from .levels import DimensionBindError
from .tensor import Dim

_STORES = frozenset({"STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF"})
_instructions: dict[CodeType, list[dis.Instruction]] = {}


def _target_names(depth: int) -> tuple[int, list[str | None]]:
    """How many values the caller's statement unpacks the call's result into (0: not
    assigned; 1: one name) and each target's name (None where it is not a plain variable)."""
    frame = sys._getframe(depth + 1)
    try:
        code = frame.f_code
        instructions = _instructions.get(code)
        if instructions is None:
            instructions = _instructions[code] = list(dis.get_instructions(code))
        position = 0
        for index, instruction in enumerate(instructions):
            if instruction.offset <= frame.f_lasti:
                position = index
            else:
                break
    finally:
        del frame
    following = instructions[position:]
    while following and following[0].opname in ("PRECALL", "CALL", "CACHE"):
        following = following[1:]
    if not following:
        return 0, []
    first = following[0]
    if first.opname.startswith("STORE_"):
        return 1, [first.argval if first.opname in _STORES else None]
    if first.opname == "UNPACK_SEQUENCE":
        count = first.arg or 0
        names: list[str | None] = []
        for instruction in following[1:1 + count]:
            names.append(instruction.argval if instruction.opname in _STORES else None)
        return count, names
    return 0, []


def _count(kind: str, n: int | None, sizes: Sequence[Any] | None, found: int) -> int:
    specified = n if n is not None else (len(sizes) if sizes is not None else -1)
    if specified == -1:
        if found == 0:
            raise SyntaxError(f"{kind}() must be assigned to a sequence of variable names or "
                              "have argument n specified")
        specified = found
    if sizes is not None and len(sizes) != specified:
        raise ValueError(f"expected {specified} sizes but found {len(sizes)}")
    return specified


def _names(count: int, found: int, targets: list[str | None]) -> list[str]:
    """Each new object's name: its variable's, until one target is not a plain variable (or
    the counts differ); `d<i>` from there on."""
    names = []
    usable = found == count
    for index in range(count):
        name = targets[index] if usable and index < len(targets) else None
        if not name:
            usable = False
            name = f"d{index}"
        names.append(name)
    return names


def dims(n: int | None = None, sizes: Sequence[int | None] | None = None) -> Any:
    """New first-class dims: one Dim (n=1) or a tuple of them, named after the variables they
    are assigned to; `sizes` binds their sizes (None leaves one unbound)."""
    found, targets = _target_names(1)
    count = _count("dims", n, sizes, found)
    names = _names(count, found, targets)
    made = []
    for index, name in enumerate(names):
        size = None if sizes is None else sizes[index]
        made.append(Dim(name, -1 if size is None else size))
    return made[0] if count == 1 else tuple(made)


class DimList:
    """A list of dims; unbound, it takes the length of the dims it is matched with."""

    def __init__(self, len_or_dims: int | Sequence[Any] | None = None,
                 name: str | None = None) -> None:
        self._name = name
        self._dims: list[Dim] = []
        self._bound = False
        if isinstance(len_or_dims, int):
            self.bind_len(len_or_dims)
        elif len_or_dims is not None:
            made = []
            for index, item in enumerate(len_or_dims):
                if isinstance(item, int):
                    made.append(Dim(f"{name}{index}" if name else f"dim{index}", item))
                else:
                    made.append(Dim(item))
            self._dims = made
            self._bound = True

    def bind_len(self, size: int) -> None:
        if self._bound:
            if len(self._dims) != size:
                raise DimensionBindError(f"Dimlist has size {len(self._dims)} but it is being "
                                         f"bound to size {size}")
            return
        self._bound = True
        self._dims = [Dim(f"{self._name}{index}" if self._name else f"dim{index}")
                      for index in range(size)]

    def bind(self, sizes: Sequence[int]) -> None:
        if not hasattr(sizes, "__len__") or not hasattr(sizes, "__getitem__"):
            raise ValueError("expected a sequence")
        self.bind_len(len(sizes))
        for dim, size in zip(self._dims, sizes):
            dim.size = int(size)

    def size(self) -> int:
        if not self._bound:
            raise DimensionBindError("DimList not bound")
        return len(self._dims)

    @property
    def is_bound(self) -> bool:
        return self._bound

    def __len__(self) -> int:
        return self.size()

    def __getitem__(self, key: int | slice) -> Any:
        if not self._bound:
            raise DimensionBindError("DimList not bound")
        if isinstance(key, int):
            if key < 0 or key >= len(self._dims):
                raise IndexError("index out of bounds")
            return self._dims[key]
        if isinstance(key, slice):
            return tuple(self._dims[key])
        raise ValueError("expected an int or a slice")

    def __repr__(self) -> str:
        if self._bound:
            return f"({', '.join(repr(dim) for dim in self._dims)})"
        if self._name is not None:
            return f"*{self._name}"
        return "<unbound_dimlist>"

    __str__ = __repr__


def dimlists(n: int | None = None, sizes: Sequence[Any] | None = None) -> Any:
    """New DimLists, named as `dims()` names its dims; a size is a length (an int) or a list of
    the dims' sizes (None leaves one unbound)."""
    found, targets = _target_names(1)
    count = _count("dimlists", n, sizes, found)
    names = _names(count, found, targets)
    made = []
    for index, name in enumerate(names):
        made_list = DimList(name=name)
        size = None if sizes is None else sizes[index]
        if isinstance(size, int):
            made_list.bind_len(size)
        elif size is not None:
            made_list.bind_len(len(size))
            for dim, dim_size in zip(made_list._dims, size):
                if dim_size is not None:
                    dim.size = dim_size
        made.append(made_list)
    return made[0] if count == 1 else tuple(made)
