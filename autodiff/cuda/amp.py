"""`autodiff.cuda.amp` (torch.cuda.amp): the deprecated CUDA spellings of `autodiff.amp`, with
PyTorch's FutureWarnings."""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..amp import autocast_mode, grad_scaler
from ..user_warnings import warn

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]


class autocast(autocast_mode.autocast):
    """`autodiff.amp.autocast("cuda", ...)`, deprecated."""

    def __init__(self, enabled: bool = True, dtype: dtypes.dtype = dtypes.float16,
                 cache_enabled: bool = True) -> None:
        warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
             "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
             stacklevel=2)
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """`autodiff.amp.GradScaler("cuda", ...)`, deprecated."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
             "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
             stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


def custom_fwd(fwd: Any = None, *, cast_inputs: dtypes.dtype | None = None) -> Any:
    """`autodiff.amp.custom_fwd(device_type="cuda")`, deprecated."""
    warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
         "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
         stacklevel=2)
    return autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd: Any) -> Any:
    """`autodiff.amp.custom_bwd(device_type="cuda")`, deprecated."""
    warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
         "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
         stacklevel=2)
    return autocast_mode.custom_bwd(bwd, device_type="cuda")
