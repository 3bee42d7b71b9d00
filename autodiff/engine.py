"""The backward engine. One entry: `run_backward`. `Tensor.backward`, `autograd.backward` and
`autograd.grad` only normalise their arguments and call it.

How the walk goes:

1. Roots. Each output tensor becomes an edge (its `grad_fn`, or its leaf's `AccumulateGrad`, and
   its output number) carrying a starting gradient.
2. Discovery. An iterative depth-first pass over `next_functions` counts the edges into every
   node (its dependencies) and checks that each node's saved tensors are still there and
   unmodified, so the usual errors surface before anything has changed. With `inputs`, only the
   nodes on a path to one of them are kept.
3. Execution. Ready nodes wait in a heap ordered by creation number, latest first (PyTorch's
   sequence_nr). A node's gradient buffer (one slot per output) is complete when its count
   reaches zero; the engine runs its hooks and its `backward`, adds each result into the buffer
   of the next node, and frees the node's saved tensors unless `retain_graph`.
   `AccumulateGrad` nodes add into `.grad`; for `autograd.grad` the gradient is captured instead.
4. Grad mode during the walk is `create_graph`: only then are the backward ops recorded.

If anything raises during the walk, the `.grad` fields it changed are put back.
No recursion anywhere: a chain of 100,000 ops is fine.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Sequence
from typing import Any

from .function import _RELEASED, AccumulateGrad, Node
from .grad_mode import state as grad_state
from .tensor import Tensor, _wrap

# sys.getrefcount of a gradient that only the engine holds (see _accumulate): the `grads` buffer,
# the local name in _accumulate and getrefcount's own argument.
_ENGINE_REFS = 3


def run_backward(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    accumulate_grad: bool = True,
) -> list[Tensor | None] | None:
    """Backpropagate `grad_roots` from `roots`.

    accumulate_grad=True (`backward`): add into `.grad` of the leaves (only those in `inputs`
    when given). accumulate_grad=False (`autograd.grad`): return the gradients of `inputs`,
    touching no `.grad`.
    """
    root_edges = [
        (root.grad_fn or root._grad_accumulator(), root._output_nr, grad)
        for root, grad in zip(roots, grad_roots)
    ]
    # (node, output_nr) -> positions in `inputs` whose gradient arrives there.
    captures: dict[tuple[Node, int], list[int]] = {}
    if inputs is not None:
        for position, tensor in enumerate(inputs):
            node = tensor.grad_fn or tensor._grad_accumulator()
            captures.setdefault((node, tensor._output_nr), []).append(position)
    root_nodes = {edge[0] for edge in root_edges}
    if inputs is None:
        dependencies = _count_dependencies(root_nodes)
        executable = None
    else:
        dependencies, executable = _prune(root_nodes, captures)

    buffers: dict[Node, list[Any]] = {}
    for node, output_nr, grad in root_edges:
        _add_to_buffer(buffers, node, output_nr, grad)
    heap = [(-node._sequence_nr, node) for node in buffers if not dependencies.get(node)]
    heapq.heapify(heap)
    captured: list[Tensor | None] = [None] * (len(inputs) if inputs is not None else 0)
    undo: list[tuple[Tensor, Tensor | None, Any]] = []
    input_grads: tuple[Any, ...] | None = None

    heappop, heappush = heapq.heappop, heapq.heappush
    previous_mode = grad_state.enabled
    grad_state.enabled = create_graph
    try:
        while heap:
            node = heappop(heap)[1]
            grads = buffers.pop(node)
            if node._hooked:
                grads = _run_pre_hooks(node, grads, undo)
            if captures:
                for (capture_node, output_nr), positions in captures.items():
                    if capture_node is node:
                        for position in positions:
                            captured[position] = grads[output_nr]
                        if accumulate_grad and type(node) is not AccumulateGrad:
                            _retain_input_grads(grads[output_nr], inputs, positions, undo)
                if node not in executable:  # type: ignore[operator]
                    continue
            if type(node) is AccumulateGrad:
                # Drop this frame's other references to the gradient (the buffer, the previous
                # node's results) so _accumulate can tell whether anyone else holds it.
                grad = grads[0]
                grads = input_grads = None  # type: ignore[assignment]
                _accumulate(node.variable, grad, create_graph, undo)
                continue
            if grads[0] is None and (len(grads) == 1 or all(g is None for g in grads)):
                input_grads = (None,) * len(node.next_functions)
            else:
                input_grads = node._run_backward(grads)  # type: ignore[attr-defined]
                if node._hooked and node._post_hooks is not None:
                    input_grads = _run_post_hooks(node, input_grads, grads)
            if not retain_graph and node._saved is not None:
                node._saved = _RELEASED
            for (child, output_nr), grad in zip(node.next_functions, input_grads):
                if child is None:
                    continue
                count = dependencies.get(child)
                if count is None:  # pruned: leads to none of `inputs`
                    continue
                if grad is not None:
                    buffer = buffers.get(child)
                    if buffer is None:
                        if child._num_outputs == 1:
                            buffers[child] = [grad]
                        else:
                            buffer = buffers[child] = [None] * child._num_outputs
                            buffer[output_nr] = grad
                    elif buffer[output_nr] is None:
                        buffer[output_nr] = grad
                    else:
                        buffer[output_nr] = buffer[output_nr] + grad
                if count == 1:
                    if child not in buffers:  # every gradient into it was None
                        buffers[child] = [None] * child._num_outputs
                    heappush(heap, (-child._sequence_nr, child))
                dependencies[child] = count - 1
    except BaseException:
        for tensor, old_grad, old_data in reversed(undo):
            tensor._grad = old_grad
            if old_grad is not None and old_data is not None:
                old_grad._data = old_data
        raise
    finally:
        grad_state.enabled = previous_mode
    return captured if not accumulate_grad else None


def _run_post_hooks(node: Node, input_grads: tuple[Any, ...], grads: list[Any]
                    ) -> tuple[Any, ...]:
    for hook in node._post_hooks or ():
        replaced = hook(input_grads, tuple(grads))
        if replaced is not None:
            input_grads = tuple(replaced)
    return input_grads


def _count_dependencies(roots: set[Node]) -> dict[Node, int]:
    """One depth-first pass: the number of edges into every node below the roots.

    Each node's saved tensors are checked on the way, so the usual errors (freed buffers, an
    in-place change) are raised before anything has changed.
    """
    dependencies: dict[Node, int] = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node._saved is not None:  # type: ignore[attr-defined]
            node._check_saved()  # type: ignore[attr-defined]
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


def _prune(roots: set[Node], captures: dict[tuple[Node, int], list[int]]
           ) -> tuple[dict[Node, int], set[Node]]:
    """With `inputs`: keep the nodes on a path to one of them. Returns the dependency counts
    among kept nodes and the nodes to execute (a captured non-leaf node is kept, not run,
    unless it leads further to another input)."""
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    # A node's inputs were created before it, so creation order visits children first; leaves
    # (AccumulateGrad, numbered last so they run first) have no children and go first here.
    targets = {node for node, _ in captures}
    needed: set[Node] = set()
    executable: set[Node] = set()
    in_creation_order = sorted(
        seen, key=lambda n: -1 if type(n) is AccumulateGrad else n._sequence_nr
    )
    for node in in_creation_order:
        if any(child in needed for child, _ in node.next_functions):
            needed.add(node)
            executable.add(node)
        elif node in targets:
            needed.add(node)
            if type(node) is AccumulateGrad:
                executable.add(node)
    dependencies: dict[Node, int] = {}
    for node in executable:
        if node._saved is not None:  # type: ignore[attr-defined]
            node._check_saved()  # type: ignore[attr-defined]
        for child, _ in node.next_functions:
            if child is not None and child in needed:
                dependencies[child] = dependencies.get(child, 0) + 1
    return dependencies, executable


def _add_to_buffer(buffers: dict[Node, list[Any]], node: Node, output_nr: int, grad: Tensor) -> None:
    buffer = buffers.get(node)
    if buffer is None:
        buffer = buffers[node] = [None] * node._num_outputs
    previous = buffer[output_nr]
    buffer[output_nr] = grad if previous is None else previous + grad


def _accumulate(variable: Tensor, grad: Tensor | None, create_graph: bool,
                undo: list[tuple[Tensor, Tensor | None, Any]]) -> None:
    """AccumulateGrad: add `grad` into `variable.grad` (PyTorch's accumulateGrad)."""
    if variable._hooks:
        for hook in variable._hooks:
            replaced = hook(grad)
            if replaced is not None:
                grad = replaced
    if grad is None:
        return
    old = variable._grad
    if old is None:
        if create_graph:
            new = grad  # keeps its graph, so the gradient can be differentiated again
        elif (sys.getrefcount(grad) <= _ENGINE_REFS and sys.getrefcount(grad._data) <= 2
              and grad._backend.is_exclusive(grad._data)):
            new = grad  # nobody else can see this array: take it instead of copying
        else:
            new = _wrap(grad._backend.asarray(grad._data, copy=True), grad._backend)
        variable._grad = new
        undo.append((variable, None, None))
    elif create_graph:
        variable._grad = old + grad
        undo.append((variable, old, None))
    else:
        # Out of place, then swapped into the same Tensor: users holding `.grad` see the sum,
        # and a failed backward can put the old array back.
        undo.append((variable, old, old._data))
        old._data = old._backend.add(old._data, grad._data)
        old._bump_version()
    if variable._post_accumulate_hooks:
        for hook in variable._post_accumulate_hooks:
            hook(variable)


def _run_pre_hooks(node: Node, grads: list[Any], undo: list[Any]) -> list[Any]:
    """Hooks on the node's output Tensors, retain_grad() (which sees the hooked gradient),
    then the node's own pre-hooks."""
    if node._tensor_hooks is not None:
        for output_nr, hooks in node._tensor_hooks.items():
            for hook in hooks:
                if grads[output_nr] is None:
                    break
                replaced = hook(grads[output_nr])
                if replaced is not None:
                    grads[output_nr] = replaced
    if node._retained is not None:
        for output_nr, reference in node._retained.items():
            tensor = reference()
            if tensor is not None and grads[output_nr] is not None:
                _store_grad(tensor, grads[output_nr], undo)
    if node._pre_hooks is not None:
        for hook in node._pre_hooks:
            replaced = hook(tuple(grads))
            if replaced is not None:
                grads = list(replaced)
    return grads


def _retain_input_grads(grad: Tensor | None, inputs: Sequence[Tensor] | None,
                        positions: list[int], undo: list[Any]) -> None:
    """backward(inputs=[non-leaf]) accumulates into that tensor's .grad, as PyTorch does."""
    if inputs is None or grad is None:
        return
    for position in positions:
        _store_grad(inputs[position], grad, undo)


def _store_grad(tensor: Tensor, grad: Tensor, undo: list[Any]) -> None:
    old = tensor._grad
    undo.append((tensor, old, None))
    if old is None:
        tensor._grad = grad if grad_state.enabled else _wrap(
            grad._backend.asarray(grad._data, copy=True), grad._backend)
    else:
        tensor._grad = old + grad
