"""`autodiff.cpu.amp` (torch.cpu.amp): the deprecated CPU spellings of `autodiff.amp`, with
PyTorch's FutureWarnings."""

from __future__ import annotations

from .. import dtypes
from ..amp import autocast_mode, grad_scaler
from ..user_warnings import warn

__all__ = ["GradScaler", "autocast"]


class autocast(autocast_mode.autocast):
    """`autodiff.amp.autocast("cpu", ...)`, deprecated."""

    def __init__(self, enabled: bool = True, dtype: dtypes.dtype = dtypes.bfloat16,
                 cache_enabled: bool = True) -> None:
        warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
             "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning,
             stacklevel=2)
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """`autodiff.amp.GradScaler("cpu", ...)`, deprecated."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
             "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning,
             stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
