"""Module attributes that are switches (`torch.backends.cudnn.benchmark = True`): a module
whose class has a property per flag, checking the value as PyTorch does, and `flags(...)`
blocks that set some and restore them on exit."""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any


class BoolFlag:
    """A bool-valued module attribute; `setter` names PyTorch's setter in the refusal of other
    types ("set_benchmark_cudnn expects a bool, but got int")."""

    def __init__(self, default: bool, setter: str) -> None:
        self.default = default
        self.setter = setter
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, module: Any, owner: type | None = None) -> Any:
        if module is None:
            return self
        return module.__dict__.get(f"_flag_{self.name}", self.default)

    def __set__(self, module: Any, value: Any) -> None:
        if not isinstance(value, bool):
            raise RuntimeError(f"{self.setter} expects a bool, but got {type(value).__name__}")
        module.__dict__[f"_flag_{self.name}"] = value


def install(module_name: str, flags_class: type[types.ModuleType]) -> None:
    """Give module `module_name` the flag properties of `flags_class` (a ModuleType
    subclass)."""
    sys.modules[module_name].__class__ = flags_class


@contextlib.contextmanager
def setting(module: types.ModuleType, **values: Any) -> Iterator[None]:
    """Set some flags of `module` inside the block; restore every one on exit."""
    before = {name: getattr(module, name) for name in values}
    try:
        for name, value in values.items():
            setattr(module, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(module, name, value)
