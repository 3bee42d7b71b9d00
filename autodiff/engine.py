"""The backward engine. One entry: `run_backward`. `Tensor.backward`, `autograd.backward` and
`autograd.grad` only normalise their arguments and call it.

How the walk goes:

1. Roots. Each output tensor becomes an edge (its `grad_fn`, or its leaf's `AccumulateGrad`, and
   its output number) carrying a starting gradient.
2. Discovery. An iterative depth-first pass over `next_functions` counts the edges into every
   node (its dependencies) and checks that each node's saved tensors are still there and
   unmodified, so the usual errors surface before anything has changed.
   With `inputs` (PyTorch's exec_info), only nodes on a path to one of them take part: a node
   *executes* if one of its children does, or (for `backward(inputs=...)`) if it is an input's
   node; `autograd.grad` *captures* the gradient arriving at an input's node instead, and runs
   that node only if it leads on to another input. Built-in backward formulas then see
   `needs_input_grad` False for edges that lead nowhere, so they skip that work. When every
   end of the graph (a leaf's AccumulateGrad) is an input's node, as under `func.grad`, every
   node takes part and every edge leads somewhere: one counting pass finds that out.
3. Execution. Ready nodes wait in a heap ordered by creation number, latest first (PyTorch's
   sequence_nr). A node's gradient buffer (one slot per output) is complete when its count
   reaches zero. Running a node, as PyTorch does: the hooks of the Tensors it produced (a
   leaf's own hooks for `AccumulateGrad`), then retain_grad, then the node's pre-hooks, then its
   `backward` (skipped for built-in ops when no gradient arrived), then its post-hooks; the
   results go into the buffers of the next nodes and the node's saved tensors are freed unless
   `retain_graph`. `AccumulateGrad` adds into `.grad` and runs post-accumulate-grad hooks.
   A captured node that does not execute still runs its Tensor hooks, and its captured gradient
   is the hooked one; a captured node that executes hands over the gradient as it arrived.
4. Grad mode during the walk is `create_graph`: only then are the backward ops recorded.
5. Anomaly mode (off: one local test per node): each node's results are checked for NaN, and
   an error inside a node warns with the forward traceback recorded when the node was made.
6. The profiler (off: one local test per node): each node runs inside PyTorch's two ranges,
   `autograd::engine::evaluate_function: <node>` and `<node>` around its backward.

Each walk is a graph task: while it runs, `current_graph_task_id()` (PyTorch's
`torch._C._current_graph_task_id`) names it in this thread, and `is_checkpoint_valid()` says
whether it runs every node (False for `autograd.grad` and `backward(inputs=...)`, which a
reentrant checkpoint cannot serve). A backward called inside a node's backward is a task of its
own, on top of the one that called it.

If anything raises during the walk, the `.grad` fields it changed are put back.

While compiled autograd is enabled in the thread (`compiler/compiled_autograd.py`), a plain
`backward()` (no `inputs`, no `create_graph`) goes there instead: the same nodes in the same
order, run as one captured graph that a compiler function compiled once per structure.
No recursion anywhere: a chain of 100,000 ops is fine.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .compiler.switches import backward as backward_compiler
from .compiler.tracing import current as current_tracer
from .compiler.tracing import state as tracing_state
from .grad_mode import state as grad_state
from .layout_dispatch import LayoutData
from .node import AccumulateGrad, Node, anomaly_state
from .profiling import Range, profiler_state
from .saved import RELEASED, holds_array
from .sparse_compressed import SparseCompressed
from .sparse_coo import SparseCOO
from .tensor import Tensor, _wrap
from .user_warnings import warn

if TYPE_CHECKING:
    from .compiler.tracing import Tracer


class GraphTask:
    """One backward walk as its hooks and checkpoints see it: its number, which nodes it will
    run, and whether it is limited to `inputs` (PyTorch's exec_info), in which case nodes off
    the paths to them do not run. Made by `_start_task`."""

    __slots__ = ("_accumulate_grad", "_dependencies", "_roots", "_should_execute", "id",
                 "limited")

    id: int
    limited: bool
    _accumulate_grad: bool
    _roots: set[Node]
    _dependencies: dict[Node, int]
    _should_execute: set[Node] | None

    def will_execute(self, node: Node | None) -> bool:
        """Whether this backward reaches `node` (PyTorch's _will_engine_execute_node)."""
        if node is None:
            return False
        if type(node) is AccumulateGrad and not self._accumulate_grad:
            raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are "
                               "currently running autograd.grad(). This is currently not "
                               "supported.")
        if self._should_execute is not None:
            return node in self._should_execute
        return node in self._roots or node in self._dependencies


class _RunningTasks(threading.local):
    def __init__(self) -> None:
        self.stack: list[GraphTask] = []  # a hook may call backward: innermost last


_running = _RunningTasks()
_task_ids = itertools.count()


def _start_task(roots: set[Node], dependencies: dict[Node, int],
                should_execute: set[Node] | None, accumulate_grad: bool,
                limited: bool) -> GraphTask:
    """A new GraphTask (made without a class call: one runs __init__ from C, which costs more
    than filling the fields here, once per backward)."""
    task = _new(GraphTask)
    task.id = next(_task_ids)
    task.limited = limited
    task._accumulate_grad = accumulate_grad
    task._roots = roots
    task._dependencies = dependencies
    task._should_execute = should_execute
    return task


_new = object.__new__


def current_graph_task() -> GraphTask | None:
    """The backward call running in this thread (the innermost), or None outside backward."""
    stack = _running.stack
    return stack[-1] if stack else None


def current_graph_task_id() -> int:
    """The number of the backward walk running in this thread (the innermost), -1 if none."""
    stack = _running.stack
    return stack[-1].id if stack else -1


def is_checkpoint_valid() -> bool:
    """Whether the walk running here (if any) runs every node of the graph, as a reentrant
    checkpoint's backward needs (PyTorch's Engine::is_checkpoint_valid)."""
    stack = _running.stack
    return not stack or not stack[-1].limited


def run_backward(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    accumulate_grad: bool = True,
    reach: Reach | None = None,
) -> list[Tensor | None] | None:
    """Backpropagate `grad_roots` from `roots`.

    accumulate_grad=True (`backward`): add into `.grad` of the leaves (only those in `inputs`
    when given; a non-leaf in `inputs` is made to retain its grad, as in PyTorch).
    accumulate_grad=False (`autograd.grad`): return the gradients of `inputs`, touching no
    leaf's `.grad`; `reach`, when given, is `reach_inputs(roots, inputs)` (not walked again).
    """
    # autodiff.compile recording this backward, if any (asked only while some thread traces)
    tracer = current_tracer() if tracing_state.tracer is not None else None
    if tracer is not None:
        tracer.backward_ran = True
    root_edges: list[tuple[Node, int, Tensor]] = []
    root_nodes: set[Node] = set()
    for root, grad in zip(roots, grad_roots):
        root_node = root._grad_fn or root._grad_accumulator()  # not the property: a call
        root_edges.append((root_node, root._output_nr, grad))
        root_nodes.add(root_node)
    # Compiled autograd (compiler/compiled_autograd.py), while enabled in this thread: the
    # whole backward as one compiled graph, when it is a plain `backward()`.
    compiler = backward_compiler.compiler
    if (compiler is not None and inputs is None and accumulate_grad and not create_graph
            and compiler.run(root_edges, root_nodes, retain_graph)):
        return None
    # With inputs: `should_execute` holds the nodes that take part, `needed` those that run.
    should_execute: set[Node] | None = None
    needed: set[Node] = set()
    every_edge = True  # every edge of a node that runs leads to one of `inputs` (or no inputs)
    ops_plain = inputs is None  # an op's node may take the walk's plain path
    # node -> [(output_nr, position in inputs)] whose gradient autograd.grad returns.
    captures: dict[Node, list[tuple[int, int]]] = {}
    if inputs is None:
        dependencies = _count_dependencies(root_nodes)
    else:
        targets: set[Node] = set()
        for position, tensor in enumerate(inputs):
            target = tensor._grad_fn or tensor._grad_accumulator()
            targets.add(target)
            if accumulate_grad:
                tensor.retain_grad()  # PyTorch: a non-leaf input's .grad is filled this way
            else:
                captures.setdefault(target, []).append((tensor._output_nr, position))
        if reach is not None:
            dependencies, needed, should_execute = (reach.dependencies, reach.needed,
                                                    reach.should_execute)
            # every node runs: those of op outputs need nothing of the general path when
            # no gradient is taken from one (every input a leaf)
            ops_plain = all(type(target) is AccumulateGrad for target in captures)
        else:
            dependencies, needed, should_execute, every_edge = _prune(root_nodes, targets,
                                                                       accumulate_grad)

    tasks = _running.stack  # read once: a thread-local attribute costs a lookup each time
    tasks.append(_start_task(root_nodes, dependencies, should_execute, accumulate_grad,
                             inputs is not None))
    try:
        return _walk(root_edges, retain_graph, create_graph, inputs, accumulate_grad,
                     dependencies, needed, should_execute, every_edge, captures, tracer,
                     ops_plain)
    finally:
        tasks.pop()


class Reach:
    """autograd.grad's walk worked out before it runs (`reach_inputs`): the dependency counts,
    the nodes that run and the nodes that take part. One run_backward uses it (its walk counts
    the dependencies down)."""

    __slots__ = ("dependencies", "needed", "should_execute")

    def __init__(self, dependencies: dict[Node, int], needed: set[Node],
                 should_execute: set[Node]) -> None:
        self.dependencies = dependencies
        self.needed = needed
        self.should_execute = should_execute


def reach_inputs(roots: Sequence[Tensor], inputs: Sequence[Tensor]) -> Reach | None:
    """For autograd.grad of `roots` (each requiring grad) w.r.t. `inputs`: the walk, when every
    end of the roots' graph is the node of one of `inputs` (no other tensor that requires grad
    lies below the roots); None when some end is not. A transform asks before its backward
    pass, to know whether the pass must be recorded for whoever differentiates further."""
    root_nodes = set()
    for root in roots:
        root_nodes.add(root._grad_fn or root._grad_accumulator())
    targets = set()
    for tensor in inputs:
        targets.add(tensor._grad_fn or tensor._grad_accumulator())
    found = _reach_targets(root_nodes, targets, False)
    return None if found is None else Reach(found[0], found[1], found[2])


def _walk(root_edges: list[Any], retain_graph: bool, create_graph: bool,
          inputs: Sequence[Tensor] | None, accumulate_grad: bool, dependencies: dict[Node, int],
          needed: set[Node], should_execute: set[Node] | None, every_edge: bool,
          captures: dict[Node, list[tuple[int, int]]], tracer: Tracer | None,
          ops_plain: bool) -> list[Tensor | None] | None:
    """The walk itself: run every ready node, latest-created first."""
    buffers: dict[Node, list[Any]] = {}
    # The gradients waiting for an AccumulateGrad that only the engine holds (see _made_here):
    # `.grad` may take them without a copy. A recorded backward never takes one (PyTorch).
    owned: set[Tensor] = set()
    for root_node, output_nr, grad in root_edges:
        _add_to_buffer(buffers, root_node, output_nr, grad, owned)  # the caller's: not owned
    # Ready nodes, latest-created first (PyTorch's ReadyQueue).
    heap: list[tuple[int, Node]] = []
    for waiting in buffers:
        if not dependencies.get(waiting) and (should_execute is None
                                              or waiting in should_execute):
            heap.append((-waiting._sequence_nr, waiting))
    # `ready`: the one node the last node made ready while nothing else waited. Taking it
    # straight away is what the heap would do, without the push and pop (a chain's case).
    ready: Node | None = heap.pop()[1] if len(heap) == 1 else None
    heapq.heapify(heap)
    captured: list[Tensor | None] = [None] * (len(inputs) if inputs is not None else 0)
    undo: list[Callable[[], None]] = []

    everything = should_execute is None
    taking_part: set[Node] = set() if should_execute is None else should_execute
    # A recorded backward's sums are not taken; autograd.grad fills no `.grad` (nothing to take)
    passed_owned = None if create_graph or not accumulate_grad else owned
    anomaly = anomaly_state.recording and anomaly_state.enabled
    profiling = profiler_state.active
    profiled_depth = profiler_state.depth() if profiling else 0
    evaluating: Range | None = None  # the profiler's range of the node running
    previous_parent = anomaly_state.parent
    previous_mode = grad_state.enabled
    grad_state.enabled = create_graph
    node: Node | None = None  # the node running, for anomaly mode's report
    # Anomaly mode: which nodes' backwards fed each node's gradient (for the NaN report).
    fed_by: dict[Node, list[Node]] = {}
    # No profiler, no anomaly mode, every node runs (`ops_plain`): an op's node without hooks
    # needs only its backward and the hand-over (the rest of the loop asks what this settles
    # once).
    plain = ops_plain and not anomaly and not profiling
    try:
        while True:
            if ready is not None:
                node, ready = ready, None
            elif heap:
                node = heapq.heappop(heap)[1]
            else:
                break
            if plain and type(node) is not AccumulateGrad and not node._hooked:
                grads = buffers.pop(node)
                if (grads[0] is None and (len(grads) == 1 or all(g is None for g in grads))
                        and not node._custom):  # no gradient reached a built-in op: skip it
                    input_grads = (None,) * len(node.next_functions)
                else:
                    input_grads = node._run_backward(grads)
                ready = _pass_on(node, grads, input_grads, buffers, dependencies, heap,
                                 passed_owned)
                del grads, input_grads  # as below: the buffers own the gradients now
                if not retain_graph and node._saved is not None and not node._keep_saved:
                    node._saved = RELEASED
                continue
            if profiling:
                profiler_state.end(evaluating)
                evaluating, running = profiler_state.begin_node(node, buffers[node])
            grads = buffers.pop(node)
            leaf = node if type(node) is AccumulateGrad else None  # one type test per node
            if leaf is not None:
                # A cast only for a leaf with a grad_dtype or a gradient of another dtype.
                first, variable = grads[0], leaf.variable
                if first is not None and (variable._grad_dtype_set
                                          or first._data.dtype is not variable._data.dtype):
                    grads = _to_grad_dtype(leaf, grads)
                del first, variable
            if not everything:
                if node not in needed:  # only captured: Tensor hooks, then the capture
                    if node._hooked:
                        grads = _run_tensor_hooks(node, grads, undo)
                    _capture(captures.get(node), grads, captured)
                    continue
                _capture(captures.get(node), grads, captured)
            hooked = node._hooked
            if hooked:
                if tracer is not None:
                    tracer.graph_break("a backward hook or retain_grad runs Python in backward")
                grads = _run_pre_hooks(node, grads, undo)
            if leaf is not None:
                grad = grads[0]
                take = not hooked and not create_graph and grad in owned
                owned.discard(grad)
                _accumulate(leaf, grad, create_graph, take, undo, tracer)
                del grad  # `.grad` (or its hook) owns it now: the engine keeps no reference
                if profiling:
                    profiler_state.end(running)
                if hooked and node._post_hooks is not None:  # hook(grad_inputs=(), grads)
                    _run_post_hooks(node, (), grads)
                continue
            if anomaly:
                anomaly_state.parent = node  # nodes made by a recorded backward point here
            if (grads[0] is None and (len(grads) == 1 or all(g is None for g in grads))
                    and not node._custom):  # no gradient reached a built-in op: skip it
                input_grads = (None,) * len(node.next_functions)
            elif every_edge or node._custom:  # a custom backward always runs
                input_grads = node._run_backward(grads)
            else:
                input_grads = _run_pruned(node, grads, taking_part)
            if profiling:
                profiler_state.end(running)
            if hooked and node._post_hooks is not None:
                input_grads = _run_post_hooks(node, input_grads, grads)
            if anomaly and anomaly_state.check_nan:
                _check_nan(node, input_grads, grads, fed_by)
            ready = _pass_on(node, grads, input_grads, buffers, dependencies, heap, passed_owned)
            if anomaly:
                _note_feeders(node, input_grads, fed_by)
            # The buffers own the gradients now: holding them here too would keep each one
            # (a weight's gradient, say) alive until the next node has run.
            del grads, input_grads
            if not retain_graph and node._saved is not None and not node._keep_saved:
                node._saved = RELEASED
        if profiling:
            profiler_state.end(evaluating)
    except BaseException:
        if profiling:
            profiler_state.unwind(profiled_depth)
        for put_back in reversed(undo):
            put_back()
        if anomaly and node is not None:
            _warn_anomaly(node)
        raise
    finally:
        grad_state.enabled = previous_mode
        if anomaly:
            anomaly_state.parent = previous_parent
    return captured if not accumulate_grad else None


# ------------------------------------------------------------------------------- discovery
def _count_dependencies(roots: set[Node]) -> dict[Node, int]:
    """One depth-first pass: the number of edges into every node below the roots.

    Each node's saved tensors are checked on the way, so the usual errors (freed buffers, an
    in-place change) are raised before anything has changed.
    """
    dependencies: dict[Node, int] = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node._saved:  # None or (): nothing to check
            node._check_saved()
        for child, _ in node.next_functions:
            if child is None:
                continue
            if child in dependencies:
                dependencies[child] += 1
            else:
                dependencies[child] = 1
                if child not in roots:
                    stack.append(child)
    return dependencies


def _prune(roots: set[Node], targets: set[Node], accumulate_grad: bool
           ) -> tuple[dict[Node, int], set[Node], set[Node], bool]:
    """With `inputs` (PyTorch's init_to_execute): which nodes take part and which run.

    A node runs (is needed) when one of its children takes part, or, for backward(inputs=...),
    when it is an input's node. A target node takes part even when it does not run (its
    gradient is captured). Returns the dependency counts among the nodes that take part, the
    needed nodes, the nodes that take part, and whether every edge of a needed node leads to
    a node that takes part (then each backward computes what it would without `inputs`).
    """
    reached = _reach_targets(roots, targets, accumulate_grad)
    if reached is not None:
        return reached
    # Post-order (children first) by an iterative depth-first walk.
    order: list[Node] = []
    seen: set[Node] = set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, children = stack[-1]
            for child, _ in children:
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    should_execute: set[Node] = set()
    needed: set[Node] = set()
    for node in order:
        for child, _ in node.next_functions:  # a loop, not any(): no call per node
            if child in should_execute:
                needed.add(node)
                should_execute.add(node)
                break
        else:
            if node not in targets:
                continue
            should_execute.add(node)
            if accumulate_grad:
                needed.add(node)
    dependencies: dict[Node, int] = {}
    for node in needed:
        if node._saved:
            node._check_saved()
        for child, _ in node.next_functions:
            if child is not None and child in should_execute:
                dependencies[child] = dependencies.get(child, 0) + 1
    return dependencies, needed, should_execute, False


def _reach_targets(roots: set[Node], targets: set[Node], accumulate_grad: bool
                   ) -> tuple[dict[Node, int], set[Node], set[Node], bool] | None:
    """`_prune`'s result in one pass of `_count_dependencies`'s kind, for the common graph
    whose every end (a node with no edge: a leaf's AccumulateGrad) is one of the targets:
    then every node reached has a path to a target, so all of them take part and every edge
    is kept. None when some end is not a target (then `_prune` walks in post-order)."""
    dependencies: dict[Node, int] = {}
    captured_only: set[Node] = set()  # targets with no edge: captured, run only by backward()
    stack = list(roots)
    while stack:
        node = stack.pop()
        end = True
        for child, _ in node.next_functions:
            if child is None:
                continue
            end = False
            if child in dependencies:
                dependencies[child] += 1
            else:
                dependencies[child] = 1
                if child not in roots:
                    stack.append(child)
        if end:
            if node not in targets:
                return None
            if not accumulate_grad:
                captured_only.add(node)
                continue
        if node._saved:  # None or (): nothing to check
            node._check_saved()
    should_execute = set(dependencies)
    should_execute.update(roots)
    return dependencies, should_execute - captured_only, should_execute, True


# ------------------------------------------------------------------------------- passing on
def _add_to_buffer(buffers: dict[Node, list[Any]], node: Node, output_nr: int, grad: Tensor,
                   owned: set[Tensor] | None) -> None:
    """Add `grad` into slot `output_nr` of `node`'s gradient buffer. A sum is a new Tensor only
    the engine holds: for an AccumulateGrad, it goes into `owned` (when given) in place of the
    gradients it summed."""
    buffer = buffers.get(node)
    if buffer is None:
        if node._num_outputs == 1:
            buffers[node] = [grad]
            return
        buffer = buffers[node] = [None] * node._num_outputs
    previous = buffer[output_nr]
    if previous is None:
        buffer[output_nr] = grad
        return
    summed = buffer[output_nr] = _sum(previous, grad)
    if owned is not None and type(node) is AccumulateGrad:
        owned.discard(previous)
        owned.discard(grad)
        # A 0-d sum may be a NumPy scalar: immutable, so `.grad` must not take it.
        if (not summed._batched and not isinstance(summed._data, LayoutData)
                and summed._backend.is_exclusive(summed._data)):
            owned.add(summed)


def _pass_on(node: Node, grads: list[Any], input_grads: tuple[Any, ...],
             buffers: dict[Node, list[Any]], dependencies: dict[Node, int],
             heap: list[tuple[int, Node]], owned: set[Tensor] | None) -> Node | None:
    """Hand `node`'s results to the nodes of its inputs: each gradient into its buffer; a node
    whose last edge this was is ready (with Nones if no gradient reached it). Returns the one
    node made ready when nothing else waits, to run next without the heap; the others go
    onto the heap."""
    ready = None
    index = -1  # into input_grads, one per edge (counted by hand: a zip costs more here)
    for child, output_nr in node.next_functions:
        index += 1
        if child is None:
            continue
        grad = input_grads[index]
        count = dependencies.get(child)
        if count is None:  # pruned: leads to none of `inputs`
            continue
        if grad is not None:
            if type(child) is AccumulateGrad:
                if owned is not None and _made_here(node, grad, grads, input_grads):
                    owned.add(grad)
                _add_to_buffer(buffers, child, output_nr, grad, owned)
            elif child not in buffers and child._num_outputs == 1:
                buffers[child] = [grad]  # the first gradient into a one-output node (a chain)
            else:
                _add_to_buffer(buffers, child, output_nr, grad, owned)
        elif count == 1 and child not in buffers:  # every gradient into it was None
            buffers[child] = [None] * child._num_outputs
        if count == 1:
            if ready is None and not heap:
                ready = child
            else:
                if ready is not None:
                    heapq.heappush(heap, (-ready._sequence_nr, ready))
                    ready = None
                heapq.heappush(heap, (-child._sequence_nr, child))
        else:  # a ready node's count is never read again (GraphTask asks only membership)
            dependencies[child] = count - 1
    return ready


def _made_here(node: Node, grad: Tensor, grads: list[Any], input_grads: tuple[Any, ...]
               ) -> bool:
    """Whether `grad`, one of `node`'s results `input_grads`, is a new gradient that only the
    engine holds, so a leaf's `.grad` may take it without a copy: a built-in backward made it
    (it is none of the gradients `grads` the backward was given, appears once among its
    results and is no saved tensor of the node) and its array owns its memory (not a view).
    A custom Function's backward and a node's post-hooks may return anything: their results
    are always copied."""
    if node._custom or node._post_hooks is not None or grad._batched:  # batched: vmap's
        return False
    data = grad._data
    # Gradients without one array (sparse, masked) are summed out of place, never stolen.
    if isinstance(data, LayoutData):
        return False
    for given in grads:
        if given is not None and (given is grad or given._data is data):
            return False
    seen = False
    for other in input_grads:
        if other is grad:
            if seen:
                return False
            seen = True
        elif other is not None and other._data is data:
            return False
    saved = node._saved
    if saved and saved is not RELEASED and holds_array(saved, data):
        return False
    return grad._backend.is_exclusive(data)


_SPARSE = (SparseCOO, SparseCompressed)


def _sum(first: Tensor, second: Tensor) -> Tensor:
    """first + second; a sparse one after a dense one (PyTorch adds sparse into dense only)."""
    if type(first._data) in _SPARSE and type(second._data) not in _SPARSE:
        return second + first
    return first + second


# ------------------------------------------------------------------------------- running a node
def _run_pruned(node: Node, grads: list[Any], should_execute: set[Node]) -> tuple[Any, ...]:
    """A built-in node's backward with only the edges that lead somewhere asked for: its
    formula skips the rest (PyTorch's task_should_compute_output), and the rest are None."""
    edges = node.next_functions
    wanted = tuple([child is not None and child in should_execute for child, _ in edges])
    if not any(wanted):
        return (None,) * len(edges)
    saved_needs = node.needs_input_grad  # None for CopySlices: its op's are its own
    if saved_needs is None or wanted == saved_needs:
        input_grads = node._run_backward(grads)
        return tuple([grad if keep else None for grad, keep in zip(input_grads, wanted)])
    node.needs_input_grad = tuple([a and b for a, b in zip(wanted, saved_needs)])
    try:
        input_grads = node._run_backward(grads)
    finally:
        node.needs_input_grad = saved_needs
    return tuple([grad if keep else None for grad, keep in zip(input_grads, wanted)])


def _capture(positions: list[tuple[int, int]] | None, grads: list[Any],
             captured: list[Tensor | None]) -> None:
    if positions is not None:
        for output_nr, position in positions:
            captured[position] = grads[output_nr]


# ------------------------------------------------------------------------------- hooks
def _run_tensor_hooks(node: Node, grads: list[Any], undo: list[Callable[[], None]]
                      ) -> list[Any]:
    """The hooks of the Tensors this node produced (a leaf's own hooks for AccumulateGrad), in
    registration order (called with None when no gradient arrived, as in PyTorch), then
    retain_grad (which sees the hooked value)."""
    hooks = node.tensor_hooks()
    if hooks:
        grads = list(grads)
        for output_nr, hook in hooks:
            grads[output_nr] = _call_tensor_hook(hook, grads[output_nr])
    for output_nr, tensor in node.retained_tensors():
        if grads[output_nr] is not None:
            _store_grad(tensor, grads[output_nr], undo)
    return grads


def _call_tensor_hook(hook: Any, grad: Tensor | None) -> Tensor | None:
    result = hook(grad)
    if result is None:
        return grad
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if grad is not None and result._data.shape != grad._data.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
    return result


def _run_pre_hooks(node: Node, grads: list[Any], undo: list[Callable[[], None]]) -> list[Any]:
    """Tensor hooks and retain_grad, then the node's own pre-hooks (`hook(grad_outputs)`)."""
    grads = _run_tensor_hooks(node, grads, undo)
    if node._pre_hooks:
        for hook in list(node._pre_hooks):
            replaced = hook(tuple(grads))
            if replaced is not None:
                grads = list(_check_hook_result(hook, replaced, len(grads)))
    return grads


def _run_post_hooks(node: Node, input_grads: tuple[Any, ...], grads: list[Any]
                    ) -> tuple[Any, ...]:
    """`hook(grad_inputs, grad_outputs)`, which may return new grad_inputs."""
    for hook in list(node._post_hooks or ()):
        replaced = hook(input_grads, tuple(grads))
        if replaced is not None:
            input_grads = _check_hook_result(hook, replaced, len(input_grads))
    return input_grads


def _check_hook_result(hook: Any, result: Any, expected: int) -> tuple[Any, ...]:
    result = tuple(result)
    if len(result) != expected:
        raise RuntimeError(
            f"hook '{_hook_name(hook)}' has returned an incorrect number of values (got "
            f"{len(result)}, but expected {expected})"
        )
    return result


def _hook_name(hook: Any) -> str:
    return getattr(hook, "__name__", type(hook).__name__)


# ------------------------------------------------------------------------------- into .grad
def _to_grad_dtype(node: AccumulateGrad, grads: list[Any]) -> list[Any]:
    """A leaf's gradient cast to its grad_dtype (set to another dtype than the leaf's), before
    its hooks, autograd.grad's capture and `.grad` see it, as PyTorch's validate_outputs does."""
    grad = grads[0]
    if grad is None:
        return grads
    variable = node.variable
    target = variable.accumulated_grad_dtype()
    if target is None or grad.dtype == target:
        return grads
    return [grad.to(target), *grads[1:]]


def _accumulate(node: AccumulateGrad, grad: Tensor | None, create_graph: bool, take: bool,
                undo: list[Callable[[], None]], tracer: Tracer | None,
                post_hooks: bool = True) -> None:
    """AccumulateGrad: add `grad` into the leaf's `.grad` (PyTorch's accumulateGrad), under
    the node's lock: backward passes in other threads may be adding into the same `.grad`.

    A first gradient is taken as it is when `take` (only the engine holds it), else copied;
    under create_graph it is a recorded copy (CopyBackwards), as in PyTorch. Later ones are
    added in place (arrays and views taken from `.grad` see the sum), or out of place,
    recorded, under create_graph. Then the leaf's post-accumulate-grad hooks, unless
    `post_hooks` is False (compiled autograd calls them itself).
    """
    if grad is None:
        return
    variable = node.variable
    if tracer is not None:  # autodiff.compile: the step writes this leaf's .grad
        tracer.grad_leaves.append(variable)
    lock = node.lock
    lock.acquire()  # not `with`: its __exit__, a call from C, costs as much again
    try:
        old = variable._grad
        if old is None:
            if take:
                new = grad
            elif isinstance(grad._data, LayoutData):  # sparse, masked: no one array to copy
                new = grad.clone()
            elif create_graph:
                new = _wrap(grad._backend.zeros_like(grad._data), grad._backend).copy_(grad)
            else:
                new = _wrap(grad._backend.asarray(grad._data, copy=True), grad._backend)
            variable._grad = new
            undo.append(node.forget_grad)  # a bound method: cheaper to make than a _PutBack
        elif create_graph or isinstance(grad._data, LayoutData) \
                or isinstance(old._data, LayoutData):
            variable._grad = _sum(old, grad)
            undo.append(_PutBack(node, variable, old))
        else:
            _add_in_place(node, old, grad, undo)
        if post_hooks and variable._post_accumulate_hooks:
            for hook in list(variable._post_accumulate_hooks):
                hook(variable)
    finally:
        lock.release()


def _add_in_place(node: AccumulateGrad, old: Tensor, grad: Tensor,
                  undo: list[Callable[[], None]]) -> None:
    """`.grad += grad` in its own array. A copy of the old values lets a failed backward put
    them back (the same cost as adding out of place)."""
    backend, data = old._backend, old._data
    saved = backend.asarray(data, copy=True)
    try:
        summed = data
        summed += grad._data
        if summed is not data:  # an immutable scalar: `+=` made a new object
            raise TypeError
    except (ValueError, TypeError):  # a read-only `.grad` a user assigned: out of place
        old._data = backend.add(data, grad._data)
        undo.append(_PutBackData(node, old, data))
    else:
        undo.append(_Restore(node, backend, data, saved))
    old._bump_version()


def _store_grad(tensor: Tensor, grad: Tensor, undo: list[Callable[[], None]]) -> None:
    """retain_grad: a copy (recorded under create_graph, as PyTorch's clone) or a sum."""
    old = tensor._grad
    undo.append(_PutBack(None, tensor, old))
    tensor._grad = grad.clone() if old is None else old + grad


class _PutBack:
    """Undo: `tensor.grad` back to what it was (under the leaf's lock, when it has one)."""

    __slots__ = ("grad", "node", "tensor")

    def __init__(self, node: AccumulateGrad | None, tensor: Tensor, grad: Tensor | None) -> None:
        self.node, self.tensor, self.grad = node, tensor, grad

    def __call__(self) -> None:
        if self.node is None:
            self.tensor._grad = self.grad
            return
        with self.node.lock:
            self.tensor._grad = self.grad


class _PutBackData:
    """Undo of an out-of-place accumulation into a read-only `.grad`: its old array back."""

    __slots__ = ("data", "grad", "node")

    def __init__(self, node: AccumulateGrad, grad: Tensor, data: Any) -> None:
        self.node, self.grad, self.data = node, grad, data

    def __call__(self) -> None:
        with self.node.lock:
            self.grad._data = self.data


class _Restore:
    """Undo of an in-place accumulation: write the saved values back into the same array."""

    __slots__ = ("backend", "data", "node", "saved")

    def __init__(self, node: AccumulateGrad, backend: Any, data: Any, saved: Any) -> None:
        self.node, self.backend, self.data, self.saved = node, backend, data, saved

    def __call__(self) -> None:
        with self.node.lock:
            self.backend.setitem(self.data, (...,), self.saved)


# ------------------------------------------------------------------------------- anomaly mode
def _note_feeders(node: Node, input_grads: tuple[Any, ...], fed_by: dict[Node, list[Node]]
                  ) -> None:
    for (child, _), grad in zip(node.next_functions, input_grads):
        if child is not None and grad is not None:
            fed_by.setdefault(child, []).append(node)


def _check_nan(node: Node, input_grads: tuple[Any, ...], grads: list[Any],
               fed_by: dict[Node, list[Node]]) -> None:
    """PyTorch's check: a NaN in a node's results raises naming the node. When the gradient
    that reached the node was zero where the NaN is, the NaN is 0 times a non-finite local
    derivative; if a `where`/`masked_fill` above it made that zero (the where trap), the
    message says so and gives the fix."""
    for index, grad in enumerate(input_grads):
        if grad is None:
            continue
        backend = grad._backend
        nan = backend.isnan(grad._data)
        if backend.any_true(nan):
            message = f"Function '{node.name()}' returned nan values in its {index}th output."
            if _zero_gradient_at(nan, grads, backend):
                message += _where_trap(node, fed_by)
            raise RuntimeError(message)


def _zero_gradient_at(nan: Any, grads: list[Any], backend: Any) -> bool:
    """Whether some gradient the node received is zero wherever its result is NaN (elementwise
    when the shapes agree, anywhere otherwise)."""
    for grad in grads:
        if grad is None:
            continue
        data = grad._data
        zero = backend.equal(data, backend.zeros_like(data))
        if backend.any_true(backend.isnan(data)):
            continue  # the NaN came in from above: not this node's doing
        if tuple(data.shape) == tuple(nan.shape):
            if backend.all_true(backend.logical_or(zero, backend.logical_not(nan))):
                return True
        elif backend.any_true(zero):
            return True
    return False


# The ops whose backward hands a zero gradient to the branch they did not select.
_MASKING = ("WhereBackward0", "MaskedFillBackward0", "MaskedFillBackward1")


def _where_trap(node: Node, fed_by: dict[Node, list[Node]]) -> str:
    """The hint for a NaN made from a zero gradient: the masking node above `node` (searched
    through the nodes whose backwards fed it), its forward traceback, and the fix."""
    seen = {node}
    queue = list(fed_by.get(node, ()))
    mask = None
    while queue and len(seen) < 256:
        feeder = queue.pop(0)
        if feeder in seen:
            continue
        seen.add(feeder)
        if feeder.name() in _MASKING:
            mask = feeder
            break
        queue.extend(fed_by.get(feeder, ()))
    if mask is None:
        return ""  # PyTorch's message as it is
    op = "where" if mask.name() == "WhereBackward0" else "masked_fill"
    text = (
        f" It comes from a branch masked by {op} ({mask.name()}): {op} passes a zero gradient "
        f"to the values it did not select, and {node.name()}'s local derivative is not finite "
        "at those values, so 0 * inf = nan. Computing both branches and selecting afterwards "
        "does not keep the unselected branch out of the gradient; make its input safe too (the "
        "double-where fix): where(x > 0, log(where(x > 0, x, 1)), 0) instead of "
        "where(x > 0, log(x), 0)."
    )
    if mask._anomaly_trace is not None:
        text += f"\nThe {op} was called at:\n" + "".join(mask._anomaly_trace[-3:])
    return text


def _warn_anomaly(node: Node) -> None:
    """PyTorch's print_stack: where the failing node (and each node whose recorded backward
    made it) was created."""
    current: Node | None = node
    first = True
    while current is not None:
        trace = current._anomaly_trace
        if first and trace is None:
            warn(
                f"Error detected in {current.name()}. No forward pass information available. "
                "Enable detect anomaly during forward pass for more information.",
                stacklevel=3,
            )
            return
        if trace is None:
            return
        if first:
            message = (f"Error detected in {current.name()}. Traceback of forward call that "
                       f"caused the error:\n{''.join(trace)}")
        else:
            message = (f"\n\nPrevious calculation was induced by {current.name()}. Traceback of "
                       f"forward call that induced the previous calculation:\n{''.join(trace)}")
        warn(message, stacklevel=3)
        first = False
        current = current._anomaly_parent
