"""`torch.backends.mkldnn`: autodiff's CPU backend (NumPy) does not call oneDNN (MKL-DNN): not
available; `enabled` is kept as a real attribute for scripts that set it, and governs nothing."""

from __future__ import annotations

import sys
import types
from contextlib import AbstractContextManager

from ._flags import BoolFlag, install, setting


def is_available() -> bool:
    """False: no op here runs through oneDNN."""
    return False


def flags(enabled: bool = False) -> AbstractContextManager[None]:
    return setting(sys.modules[__name__], enabled=enabled)


class _MkldnnModule(types.ModuleType):
    enabled = BoolFlag(True, "set_enabled_mkldnn")


install(__name__, _MkldnnModule)

__all__ = ["flags", "is_available"]
