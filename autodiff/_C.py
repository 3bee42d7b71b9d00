"""`autodiff._C`: the few names of PyTorch's `torch._C` that user code reaches for."""

from __future__ import annotations

from .torch_function import (
    DisableTorchFunction,
    DisableTorchFunctionSubclass,
    _disabled_torch_function_impl,
)
from .torch_function import mode_enabled as _is_torch_function_mode_enabled

__all__ = ["DisableTorchFunction", "DisableTorchFunctionSubclass",
           "_disabled_torch_function_impl", "_is_torch_function_mode_enabled"]
