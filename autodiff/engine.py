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

from .function import AccumulateGrad, Function, Node
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
    dependencies, executable = _discover([edge[0] for edge in root_edges], captures, inputs)
    for node in executable:
        if isinstance(node, Function):
            node._check_saved()

    buffers: dict[Node, list[Any]] = {}
    for node, output_nr, grad in root_edges:
        _add_to_buffer(buffers, node, output_nr, grad)
    heap = [(-node._sequence_nr, node) for node in buffers if not dependencies.get(node)]
    heapq.heapify(heap)
    captured: list[Tensor | None] = [None] * (len(inputs) if inputs is not None else 0)
    undo: list[tuple[Tensor, Tensor | None, Any]] = []

    previous_mode = grad_state.enabled
    grad_state.enabled = create_graph
    try:
        while heap:
            node = heapq.heappop(heap)[1]
            grads = buffers.pop(node)
            if node._tensor_hooks is not None or node._retained is not None:
                _run_tensor_hooks(node, grads, undo)
            if captures:
                for (capture_node, output_nr), positions in captures.items():
                    if capture_node is node:
                        for position in positions:
                            captured[position] = grads[output_nr]
                        if not accumulate_grad or type(node) is not AccumulateGrad:
                            _retain_input_grads(node, output_nr, grads, inputs, positions,
                                                accumulate_grad, undo)
            if node not in executable:
                continue
            if node._pre_hooks is not None:
                for hook in node._pre_hooks:
                    replaced = hook(tuple(grads))
                    if replaced is not None:
                        grads = list(replaced)
            if type(node) is AccumulateGrad:
                grad = grads[0]
                grads = None  # so _accumulate can tell whether anyone else holds the gradient
                _accumulate(node.variable, grad, create_graph, undo)
                continue
            if all(grad is None for grad in grads):
                input_grads: tuple[Any, ...] = (None,) * len(node.next_functions)
            else:
                input_grads = node._run_backward(grads)  # type: ignore[attr-defined]
            if node._post_hooks is not None:
                for hook in node._post_hooks:
                    replaced = hook(input_grads, tuple(grads))
                    if replaced is not None:
                        input_grads = tuple(replaced)
            if not retain_graph:
                node._release_saved()  # type: ignore[attr-defined]
            for (child, output_nr), grad in zip(node.next_functions, input_grads):
                if child is None or child not in dependencies:
                    continue
                if grad is not None:
                    _add_to_buffer(buffers, child, output_nr, grad)
                remaining = dependencies[child] - 1
                dependencies[child] = remaining
                if remaining == 0:
                    if child not in buffers:  # every gradient into it was None
                        buffers[child] = [None] * child._num_outputs
                    heapq.heappush(heap, (-child._sequence_nr, child))
    except BaseException:
        for tensor, old_grad, old_data in reversed(undo):
            tensor._grad = old_grad
            if old_grad is not None and old_data is not None:
                old_grad._data = old_data
        raise
    finally:
        grad_state.enabled = previous_mode
    return captured if not accumulate_grad else None


def _discover(
    roots: list[Node], captures: dict[tuple[Node, int], list[int]],
    inputs: Sequence[Tensor] | None,
) -> tuple[dict[Node, int], set[Node]]:
    """Count the edges into each node; return the counts and the set of nodes to execute."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    if inputs is None:
        executable = seen
    else:
        # A node is needed when it is a capture point or leads to one. A node's inputs were
        # created before it, so walking in creation order visits children before parents.
        targets = {node for node, _ in captures}
        needed = set()
        executable = set()
        for node in sorted(seen, key=lambda n: n._sequence_nr):
            if any(child in needed for child, _ in node.next_functions):
                needed.add(node)
                executable.add(node)
            elif node in targets:
                needed.add(node)
                if type(node) is AccumulateGrad:
                    executable.add(node)
        seen = needed
    dependencies: dict[Node, int] = {}
    for node in seen:
        if node in executable:
            for child, _ in node.next_functions:
                if child is not None and child in seen:
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


def _run_tensor_hooks(node: Node, grads: list[Any], undo: list[Any]) -> None:
    """Hooks registered on non-leaf Tensors, then retain_grad() (which sees the hooked grad)."""
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


def _retain_input_grads(node: Node, output_nr: int, grads: list[Any],
                        inputs: Sequence[Tensor] | None, positions: list[int],
                        accumulate_grad: bool, undo: list[Any]) -> None:
    """backward(inputs=[non-leaf]) accumulates into that tensor's .grad, as PyTorch does."""
    if not accumulate_grad or inputs is None or grads[output_nr] is None:
        return
    for position in positions:
        _store_grad(inputs[position], grads[output_nr], undo)


def _store_grad(tensor: Tensor, grad: Tensor, undo: list[Any]) -> None:
    old = tensor._grad
    undo.append((tensor, old, None))
    if old is None:
        tensor._grad = grad if grad_state.enabled else _wrap(
            grad._backend.asarray(grad._data, copy=True), grad._backend)
    else:
        tensor._grad = old + grad
