"""`autodiff._C`: the few names of PyTorch's `torch._C` that user code reaches for."""

from __future__ import annotations

from .overrides import DisableTorchFunctionSubclass

__all__ = ["DisableTorchFunctionSubclass"]
