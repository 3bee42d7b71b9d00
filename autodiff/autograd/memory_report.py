"""`autograd.graph.memory_report(loss)`: what a backward from `loss` will hold and free, before
it runs.

Per node of the graph: the tensors it saved (shape, dtype, device, bytes, and which other nodes
saved the same memory). Then the backward is simulated in the engine's order (dependency counts
and a heap on creation numbers, latest first) with the engine's rules for memory:

* a node's backward allocates one gradient per input that needs one (its input's shape and
  dtype); a gradient arriving where one is already waiting is summed into a new array;
* after a node ran, the gradients it was given and, without `retain_graph`, its saved tensors
  are dropped; a saved buffer is freed once no node that has yet to run still holds it;
* `AccumulateGrad` keeps its gradient as `.grad`; adding into an existing `.grad` copies the
  old values first (the engine's undo log, kept until the backward ends).

Memory the graph does not own (leaves, and tensors that required no gradient: the user holds
them) is counted as held throughout and never freed. `start_bytes` is what the graph holds when
backward starts (saved tensors it owns, and the starting gradient); `peak_bytes` the most it
holds at once during the walk. Arrays a backward makes and drops before it returns count
where the op declares them (`backward_temporaries`, e.g. ReLU's mask of dead units), and a
gradient that is a view of the one received (`backward_is_view`: sum's expand, permutes,
squeezes, on a backend with views) costs nothing new; other ops' temporaries are not
modelled.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from .. import dtypes
from ..node import AccumulateGrad, Node
from ..saved import RELEASED, SavedTensor
from ..tensor import Tensor


class SavedInfo:
    """One tensor a node saved for backward."""

    def __init__(self, index: int, shape: tuple[int, ...], dtype: str, device: str,
                 nbytes: int, owned_by_graph: bool, buffer_id: int) -> None:
        self.index = index
        self.buffer_id = buffer_id  # the same for tensors that share memory
        self.shape = shape
        self.dtype = dtype
        self.device = device
        self.nbytes = nbytes
        self.owned_by_graph = owned_by_graph
        self.shared_with: list[str] = []  # the other nodes that saved the same memory

    def __repr__(self) -> str:
        return (f"SavedInfo({self.index}, shape={self.shape}, dtype={self.dtype}, "
                f"device={self.device}, nbytes={self.nbytes}, shared_with={self.shared_with})")


class NodeMemory:
    """One node: what it saved, and what its backward frees (bytes no later node holds)."""

    def __init__(self, node: Node, label: str) -> None:
        self.node = node
        self.name = node.name()
        self.label = label  # name#n, unique in the report
        self.saved: list[SavedInfo] = []
        self.freed_bytes = 0
        self.order = -1  # its place in the backward's order

    @property
    def saved_bytes(self) -> int:
        return sum(info.nbytes for info in self.saved)


class MemoryReport:
    """memory_report's answer; `str()` is a table, one row per node in backward order."""

    def __init__(self, nodes: list[NodeMemory], start_bytes: int, peak_bytes: int,
                 freed_bytes: int, external_bytes: int) -> None:
        self.nodes = nodes
        self.start_bytes = start_bytes
        self.peak_bytes = peak_bytes
        self.freed_bytes = freed_bytes
        self.external_bytes = external_bytes

    @property
    def peak_increase(self) -> int:
        """How much more than at its start the backward holds at its peak."""
        return self.peak_bytes - self.start_bytes

    def of(self, node: Node) -> NodeMemory | None:
        for entry in self.nodes:
            if entry.node is node:
                return entry
        return None

    def table(self) -> str:
        width = max([len(entry.label) for entry in self.nodes] + [4]) + 2
        lines = [f"{'node':<{width}}{'saved':>12}{'frees':>12}  saved tensors"]
        for entry in sorted(self.nodes, key=lambda item: item.order):
            tensors = "; ".join(
                f"{list(info.shape)} {info.dtype} {info.device} {_format(info.nbytes)}"
                + (f" shared with {', '.join(info.shared_with)}" if info.shared_with else "")
                + ("" if info.owned_by_graph else " (not the graph's)")
                for info in entry.saved)
            lines.append(f"{entry.label:<{width}}{_format(entry.saved_bytes):>12}"
                         f"{_format(entry.freed_bytes):>12}  {tensors}")
        lines.append(f"backward frees {_format(self.freed_bytes)}; holds "
                     f"{_format(self.start_bytes)} at its start and {_format(self.peak_bytes)} "
                     f"at its predicted peak (+{_format(self.peak_increase)}); "
                     f"{_format(self.external_bytes)} saved memory is held outside the graph")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _format(nbytes: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _nbytes(shape: tuple[int, ...], dtype_name: str) -> int:
    return math.prod(shape) * dtypes.BY_NAME[dtype_name].itemsize


class _Buffer:
    """One block of memory in the simulation: its size and the nodes yet to run holding it."""

    def __init__(self, nbytes: int, owned: bool) -> None:
        self.nbytes = nbytes
        self.owned = owned
        self.holders: set[Node] = set()


def memory_report(tensor: Tensor, retain_graph: bool = False) -> MemoryReport:
    """What `tensor.backward()` will hold and free, node by node, and its predicted peak."""
    root = tensor.grad_fn
    if root is None:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    nodes = _discover(root)
    entries: dict[Node, NodeMemory] = {}
    counts: dict[str, int] = {}
    buffers: dict[int, _Buffer] = {}
    for node in nodes:
        number = counts[node.name()] = counts.get(node.name(), -1) + 1
        entry = entries[node] = NodeMemory(node, f"{node.name()}#{number}")
        _read_saved(node, entry, buffers)
    _mark_sharing(entries, buffers)

    start = sum(buffer.nbytes for buffer in buffers.values() if buffer.owned)
    external = sum(buffer.nbytes for buffer in buffers.values() if not buffer.owned)
    root_grad = _nbytes(tuple(tensor.shape), tensor.dtype.name)
    held = start + root_grad
    peak = held
    freed_total = 0
    dependencies = _dependencies(nodes)
    waiting: dict[Node, list[int]] = {root: [root_grad]}
    heap = [(-root._sequence_nr, root)]
    order = 0
    while heap:
        node = heapq.heappop(heap)[1]
        entry = entries[node]
        entry.order = order
        order += 1
        incoming = sum(waiting.pop(node, []))
        if type(node) is AccumulateGrad:
            grad = node.variable._grad
            if grad is not None:
                # The engine's undo log copies the old .grad and keeps the copy until the
                # backward ends; the sum goes in place and the gradient is dropped. A first
                # gradient stays, as .grad.
                held += _nbytes(tuple(grad.shape), grad.dtype.name)
                peak = max(peak, held)
                held -= incoming
            continue
        made = _gradient_sizes(node)
        passed_view = False
        for (child, _), size in zip(node.next_functions, made):
            if child is None or size == 0:
                continue
            if _hands_on_a_view(node) and child not in waiting:
                # The gradient is a view of the one received: no new memory, and the one
                # received lives on in it.
                waiting[child] = [incoming]
                passed_view = True
                continue
            held += size
            if child in waiting:  # summed with the one waiting: a new array while both live
                peak = max(peak, held + size)
            waiting.setdefault(child, []).append(size)
        peak = max(peak, held + _temporaries(node))
        if not passed_view:
            held -= incoming
        if not retain_graph:
            for buffer in buffers.values():
                if node in buffer.holders:
                    buffer.holders.discard(node)
                    if not buffer.holders and buffer.owned:
                        held -= buffer.nbytes
                        entry.freed_bytes += buffer.nbytes
                        freed_total += buffer.nbytes
        for child, _ in node.next_functions:
            if child is None:
                continue
            dependencies[child] -= 1
            if dependencies[child] == 0:
                heapq.heappush(heap, (-child._sequence_nr, child))
    return MemoryReport(list(entries.values()), start + root_grad, peak, freed_total, external)


def _discover(root: Node) -> list[Node]:
    seen = {root}
    order = [root]
    stack = [root]
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                order.append(child)
                stack.append(child)
    return order


def _dependencies(nodes: list[Node]) -> dict[Node, int]:
    counts = {node: 0 for node in nodes}
    for node in nodes:
        for child, _ in node.next_functions:
            if child is not None:
                counts[child] += 1
    return counts


def _read_saved(node: Node, entry: NodeMemory, buffers: dict[int, _Buffer]) -> None:
    """The node's saved tensors, each tied to the buffer of memory it keeps alive."""
    saved = node._saved
    if saved is None or saved is RELEASED:
        return
    backend = getattr(node, "backend", None)
    for index, item in enumerate(saved):
        if type(item) is not SavedTensor or item.unpack_hook is not None:
            continue  # a number, or packed by a hook (the hook decides where it lives)
        data = item.data
        item_backend: Any
        if isinstance(data, Tensor):
            array, item_backend = data._data, data._backend
            # A leaf, or a tensor that needs no gradient: the user holds it.
            owned = data.grad_fn is not None
        else:
            array, item_backend = data, backend
            owned = True
        if item_backend is None:
            continue
        owner = item_backend.memory_owner(array)
        dtype_name = item_backend.dtype_name(array)
        nbytes = item_backend.storage_size(array) * dtypes.BY_NAME[dtype_name].itemsize
        buffer = buffers.get(id(owner))
        if buffer is None:
            buffer = buffers[id(owner)] = _Buffer(nbytes, owned)
        else:
            buffer.owned = buffer.owned and owned
        buffer.holders.add(node)
        info = SavedInfo(index, tuple(array.shape), dtype_name, str(item_backend.device),
                         _nbytes(tuple(array.shape), dtype_name), owned, id(owner))
        entry.saved.append(info)


def _mark_sharing(entries: dict[Node, NodeMemory], buffers: dict[int, _Buffer]) -> None:
    by_buffer: dict[int, list[NodeMemory]] = {}
    for entry in entries.values():
        for info in entry.saved:
            holders = by_buffer.setdefault(info.buffer_id, [])
            if entry not in holders:
                holders.append(entry)
    for entry in entries.values():
        for info in entry.saved:
            info.shared_with = [other.label for other in
                                by_buffer[info.buffer_id]
                                if other is not entry]
            info.owned_by_graph = buffers[info.buffer_id].owned


def _hands_on_a_view(node: Node) -> bool:
    """Whether the node's backward hands on a view of the gradient it receives (its op says
    so with `backward_is_view`, and its backend makes views)."""
    backend = getattr(node, "backend", None)
    return bool(getattr(type(node), "backward_is_view", False) and backend is not None
                and backend.makes_views)


def _temporaries(node: Node) -> int:
    """Bytes the node's backward holds while it runs besides the gradients it returns, as its
    op declares them (`backward_temporaries`; 0 for an op that declares none)."""
    declared = getattr(type(node), "backward_temporaries", None)
    if declared is None or getattr(node, "_input_meta", None) is None:
        return 0
    return int(declared(node))


def _gradient_sizes(node: Node) -> list[int]:
    """Bytes of each gradient the node's backward hands on (0 where none)."""
    meta = getattr(node, "_input_meta", None)
    needs = node.needs_input_grad
    backend = getattr(node, "backend", None)
    if meta is None or backend is None:
        return [0] * len(node.next_functions)
    sizes = []
    for index, item in enumerate(meta):
        if item is None or (needs is not None and not needs[index]):
            sizes.append(0)
            continue
        shape, native_dtype = item
        sizes.append(_nbytes(tuple(shape), backend.name_of_dtype(native_dtype)))
    return sizes
