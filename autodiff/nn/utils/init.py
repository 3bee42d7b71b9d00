"""`skip_init`: a module made without running its parameter initialization."""

from __future__ import annotations

import inspect
from typing import Any

from ..modules.module import Module


def skip_init(module_cls: Any, *args: Any, **kwargs: Any) -> Any:
    """An instance of `module_cls(*args, **kwargs)` whose parameters and buffers hold
    uninitialized memory (as made by `empty`): it is built on the meta device, where
    initialization computes nothing, then given memory on `device` (default cpu). The module
    must take a `device` argument and do no computation in its constructor other than
    initialization."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
