"""`autodiff._C`: the few names of PyTorch's `torch._C` that user code reaches for."""

from __future__ import annotations

from .jit._fuser import set_autocast_mode as _jit_set_autocast_mode
from .torch_function import (
    DisableTorchFunction,
    DisableTorchFunctionSubclass,
    _disabled_torch_function_impl,
)
from .torch_function import mode_enabled as _is_torch_function_mode_enabled

__all__ = ["DisableTorchFunction", "DisableTorchFunctionSubclass",
           "_disabled_torch_function_impl", "_is_torch_function_mode_enabled",
           "_jit_set_autocast_mode"]
