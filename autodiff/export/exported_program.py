"""ExportedProgram (torch.export.ExportedProgram): a module's forward as one flat graph whose
placeholders are its parameters, buffers and constant tensors (lifted) then the user's inputs,
with the signature that says which is which, the weights, and the input checks that
`module()` applies.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from typing import Any

from autodiff.func.pytree import TreeSpec, tree_flatten, tree_unflatten
from autodiff.fx import CodeGen, Graph, GraphModule
from autodiff.fx.node import Node
from autodiff.nn import Module, Parameter
from autodiff.tensor import Tensor

from .dynamic_shapes import Dim, DimSpec, ValueRanges, int_oo
from .graph_signature import (
    ConstantArgument,
    ExportGraphSignature,
    InputKind,
    InputSpec,
    OutputKind,
    OutputSpec,
    TensorArgument,
)

__all__ = ["ExportedProgram", "ModuleCallSignature"]


@dataclass
class ModuleCallSignature:
    """How the exported module is called: its forward's signature, the structure of its inputs
    (by parameter name) and outputs, and what each flat user input must be."""

    signature: inspect.Signature
    in_spec: TreeSpec
    out_spec: TreeSpec
    input_names: list[str]
    # per flat user input: its dimensions (a tensor) or its value (anything else)
    input_checks: list[Any] = field(default_factory=list)


class _Constant:
    """A non-tensor user input: the exported graph is specialized to this value."""

    def __init__(self, value: Any) -> None:
        self.value = value


class ExportedProgram:
    """What `export` returns. `module()` gives a runnable GraphModule; `graph_module` is the
    lifted graph (parameters, buffers and constants as its first placeholders)."""

    def __init__(self, root: Module | dict[str, Any], graph: Graph,
                 graph_signature: ExportGraphSignature, state_dict: dict[str, Tensor],
                 range_constraints: dict[Any, ValueRanges], *,
                 call_signature: ModuleCallSignature,
                 constants: dict[str, Tensor] | None = None,
                 example_inputs: tuple[tuple[Any, ...], dict[str, Any]] | None = None) -> None:
        self._graph_module = GraphModule(root, graph)
        self._graph_signature = graph_signature
        self._state_dict = state_dict
        self._range_constraints = range_constraints
        self._constants = constants or {}
        self._example_inputs = example_inputs
        self.call_signature = call_signature

    @property
    def graph_module(self) -> GraphModule:
        return self._graph_module

    @property
    def graph(self) -> Graph:
        return self._graph_module.graph

    @property
    def graph_signature(self) -> ExportGraphSignature:
        return self._graph_signature

    @property
    def state_dict(self) -> dict[str, Tensor]:
        """The parameters and persistent buffers, by their names in the module."""
        return self._state_dict

    @property
    def constants(self) -> dict[str, Tensor]:
        """Non-persistent buffers and constant tensors, by name."""
        return self._constants

    @property
    def range_constraints(self) -> dict[Any, ValueRanges]:
        """Each dynamic size's symbol and the sizes it may take."""
        return self._range_constraints

    @property
    def example_inputs(self) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        return self._example_inputs

    @example_inputs.setter
    def example_inputs(self, value: tuple[tuple[Any, ...], dict[str, Any]] | None) -> None:
        if value is not None and (not isinstance(value, tuple) or len(value) != 2
                                  or not isinstance(value[0], tuple)
                                  or not isinstance(value[1], dict)):
            raise ValueError("Example inputs should be a tuple containing example arguments "
                             "(as a tuple), and example kwargs (as a dictionary).")
        self._example_inputs = value

    def parameters(self) -> Any:
        yield from (value for _, value in self.named_parameters())

    def named_parameters(self) -> Any:
        for name in self.graph_signature.parameters:
            yield name, self.state_dict[name]

    def buffers(self) -> Any:
        yield from (value for _, value in self.named_buffers())

    def named_buffers(self) -> Any:
        for name in self.graph_signature.buffers:
            yield name, self.state_dict.get(name, self.constants.get(name))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Unable to call ExportedProgram directly. You should use "
                           "`exported_program.module()` instead.")

    def module(self) -> GraphModule:
        """A GraphModule that runs the program: called as the original module was, with the
        parameters and buffers as its attributes (under their names in the original module)
        and the inputs checked against the exported shapes first."""
        graph = copy.deepcopy(self.graph)
        root: dict[str, Any] = {name: getattr(self.graph_module, name)
                                for name in _submodule_targets(graph)}
        first_user = None
        for node, spec in zip(list(graph.nodes), self.graph_signature.input_specs):
            assert node.op == "placeholder"
            if spec.kind is InputKind.USER_INPUT:
                first_user = first_user or node
                continue
            target = str(spec.target)
            root[target] = self.state_dict[target] if target in self.state_dict \
                else self.constants[target]
            with graph.inserting_before(node):
                attr = graph.get_attr(target)
            node.replace_all_uses_with(attr)
            graph.erase_node(node)
        # the get_attr nodes after the placeholders, as PyTorch prints them
        placeholders = [node for node in graph.nodes if node.op == "placeholder"]
        if placeholders:
            for node in reversed([node for node in graph.nodes if node.op == "get_attr"]):
                placeholders[-1].append(node)
        graph.set_codegen(_ExportCodeGen())
        module = ExportedModule(root, graph, self.call_signature)
        return module

    def run_decompositions(self, decomp_table: dict[Any, Any] | None = None,
                           decompose_custom_triton_ops: bool = False) -> ExportedProgram:
        """The same program: its graph already holds autodiff's own ops, which are what
        autodiff runs (PyTorch decomposes its ATen ops here; there is no smaller set to
        decompose autodiff's into)."""
        root = {name: getattr(self.graph_module, name)
                for name in _submodule_targets(self.graph)}
        return ExportedProgram(root, copy.deepcopy(self.graph), copy.deepcopy(self.graph_signature),
                               dict(self.state_dict), dict(self.range_constraints),
                               call_signature=self.call_signature,
                               constants=dict(self.constants), example_inputs=self.example_inputs)

    def __str__(self) -> str:
        code = self.graph_module.print_readable(print_output=False).replace("\n", "\n    ")
        signature = str(self.graph_signature).replace("\n", "\n    ")
        return (f"ExportedProgram:\n    {code}\nGraph signature: {signature}\n"
                f"Range constraints: {self.range_constraints}\n")

    def __repr__(self) -> str:
        return str(self)


def _submodule_targets(graph: Graph) -> list[str]:
    return [str(node.target) for node in graph.nodes if node.op == "get_attr"]


# -------------------------------------------------------------------- module()
class _ExportCodeGen(CodeGen):
    """forward(self, *args, **kwargs): the inputs checked and flattened first, the outputs
    rebuilt into the exported structure last (PyTorch's _PyTreeCodeGen)."""

    def gen_fn_def(self, free_vars: list[str], maybe_return_annotation: str) -> str:
        names = [var.split(":")[0].split("=")[0].strip() for var in free_vars
                 if var.split(":")[0].strip() != "self"]
        unpack = f"\n    {', '.join(names)}, = self._flatten_inputs(args, kwargs)" if names \
            else "\n    self._flatten_inputs(args, kwargs)"
        return f"def forward(self, *args, **kwargs){maybe_return_annotation}:{unpack}"

    def generate_output(self, output_args: Any, *, repr_fn: Any = None) -> str:
        return f"return self._unflatten_outputs({(repr_fn or repr)(output_args)})"


class ExportedModule(GraphModule):
    """The GraphModule `ExportedProgram.module()` returns: its forward takes the inputs as the
    exported module took them."""

    def __init__(self, root: dict[str, Any], graph: Graph,
                 call_signature: ModuleCallSignature) -> None:
        super().__init__(root, graph)
        self._call_signature = call_signature
        # checked before forward, as PyTorch's guards are, so that a failure reads as the
        # caller's, not as an error in the generated code
        self.register_forward_pre_hook(_check_inputs_hook, with_kwargs=True)

    def __deepcopy__(self, memo: dict[int, Any]) -> GraphModule:
        copied = super().__deepcopy__(memo)
        assert isinstance(copied, ExportedModule)
        copied._call_signature = self._call_signature
        copied.register_forward_pre_hook(_check_inputs_hook, with_kwargs=True)
        return copied

    def _flatten_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        call = self._call_signature
        try:
            arguments = dict(call.signature.bind(*args, **kwargs).arguments)
        except TypeError:
            arguments = None
        leaves, spec = tree_flatten(arguments) if arguments is not None else ([], None)
        if spec != call.in_spec:
            raise ValueError(
                "Trying to flatten user inputs with exported input tree spec: \n"
                f"{call.in_spec}\nbut actually got inputs with tree spec of: \n"
                f"{tree_flatten((args, kwargs))[1] if spec is None else spec}.\n"
                "Please check that the inputs have the same number and type of args and kwargs "
                "as the ones you used when tracing.")
        return leaves

    def _unflatten_outputs(self, outputs: tuple[Any, ...]) -> Any:
        return tree_unflatten(list(outputs), self._call_signature.out_spec)


def _root_size(spec: DimSpec, size: int) -> int | None:
    return spec.dim.root_value(size) if isinstance(spec.dim, Dim) else size


def _relation(spec: DimSpec, first: DimSpec, first_source: str) -> str:
    """`spec`'s size in terms of the first size of its group, as PyTorch's guard writes it."""
    if not isinstance(spec.dim, Dim) or not isinstance(first.dim, Dim) or \
            (first.dim.scale, first.dim.offset) != (1, 0):
        return first_source
    text = first_source if spec.dim.scale == 1 else f"{spec.dim.scale} * {first_source}"
    if spec.dim.offset:
        text += f" + {spec.dim.offset}" if spec.dim.offset > 0 else f" - {-spec.dim.offset}"
    return text


def _check_inputs_hook(module: ExportedModule, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> None:
    call = module._call_signature
    _check_inputs(call.input_names, module._flatten_inputs(args, kwargs), call.input_checks)


def _check_inputs(names: list[str], leaves: list[Any], checks: list[Any]) -> None:
    """PyTorch's guards: each static size as exported, each dynamic one in its range, sizes
    that share a symbol equal, non-tensor inputs equal to their exported value."""
    first_of_group: dict[str, tuple[str, DimSpec, int]] = {}
    for name, leaf, check in zip(names, leaves, checks):
        if isinstance(check, _Constant):
            if leaf != check.value:
                raise AssertionError(f"Guard failed: {name} == {check.value!r}")
            continue
        if not isinstance(leaf, Tensor):  # where PyTorch's guard asks for its sizes
            raise AttributeError(f"'{type(leaf).__name__}' object has no attribute 'size'")
        shape = tuple(leaf.shape)
        dims: list[DimSpec] = check
        for index, spec in enumerate(dims):
            size = shape[index]  # IndexError for too few dimensions, as PyTorch's guard
            if not spec.dynamic:
                if size != spec.example:
                    raise AssertionError(f"Guard failed: {spec.source} == {spec.example}")
                continue
            if isinstance(spec.dim, Dim):
                if spec.dim.min > 0 and size < spec.dim.min:
                    raise AssertionError(f"Guard failed: {spec.source} >= {spec.dim.min}")
                if spec.dim.max is not int_oo and size > spec.dim.max:
                    raise AssertionError(f"Guard failed: {spec.source} <= {spec.dim.max}")
            first = first_of_group.setdefault(spec.group, (spec.source, spec, size))
            if _root_size(spec, size) != _root_size(first[1], first[2]):
                raise AssertionError(f"Guard failed: {spec.source} == "
                                     f"{_relation(spec, first[1], first[0])}")
        if len(shape) != len(dims):
            raise AssertionError(f"Guard failed: {name}.dim() == {len(dims)}")


# -------------------------------------------------------------------- lifting
def lift(traced: dict[str, Any], mod: Module, args: tuple[Any, ...],
         kwargs: dict[str, Any]) -> ExportedProgram:
    """The ExportedProgram of a trace: get_attr nodes of tensors become placeholders before
    the user inputs (parameters `p_*`, buffers `b_*`, constant tensors `c_*`), in the order
    PyTorch lists them, every parameter and buffer of the module included."""
    graph: Graph = traced["graph"]
    parameters: dict[str, Tensor] = dict(mod.named_parameters())
    buffers: dict[str, Tensor] = dict(mod.named_buffers())
    persistent = set(mod.state_dict(keep_vars=True))
    constant_names = {name for name, value in traced["root"].items()
                      if isinstance(value, Tensor) and name not in parameters
                      and name not in buffers}
    by_target: dict[str, list[Node]] = {}
    for node in graph.nodes:
        if node.op == "get_attr":
            by_target.setdefault(str(node.target), []).append(node)
    user_placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    first = next(iter(graph.nodes))
    specs: list[InputSpec] = []
    state_dict: dict[str, Tensor] = {}
    constants: dict[str, Tensor] = {}

    def add(target: str, prefix: str, kind: InputKind, value: Tensor,
            persistent_flag: bool | None) -> None:
        with graph.inserting_before(first):
            placeholder = graph.placeholder(prefix + target.replace(".", "_"))
        placeholder.meta["val"] = value.detach()  # printed as a tensor, not a Parameter
        for node in by_target.get(target, ()):
            node.replace_all_uses_with(placeholder)
            graph.erase_node(node)
        specs.append(InputSpec(kind, TensorArgument(placeholder.name), target, persistent_flag))

    for target, value in parameters.items():
        add(target, "p_", InputKind.PARAMETER, value, None)
        state_dict[target] = value
    for target, value in buffers.items():
        is_persistent = target in persistent
        add(target, "b_", InputKind.BUFFER, value, is_persistent)
        (state_dict if is_persistent else constants)[target] = value
    for target in sorted(constant_names):
        value = traced["root"][target]
        add(target, "c_", InputKind.CONSTANT_TENSOR, value, None)
        constants[target] = value
    for node, leaf in zip(user_placeholders, traced["leaves"]):
        argument: TensorArgument | ConstantArgument = TensorArgument(node.name) \
            if isinstance(leaf, Tensor) else ConstantArgument(node.name, leaf)
        specs.append(InputSpec(InputKind.USER_INPUT, argument, None))
    outputs = []
    for value in graph.output_node.args[0]:
        argument = TensorArgument(value.name) if isinstance(value, Node) \
            else ConstantArgument("", value)
        outputs.append(OutputSpec(OutputKind.USER_OUTPUT, argument, None))
    graph.lint()
    root = {name: value for name, value in traced["root"].items()
            if not isinstance(value, Tensor)}  # cond's branches, modules called whole
    checks = [dims if dims is not None else _Constant(leaf)
              for leaf, dims in zip(traced["leaves"], traced["dims"])]
    call = ModuleCallSignature(traced["signature"], traced["in_spec"], traced["out_spec"],
                               [node.name for node in user_placeholders], checks)
    return ExportedProgram(root, graph, ExportGraphSignature(specs, outputs), state_dict,
                           range_constraints(traced["dims"]), call_signature=call,
                           constants=constants, example_inputs=(tuple(args), dict(kwargs)))


class Symbol:
    """A dynamic size's name in `range_constraints` (a Dim's name, or `s<n>` for a hint)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Symbol) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def range_constraints(per_input: list[list[DimSpec] | None]) -> dict[Any, ValueRanges]:
    out: dict[Any, ValueRanges] = {}
    for dims in per_input:
        for spec in dims or ():
            if not spec.dynamic:
                continue
            if isinstance(spec.dim, Dim):
                root = spec.dim.root
                out.setdefault(Symbol(spec.group), ValueRanges(root.min, root.max))
                if spec.dim is not root:
                    out.setdefault(Symbol(spec.dim.__name__),
                                   ValueRanges(spec.dim.min, spec.dim.max))
            else:
                out.setdefault(Symbol(spec.group), ValueRanges(2, int_oo))
    return out


def unflatten(program: ExportedProgram) -> Module:
    """The exported program as a module with the original module's hierarchy of submodules
    holding its parameters and buffers (each submodule a container: the whole forward runs as
    one graph, where PyTorch's unflatten gives each submodule a graph of its own)."""
    return program.module()


def _is_parameter(value: Any) -> bool:
    return isinstance(value, Parameter)
