"""torch.fx.Graph: a list of Nodes (a doubly linked list around a sentinel `root` node), the
names they take (one namespace per graph), and the Python code a graph turns into.

The code is PyTorch's text: `add = x + y;  x = y = None` (each value freed after its last
use), autodiff's functions as `torch.relu(...)` with `torch` bound to autodiff in the code's
globals, other callables as globals under a fresh name.
"""

from __future__ import annotations

import builtins
import copy
import enum
import inspect
import keyword
import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..user_warnings import warn
from .immutable_collections import immutable_dict
from .node import (
    Argument,
    Node,
    Target,
    _get_qualified_name,
    _is_from_autodiff,
    _legal_ops,
    _node_iter,
    _type_repr,
    map_arg,
)

if TYPE_CHECKING:
    from .graph_module import GraphModule

__all__ = ["CodeGen", "Graph", "PythonCode"]


class _CustomBuiltin(NamedTuple):
    """A name every generated program's globals hold, with the import that makes it."""

    import_str: str
    obj: object


_illegal_names: dict[str, object] = {name: object() for name in keyword.kwlist}
_illegal_names.update(builtins.__dict__)  # generated names never shadow a builtin
_custom_builtins: dict[str, _CustomBuiltin] = {}


def _register_custom_builtin(name: str, import_str: str, obj: object) -> None:
    _custom_builtins[name] = _CustomBuiltin(import_str, obj)
    _illegal_names[name] = obj


def _register_autodiff_builtins() -> None:
    import autodiff
    _register_custom_builtin("inf", "from math import inf", math.inf)
    _register_custom_builtin("nan", "from math import nan", math.nan)
    _register_custom_builtin("NoneType", "NoneType = type(None)", type(None))
    _register_custom_builtin("torch", "import autodiff as torch", autodiff)
    _register_custom_builtin("device", "from autodiff import device", autodiff.device)


_register_autodiff_builtins()

magic_methods = {
    "eq": "{} == {}", "ne": "{} != {}", "lt": "{} < {}", "gt": "{} > {}", "le": "{} <= {}",
    "ge": "{} >= {}", "pos": "+{}", "neg": "-{}", "invert": "~{}", "add": "{} + {}",
    "sub": "{} - {}", "mul": "{} * {}", "floordiv": "{} // {}", "truediv": "{} / {}",
    "div": "{} / {}", "mod": "{} % {}", "pow": "{} ** {}", "lshift": "{} << {}",
    "rshift": "{} >> {}", "and_": "{} & {}", "or_": "{} | {}", "xor": "{} ^ {}",
    "getitem": "{}[{}]", "matmul": "{} @ {}",
}
reflectable_magic_methods = {
    key: value for key, value in magic_methods.items()
    if key not in ("eq", "ne", "lt", "gt", "le", "ge", "pos", "neg", "invert")
}
inplace_methods = {
    "iadd": "{} += {}", "iand": "{} &= {}", "ifloordiv": "{} //= {}", "ilshift": "{} <<= {}",
    "imod": "{} %= {}", "imul": "{} *= {}", "imatmul": "{} @= {}", "ior": "{} |= {}",
    "ipow": "{} **= {}", "irshift": "{} >>= {}", "isub": "{} -= {}", "itruediv": "{} /= {}",
    "ixor": "{} ^= {}", "setitem": "{}[{}] = {}",
}

# The short dtype names annotations use (f32[2, 3]).
_dtype_abbrs = {
    "uint8": "u8", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "float16": "f16", "float32": "f32", "float64": "f64", "complex32": "c32",
    "complex64": "c64", "complex128": "c128", "bool": "b8", "bfloat16": "bf16",
    "uint16": "u16", "uint32": "u32", "uint64": "u64",
}


def _dtype_abbr(dtype: Any) -> str:
    name = str(dtype).split(".")[-1]
    return _dtype_abbrs.get(name, name)


def _is_magic(x: str) -> bool:
    return x.startswith("__") and x.endswith("__")


_snake_case_sub = re.compile(r"(?<=[a-z])([A-Z])").sub


def _snake_case(s: str) -> str:
    """`mod.pascalCase` -> `mod.pascal_case`, `ALL_CAPS` -> `all_caps`."""
    return _snake_case_sub(r"_\1", s).lower()


_illegal_char_regex = re.compile("[^0-9a-zA-Z_]+")
_name_regex = re.compile(r"^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$")


class _Namespace:
    """Unique names for objects: each object one name, each name used once, no name that
    shadows a builtin unless it is that builtin."""

    def __init__(self) -> None:
        self._obj_to_name: dict[Any, str] = {}
        self._used_names: set[str] = set()
        self._base_count: dict[str, int] = {}

    def create_name(self, candidate: str, obj: Any | None) -> str:
        """A fresh name based on `candidate` (`add`, `add_1`, ...), tied to `obj` if given."""
        if obj is not None and obj in self._obj_to_name:
            return self._obj_to_name[obj]
        match = _name_regex.match(candidate)
        if match is None:
            candidate = _illegal_char_regex.sub("_", candidate)
            if not candidate:
                candidate = "_unnamed"
            if candidate[0].isdigit():
                candidate = f"_{candidate}"
            match = _name_regex.match(candidate)
            assert match is not None, f"Name regex failed to match candidate: {candidate}"
        base, num = match.group(1, 2)
        if num is None or candidate in self._used_names:
            num = self._base_count.get(base, 0)
            if _illegal_names.get(candidate, obj) is not obj:
                num += 1
                candidate = f"{base}_{num}"
        else:
            num = int(num)
        while candidate in self._used_names:
            num += 1
            candidate = f"{base}_{num}"
        self._used_names.add(candidate)
        self._base_count[base] = num
        if obj is not None:
            self._obj_to_name[obj] = candidate
        return candidate

    def associate_name_with_obj(self, name: str, obj: Any) -> None:
        existing = self._obj_to_name.setdefault(obj, name)
        assert existing is name, "obj is already associated"

    def _rename_object(self, obj: Any, name: str) -> None:
        assert obj in self._obj_to_name
        self._obj_to_name[obj] = name
        self._used_names.add(name)


@dataclass
class PythonCode:
    """A graph's program: `src`, the text of `forward`, and `globals`, the names it uses."""

    src: str
    globals: dict[str, Any]
    _lineno_map: dict[int, int | None] | None = None


def _format_target(base: str, target: str) -> str:
    """`self.a.b`, with getattr for atoms that are not identifiers (`self.seq` -> `0`)."""
    result = base
    for element in target.split("."):
        result = f"{result}.{element}" if element.isidentifier() else \
            f'getattr({result}, "{element}")'
    return result


class _InsertPoint:
    """Where new nodes go until the `with` block ends."""

    def __init__(self, graph: Graph, new_insert: Callable[[Node], None]) -> None:
        self.graph = graph
        self.orig_insert, graph._insert = graph._insert, new_insert

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        self.graph._insert = self.orig_insert


class _node_list:
    """A graph's nodes as a sized, reversible view of its linked list."""

    def __init__(self, graph: Graph, direction: str = "_next") -> None:
        assert direction in ("_next", "_prev")
        self.graph = graph
        self.direction = direction

    def __len__(self) -> int:
        return self.graph._len

    def __iter__(self) -> Iterator[Node]:
        return _node_iter(self.graph._root, self.direction == "_prev")

    def __reversed__(self) -> _node_list:
        return _node_list(self.graph, "_next" if self.direction == "_prev" else "_prev")


class CodeGen:
    """Turns a graph's nodes into the source of `forward`; subclasses change the signature,
    input and output processing."""

    def __init__(self) -> None:
        self._body_transformer: Callable[[list[str]], list[str]] | None = None
        self._func_name = "forward"

    def gen_fn_def(self, free_vars: list[str], maybe_return_annotation: str) -> str:
        """`def forward(self, a, b):`; `self` is added when the graph has none."""
        if len(free_vars) == 0 or free_vars[0] != "self":
            free_vars.insert(0, "self")
        return f"def {self._func_name}({', '.join(free_vars)}){maybe_return_annotation}:"

    def generate_output(self, output_args: Argument, *,
                        repr_fn: Callable[[Any], str] | None = None) -> str:
        """The return statement (unindented)."""
        return f"return {(repr_fn or repr)(output_args)}"

    def process_inputs(self, *args: Any) -> Any:
        return args

    def process_outputs(self, outputs: Any) -> Any:
        return outputs

    def additional_globals(self) -> list[tuple[str, Any]]:
        return []

    def _gen_python_code(self, nodes: _node_list, root_module: str, namespace: _Namespace, *,
                         verbose: bool = False, include_stride: bool = False,
                         include_device: bool = False, colored: bool = False) -> PythonCode:
        free_vars: list[str] = []
        body: list[str] = []
        globals_: dict[str, Any] = {}
        wrapped_fns: dict[str, None] = {}
        maybe_return_annotation = [""]
        include_stride = include_stride or os.environ.get("FX_GRAPH_SHOW_STRIDE", "0") == "1"
        include_device = include_device or os.environ.get("FX_GRAPH_SHOW_DEVICE", "0") == "1"
        red, dim, dim_blue, dim_green, blue = (
            (_color(code) for code in ("\033[31m", "\033[2m", "\033[2m\033[34m",
                                       "\033[2m\033[32m", "\033[34m"))
            if colored else (_identity_str,) * 5)

        def add_global(name_hint: str, obj: Any) -> str:
            """The name the code uses for `obj`, a function, type or other outside object."""
            import autodiff
            if _is_from_autodiff(obj) and obj is not autodiff.device:
                # reached through `torch`, as PyTorch's code reaches its own objects
                return _get_qualified_name(obj)
            global_name = namespace.create_name(name_hint, obj)
            if global_name in globals_:
                assert globals_[global_name] is obj, \
                    f"Global name {global_name} already assigned to different object"
                return global_name
            globals_[global_name] = obj
            return global_name

        for name, (_, obj) in _custom_builtins.items():
            add_global(name, obj)

        def type_repr(o: Any) -> str:
            if o == ():
                return "()"
            typename = _type_repr(o)
            origin = getattr(o, "__origin__", None)
            if origin is not None:
                origin_typename = add_global(_type_repr(origin), origin)
                args = getattr(o, "__args__", ())
                if args:
                    return f"{origin_typename}[{','.join(type_repr(arg) for arg in args)}]"
                return origin_typename
            return add_global(typename, o)

        def _get_repr(arg: Any) -> str:
            from autodiff.tensor import Tensor
            if isinstance(arg, Node):
                return repr(arg)
            if isinstance(arg, tuple) and hasattr(arg, "_fields"):
                global_name = add_global(_get_qualified_name(type(arg)), type(arg))
                return f"{global_name}{tuple(arg)!r}"
            if isinstance(arg, Tensor):
                dtype = str(arg.dtype).split(".")[-1]
                return f"torch.Tensor(size={list(arg.size())}, dtype={dtype})"
            if isinstance(arg, tuple):
                if len(arg) == 1:
                    return f"({_get_repr(arg[0])},)"
                return "(" + ", ".join(_get_repr(a) for a in arg) + ")"
            if isinstance(arg, list):
                return "[" + ", ".join(_get_repr(a) for a in arg) + "]"
            if isinstance(arg, slice):
                return (f"slice({_get_repr(arg.start)}, {_get_repr(arg.stop)}, "
                        f"{_get_repr(arg.step)})")
            if isinstance(arg, enum.Enum):
                cls = arg.__class__
                return f"{add_global(cls.__name__, cls)}.{arg.name}"
            return blue(repr(arg))

        def _format_args(args: tuple[Argument, ...], kwargs: dict[str, Argument]) -> str:
            rendered = [_get_repr(a) for a in args]
            rendered.extend(f"{k} = {_get_repr(v)}" for k, v in kwargs.items())
            return ", ".join(rendered)

        # Each value is freed right after its last use: walking backwards, the first user
        # met is the last one.
        node_to_last_use: dict[Node, Node] = {}
        user_to_last_uses: dict[Node, list[Node]] = {}
        for node in reversed(nodes):
            for input_node in node._input_nodes:
                if input_node not in node_to_last_use:
                    node_to_last_use[input_node] = node
                    user_to_last_uses.setdefault(node, []).append(input_node)

        def delete_unused_values(user: Node) -> None:
            if user.op == "placeholder":
                return
            if user.op == "output":
                body.append("\n")
                return
            nodes_to_delete = user_to_last_uses.get(user, [])
            if len(user.users) == 0:
                # kept by dead-code elimination for its side effect: free it at once
                nodes_to_delete.append(user)
            if nodes_to_delete:
                to_delete_str = " = ".join([repr(n) for n in nodes_to_delete] + ["None"])
                body.append(f";  {dim(to_delete_str)}\n")
            else:
                body.append("\n")

        prev_summary: list[str | None] = [None]

        def append_stacktrace_summary(node: Node) -> None:
            if node.op in ("placeholder", "output"):
                return
            summary = "No stacktrace found for following nodes"
            parsed = _parse_stack_trace(node.stack_trace) if node.stack_trace else None
            if parsed is not None:
                summary = parsed
            summary_str = f"\n{dim(f'# {summary}')}\n"
            if summary_str != prev_summary[0]:
                prev_summary[0] = summary_str
                body.append(summary_str)

        def emit_node(node: Node) -> None:
            maybe_type_annotation = "" if node.type is None else f" : {type_repr(node.type)}"
            if verbose:
                # a tensor value (meta["val"]) by dtype, shape, stride and device as asked;
                # ShapeProp's metadata by dtype and shape
                from autodiff.tensor import Tensor

                from .passes.shape_prop import TensorMetadata
                meta_val: Any = node.meta.get("val", node.meta.get("tensor_meta", None))
                if isinstance(meta_val, Tensor):
                    stride = _shape_str(meta_val.stride()) if include_stride else ""
                    device = str(meta_val.device) if include_device else ""
                    core = (f"{red(_dtype_abbr(meta_val.dtype))}"
                            f"{blue(_shape_str(meta_val.shape))}{dim_blue(stride)}"
                            f"{dim_green(device)}")
                    maybe_type_annotation = f': "{core}"' if type(meta_val) is Tensor \
                        else f': "{type(meta_val).__name__}({core})"'
                elif isinstance(meta_val, TensorMetadata):
                    maybe_type_annotation = \
                        f': "{_dtype_abbr(meta_val.dtype)}{_shape_str(meta_val.shape)}"'
            if node.op == "placeholder":
                assert isinstance(node.target, str)
                maybe_default_arg = "" if not node.args else f" = {_get_repr(node.args[0])}"
                free_vars.append(f"{node.target}{maybe_type_annotation}{maybe_default_arg}")
                raw_name = node.target.replace("*", "")
                if raw_name != repr(node):
                    body.append(f"{node!r} = {raw_name}\n")
                return
            if node.op == "call_method":
                assert isinstance(node.target, str)
                body.append(f"{node!r}{maybe_type_annotation} = "
                            f"{_format_target(_get_repr(node.args[0]), node.target)}"
                            f"({_format_args(node.args[1:], node.kwargs)})")
                return
            if node.op == "call_function":
                assert callable(node.target)
                module = getattr(node.target, "__module__", "")
                name = getattr(node.target, "__name__", "")
                if module == "_operator" and name in magic_methods:
                    assert isinstance(node.args, tuple)
                    rendered = magic_methods[name].format(*(_get_repr(a) for a in node.args))
                    body.append(f"{node!r}{maybe_type_annotation} = {rendered}")
                    return
                if module == "_operator" and name in inplace_methods:
                    rendered = inplace_methods[name].format(*(_get_repr(a) for a in node.args))
                    body.append(f"{rendered};  {node!r}{maybe_type_annotation} = "
                                f"{_get_repr(node.args[0])}")
                    return
                global_name = add_global(_get_qualified_name(node.target), node.target)
                if global_name == "getattr" and isinstance(node.args, tuple) \
                        and len(node.args) == 2 and isinstance(node.args[1], str) \
                        and node.args[1].isidentifier():
                    body.append(f"{node!r}{maybe_type_annotation} = "
                                f"{_format_target(_get_repr(node.args[0]), node.args[1])}")
                    return
                body.append(f"{node!r}{maybe_type_annotation} = "
                            f"{global_name}({_format_args(node.args, node.kwargs)})")
                if node.meta.get("is_wrapped", False):
                    wrapped_fns.setdefault(global_name)
                return
            if node.op == "call_module":
                assert isinstance(node.target, str)
                body.append(f"{node!r}{maybe_type_annotation} = "
                            f"{_format_target(root_module, node.target)}"
                            f"({_format_args(node.args, node.kwargs)})")
                return
            if node.op == "get_attr":
                assert isinstance(node.target, str)
                body.append(f"{node!r}{maybe_type_annotation} = "
                            f"{_format_target(root_module, node.target)}")
                return
            if node.op == "output":
                if node.type is not None:
                    maybe_return_annotation[0] = f" -> {type_repr(node.type)}"
                body.append(self.generate_output(node.args[0], repr_fn=_get_repr))
                return
            raise NotImplementedError(f"node: {node.op} {node.target}")

        for node in nodes:
            if verbose:
                append_stacktrace_summary(node)
            emit_node(node)
            delete_unused_values(node)

        if len(body) == 0:
            body.append("pass\n")  # a graph of placeholders only still makes a function
        if wrapped_fns:
            from ._symbolic_trace import wrap
            wrap_name = add_global("wrap", wrap)
            wrap_stmts = "\n".join(f'{wrap_name}("{name}")' for name in wrapped_fns)
        else:
            wrap_stmts = ""
        if self._body_transformer:
            body = self._body_transformer(body)
        for name, value in self.additional_globals():
            add_global(name, value)
        prologue = self.gen_fn_def(free_vars, maybe_return_annotation[0])
        code = "".join(body).lstrip("\n")
        code = "\n".join("    " + line for line in code.split("\n"))
        fn_code = f"""
{wrap_stmts}

{prologue}
{code}"""
        return PythonCode(fn_code, globals_)


def _identity_str(s: str) -> str:
    return s


def _color(code: str) -> Callable[[str], str]:
    def paint(s: str) -> str:
        return f"{code}{s}\033[0m"
    return paint


def _shape_str(shape: Any) -> str:
    return f"[{', '.join(str(x) for x in shape)}]"


_stack_line = re.compile(r"^File \"(.+)\", line (\d+), in (.+)$")


def _parse_stack_trace(stack_trace: str) -> str | None:
    """The innermost frame of a recorded stack as `File: path:line in name, code: line`."""
    lines = stack_trace.strip().split("\n")
    for index in range(len(lines) - 2, -1, -1):
        matched = _stack_line.match(lines[index].strip())
        if matched:
            file, lineno, name = matched.groups()
            return f"File: {file}:{lineno} in {name}, code: {lines[index + 1].strip()}"
    return None


class _FindNodesLookupTable:
    """Nodes by (op, target), for find_nodes."""

    def __init__(self) -> None:
        self.table: dict[tuple[str, Any], dict[Node, None]] = {}

    def _key(self, node: Node) -> tuple[str, Any]:
        return (node.op, node.target if node.op == "call_function" else None)

    def __contains__(self, node: Node) -> bool:
        return node in self.table.get(self._key(node), {})

    def insert(self, node: Node) -> None:
        self.table.setdefault(self._key(node), {})[node] = None

    def remove(self, node: Node) -> None:
        self.table.get(self._key(node), {}).pop(node, None)

    def find_nodes(self, *, op: str, target: Target | None = None) -> list[Node]:
        if op == "call_function":
            assert target is not None
            return list(self.table.get((op, target), {}))
        if target is None:
            return list(self.table.get((op, None), {}))
        return [node for node in self.table.get((op, None), {}) if node.target == target]


class Graph:
    """The intermediate representation of torch.fx: Nodes in order, each one operation
    (placeholder, get_attr, call_function, call_method, call_module, output). `str(graph)`
    lists them; `python_code` makes them a program; a GraphModule runs it."""

    def __init__(self, owning_module: GraphModule | None = None,
                 tracer_cls: type | None = None,
                 tracer_extras: dict[str, Any] | None = None) -> None:
        self._root = Node(self, "", "root", "", (), {})
        self._insert: Callable[[Node], None] = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras
        self._codegen = CodeGen()
        self._find_nodes_lookup_table = _FindNodesLookupTable()

    @property
    def owning_module(self) -> GraphModule | None:
        return self._owning_module

    @owning_module.setter
    def owning_module(self, module: GraphModule | None) -> None:
        self._owning_module = module

    @property
    def nodes(self) -> _node_list:
        """The nodes in order, as a view (`len`, iteration, `reversed`)."""
        return _node_list(self)

    @property
    def output_node(self) -> Node:
        output_node = next(iter(reversed(self.nodes)))
        if output_node.op != "output":
            raise AssertionError(f"Last node in graph must be an output node, got "
                                 f"{output_node.op}")
        return output_node

    def find_nodes(self, *, op: str, target: Target | None = None,
                   sort: bool = True) -> list[Node]:
        """The nodes with this op (and target)."""
        found = self._find_nodes_lookup_table.find_nodes(op=op, target=target)
        if sort:
            order = {node: index for index, node in enumerate(self.nodes)}
            found.sort(key=order.__getitem__)
        return found

    # ------------------------------------------------------------------ copying
    def graph_copy(self, g: Graph, val_map: dict[Node, Node],
                   return_output_node: bool = False) -> Any:
        """Append a copy of `g`'s nodes (all but its output) to this graph; `val_map` maps
        `g`'s nodes to their copies and is filled in. Returns the copy of `g`'s output value
        (the output node itself with `return_output_node`)."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return rv if not return_output_node else (rv, node)
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Graph:
        memo = memo if memo is not None else {}
        g = Graph(tracer_cls=self._tracer_cls)
        output_vals = g.graph_copy(self, val_map=memo, return_output_node=True)  # type: ignore[arg-type]
        g._codegen = copy.deepcopy(self._codegen)
        if output_vals is not None:
            output_val, old_output_node = output_vals
            new_output_node = g.output(output_val, type_expr=getattr(old_output_node, "type",
                                                                      None))
            new_output_node.meta = copy.copy(old_output_node.meta)
        return g

    def node_copy(self, node: Node,
                  arg_transform: Callable[[Node], Argument] = lambda x: x) -> Node:
        """Copy `node` (from another graph) into this one; `arg_transform` maps the nodes
        its arguments use to this graph's nodes."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        assert isinstance(args, tuple)
        assert isinstance(kwargs, dict)
        result_node = self.create_node(node.op, node.target, args, kwargs, node.name,
                                       node.type)
        result_node.meta = copy.copy(node.meta)
        return result_node

    # ------------------------------------------------------------------ making nodes
    def create_node(self, op: str, target: Target, args: tuple[Argument, ...] | None = None,
                    kwargs: dict[str, Argument] | None = None, name: str | None = None,
                    type_expr: Any | None = None) -> Node:
        """Make a Node and insert it at the insert point (the end of the graph, or where
        `inserting_before`/`inserting_after` put it)."""
        if not args:
            args = ()
        else:
            assert isinstance(args, tuple), "args must be a tuple"
        if not kwargs:
            kwargs = immutable_dict()
        else:
            assert isinstance(kwargs, dict), "kwargs must be a dict"
        candidate = name if name is not None else self._target_to_str(target)
        name = self._graph_namespace.create_name(candidate, None)
        node = Node(self, name, op, target, args, kwargs, type_expr)
        owner = self.owning_module
        if owner is not None:
            for hook in getattr(owner, "_create_node_hooks", ()):
                hook(node)
        self._graph_namespace.associate_name_with_obj(name, node)
        self._insert(node)
        self._find_nodes_lookup_table.insert(node)
        self._len += 1
        return node

    def process_inputs(self, *args: Any) -> Any:
        return self._codegen.process_inputs(*args)

    def process_outputs(self, out: Any) -> Any:
        return self._codegen.process_outputs(out)

    def erase_node(self, to_erase: Node) -> None:
        """Remove `to_erase`, which must have no users left."""
        if len(to_erase.users) > 0:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had "
                               f"{len(to_erase.users)} users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            warn(f"erase_node({to_erase}) on an already erased node", stacklevel=2)
            return
        owner = self.owning_module
        if owner is not None:
            for hook in getattr(owner, "_erase_node_hooks", ()):
                hook(to_erase)
        self._find_nodes_lookup_table.remove(to_erase)
        to_erase._remove_from_list()
        to_erase._erased = True
        self._len -= 1
        # its inputs lose it as a user
        to_erase._update_args_kwargs(map_arg(to_erase._args, lambda n: None),
                                     map_arg(to_erase._kwargs, lambda n: None))

    def inserting_before(self, n: Node | None = None) -> _InsertPoint:
        """Insert new nodes before `n` (the start of the graph when None); as a context
        manager, only inside the block."""
        if n is None:
            return self.inserting_after(self._root)
        assert n.graph is self, "Node to insert before is not in graph."
        return _InsertPoint(self, n.prepend)

    def inserting_after(self, n: Node | None = None) -> _InsertPoint:
        """Insert new nodes after `n` (the end of the graph when None)."""
        if n is None:
            return self.inserting_before(self._root)
        assert n.graph is self, "Node to insert after is not in graph."
        return _InsertPoint(self, n.append)

    def placeholder(self, name: str, type_expr: Any | None = None,
                    default_value: Any = inspect.Signature.empty) -> Node:
        """An input of the function; `default_value` its default, if it has one."""
        args = () if default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name: str, type_expr: Any | None = None) -> Node:
        """Fetch the parameter, buffer or submodule at dotted path `qualified_name`."""
        owner = self.owning_module
        if owner is not None and not _get_attr_reference_exists(owner, qualified_name):
            warn("Attempted to insert a get_attr Node with no underlying reference in "
                 "the owning GraphModule! Call GraphModule.add_submodule to add the "
                 "necessary submodule, GraphModule.add_parameter to add the necessary "
                 "Parameter, or nn.Module.register_buffer to add the necessary buffer",
                 stacklevel=2)
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name: str, args: tuple[Argument, ...] | None = None,
                    kwargs: dict[str, Argument] | None = None,
                    type_expr: Any | None = None) -> Node:
        """Call the forward of the submodule at dotted path `module_name`."""
        owner = self.owning_module
        if owner is not None:
            try:
                owner.get_submodule(module_name)
            except AttributeError:
                warn("Attempted to insert a call_module Node with no underlying "
                     "reference in the owning GraphModule! Call "
                     "GraphModule.add_submodule to add the necessary submodule",
                     stacklevel=2)
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name: str, args: tuple[Argument, ...] | None = None,
                    kwargs: dict[str, Argument] | None = None,
                    type_expr: Any | None = None) -> Node:
        """Call method `method_name` on `args[0]`."""
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function: Callable[..., Any],
                      args: tuple[Argument, ...] | None = None,
                      kwargs: dict[str, Argument] | None = None,
                      type_expr: Any | None = None, name: str | None = None) -> Node:
        """Call a Python callable: an autodiff function, a builtin, an operator, ..."""
        return self.create_node("call_function", the_function, args, kwargs, name=name,
                                type_expr=type_expr)

    def output(self, result: Argument, type_expr: Any | None = None) -> Node:
        """The return statement, returning `result`."""
        return self.create_node(op="output", target="output", args=(result,),
                                type_expr=type_expr)

    def _target_to_str(self, target: Target | None) -> str:
        if callable(target):
            op = target.__name__
        else:
            assert isinstance(target, str)
            op = target
            if _is_magic(op):
                op = op[2:-2]
        return _snake_case(op)

    # ------------------------------------------------------------------ code and printing
    def python_code(self, root_module: str, *, verbose: bool = False,
                    include_stride: bool = False, include_device: bool = False,
                    colored: bool = False) -> PythonCode:
        """The graph as the source of a `forward` method (attributes are looked up on
        `root_module`, usually "self") and the globals it needs."""
        # Names in the code come from a fresh namespace, so that locals (the nodes' names)
        # and globals (functions, types) never collide; a node prints as its name there.
        namespace = _Namespace()

        def node_repr(n: Node) -> str:
            return namespace.create_name(n.name, n)

        with _override_node_repr(self, node_repr):
            return self._codegen._gen_python_code(self.nodes, root_module, namespace,
                                                  verbose=verbose,
                                                  include_stride=include_stride,
                                                  include_device=include_device,
                                                  colored=colored)

    def __str__(self) -> str:
        placeholder_names: list[str] = []
        # PyTorch's printout leaves the return type out (it passes no list for it)
        maybe_return_typename = [""]
        node_strs = [node.format_node(placeholder_names) for node in self.nodes]
        s = f"graph({', '.join(placeholder_names)}){maybe_return_typename[0]}:"
        for node_str in node_strs:
            if node_str:
                s += "\n    " + node_str
        return s

    def print_tabular(self) -> None:
        """Print the nodes as a table (opcode, name, target, args, kwargs); needs the
        `tabulate` package, as PyTorch's does."""
        try:
            from tabulate import tabulate
        except ImportError:
            print("`print_tabular` relies on the library `tabulate`, which could not be found "
                  "on this machine. Run `pip install tabulate` to install the library.")
            raise
        node_specs = [[n.op, n.name, n.target, n.args, n.kwargs] for n in self.nodes]
        print(tabulate(node_specs, headers=["opcode", "name", "target", "args", "kwargs"]))

    def lint(self) -> None:
        """Check the graph is well formed: nodes belong to it, each argument is defined
        before use, names are unique, and (with an owning module) targets exist."""
        seen_names: set[str] = set()
        seen_values: set[Node] = set()

        def check_arg(arg: Node, n: Node | None = None) -> None:
            context_str = f" of Node '{n}' " if n else " "
            if arg.graph is not self:
                raise RuntimeError(
                    f"Argument '{arg}'{context_str}does not belong to this Graph, but was used "
                    "as an argument! If you are copying nodes from another graph, make sure to "
                    f"use ``arg_transform`` on node_copy() to remap values\n{self}")
            if arg not in seen_values:
                raise RuntimeError(
                    f"Argument '{arg}'{context_str}was used before it has been defined! Please "
                    f"check that Nodes in the graph are topologically ordered\n{self}")

        for node in self.nodes:
            if node.op not in _legal_ops:
                raise RuntimeError(f"Node {node} had unknown opcode {node.op}!")
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            if node not in self._find_nodes_lookup_table:
                raise RuntimeError(f"Node '{node}' is not added to the side table")
            for arg in node._input_nodes:
                check_arg(arg, node)
            seen_values.add(node)
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)

        owner = self.owning_module
        if owner is None:
            return
        from autodiff.nn import Module
        for node in self.nodes:
            if node.op == "call_function":
                if not callable(node.target):
                    raise ValueError(f"Node {node} target {node.target} has type "
                                     f"{type(node.target).__name__} but a Callable is expected")
            elif not isinstance(node.target, str):
                raise ValueError(f"Node {node} target {node.target} has type "
                                 f"{type(node.target).__name__} but a str is expected")
            if node.op in ("get_attr", "call_module"):
                assert isinstance(node.target, str)
                target_atoms = node.target.split(".")
                m_itr: Any = owner
                for i, atom in enumerate(target_atoms):
                    new_m_itr = getattr(m_itr, atom, None)
                    seen_qualname = ".".join(target_atoms[:i])
                    if new_m_itr is None:
                        raise RuntimeError(f"Node {node} target {node.target} references "
                                           f"nonexistent attribute {atom} of {seen_qualname}")
                    if node.op == "call_module" and not isinstance(new_m_itr, Module):
                        raise RuntimeError(f"Node {node} target {node.target} {atom} of "
                                           f"{seen_qualname} does not reference an nn.Module")
                    m_itr = new_m_itr

    def eliminate_dead_code(self,
                            is_impure_node: Callable[[Node], bool] | None = None) -> bool:
        """Erase the nodes no one uses and that have no side effect (by `Node.is_impure`, or
        `is_impure_node`); returns whether anything was erased."""
        self.lint()  # the walk below relies on topological order

        def has_side_effect(node: Node) -> bool:
            if is_impure_node is not None:
                return is_impure_node(node)
            return node.is_impure()

        changed = False
        # Backwards, so that erasing a node frees its inputs in the same walk.
        for node in reversed(self.nodes):
            if not has_side_effect(node) and len(node.users) == 0:
                self.erase_node(node)
                changed = True
        owner = self.owning_module
        if owner is not None:
            from .graph_module import GraphModule
            subgraph_names = {n.target for n in self.find_nodes(op="get_attr")}
            for child_name, child in owner.named_children():
                if child_name in subgraph_names and isinstance(child, GraphModule):
                    changed |= child.graph.eliminate_dead_code()
                    child.recompile()
        return changed

    def set_codegen(self, codegen: CodeGen) -> None:
        self._codegen = codegen

    def on_generate_code(self, make_transformer: Callable[[Any], Any]) -> Any:
        """Within the returned context, code generation passes the body's lines through the
        transformer `make_transformer(previous transformer)` returns."""
        previous = self._codegen._body_transformer
        self._codegen._body_transformer = make_transformer(previous)

        @contextmanager
        def restore() -> Iterator[None]:
            try:
                yield
            finally:
                self._codegen._body_transformer = previous

        return restore()


@contextmanager
def _override_node_repr(graph: Graph, node_repr: Callable[[Node], str]) -> Iterator[None]:
    originals = {}
    for node in graph.nodes:
        originals[node] = node._repr_fn
        node._repr_fn = node_repr
    try:
        yield
    finally:
        for node, original in originals.items():
            node._repr_fn = original


def _get_attr_reference_exists(module: Any, qualified_name: str) -> bool:
    from autodiff.nn import Module, Parameter
    module_path, _, name = qualified_name.rpartition(".")
    try:
        submodule = module.get_submodule(module_path)
    except AttributeError:
        warn(f"Failed to fetch module {module_path}!", stacklevel=3)
        return False
    if not hasattr(submodule, name):
        return False
    value = getattr(submodule, name)
    return isinstance(value, (Module, Parameter)) or name in submodule._buffers
