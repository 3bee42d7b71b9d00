"""`torch.backends.cudnn`: autodiff's CUDA backend (CuPy) does not call cuDNN, so cuDNN is not
available and its flags (`enabled`, `benchmark`, `deterministic`, `allow_tf32`) govern nothing:
they are kept as real attributes, with PyTorch's defaults and checks, for scripts that set them.
(`deterministic=True` and `benchmark=False` hold trivially: no cuDNN algorithm is chosen.)"""

from __future__ import annotations

import sys
import types
from contextlib import AbstractContextManager

from ._flags import BoolFlag, install, setting


def is_available() -> bool:
    """False: no op here runs through cuDNN."""
    return False


def version() -> int | None:
    """None: cuDNN is not used."""
    return None


def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int | None = 10,
          deterministic: bool = False, allow_tf32: bool = True
          ) -> AbstractContextManager[None]:
    """Set the flags inside a `with` block (PyTorch's defaults for those not given)."""
    return setting(sys.modules[__name__], enabled=enabled, benchmark=benchmark,
                   benchmark_limit=benchmark_limit, deterministic=deterministic,
                   allow_tf32=allow_tf32)


class _CudnnModule(types.ModuleType):
    enabled = BoolFlag(True, "set_enabled_cudnn")
    benchmark = BoolFlag(False, "set_benchmark_cudnn")
    deterministic = BoolFlag(False, "set_deterministic_cudnn")
    allow_tf32 = BoolFlag(True, "set_allow_tf32_cudnn")
    benchmark_limit: int | None = None


install(__name__, _CudnnModule)

__all__ = ["flags", "is_available", "version"]
