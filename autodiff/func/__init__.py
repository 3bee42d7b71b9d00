"""autodiff.func (torch.func): composable function transforms."""

from __future__ import annotations

from .vmap import vmap

__all__ = ["vmap"]
