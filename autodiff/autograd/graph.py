"""`autograd.graph`: the graph's node type and hooks on saved tensors.

`saved_tensors_hooks(pack_hook, unpack_hook)`: while the context is open (in this thread), every
tensor an op saves for backward is handed to `pack_hook` (grad mode off) and only what it returns
is kept; backward gets the tensor back from `unpack_hook(packed)`, in the saved tensor's place in
the graph. `save_on_cpu()` is such a pair that keeps saved activations in host memory.
`memory_report(loss)` (memory_report.py) predicts what a backward from `loss` holds and frees;
`replay(loss, device)` (replay.py) runs a forward recorded under `replayable()` again on another
device and finds the first op where the two differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import backends

from ..node import Node
from ..saved import saved_tensors_hooks_state
from ..tensor import Tensor, _wrap
from .memory_report import MemoryReport, memory_report
from .replay import ReplayReport, replay, replayable


class saved_tensors_hooks:
    """Context manager: pack and unpack hooks for the tensors saved inside it (the innermost
    open context applies). Versions are not checked through hooks, as in PyTorch."""

    def __init__(self, pack_hook: Callable[[Tensor], Any],
                 unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        saved_tensors_hooks_state.push(self.pack_hook, self.unpack_hook)

    def __exit__(self, *exc_info: object) -> None:
        saved_tensors_hooks_state.pop()


class save_on_cpu(saved_tensors_hooks):
    """Keep tensors saved for backward in host memory and move them back to their device when
    backward needs them: trades transfer time for device memory. On the CPU the round trip
    through the hooks still happens, without a copy.

    pin_memory: pack into page-locked host memory (faster transfers back), as PyTorch does
    when the `device_type` accelerator ("cuda", the default) is available: on CUDA the copy is
    pinned through CuPy; where there is nothing to pin for, it is an ordinary host copy."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        # PyTorch asks the device_type module whether it is available (an unknown name means
        # CUDA's); only then is the memory pinned.
        known = device_type if device_type in backends.DEVICE_TYPES else "cuda"
        pinnable = pin_memory and known != "cpu" and backends.device_count(known) > 0

        def pack_to_cpu(tensor: Tensor) -> tuple[Any, Tensor]:
            if not pin_memory:
                return (tensor.device, tensor.cpu())
            cpu = backends.get_backend("cpu")
            host = tensor._backend.host_copy(tensor._data, pinned=pinnable)
            return (tensor.device, _wrap(cpu.from_numpy(host), cpu))

        def unpack_from_cpu(packed: tuple[Any, Tensor]) -> Tensor:
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


__all__ = [
    "MemoryReport", "Node", "ReplayReport", "memory_report", "replay", "replayable",
    "save_on_cpu", "saved_tensors_hooks",
]
