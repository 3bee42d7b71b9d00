"""Compiled autograd (PyTorch's torch._dynamo.compiled_autograd): a whole `backward()` captured
as one autodiff.fx graph, handed to a compiler function, and the compiled result reused by every
later backward whose graph has the same structure.

While `enable(compiler_fn)` is open in a thread (or `torch._dynamo.config.compiled_autograd` is
set and a compiled function runs), the engine hands each `backward()` here (`BackwardCompiler.
run`). The walk:

1. Schedule. The nodes below the roots are put in the order the engine would run them
   (dependency counts, then a heap on the creation number, latest first), and their saved
   tensors checked as the engine checks them.
2. Key and inputs. One pass over that order makes the graph's key and its run-time inputs. What
   a node's backward reads that can change from one backward to the next is lifted out of the
   node into the graph's inputs: the root gradients, each node's saved tensors (unpacked, as
   its backward would read them) and any Tensor or array it keeps as an attribute, and each
   leaf that takes a gradient. Everything else a backward reads (the op, its edges, its inputs'
   shapes and dtypes, the Python values it kept) is the key, as are the hooks' places (the hooks
   themselves are run-time inputs too).
3. Cache. A known key runs its compiled graph on the new inputs. A new key captures the graph
   (below), hands it to `compiler_fn` once, and keeps what that returns.
4. Run. The compiled graph runs with grad mode off, as the engine's walk does; the `.grad`
   fields it changed are put back if it raises; the nodes' saved tensors are freed afterwards
   unless `retain_graph`.

The captured graph is a GraphModule, `forward(self, inputs, sizes, scalars, hooks)` (PyTorch's
signature; autodiff specializes on sizes and scalars, so those two lists are empty): each node
is one call (`torch__dynamo_compiled_autograd_ops_<NodeName>`) that runs the node's own
backward on a copy of the node holding the lifted values; gradients into one slot are summed
in the engine's order; `call_accumulate_grad` adds into a leaf's `.grad`; `call_hook` runs a
hook where the engine would (a Tensor's hooks, retain_grad, the node's pre-hooks, then its
backward, its post-hooks; a leaf's post-accumulate-grad hooks after its accumulation). The ops
and their order are the engine's, so the gradients are eager's bit for bit.

With `autodiff.compile` as the compiler function, the graph is traced into a program like any
compiled function: a backward with hooks runs the graph eagerly (a hook is a graph break, as
everywhere in autodiff.compile), still with the engine's ordering.

The engine's own walk runs instead for `create_graph=True`, `autograd.grad`,
`backward(inputs=...)`, and while anomaly mode, the profiler, vmap or a forward-AD level is on.
"""

from __future__ import annotations

import heapq
import logging
import operator
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import backends

from .. import engine
from ..batching.levels import levels as vmap_levels
from ..dual import state as dual_state
from ..function import Function
from ..grad_mode import state as grad_state
from ..layout_dispatch import LayoutData
from ..nn.modules.module import Module
from ..node import AccumulateGrad, Node, anomaly_state
from ..ops.views import CopySlices
from ..profiling import profiler_state
from ..saved import RELEASED, SavedTensor
from ..tensor import Tensor, _wrap
from . import switches, tracing

_log = logging.getLogger("autodiff.compile.compiled_autograd")
_verbose_log = logging.getLogger("autodiff.compile.compiled_autograd_verbose")


class _Logs:
    """Which compiled-autograd artifacts are logged (`autodiff._logging.set_logs`)."""

    compiled_autograd = False
    compiled_autograd_verbose = False


logs = _Logs()

# A node's attributes that are the engine's bookkeeping, not what its backward reads.
_BOOKKEEPING = frozenset((
    "_sequence_nr", "next_functions", "_saved", "_to_save", "_pre_hooks", "_post_hooks",
    "_tensor_hooks", "_retained", "_hooked", "_anomaly_trace", "_anomaly_parent", "_metadata",
    "_replay",
    # (unpacks a saved output; the walk unpacks every saved tensor before the graph runs)
    "_unpack_output"))


class _Slot:
    """Where a lifted value goes back into a node: a Tensor, or an array (the Tensor's data)."""

    __slots__ = ("array",)

    def __init__(self, array: bool) -> None:
        self.array = array

    def __repr__(self) -> str:
        return "<array input>" if self.array else "<tensor input>"


_TENSOR = _Slot(False)
_ARRAY = _Slot(True)


# ------------------------------------------------------------------------------ the switch
class BackwardCompiler:
    """What `enable` installs in the thread's `switches.backward`: the compiler function, and
    the run the engine hands each eligible backward to."""

    def __init__(self, compiler_fn: Callable[..., Any]) -> None:
        self.compiler_fn = compiler_fn

    def run(self, root_edges: list[tuple[Node, int, Tensor]], root_nodes: set[Node],
            retain_graph: bool) -> bool:
        """Run this backward through a compiled graph; False leaves it to the engine."""
        if (anomaly_state.recording or profiler_state.active or dual_state.enabled
                or vmap_levels.depth):
            return False
        dependencies = engine._count_dependencies(root_nodes)  # also checks the saved tensors
        order = _schedule(root_nodes, dependencies)
        walk = _Walk(order, root_edges)
        if not walk.supported:
            return False
        entry = CACHE.get(walk.key)
        if entry is None:
            entry = _capture(walk, self.compiler_fn)
        tasks = engine._running.stack
        tasks.append(engine._start_task(root_nodes, dependencies, None, True, False))
        undo: list[Callable[[], None]] = []
        previous_undo, _run_state.undo = _run_state.undo, undo
        previous_mode, grad_state.enabled = grad_state.enabled, False
        try:
            entry(walk.inputs, [], [], walk.hooks)
        except BaseException:
            for put_back in reversed(undo):
                put_back()
            raise
        finally:
            grad_state.enabled = previous_mode
            _run_state.undo = previous_undo
            tasks.pop()
        if not retain_graph:
            for node in order:
                if node._saved is not None and not node._keep_saved:
                    node._saved = RELEASED
        return True


class _RunState(threading.local):
    # The running graph's undo log: how to put back each `.grad` it changed, if it raises.
    undo: list[Callable[[], None]] | None = None


_run_state = _RunState()


class _Cache(switches.Forgetful):
    """The compiled graphs, by key; `reset()` (and torch._dynamo.reset) forgets them."""

    def __init__(self) -> None:
        self.entries: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def get(self, key: tuple[Any, ...]) -> Callable[..., Any] | None:
        return self.entries.get(key)

    def forget(self) -> None:
        self.entries.clear()


CACHE = _Cache()
switches.COMPILED.add(CACHE)


def reset() -> None:
    """Forget every compiled backward graph: the next backward of each captures afresh."""
    CACHE.forget()


# ------------------------------------------------------------------------------ the walk
def _schedule(roots: set[Node], dependencies: dict[Node, int]) -> list[Node]:
    """The nodes in the order the engine runs them: a node is ready once every edge into it
    has passed, and the ready node made last runs first."""
    remaining = dict(dependencies)
    heap = [(-node._sequence_nr, node) for node in roots if not remaining.get(node)]
    heapq.heapify(heap)
    order: list[Node] = []
    while heap:
        node = heapq.heappop(heap)[1]
        order.append(node)
        for child, _ in node.next_functions:
            if child is None:
                continue
            count = remaining[child]
            if count == 1:
                heapq.heappush(heap, (-child._sequence_nr, child))
            remaining[child] = count - 1
    return order


class _Walk:
    """One backward as the cache sees it: its key, and its run-time inputs and hooks."""

    def __init__(self, order: list[Node], root_edges: list[tuple[Node, int, Tensor]]) -> None:
        self.order = order
        self.position = {node: index for index, node in enumerate(order)}
        self.root_edges = root_edges
        self.inputs: list[Any] = []
        self.hooks: list[Any] = []
        self.hooked: list[bool] = []  # per node: whether it runs hooks (its key says where)
        self.supported = True
        position = self.position
        key: list[Any] = [tuple((position[node], output_nr) for node, output_nr, _ in root_edges)]
        for _, _, grad in root_edges:
            self.inputs.append(_lift_tensor(grad))
        for node in order:
            kind = type(node)
            leaf = node if isinstance(node, AccumulateGrad) and kind is AccumulateGrad else None
            if leaf is not None:
                variable = leaf.variable
                self.inputs.append(variable)
                node_key: tuple[Any, ...] = (kind, variable._grad_dtype_set)
            elif kind is CopySlices or (isinstance(node, Function) and hasattr(node, "__dict__")):
                try:
                    node_key = (kind, self._edges(node), *_node_key(node, self.inputs))
                except _Unsupported:  # (layout data kept by a node: sparse, masked)
                    self.supported = False
                    return
            else:  # a node of another kind: the engine walks this graph
                self.supported = False
                return
            # (a leaf's post-accumulate-grad hooks live on its Tensor, not its node)
            hooked = node._hooked or (leaf is not None
                                      and bool(leaf.variable._post_accumulate_hooks))
            self.hooked.append(hooked)
            key.append((node_key, self._hooks(node)) if hooked else node_key)
        self.key = tuple(key)

    def _edges(self, node: Node) -> tuple[Any, ...]:
        position = self.position
        return tuple(None if child is None else (position[child], output_nr)
                     for child, output_nr in node.next_functions)

    def _hooks(self, node: Node) -> tuple[Any, ...]:
        """The places of this node's hooks (the hooks go into `self.hooks`, in the order the
        graph calls them)."""
        tensor_hooks = node.tensor_hooks()
        retained = node.retained_tensors()
        pre_hooks = list(node._pre_hooks or ())
        post_hooks = list(node._post_hooks or ())
        accumulate_hooks = list(node.variable._post_accumulate_hooks or ()) \
            if isinstance(node, AccumulateGrad) else []
        self.hooks.extend(hook for _, hook in tensor_hooks)
        self.hooks.extend(tensor for _, tensor in retained)
        self.hooks.extend(pre_hooks)
        self.hooks.extend(accumulate_hooks)
        self.hooks.extend(post_hooks)
        return (tuple(output_nr for output_nr, _ in tensor_hooks),
                tuple(output_nr for output_nr, _ in retained),
                len(pre_hooks), len(accumulate_hooks), len(post_hooks))


class _Unsupported(Exception):
    """Something a node keeps that the graph cannot take as an input: the engine walks."""


def _node_key(node: Node, inputs: list[Any]) -> tuple[Any, Any]:
    """A node's saved entries and attributes as the key sees them; what they hold of Tensors
    and arrays goes into `inputs` (the saved tensors unpacked, as its backward reads them)."""
    saved = node.__dict__.get("_saved")  # (CopySlices: its op's, kept by its `fn`)
    saved_key: tuple[Any, ...] | None = None
    if saved is not None and isinstance(node, Function):
        pattern = []
        for entry, value in zip(saved, node.saved_tensors):
            if type(entry) is SavedTensor:
                inputs.append(_lift_tensor(value))
                pattern.append(_TENSOR)
            else:
                pattern.append(_hashable(value))
        saved_key = tuple(pattern)
    backend = getattr(node, "backend", None)
    attributes = tuple((name, _key_of(value, backend, inputs))
                       for name, value in vars(node).items() if name not in _BOOKKEEPING)
    return saved_key, attributes


def _lift_tensor(tensor: Any) -> Any:
    """A saved value as the graph takes it: outside the graph (a backward without create_graph
    never records), sharing the data."""
    return tensor.detach() if isinstance(tensor, Tensor) else tensor


_PLAIN = (int, float, bool, str, type(None))


def _key_of(value: Any, backend: Any, inputs: list[Any]) -> Any:
    """An attribute's part of the key; its Tensors and arrays go into `inputs` instead."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if isinstance(value, Tensor):
        if isinstance(value._data, LayoutData):
            raise _Unsupported
        inputs.append(value.detach())
        return _TENSOR
    if kind in (tuple, list):
        return (kind, tuple(_key_of(item, backend, inputs) for item in value))
    if kind is dict:
        return (dict, tuple((name, _key_of(item, backend, inputs))
                            for name, item in value.items()))
    if isinstance(value, Node):  # CopySlices' op: a node of its own, copied as its parent is
        if not isinstance(value, Function):
            raise _Unsupported
        edges = tuple(None if child is None else
                      (type(child) is AccumulateGrad and child.variable._grad_dtype_set)
                      for child, _ in value.next_functions)
        return (_NODE, type(value), edges, *_node_key(value, inputs))
    if isinstance(value, LayoutData):
        raise _Unsupported
    array_backend = backend if backend is not None and backend.is_array(value) \
        else _array_backend(value)
    if array_backend is not None:
        inputs.append(_wrap(value, array_backend))
        return _ARRAY
    if _plain_data(value):  # an op's plan (shapes, index arrays): by its fields, copied
        return (_OBJECT, kind, _key_of(_fields(value), backend, inputs))
    return _hashable(value)


_NODE = "node"  # the key of a node an attribute holds
_OBJECT = "object"  # the key of a plain data object, by its fields


def _array_backend(value: Any) -> Any:
    """The backend whose array `value` is, or None."""
    for backend in backends.created_backends():
        if backend.is_array(value):
            return backend
    return None


def _plain_data(value: Any) -> bool:
    """An autodiff object an op keeps for its backward that only holds data (a plan of
    shapes, index arrays): keyed by its fields, and copied with this run's arrays in it."""
    kind = type(value)
    return (kind.__module__.startswith("autodiff.")
            and (hasattr(value, "__dict__") or hasattr(kind, "__slots__"))
            and not callable(value) and not isinstance(value, (type, types.ModuleType, Module))
            and kind.__eq__ is object.__eq__)


def _fields(value: Any) -> dict[str, Any]:
    """A plain-data object's fields (its __dict__, or its slots)."""
    if hasattr(value, "__dict__"):
        return dict(vars(value))
    fields = {}
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(value, name):
                fields[name] = getattr(value, name)
    return fields


def _hashable(value: Any) -> Any:
    """A Python value by value where it can be hashed (a slice by its parts: it hashes only
    from Python 3.12), else by identity (the template holds it, so its id stays its own)."""
    if type(value) is slice:
        return (slice, _hashable(value.start), _hashable(value.stop), _hashable(value.step))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (type(value), value)


def _is_container(key: Any) -> bool:
    return type(key) is tuple and len(key) == 2 and key[0] in (tuple, list, dict)


def _has_slot(key: Any) -> bool:
    """Whether an attribute's key lifted something (or holds a node, copied per run)."""
    if type(key) is _Slot or (type(key) is tuple and key and key[0] is _NODE):
        return True
    if type(key) is tuple and key and key[0] is _OBJECT:
        return _has_slot(key[2])
    if _is_container(key):
        return any(_has_slot(item[1] if key[0] is dict else item) for item in key[1])
    return False


def _count_slots(saved: tuple[Any, ...] | None, attributes: tuple[Any, ...]) -> int:
    """How many inputs a node's key lifted (saved tensors, then attributes, nested nodes')."""
    count = 0 if saved is None else sum(1 for item in saved if item is _TENSOR)
    stack = [key for _, key in attributes]
    while stack:
        key = stack.pop()
        if type(key) is _Slot:
            count += 1
        elif type(key) is tuple and key and key[0] is _NODE:
            count += _count_slots(key[3], key[4])
        elif type(key) is tuple and key and key[0] is _OBJECT:
            stack.append(key[2])
        elif _is_container(key) and key[0] is dict:
            stack.extend(part for _, part in key[1])
        elif _is_container(key):
            stack.extend(key[1])
    return count


def _strip(value: Any, key: Any) -> Any:
    """What a template keeps of a lifted attribute: its containers, a node as a template of
    its own, None where a Tensor or array was."""
    if type(key) is _Slot:
        return None
    if type(key) is tuple and key and key[0] is _NODE:
        return _Template(value, key[3], key[4])
    if type(key) is tuple and key and key[0] is _OBJECT:
        return _ObjectTemplate(type(value), _strip(_fields(value), key[2]))
    if _is_container(key) and key[0] is dict:
        return {name: _strip(value[name], part) for name, part in key[1]}
    if _is_container(key):
        return type(value)(_strip(item, part) for item, part in zip(value, key[1]))
    return value


def _rebuild(value: Any, key: Any, values: Iterator[Any]) -> Any:
    """A template's attribute with this run's inputs in place: each Tensor and array the next
    input, each node a fresh copy."""
    if type(key) is _Slot:
        item = next(values)
        return item._data if key.array else item
    if type(value) is _Template:
        return value.make(values)
    if type(value) is _ObjectTemplate:
        made: Any = _new(value.cls)
        for name, field in _rebuild(value.fields, key[2], values).items():
            object.__setattr__(made, name, field)
        return made
    if _is_container(key) and key[0] is dict:
        return {name: _rebuild(value[name], part, values) for name, part in key[1]}
    if _is_container(key):
        return type(value)(_rebuild(item, part, values) for item, part in zip(value, key[1]))
    return value


# ------------------------------------------------------------------------------ the graph's calls
class _ObjectTemplate:
    """A plain-data object a node keeps, as its template keeps it: its class and fields."""

    __slots__ = ("cls", "fields")

    def __init__(self, cls: type, fields: dict[str, Any]) -> None:
        self.cls, self.fields = cls, fields


class _Template:
    """A node as captured, minus what was lifted and minus its graph (its edges hold nothing):
    `make` gives a copy holding one run's saved values."""

    def __init__(self, node: Node, saved: tuple[Any, ...] | None,
                 attributes: tuple[Any, ...]) -> None:
        self.cls = type(node)
        # The saved entries: a lifted Tensor's place, or the number (or None) saved as it is.
        self.saved: tuple[Any, ...] | None = None if saved is None else tuple(
            _TENSOR if type(entry) is SavedTensor else entry
            for entry in node.__dict__["_saved"])
        kept = {name: value for name, value in vars(node).items() if name not in _BOOKKEEPING}
        self.lifted = []
        for name, key in attributes:
            if _has_slot(key):
                self.lifted.append((name, _strip(kept[name], key), key))
                kept[name] = None  # the template keeps no Tensor of the capture
        kept["next_functions"] = tuple(
            (None if child is None else _edge_stub(child), output_nr)
            for child, output_nr in node.next_functions)
        if "_sequence_nr" in vars(node):
            kept["_sequence_nr"] = node._sequence_nr
        self.attributes = kept

    def make(self, values: Iterator[Any]) -> Node:
        node = _new(self.cls)
        node.__dict__.update(self.attributes)
        if self.saved is not None:
            node._saved = tuple([SavedTensor(next(values), None) if item is _TENSOR else item
                                 for item in self.saved])
        for name, value, key in self.lifted:
            setattr(node, name, _rebuild(value, key, values))
        return node


class NodeCall:
    """One node of a captured backward: its backward, run on a copy of the node (made from its
    template) that holds this run's saved values."""

    # The generated code names each call `torch__dynamo_compiled_autograd_ops_<NodeName>`, as
    # PyTorch's graph does (fx makes a global of a target from outside autodiff).
    __module__ = "torch._dynamo.compiled_autograd.ops"

    def __init__(self, node: Node, walk_key: tuple[Any, ...]) -> None:
        self.__name__ = self.__qualname__ = type(node).__name__
        self.custom = node._custom
        self.edges = len(node.next_functions)
        _, _, saved, attributes = walk_key
        self.template = _Template(node, saved, attributes)

    def __call__(self, grads: list[Any], *values: Any) -> tuple[Any, ...]:
        if not self.custom and all(grad is None for grad in grads):
            return (None,) * self.edges  # no gradient reached a built-in op: the engine skips it
        return self.template.make(iter(values))._run_backward(list(grads))


_new = object.__new__


class _LeafVariable:
    """What a template's edge to a leaf tells a backward: whether the leaf has a grad_dtype
    (`Function._fit_all` asks; it is part of the key)."""

    __slots__ = ("_grad_dtype_set",)

    def __init__(self, grad_dtype_set: bool) -> None:
        self._grad_dtype_set = grad_dtype_set


def _edge_stub(child: Node) -> Node:
    """An edge of a template: an AccumulateGrad (with only its leaf's grad_dtype flag) or a
    plain Node, so the template holds nothing of the captured graph."""
    if type(child) is AccumulateGrad:
        stub = _new(AccumulateGrad)
        stub.variable = _LeafVariable(child.variable._grad_dtype_set)  # type: ignore[assignment]
        return stub
    return _CUT


_CUT = Node()


def sum_grads(first: Any, second: Any) -> Any:
    """Two gradients into one slot, summed as the engine's buffer sums them (None: none came)."""
    if first is None:
        return second
    if second is None:
        return first
    return engine._sum(first, second)


def call_accumulate_grad(variable: Tensor, grad: Any) -> None:
    """AccumulateGrad: add `grad` into the leaf's `.grad` as the engine does (cast to its
    grad_dtype first; its post-accumulate-grad hooks are calls of their own)."""
    if grad is None:
        return
    node = variable._grad_accumulator()
    grad = engine._to_grad_dtype(node, [grad])[0]
    tracer = tracing.current() if tracing.state.tracer is not None else None
    undo = _run_state.undo if _run_state.undo is not None else []
    engine._accumulate(node, grad, False, False, undo, tracer, post_hooks=False)


def cast_leaf_grad(variable: Tensor, grad: Any) -> Any:
    """A leaf's gradient cast to its grad_dtype before its hooks see it, as the engine does."""
    return engine._to_grad_dtype(variable._grad_accumulator(), [grad])[0]


def call_hook(hook: Any, *args: Any, hook_type: str) -> Any:
    """Run one hook where the engine would, with the engine's checks of what it returns."""
    if tracing.state.tracer is not None:
        tracing.graph_break("a backward hook or retain_grad runs Python in backward")
    if hook_type == "tensor_pre_hook":
        return engine._call_tensor_hook(hook, args[0])
    if hook_type == "retain_grad":
        if args[0] is not None:
            undo = _run_state.undo if _run_state.undo is not None else []
            engine._store_grad(hook, args[0], undo)
        return None
    if hook_type == "pre_hook":
        grads = args[0]
        replaced = hook(tuple(grads))
        return grads if replaced is None else engine._check_hook_result(hook, replaced,
                                                                         len(grads))
    if hook_type == "post_acc_grad_hook":
        hook(args[0])
        return None
    # "post_hook": hook(grad_inputs, grad_outputs), which may replace grad_inputs
    grad_inputs, grad_outputs = args
    replaced = hook(tuple(grad_inputs), tuple(grad_outputs))
    if replaced is None:
        return tuple(grad_inputs)
    return engine._check_hook_result(hook, replaced, len(grad_inputs))


# ------------------------------------------------------------------------------ capture
def _capture(walk: _Walk, compiler_fn: Callable[..., Any]) -> Callable[..., Any]:
    """A new key: build the graph, log it, compile it once, keep what the compiler returns."""
    # (autodiff.fx registers `torch` for its generated code when imported: it needs a whole
    # autodiff, so it is imported here, at the first capture, not when autodiff loads)
    from ..fx import Graph, GraphModule

    if logs.compiled_autograd_verbose:
        _verbose_log.debug("Cache miss due to %s", _why_missed(walk))
    graph = Graph()
    inputs = graph.placeholder("inputs")
    graph.placeholder("sizes")
    graph.placeholder("scalars")
    hooks = graph.placeholder("hooks")
    values = [graph.call_function(operator.getitem, (inputs, index))
              for index in range(len(walk.inputs))]
    taken = iter(values)
    hooks_taken = iter(range(len(walk.hooks)))

    def hook_of() -> Any:
        return graph.call_function(operator.getitem, (hooks, next(hooks_taken)))

    def call_hook_node(*args: Any, hook_type: str) -> Any:
        return graph.call_function(call_hook, (hook_of(), *args), {"hook_type": hook_type})

    order, position = walk.order, walk.position
    buffers: dict[int, list[Any]] = {}

    def add(index: int, output_nr: int, grad: Any) -> None:
        buffer = buffers.get(index)
        if buffer is None:
            buffer = buffers[index] = [None] * order[index]._num_outputs
        previous = buffer[output_nr]
        buffer[output_nr] = grad if previous is None else graph.call_function(
            sum_grads, (previous, grad))

    for node, output_nr, _ in walk.root_edges:
        add(position[node], output_nr, next(taken))
    node_keys = walk.key[1:]
    for index, node in enumerate(order):
        grads = buffers.pop(index, None) or [None] * node._num_outputs
        leaf = type(node) is AccumulateGrad
        variable = next(taken) if leaf else None
        node_key = node_keys[index]
        if walk.hooked[index]:
            node_key, hook_key = node_key
            tensor_hooks, retained, pre_hooks, accumulate_hooks, post_hooks = hook_key
            if leaf:
                grads = [graph.call_function(cast_leaf_grad, (variable, grads[0]))]
            for output_nr in tensor_hooks:
                grads[output_nr] = call_hook_node(grads[output_nr], hook_type="tensor_pre_hook")
            for output_nr in retained:
                call_hook_node(grads[output_nr], hook_type="retain_grad")
            for _ in range(pre_hooks):
                replaced = call_hook_node(grads, hook_type="pre_hook")
                grads = [graph.call_function(operator.getitem, (replaced, slot))
                         for slot in range(len(grads))]
        else:
            accumulate_hooks = post_hooks = 0
        if leaf:
            graph.call_function(call_accumulate_grad, (variable, grads[0]))
            for _ in range(accumulate_hooks):
                call_hook_node(variable, hook_type="post_acc_grad_hook")
            for _ in range(post_hooks):
                call_hook_node((), grads, hook_type="post_hook")
            continue
        call = NodeCall(node, node_key)
        lifted = [next(taken) for _ in range(_count_slots(node_key[2], node_key[3]))]
        result = graph.call_function(call, (grads, *lifted))
        input_grads = [graph.call_function(operator.getitem, (result, slot))
                       for slot in range(len(node.next_functions))]
        for _ in range(post_hooks):
            replaced = call_hook_node(input_grads, grads, hook_type="post_hook")
            input_grads = [graph.call_function(operator.getitem, (replaced, slot))
                           for slot in range(len(input_grads))]
        for (child, output_nr), grad in zip(node.next_functions, input_grads):
            if child is not None:
                add(position[child], output_nr, grad)
    graph.output([])
    module = GraphModule(Module(), graph, class_name="CompiledAutograd")
    if logs.compiled_autograd or logs.compiled_autograd_verbose:
        text = module.print_readable(print_output=False)
        (_verbose_log if logs.compiled_autograd_verbose else _log).debug(
            "TRACED GRAPH\n ===== Compiled autograd graph =====\n %s", text)
    compiled = compiler_fn(module)
    CACHE.entries[walk.key] = compiled
    return compiled


def _why_missed(walk: _Walk) -> str:
    """The first node whose key no cached graph shares (PyTorch's "new autograd node")."""
    nodes = walk.key[1:]
    best = 0
    for key in CACHE.entries:
        if key[0] != walk.key[0]:
            continue
        same = 0
        for ours, theirs in zip(nodes, key[1:]):
            if ours != theirs:
                break
            same += 1
        best = max(best, same)
    if best >= len(nodes):
        return "a new autograd graph"
    node = walk.order[best]
    return (f"new autograd node: {node.name()} (NodeCall {best}), previous graphs="
            f"{len(CACHE.entries)}")


# ------------------------------------------------------------------------------ the switches
class enable:  # (PyTorch's name: a context manager)
    """Within the block, each `backward()` in this thread runs through a compiled graph:
    captured once per structure, handed to `compiler_fn` (`autodiff.compile`, or any function
    of a GraphModule returning a callable), then reused. `dynamic` is PyTorch's hint to treat
    sizes as dynamic; autodiff specializes on sizes (a new shape captures a new graph) either
    way. With `ignore_active_disable_ctx=False`, a `disable()` around this block wins."""

    def __init__(self, compiler_fn: Callable[..., Any], dynamic: bool = True,
                 ignore_active_disable_ctx: bool = True) -> None:
        if type(dynamic) is not bool:
            raise AssertionError(f"Expected dynamic to be bool, got {type(dynamic)}")
        self.compiler_fn = compiler_fn
        self.ignore_active_disable_ctx = ignore_active_disable_ctx
        self.prior: BackwardCompiler | None = None

    def __enter__(self) -> None:
        backward = switches.backward
        self.prior = backward.compiler
        if not self.ignore_active_disable_ctx and backward.disabled:
            return
        if switches.state.stance.stance == "force_eager":  # the eager engine, as PyTorch's
            backward.compiler = None
            return
        backward.compiler = BackwardCompiler(self.compiler_fn)

    def __exit__(self, *exc_info: object) -> None:
        switches.backward.compiler = self.prior


class disable:  # (PyTorch's name: a context manager)
    """Within the block, backward runs on the engine's own walk, compiled autograd or not."""

    def __init__(self) -> None:
        self.prior: BackwardCompiler | None = None
        self.prior_disabled = False

    def __enter__(self) -> None:
        backward = switches.backward
        self.prior, self.prior_disabled = backward.compiler, backward.disabled
        backward.compiler = None
        backward.disabled = True

    def __exit__(self, *exc_info: object) -> None:
        backward = switches.backward
        backward.compiler, backward.disabled = self.prior, self.prior_disabled
