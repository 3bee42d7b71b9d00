"""How `export` captures a module: autodiff.fx's symbolic trace through every submodule, with
each node also run on the example inputs as it is recorded (its `meta["val"]`).

The example values are what let export do what a plain symbolic trace cannot: Python code that
asks about shapes, dtypes or lengths gets the example's answer (the graph is specialized to it,
as PyTorch's is), while a branch on a tensor's data raises GuardOnDataDependentSymNode (PyTorch's
error; `autodiff.cond` is the way to keep such a branch, and its branches become subgraphs).
Parameters, buffers and constant tensors are read by get_attr nodes while tracing; export then
lifts them into placeholders (the ExportedProgram's graph), and `ExportedProgram.module()`
turns them back into attributes.

Sizes marked dynamic are checked by tracing again with each such size changed: a program that
then fails or comes out different fixed that size (a Dim or Dim.DYNAMIC is an error there,
Dim.AUTO becomes static).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import autodiff
from autodiff import control_flow
from autodiff.func.pytree import TreeSpec, tree_flatten, tree_unflatten
from autodiff.fx import Graph, GraphModule, Proxy, Tracer, _symbolic_trace
from autodiff.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode
from autodiff.fx.node import Node, _is_from_autodiff, map_arg
from autodiff.fx.proxy import TraceError
from autodiff.grad_mode import no_grad
from autodiff.nn import Module
from autodiff.overrides import TorchFunctionMode
from autodiff.random import fork_rng
from autodiff.tensor import Tensor

from .dynamic_shapes import (
    Dim,
    DimHint,
    DimSpec,
    ValueRanges,
    check_named_sizes,
    combine_args,
    input_dims,
    int_oo,
    specialization_error,
)

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MISSING = object()
# Recorded only for what Python asked of a value: dropped when nothing uses the result.
_PURE_METHODS = frozenset({"size", "dim", "numel", "stride", "is_contiguous", "nelement"})


# What a tensor is, besides its sizes: the example's answer, as PyTorch's fake tensors give it.
_FIXED_ATTRIBUTES = frozenset({
    "device", "dtype", "layout", "ndim", "is_cuda", "is_cpu", "is_meta", "is_sparse",
    "is_nested", "is_quantized", "is_complex_dtype", "requires_grad", "is_leaf", "names",
})


class ExportProxy(Proxy):
    """A Proxy whose tensor's device, dtype, number of dimensions and such are plain values
    (only sizes and data stay symbolic)."""

    def __getattr__(self, k: str) -> Any:
        if k in _FIXED_ATTRIBUTES:
            value = self.node.meta.get("val", _MISSING)
            if isinstance(value, Tensor):
                return getattr(value, k)
        return super().__getattr__(k)

    def __index__(self) -> int:
        # int(x.shape[0]), range(n): the example's number, as PyTorch specializes a size
        return int(self.tracer.concrete(self))  # type: ignore[attr-defined]

    def __int__(self) -> int:
        return int(self.tracer.concrete(self))  # type: ignore[attr-defined]

    def __float__(self) -> float:
        return float(self.tracer.concrete(self))  # type: ignore[attr-defined]


class ModuleTemplate:
    """A built-in module the graph calls as a whole (`call_module_with`), held as a plain
    attribute so that its parameters are not the program's twice."""

    def __init__(self, module: Module) -> None:
        self.module = module

    def __repr__(self) -> str:
        return f"ModuleTemplate({type(self.module).__name__})"


def call_module_with(template: ModuleTemplate, tensors: dict[str, Tensor],
                     args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`template.module(*args, **kwargs)` with its parameters and buffers `tensors` (the
    program's lifted ones)."""
    from autodiff.func import functional_call
    return functional_call(template.module, tensors, args, kwargs)


def _called_whole(module: Any) -> bool:
    """Whether the graph calls `module` whole: the built-in modules whose forwards call
    autodiff's internal functions, which take tensors, not Proxies."""
    from autodiff.nn.modules.attention import MultiheadAttention
    from autodiff.nn.modules.rnn import RNNBase, RNNCellBase
    return isinstance(module, (MultiheadAttention, RNNBase, RNNCellBase))


# Factories and random draws: recorded even from constants, as PyTorch's graph records them.
_RECORDED_FACTORIES = frozenset({
    "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson",
    "rand_like", "randn_like", "randint_like", "zeros", "ones", "full", "empty", "arange",
    "eye", "linspace", "logspace", "zeros_like", "ones_like", "full_like", "empty_like",
})
_running_examples = [0]  # how deep _run_example is: calls made there are the example's own


class RecordFactories(TorchFunctionMode):
    """While tracing, a factory or random draw called with constants only (`torch.randn(3)`,
    no Proxy among its arguments) is recorded, not run once and frozen into a constant (a
    random draw would then be the same at every call)."""

    def __init__(self, tracer: ExportTracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: Any = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if (not _running_examples[0] and getattr(func, "__name__", None) in _RECORDED_FACTORIES
                and _is_from_autodiff(func) and kwargs.get("generator") is None
                and _symbolic_trace._find_proxy(args, kwargs) is None):
            tracer = self.tracer
            while tracer.active_branch is not None:  # inside cond: the branch's graph
                tracer = tracer.active_branch
            return tracer.create_proxy("call_function", func, args, kwargs)
        return func(*args, **kwargs)


class ExportTracer(Tracer):
    """fx's Tracer, through every submodule, with each node's example value."""

    proxy_buffer_attributes = True
    record_stack_traces = True

    def __init__(self, root: Module, subgraphs: dict[str, Any],
                 attr_values: dict[str, Any]) -> None:
        super().__init__()
        self.root = root
        # cond's branches and whole-called modules, by attribute name (shared by branches)
        self.subgraphs = subgraphs
        self.attr_values = attr_values  # get_attr targets' example values (copies)
        self.tensor_attrs: dict[Any, str] = {}
        self.active_branch: ExportTracer | None = None  # a cond branch being traced
        self.lifted: dict[str, Proxy] = {}  # a branch's parameters and buffers, as operands
        self.is_branch = False
        self.operand_nodes: list[Node] = []  # a branch's placeholders for cond's operands
        self.user_inputs: Callable[[ExportTracer], list[Any]] | None = None

    def is_leaf_module(self, m: Any, module_qualified_name: str) -> bool:
        return False

    def proxy(self, node: Node) -> Proxy:
        return ExportProxy(node, self)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Proxy]) -> Any:
        if self.active_branch is not None:
            return self.active_branch.getattr(attr, attr_val, parameter_proxy_cache)
        if self.is_branch and isinstance(attr_val, Tensor):
            name = _name_of(self.root, attr_val)
            if name is not None:
                return self.lifted_operand(name)
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def create_arg(self, a: Any) -> Any:
        if isinstance(a, Tensor):
            name = _name_of(self.root, a)
            if self.is_branch and (name is not None or a in self.tensor_attrs):
                return self.lifted_operand(name or self.tensor_attrs[a]).node
            if name is None and a not in self.tensor_attrs:
                # a constant tensor: named as PyTorch names it, never set on the user's module
                count = sum(qualname.startswith("lifted_tensor_")
                            for qualname in self.tensor_attrs.values())
                self.tensor_attrs[a] = f"lifted_tensor_{count}"
        return super().create_arg(a)

    def call_module(self, m: Any, forward: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        if self.active_branch is not None:
            return self.active_branch.call_module(m, forward, args, kwargs)
        if not _called_whole(m):
            return super().call_module(m, forward, args, kwargs)
        module: Module = m
        path = self.path_of_module(module)
        name = "_module_" + (path.replace(".", "_") or "root")
        self.subgraphs[name] = ModuleTemplate(module)
        template = super().create_proxy("get_attr", name, (), {})
        prefix = f"{path}." if path else ""
        tensors = {key: _orig_getattr(self.root, prefix + key) for key, _ in
                   [*module.named_parameters(), *module.named_buffers()]}
        return self.create_proxy("call_function", call_module_with,
                                 (template, tensors, tuple(args), dict(kwargs)), {},
                                 name=type(module).__name__.lower())

    def create_args_for_root(self, root_fn: Callable[..., Any], is_module: bool,
                             concrete_args: Any = None) -> tuple[Callable[..., Any], list[Any]]:
        assert self.user_inputs is not None
        call = self.user_inputs(self)
        return (lambda root: call[0](root)), [self.root]

    def create_node(self, kind: str, target: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any], name: str | None = None,
                    type_expr: Any | None = None) -> Node:
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if kind not in ("placeholder", "output"):
            self._run_example(node)
        return node

    def create_proxy(self, kind: str, target: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any], name: str | None = None,
                     type_expr: Any | None = None,
                     proxy_factory_fn: Callable[[Node], Proxy] | None = None) -> Proxy:
        # autodiff.cond is the __torch_function__ wrapper of control_flow.cond: either may come.
        if (kind == "call_function"
                and getattr(target, "_torch_function_of", target) is control_flow.cond):
            return self._record_cond(*args, **kwargs)
        return super().create_proxy(kind, target, args, kwargs, name, type_expr,
                                    proxy_factory_fn)

    # ---------------------------------------------------------------- example values
    def _run_example(self, node: Node) -> None:
        data_dependent = any(arg.meta.get("data_dependent") for arg in node.all_input_nodes)
        _running_examples[0] += 1
        try:
            result = self._example_of(node)
        finally:
            _running_examples[0] -= 1
        if node.op == "call_method" and node.target in ("item", "tolist"):
            data_dependent = True
        node.meta["val"] = result
        if data_dependent and not isinstance(result, Tensor):
            node.meta["data_dependent"] = True

    def _example_of(self, node: Node) -> Any:
        def value(arg: Node) -> Any:
            return arg.meta["val"]

        if node.op == "get_attr":
            return self._attr_value(str(node.target))
        args = map_arg(node.args, value)
        kwargs = map_arg(node.kwargs, value)
        with no_grad(), _untraced():  # module calls run as themselves
            if node.op == "call_function":
                return node.target(*args, **kwargs)
            if node.op == "call_method":
                return getattr(args[0], str(node.target))(*args[1:], **kwargs)
        raise NotImplementedError(f"export: node {node.op} {node.target}")

    def _attr_value(self, target: str) -> Any:
        if target in self.subgraphs:
            return self.subgraphs[target]
        if target not in self.attr_values:
            found = _attrs_by_name(self.root, self.tensor_attrs).get(target, _MISSING)
            if found is _MISSING:
                raise RuntimeError(f"export: cannot find attribute {target!r} of the module")
            # a copy, so that what the forward mutates (running statistics) stays as it was
            self.attr_values[target] = found.detach().clone() if isinstance(found, Tensor) \
                else found
        return self.attr_values[target]

    # ---------------------------------------------------------------- Python's questions
    def to_bool(self, obj: Proxy) -> bool:
        value = obj.node.meta.get("val", _MISSING)
        if value is _MISSING:
            return super().to_bool(obj)
        return bool(self.concrete(obj))

    def concrete(self, obj: Proxy) -> Any:
        """The example's value where Python needs a plain one: a size, a dtype, a flag; never
        one computed from a tensor's data."""
        value = obj.node.meta.get("val", _MISSING)
        if isinstance(value, Tensor) or obj.node.meta.get("data_dependent"):
            raise GuardOnDataDependentSymNode(_data_dependent_message(obj.node))
        if value is _MISSING:
            raise TraceError(f"export: {obj.node.name} has no example value")
        return value

    def iter(self, obj: Proxy) -> Iterator[Any]:
        value = obj.node.meta.get("val", _MISSING)
        if isinstance(value, (tuple, list, Tensor)):
            return iter([obj[i] for i in range(len(value))])  # type: ignore[index]
        return super().iter(obj)

    def len(self, obj: Proxy) -> int:
        value = obj.node.meta.get("val", _MISSING)
        if isinstance(value, (tuple, list, Tensor, dict)):
            return len(value)
        return super().len(obj)

    # ---------------------------------------------------------------- cond
    def _record_cond(self, pred: Any, true_fn: Callable[..., Any],
                     false_fn: Callable[..., Any], operands: Any = ()) -> Proxy:
        """One cond node over two subgraphs; the parameters and buffers the branches read
        become extra operands of both (PyTorch lifts them the same way)."""
        if not isinstance(operands, (tuple, list)):
            raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                               f"that only consists of tensor leaves, but got {operands}.")
        traced = [self._trace_branch(function, tuple(operands)) for function in (true_fn,
                                                                                  false_fn)]
        lifted = list(dict.fromkeys(name for branch in traced for name in branch.lifted))
        branches = []
        for prefix, branch in zip(("true_graph", "false_graph"), traced):
            branch.order_lifted(lifted)  # both branches take every lifted operand, in order
            root = {name: branch._attr_value(name) for name in _attr_targets(branch.graph)}
            index = sum(1 for name in self.subgraphs if name.startswith(prefix + "_"))
            name = f"{prefix}_{index}"
            self.subgraphs[name] = GraphModule(root, branch.graph)
            branches.append(super().create_proxy("get_attr", name, (), {}))
        by_name = _attrs_by_name(self.root, self.tensor_attrs)
        extra = tuple(self.proxy(self.create_arg(by_name[target])) for target in lifted)
        return super().create_proxy("call_function", control_flow.cond,
                                    (pred, branches[0], branches[1], (*operands, *extra)), {},
                                    name="cond")

    def _trace_branch(self, function: Callable[..., Any], operands: tuple[Any, ...]
                      ) -> ExportTracer:
        branch = ExportTracer(self.root, self.subgraphs, self.attr_values)
        branch.tensor_attrs = self.tensor_attrs
        branch.is_branch = True
        branch.graph = Graph(tracer_cls=ExportTracer)
        leaves, spec = tree_flatten(operands)
        proxies = []
        for index, leaf in enumerate(leaves):
            proxy = branch.create_proxy("placeholder", f"arg{index}_1", (), {})
            proxy.node.meta["val"] = leaf.node.meta["val"] if isinstance(leaf, Proxy) else leaf
            proxies.append(proxy)
        branch.operand_nodes = [proxy.node for proxy in proxies]
        self.active_branch = branch  # the trace's patched Module methods ask this tracer
        try:
            out = function(*tree_unflatten(proxies, spec))
        finally:
            self.active_branch = None
        branch.create_node("output", "output", (branch.create_arg(out),), {})
        return branch

    def order_lifted(self, targets: list[str]) -> None:
        """The placeholders of `targets` (made where missing) after the operands, in order."""
        nodes = [self.lifted_operand(target).node for target in targets]
        previous = self.operand_nodes[-1] if self.operand_nodes else None
        for node in nodes:
            if previous is None:
                first = next(iter(self.graph.nodes))
                if first is not node:
                    first.prepend(node)
            else:
                previous.append(node)
            previous = node

    def lifted_operand(self, target: str) -> Proxy:
        """A placeholder (after the others) for the parameter or buffer `target`."""
        if target not in self.lifted:
            placeholders = [node for node in self.graph.nodes if node.op == "placeholder"]
            after = placeholders[-1] if placeholders else None
            with self.graph.inserting_after(after):
                node = self.graph.placeholder(target.replace(".", "_"))
            node.meta["val"] = self._attr_value(target)
            self.lifted[target] = self.proxy(node)
        return self.lifted[target]


@contextlib.contextmanager
def _untraced() -> Iterator[None]:
    """Module calls as themselves (cond runs its branches' GraphModules), not traced."""
    patcher = _symbolic_trace.CURRENT_PATCHER
    if patcher is None:
        yield
        return
    patcher.revert_all_patches()
    try:
        yield
    finally:
        patcher.reapply_all_patches()


def _tensors_by_name(root: Module) -> dict[str, Tensor]:
    """The parameters and buffers of `root` (read without the trace's patched __getattr__)."""
    found: dict[str, Tensor] = dict(root.named_parameters(remove_duplicate=False))
    found.update(root.named_buffers(remove_duplicate=False))
    return found


def _orig_getattr(root: Module, path: str) -> Any:
    return _tensors_by_name(root)[path]


def _name_of(root: Module, tensor: Tensor) -> str | None:
    return next((name for name, value in _tensors_by_name(root).items() if value is tensor),
                None)


def _attr_targets(graph: Graph) -> list[str]:
    return [str(node.target) for node in graph.nodes if node.op == "get_attr"]


def _attrs_by_name(root: Module, tensor_attrs: dict[Any, str]) -> dict[str, Any]:
    found: dict[str, Any] = {name: tensor for tensor, name in tensor_attrs.items()}
    found.update(root.named_parameters(remove_duplicate=False))
    found.update(root.named_buffers(remove_duplicate=False))
    found.update((name, module) for name, module in root.named_modules() if name)
    return found


def _data_dependent_message(node: Node) -> str:
    frame = _user_frame()
    where = ""
    if frame is not None:
        where = ("\n\nThe following call raised this error:\n"
                 f"  File \"{frame.filename}\", line {frame.lineno}, in {frame.name}\n"
                 f"    {frame.line}")
    return (f"Could not guard on data-dependent expression {node.name} (a value computed from "
            "a tensor's data, used by Python control flow).\n\nconsider using data-dependent "
            "friendly APIs such as torch.cond for a branch on a tensor's value"
            f"{where}")


def _user_frame() -> traceback.FrameSummary | None:
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith(_PACKAGE_DIR):
            return frame
    return None


# -------------------------------------------------------------------- the inputs
def flatten_with_names(combined: dict[str, Any]) -> tuple[list[Any], list[tuple[str, str]],
                                                            TreeSpec]:
    """The leaves of the inputs by parameter name, each with its placeholder name (`x`,
    `args_0`, `inputs_a`) and source (`L['x']`), in pytree order."""
    leaves, spec = tree_flatten(combined)
    paths: list[tuple[str, str]] = []

    def walk(value: Any, name: str, source: str) -> None:
        kind = type(value)
        if kind is dict:
            for key in value:
                walk(value[key], f"{name}_{key}", f"{source}[{key!r}]")
        elif kind is tuple or kind is list or (isinstance(value, tuple) and
                                               hasattr(value, "_fields")):
            for index, item in enumerate(value):
                walk(item, f"{name}_{index}", f"{source}[{index}]")
        else:
            paths.append((name, source))

    for key, value in combined.items():
        walk(value, key, f"L[{key!r}]")
    assert len(paths) == len(leaves)
    return leaves, paths, spec


def trace_module(mod: Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                 dynamic_shapes: Any) -> dict[str, Any]:
    """Trace `mod(*args, **kwargs)`: the flat graph (get_attr nodes still in it), the objects
    its get_attr nodes read, and what the ExportedProgram needs to know of its inputs."""
    signature = inspect.signature(mod.forward)
    combined = combine_args(mod.forward, args, kwargs)
    leaves, paths, in_spec = flatten_with_names(combined)
    dims = input_dims(combined, dynamic_shapes, paths, leaves)
    check_named_sizes(dims.per_input)
    traced = _trace(mod, signature, leaves, paths, in_spec)
    traced.update(leaves=leaves, paths=paths, dims=dims.per_input)
    if any(spec.dynamic for dims_of_input in dims.per_input for spec in dims_of_input or ()):
        _check_dynamic_sizes(traced, mod)
    return traced


def _trace(mod: Module, signature: inspect.Signature, leaves: list[Any],
           paths: list[tuple[str, str]], in_spec: TreeSpec) -> dict[str, Any]:
    subgraphs: dict[str, Any] = {}
    tracer = ExportTracer(mod, subgraphs, {})
    forward = type(mod).forward

    def user_inputs(tracer: ExportTracer) -> list[Any]:
        values = []
        for (name, _), leaf in zip(paths, leaves):
            proxy = tracer.create_proxy("placeholder", name, (), {})
            proxy.node.meta["val"] = leaf
            values.append(proxy if isinstance(leaf, Tensor) else leaf)
        bound = inspect.BoundArguments(signature, tree_unflatten(values, in_spec))

        def call(root: Module) -> Any:
            if _called_whole(root):
                return tracer.call_module(root, forward, bound.args, bound.kwargs)
            return forward(root, *bound.args, **bound.kwargs)

        return [call]

    tracer.user_inputs = user_inputs
    with fork_rng(devices=[]), RecordFactories(tracer):
        graph = tracer.trace(mod)
    out_spec = _flatten_outputs(graph)
    _drop_unused_queries(graph)
    root = {name: _attrs_by_name(mod, tracer.tensor_attrs).get(name, subgraphs.get(name))
            for name in _attr_targets(graph)}
    return {"graph": graph, "root": root, "tensor_attrs": tracer.tensor_attrs,
            "signature": signature, "in_spec": in_spec, "out_spec": out_spec}


def _code(traced: dict[str, Any]) -> str:
    """The program as text: what tracing again with other sizes must give back unchanged."""
    graph: Graph = traced["graph"]
    branches = [value.code for value in traced["root"].values() if isinstance(value, GraphModule)]
    return "\n".join([graph.python_code("self").src, *branches])


def _flatten_outputs(graph: Graph) -> TreeSpec:
    output = graph.output_node
    leaves, spec = tree_flatten(_plain(output.args[0]))
    output.args = (tuple(leaves),)
    return spec


def _plain(value: Any) -> Any:
    """A node's arguments with fx's immutable lists and dicts as plain ones (pytree flattens
    only the plain containers)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_plain(item) for item in value)
    return value


def _drop_unused_queries(graph: Graph) -> None:
    """Remove what only answered Python's questions (shapes, getattr, comparisons)."""
    for node in reversed(list(graph.nodes)):
        if node.users or node.op in ("placeholder", "output"):
            continue
        module = getattr(node.target, "__module__", None)
        if node.op == "get_attr" or (node.op == "call_method" and node.target in _PURE_METHODS) \
                or (node.op == "call_function" and (node.target is getattr or
                                                    module in ("_operator", "operator"))):
            graph.erase_node(node)


# -------------------------------------------------------------------- dynamic sizes
def _check_dynamic_sizes(traced: dict[str, Any], mod: Module) -> None:
    """Trace again with each group of dynamic sizes changed: a group for which the program
    then fails, or comes out different (a size baked in, a loop unrolled another number of
    times), was fixed by the program."""
    per_input: list[list[DimSpec] | None] = traced["dims"]
    groups: dict[str, list[DimSpec]] = {}
    for dims_of_input in per_input:
        for spec in dims_of_input or ():
            if spec.dynamic:
                groups.setdefault(spec.group, []).append(spec)
    for group, members in list(groups.items()):
        first = members[0]
        if first.example in (0, 1):  # PyTorch specializes sizes 0 and 1
            if any(not _is_auto(spec) for spec in members):
                raise specialization_error(first)
            for spec in members:
                spec.dim = None
            del groups[group]
    expected = _code(traced)
    for group in list(groups):
        if group not in groups:
            continue
        members = groups[group]
        if _traces_the_same(traced, mod, members, expected):
            continue
        if all(_is_hint(spec) for spec in members):
            # hinted sizes of the same example size that the program requires to be equal
            same = [spec for name, others in groups.items() if name != group
                    for spec in others if _is_hint(spec) and spec.example == members[0].example]
            if same and _traces_the_same(traced, mod, members + same, expected):
                for spec in same:
                    groups[spec.group].remove(spec)
                    spec.group = group
                members.extend(same)
                for name in [name for name, others in groups.items() if not others]:
                    del groups[name]
                continue
        fixed = [spec for spec in members if not _is_auto(spec)]
        if fixed:
            raise specialization_error(fixed[0])
        for spec in members:
            spec.dim = None
        del groups[group]


def _is_auto(spec: DimSpec) -> bool:
    return spec.dim == Dim.AUTO


def _is_hint(spec: DimSpec) -> bool:
    return isinstance(spec.dim, DimHint)


def _traces_the_same(traced: dict[str, Any], mod: Module, members: list[DimSpec],
                     expected: str) -> bool:
    """Whether tracing with the sizes of `members` changed to two other allowed sizes gives
    the same program (two, so that a size rounded by Python, `n // 2`, shows too)."""
    first = members[0]
    root = first.dim.root if isinstance(first.dim, Dim) else None
    allowed = ValueRanges(max(root.min, 2), root.max) if root is not None \
        else ValueRanges(2, int_oo)
    example = first.dim.root_value(first.example) if isinstance(first.dim, Dim) \
        else first.example
    assert example is not None  # check_named_sizes made sure
    roots = [size for size in (example + 1, example + 2) if size in allowed] or \
        [size for size in (example - 1, example - 2) if size in allowed]
    return all(_traces_with(traced, mod, {id(spec): _member_size(spec, size)
                                          for spec in members}) == expected
               for size in roots)


def _member_size(spec: DimSpec, root_size: int) -> int:
    return spec.dim.size_for(root_size) if isinstance(spec.dim, Dim) else root_size


def _traces_with(traced: dict[str, Any], mod: Module, sizes: dict[int, int]) -> str | None:
    """The program traced with the dimensions in `sizes` (by id) changed; None where it
    fails."""
    leaves = []
    for leaf, dims_of_input in zip(traced["leaves"], traced["dims"]):
        if not isinstance(leaf, Tensor):
            leaves.append(leaf)
            continue
        shape = [sizes.get(id(spec), spec.example) for spec in dims_of_input]
        if leaf.is_floating_point():
            leaves.append(autodiff.randn(shape, dtype=leaf.dtype, device=leaf.device))
        else:
            leaves.append(autodiff.zeros(shape, dtype=leaf.dtype, device=leaf.device))
    try:
        again = _trace(mod, traced["signature"], leaves, traced["paths"], traced["in_spec"])
    except Exception:
        return None
    return _code(again)
