"""TorchScript's fuser and executor settings. Nothing here fuses or optimizes (scripted
code runs as Python); the settings are kept and reported as PyTorch's are, so programs that
set them run."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from autodiff.user_warnings import warn

__all__ = ["enable_onednn_fusion", "fuser", "onednn_fusion_enabled", "optimized_execution",
           "set_fusion_strategy", "strict_fusion"]


class _Settings(threading.local):
    def __init__(self) -> None:
        self.onednn = False
        self.strategy: list[tuple[str, int]] = [("STATIC", 2), ("DYNAMIC", 10)]
        self.fuser = "fuser1"
        self.optimize = True


_settings = _Settings()


def enable_onednn_fusion(enabled: bool) -> None:
    """Turn oneDNN (LLGA) fusion on or off in the JIT."""
    _settings.onednn = bool(enabled)


def onednn_fusion_enabled() -> bool:
    """Whether oneDNN fusion is on."""
    return _settings.onednn


def set_fusion_strategy(strategy: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Set the fusion specializations, [("STATIC" | "DYNAMIC", depth), ...]; returns the
    previous strategy."""
    for behavior, _depth in strategy:
        if behavior not in ("STATIC", "DYNAMIC"):
            raise ValueError(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: "
                             f"{behavior}")
    previous = _settings.strategy
    _settings.strategy = [(behavior, int(depth)) for behavior, depth in strategy]
    return previous


@contextlib.contextmanager
def fuser(name: str) -> Iterator[None]:
    """Choose the fuser inside the block: "fuser0" (legacy), "fuser1" (NNC), "fuser2"
    (nvFuser), "fuser3" (oneDNN) or "none"."""
    if name not in ("fuser0", "fuser1", "fuser2", "fuser3", "none"):
        raise Exception(f"unrecognized fuser option (name: {name})")
    previous = (_settings.fuser, _settings.onednn)
    _settings.fuser = name
    _settings.onednn = name == "fuser3"
    try:
        yield
    finally:
        _settings.fuser, _settings.onednn = previous


@contextlib.contextmanager
def optimized_execution(should_optimize: bool) -> Iterator[None]:
    """Whether the JIT's executor optimizes graphs before running them, inside the block
    (kept; nothing is optimized here)."""
    previous = _settings.optimize
    _settings.optimize = bool(should_optimize)
    try:
        yield
    finally:
        _settings.optimize = previous


# TorchScript's autocast pass (process-wide in PyTorch). Scripted and traced code here runs its
# ops through eager autocast whichever way it is set, which is what PyTorch's CPU runs show too.
_autocast_mode = [True]


def set_autocast_mode(enabled: Any) -> bool:
    """torch._C._jit_set_autocast_mode: set the JIT's autocast switch; returns the previous."""
    if not isinstance(enabled, bool):
        raise TypeError("_jit_set_autocast_mode(): incompatible function arguments. The "
                        "following argument types are supported:\n    1. (arg0: bool) -> bool"
                        f"\n\nInvoked with: {enabled!r}")
    previous = _autocast_mode[0]
    _autocast_mode[0] = enabled
    return previous


class strict_fusion:
    """In TorchScript, an error where the nodes inside the block are not all fused; outside
    it (here always: nothing is scripted), PyTorch's warning and nothing else."""

    def __init__(self) -> None:
        warn("Only works in script mode", stacklevel=2)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        return None
