"""`torch.nn.attention`: which kernels `scaled_dot_product_attention` may use. `sdpa_kernel`
enables only the given backends for a block (the process-wide switches of
torch.backends.cuda's `enable_*_sdp`) and restores the earlier ones on exit. autodiff computes
with its math kernel whatever is chosen; the choice decides what is refused, as in PyTorch
(ops/attention_kernels.py)."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator
from typing import Any

from ...ops import attention_kernels

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.Enum):
    """A scaled-dot-product-attention kernel (PyTorch's values; int() gives them)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self) -> int:
        return int(self.value)

    def __hash__(self) -> int:
        return hash(self.value)


# each switch's name (attention_kernels') and its backend
_NAMES = {name: SDPBackend(value) for name, value in attention_kernels.BACKENDS.items()}


@contextlib.contextmanager
def sdpa_kernel(backends: list[SDPBackend] | SDPBackend,
                set_priority: bool = False) -> Iterator[dict[str, Any]]:
    """Enable only `backends` inside the block (with `set_priority`, also try them in the
    given order first); the earlier switches come back on exit."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _current_backends(with_priority=set_priority)
    try:
        _set_backends(backends, set_priority)
        yield {}
    finally:
        _set_backends(previous, set_priority)


def _set_backends(backends: Iterable[SDPBackend], set_priority: bool) -> None:
    backends = list(backends)
    for name, backend in _NAMES.items():
        attention_kernels.set_enabled(name, backend in backends)
    if set_priority:
        order = [int(backend) for backend in backends]
        order += [value for value in attention_kernels.priority_order() if value not in order]
        attention_kernels.set_priority_order(order)


def _current_backends(with_priority: bool = False) -> list[SDPBackend]:
    backends = [backend for name, backend in _NAMES.items()
                if attention_kernels.is_enabled(name)]
    if with_priority:
        order = attention_kernels.priority_order()
        backends.sort(key=lambda backend: order.index(int(backend)))
    return backends
