"""`nn.utils.stateless.functional_call`: PyTorch's deprecated spelling of
`torch.func.functional_call` (it warns, then makes the same call)."""

from __future__ import annotations

from typing import Any

from ...func.functional_call import functional_call as _functional_call
from ...user_warnings import warn
from ..modules.module import Module


def functional_call(module: Module, parameters_and_buffers: dict[str, Any], args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """`module(*args, **kwargs)` with its parameters and buffers replaced for the call."""
    warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will "
         "be removed in a future version of PyTorch. Please use `torch.func.functional_call` "
         "instead which is a drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)


__all__ = ["functional_call"]
