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

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import backends

from ..compiler.switches import is_compiling
from ..engine import current_graph_task
from ..grad_mode import no_grad
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


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str) -> Iterator[None]:
    """Inside, opening saved_tensors_hooks (in this thread) raises RuntimeError(error_message);
    entering while hooks are open raises it too. The previous state comes back on exit."""
    previous = None
    try:
        previous = saved_tensors_hooks_state.disable(error_message)
        yield
    finally:
        saved_tensors_hooks_state.disable(previous)


# ------------------------------------------------------------------------ multi-grad hooks
class _MultiHandle:
    """The handles of the per-tensor hooks one multi-grad hook is made of."""

    def __init__(self, handles: tuple[Any, ...]) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __enter__(self) -> _MultiHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def _node_of(tensor: Tensor) -> Node:
    node = tensor._grad_accumulator() if tensor.requires_grad and tensor.grad_fn is None \
        else tensor.grad_fn
    if node is None:
        raise AssertionError("Expected gradient function to be set")
    return node


def _graph_task_id() -> int:
    task = current_graph_task()
    if task is None:
        raise AssertionError("expected this hook to be called inside a backward call")
    return task.id


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable[[Any], None], *,
                             mode: str = "all") -> _MultiHandle:
    """A hook on several tensors' gradients. mode="all": `fn(grads)` once per backward, after
    the gradient of every tensor that backward reaches has been computed (None for the rest).
    mode="any": `fn(grad)` with the first of them to be computed, once per backward."""
    supported_modes = ("all", "any")
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")
    lock = threading.Lock()
    if mode == "all":
        counts: dict[int, int] = {}
        buffers: dict[int, list[Tensor | None]] = {}
        expected: dict[int, int] = {}
        nodes = [_node_of(tensor) for tensor in tensors]

        def inner_hook(index: int) -> Callable[[Tensor], None]:
            def hook(grad: Tensor) -> None:
                task = current_graph_task()
                task_id = _graph_task_id()
                assert task is not None
                with lock:
                    count = counts.get(task_id, 0)
                    counts[task_id] = count + 1
                    if count == 0:
                        expected[task_id] = sum(task.will_execute(node) for node in nodes)
                        buffers[task_id] = [None] * len(tensors)
                    buffers[task_id][index] = grad
                    done = count == expected[task_id] - 1
                    if done:
                        grads = buffers.pop(task_id)
                        del counts[task_id], expected[task_id]
                if done:
                    fn(grads)

            return hook

        return _MultiHandle(tuple(tensor.register_hook(inner_hook(index))
                                  for index, tensor in enumerate(tensors)))
    ran: dict[int, bool] = {}

    def first_only(grad: Tensor) -> None:
        task_id = _graph_task_id()
        with lock:
            already, ran[task_id] = ran.get(task_id, False), True
        if not already:
            fn(grad)

    return _MultiHandle(tuple(tensor.register_hook(first_only) for tensor in tensors
                              if tensor.requires_grad))


# ------------------------------------------------------------- mutation of saved tensors
_MUTATION_OUTSIDE = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                     "in which the graph was originally recorded.")


class _Handle:
    """What the graph keeps of one saved tensor: the tensor, or its copy once it was changed
    in place."""

    __slots__ = ("__weakref__", "cloned", "tensor")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.cloned = False


class _AllowMutationOnSavedContext:
    """The tensors saved inside one allow_mutation_on_saved_tensors block, by the memory they
    live in (views of one buffer share it); cleared on exit."""

    def __init__(self) -> None:
        self.by_memory: dict[int, list[weakref.ref[_Handle]]] = {}

    def clear(self) -> None:
        self.by_memory.clear()

    def save(self, tensor: Tensor) -> _Handle:
        handle = _Handle(tensor)
        key = id(tensor._backend.memory_owner(tensor._data))
        self.by_memory.setdefault(key, []).append(weakref.ref(handle))
        return handle

    def before_mutation(self, tensor: Tensor) -> None:
        """Copy every still-needed tensor saved from `tensor`'s memory before it changes."""
        key = id(tensor._backend.memory_owner(tensor._data))
        refs = self.by_memory.get(key)
        if not refs:
            return
        live = []
        for ref in refs:
            handle = ref()
            if handle is None:  # freed by a backward already: nothing to keep
                continue
            live.append(ref)
            if not handle.cloned:
                with no_grad():
                    handle.tensor = handle.tensor.detach().clone()
                handle.cloned = True
        self.by_memory[key] = live


_mutation_allowed = False  # one block at a time, in any thread (as PyTorch)


@contextlib.contextmanager
def allow_mutation_on_saved_tensors() -> Iterator[_AllowMutationOnSavedContext]:
    """Inside, a tensor saved for backward may be changed in place: it is copied first, and
    backward (run inside the same block) uses the copy. Blocks cannot be nested."""
    global _mutation_allowed
    ctx = _AllowMutationOnSavedContext()

    def unpack(handle: _Handle) -> Tensor:
        if not _mutation_allowed:
            raise AssertionError(_MUTATION_OUTSIDE)
        return handle.tensor

    with saved_tensors_hooks(ctx.save, unpack):
        previous = saved_tensors_hooks_state.before_mutation
        try:
            if _mutation_allowed:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            _mutation_allowed = True
            saved_tensors_hooks_state.before_mutation = ctx.before_mutation
            yield ctx
        finally:
            ctx.clear()
            saved_tensors_hooks_state.before_mutation = previous
            _mutation_allowed = False


def region_activation_memory_budget(budget: float) -> contextlib.AbstractContextManager[None]:
    """The activation memory budget (a ratio in [0, 1]) for the region of a compiled forward
    traced under it; outside a compiled region it is a RuntimeError, as in PyTorch.  Inside,
    the region keeps every activation (the 1.0 end of the budget): `autodiff.compile` replays
    the recorded ops with their saved tensors and has no partitioner that trades memory for
    recomputation.  A compiled call that runs eagerly (one whose result needs its graph for a
    backward outside the function: see `explain()`) is eager mode here, and refuses it too."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise TypeError(
            "torch.autograd.graph.region_activation_memory_budget: expects a float, got "
            f"{type(budget).__name__}")
    if not 0.0 <= budget <= 1.0:
        raise ValueError(
            f"torch.autograd.graph.region_activation_memory_budget: must be in [0, 1], got "
            f"{budget}")
    if not is_compiling():
        raise RuntimeError(
            "torch.autograd.graph.region_activation_memory_budget can only be used inside a "
            "torch.compile region; it has no effect in eager mode.")
    return contextlib.nullcontext()


__all__ = [
    "MemoryReport", "Node", "ReplayReport", "allow_mutation_on_saved_tensors",
    "disable_saved_tensors_hooks", "memory_report", "region_activation_memory_budget",
    "register_multi_grad_hook", "replay", "replayable", "save_on_cpu", "saved_tensors_hooks",
]
