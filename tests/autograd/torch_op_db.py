"""The op table's `op` callables run on PyTorch: each entry's function (and the module-level
helpers it calls) rebound so that `autodiff`, `F`, `LA`, `S` and `FFT` name torch's modules."""

from __future__ import annotations

import types
from typing import Any

_ALIASES = {
    "autodiff": "torch", "F": "torch.nn.functional", "LA": "torch.linalg",
    "S": "torch.special", "FFT": "torch.fft", "rnn_utils": "torch.nn.utils.rnn",
}


def on_torch(function: Any, torch: Any) -> Any:
    """`function` on PyTorch: an autodiff function is PyTorch's of its name, in the namespace
    the library's module stands for; a test's function is rebound so that its module's names
    mean PyTorch's (None: neither works, such as a closure over an autodiff module)."""
    module = getattr(function, "__module__", None) or ""
    if module == "autodiff" or module.startswith("autodiff."):
        return _by_name(function, torch)
    return _rebind(function, torch, {})


def _by_name(function: Any, torch: Any) -> Any:
    name = function.__name__
    module = function.__module__
    namespaces = [torch, torch.nn.functional, torch.special, torch.linalg, torch.fft]
    if module.startswith("autodiff.nn"):
        namespaces.insert(0, torch.nn.functional)
    for namespace in namespaces:
        found = getattr(namespace, name, None)
        if found is not None:
            return found
    return None


def _rebind(function: Any, torch: Any, done: dict[int, Any]) -> Any:
    if id(function) in done:
        return done[id(function)]
    namespace = dict(function.__globals__)
    closure = function.__closure__ or ()
    cells = tuple(types.CellType() for _ in closure)
    rebound = types.FunctionType(function.__code__, namespace, function.__name__,
                                 function.__defaults__, cells or None)
    done[id(function)] = rebound
    for name, value in list(namespace.items()):
        if name in _ALIASES:
            namespace[name] = _module(torch, _ALIASES[name])
        elif isinstance(value, types.FunctionType) and value.__module__ == function.__module__:
            namespace[name] = _rebind(value, torch, done)
    for cell, original in zip(cells, closure):
        value = original.cell_contents
        if isinstance(value, types.FunctionType):
            value = _rebind(value, torch, done)
            if value is None:
                return None
        elif isinstance(value, types.ModuleType) or type(value).__module__.startswith("autodiff"):
            return None
        cell.cell_contents = value
    return rebound


def _module(torch: Any, dotted: str) -> Any:
    module = torch
    for part in dotted.split(".")[1:]:
        module = getattr(module, part)
    return module
