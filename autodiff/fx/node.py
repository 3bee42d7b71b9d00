"""torch.fx.Node: one operation of a Graph (what it calls, on which values), its place in the
graph's doubly linked list of nodes, and the users bookkeeping that keeps `users` and
`all_input_nodes` right whenever `args` or `kwargs` change.

Targets print as PyTorch prints them: autodiff's public functions under the name `torch` (the
generated code binds `torch` to autodiff), builtins and operators by their module.
"""

from __future__ import annotations

import builtins
import inspect
import operator
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .immutable_collections import immutable_dict, immutable_list

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Node", "has_side_effect", "map_aggregate", "map_arg"]

Target = Callable[..., Any] | str
Argument = Any

_legal_ops = dict.fromkeys(["placeholder", "call_method", "call_module", "call_function",
                            "get_attr", "output", "root"])

_side_effectful_functions: set[Callable[..., Any]] = {operator.setitem}

# Drawing random numbers advances a generator: a node that does is not dead code even unused.
_RANDOM_FUNCTION_NAMES = ("normal", "bernoulli", "randn_like", "rand", "poisson", "randperm",
                          "randint", "multinomial", "randint_like", "randn", "rand_like")


def has_side_effect(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark `fn` as having side effects: eliminate_dead_code keeps its nodes."""
    _side_effectful_functions.add(fn)
    return fn


def _random_functions() -> set[Callable[..., Any]]:
    import autodiff
    return {getattr(autodiff, name) for name in _RANDOM_FUNCTION_NAMES
            if hasattr(autodiff, name)}


# ------------------------------------------------------------------------------ target names
def _public_namespaces() -> list[tuple[str, Any]]:
    """autodiff's public modules with the name PyTorch's equivalents print under."""
    import autodiff
    import autodiff.nn.functional as functional
    return [("torch", autodiff), ("torch.nn.functional", functional),
            ("torch.linalg", autodiff.linalg), ("torch.special", autodiff.special),
            ("torch.fft", autodiff.fft)]


def _is_from_autodiff(obj: object) -> bool:
    """Whether `obj` is autodiff's own, so that the generated code reaches it through `torch`
    (PyTorch's `_is_from_torch`)."""
    module = getattr(obj, "__module__", None)
    if isinstance(module, str):
        return module == "autodiff" or module.startswith("autodiff.")
    name = getattr(obj, "__name__", None)
    if name is not None and name != "autodiff":
        return any(getattr(namespace, name, None) is obj for _, namespace in _public_namespaces())
    return False


def _find_module_of_method(method: Callable[..., Any]) -> str:
    """The dotted module `method` is reached from, autodiff's spelled as PyTorch's (`torch`,
    `torch.nn.functional`, ...): the public module that holds it, its own module, or else
    where its `__module__` says."""
    name = method.__name__
    module = getattr(method, "__module__", None)
    if isinstance(module, str) and (module == "autodiff" or module.startswith("autodiff.")):
        namespaces = _public_namespaces()
        public = "torch" + module[len("autodiff"):]
        # The module it is defined in first, when public (nn.functional's own functions).
        for spelled, namespace in namespaces:
            if spelled == public and getattr(namespace, name, None) is method:
                return spelled
        for spelled, namespace in namespaces:
            if getattr(namespace, name, None) is method:
                return spelled
        return public
    if module is not None:
        return module
    for spelled, namespace in _public_namespaces():
        if getattr(namespace, name, None) is method:
            return spelled
    raise RuntimeError(f"cannot find module for {method}")


def _get_qualified_name(func: Callable[..., Any]) -> str:
    """How generated code and printouts name `func`: `getattr`, `torch.Tensor.add`,
    `torch.relu`, `_operator.add`, `mymodule.fn`, `torch.ops.aten.mm.default`."""
    from autodiff.op_overloads import OpOverload, OpOverloadPacket
    if isinstance(func, (OpOverload, OpOverloadPacket)):
        return f"torch.ops.{func}"
    if getattr(builtins, func.__name__, None) is func:
        return func.__name__
    from autodiff.tensor import Tensor
    if getattr(Tensor, func.__name__, None) is func and \
            getattr(func, "__qualname__", "").startswith("Tensor."):
        return f"torch.Tensor.{func.__name__}"
    name = func.__name__
    if name == "<lambda>":
        try:
            name = inspect.getsource(func).split("=")[0].strip()
        except Exception as error:
            raise RuntimeError("Unable to represent lambda") from error
    return f"{_find_module_of_method(func)}.{name}"


def _type_repr(obj: object) -> str:
    """A type as `module.Qualname` (builtins bare, autodiff's as PyTorch's); anything else by
    repr."""
    if isinstance(obj, type) and not isinstance(obj, types.GenericAlias):
        if obj.__module__ == "builtins":
            return obj.__qualname__
        if _is_from_autodiff(obj):
            return _get_qualified_name(obj)
        return f"{obj.__module__}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    if isinstance(obj, types.FunctionType):
        return obj.__name__
    return repr(obj)


def _format_arg(arg: object, max_list_len: float = float("inf")) -> str:
    """An argument as format_node shows it: nodes as %name, containers element by element."""
    if hasattr(arg, "_custom_fx_repr_fn"):
        return arg._custom_fx_repr_fn()
    if isinstance(arg, list):
        items = ", ".join(_format_arg(a) for index, a in enumerate(arg) if index < max_list_len)
        maybe_len = "" if len(arg) < max_list_len + 1 else f", ...[total_len={len(arg)}]"
        return f"[{items}{maybe_len}]"
    if isinstance(arg, tuple):
        items = ", ".join(_format_arg(a) for index, a in enumerate(arg) if index < max_list_len)
        maybe_len = "" if len(arg) < max_list_len + 1 else f", ...[total_len={len(arg)}]"
        maybe_comma = "," if len(arg) == 1 else ""
        return f"({items}{maybe_comma}{maybe_len})"
    if isinstance(arg, dict):
        items_str = ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items())
        return f"{{{items_str}}}"
    if isinstance(arg, Node):
        return "%" + str(arg)
    return str(arg)


def _typename(obj: object) -> str:
    kind = obj if isinstance(obj, type) else type(obj)
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", None) else f"{module}.{kind.__qualname__}"


# ------------------------------------------------------------------------------------ Node
class Node:
    """One operation of a Graph. `op` says what kind:

    - ``placeholder``: a function input; `target` is the parameter's name, `args` holds its
      default value, if any.
    - ``get_attr``: fetches a parameter, buffer or submodule; `target` is its dotted path.
    - ``call_function``: calls `target`, a Python callable, with `args` and `kwargs`.
    - ``call_module``: calls the submodule at dotted path `target` (without self in args).
    - ``call_method``: calls method `target` on `args[0]`.
    - ``output``: the value returned, in `args[0]`.
    """

    def __init__(self, graph: Graph, name: str, op: str, target: Target,
                 args: tuple[Argument, ...], kwargs: dict[str, Argument],
                 return_type: Any | None = None) -> None:
        if op == "call_function":
            if not callable(target):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                                 f"type {_typename(target)} but a Callable is expected")
        else:
            if op not in _legal_ops:
                raise AssertionError(f"op '{op}' is not in _legal_ops")
            if not isinstance(target, str):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                                 f"type {_typename(target)} but a str is expected")
        self.graph = graph
        self.name = name
        self.op = op
        self.target: Any = target
        self.type = return_type
        self._input_nodes: dict[Node, None] = {}
        self.users: dict[Node, None] = {}
        self._args: tuple[Argument, ...] = ()
        self._kwargs: dict[str, Argument] = immutable_dict()
        self._prev: Node = self
        self._next: Node = self
        self._erased = False
        self._repr_fn: Callable[[Node], str] | None = None
        self.meta: dict[str, Any] = {}
        self._update_args_kwargs(args, kwargs)

    # ---------------------------------------------------------------- the list of nodes
    @property
    def next(self) -> Node:
        """The next Node in the graph's list of nodes."""
        return self._next

    @property
    def prev(self) -> Node:
        """The previous Node in the graph's list of nodes."""
        return self._prev

    def prepend(self, x: Node) -> None:
        """Move or insert `x` just before this node (both in the same graph)."""
        if self.graph is not x.graph:
            raise AssertionError("Attempting to move a Node into a different Graph")
        if self is x:
            return
        x._remove_from_list()
        previous = self._prev
        previous._next, x._prev = x, previous
        x._next, self._prev = self, x

    def append(self, x: Node) -> None:
        """Move or insert `x` just after this node; `self.next.prepend(x)`."""
        self._next.prepend(x)

    def _remove_from_list(self) -> None:
        # The node keeps its own links: an iterator standing on it goes on from there.
        previous, following = self._prev, self._next
        previous._next, following._prev = following, previous

    # ---------------------------------------------------------------- arguments and users
    @property
    def args(self) -> tuple[Argument, ...]:
        """The positional arguments; assigning updates users and inputs."""
        return self._args

    @args.setter
    def args(self, value: tuple[Argument, ...]) -> None:
        self._update_args_kwargs(value, self._kwargs)

    @property
    def kwargs(self) -> dict[str, Argument]:
        """The keyword arguments; assigning updates users and inputs."""
        return self._kwargs

    @kwargs.setter
    def kwargs(self, value: dict[str, Argument]) -> None:
        self._update_args_kwargs(self._args, value)

    @property
    def all_input_nodes(self) -> list[Node]:
        """The distinct Nodes among args and kwargs, in order of first appearance."""
        return list(self._input_nodes)

    def _update_args_kwargs(self, new_args: tuple[Argument, ...],
                            new_kwargs: dict[str, Argument]) -> None:
        self._args = map_aggregate(new_args, _identity)
        self._kwargs = map_aggregate(new_kwargs, _identity)
        for old_use in self._input_nodes:
            old_use.users.pop(self)
        self._input_nodes = {}
        map_arg(self._args, self._input_nodes.setdefault)
        map_arg(self._kwargs, self._input_nodes.setdefault)
        for new_use in self._input_nodes:
            new_use.users.setdefault(self)

    def update_arg(self, idx: int, arg: Argument) -> None:
        """Set `args[idx]` to `arg`."""
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx: int, arg: Argument) -> None:
        """Insert `arg` before `args[idx]`."""
        if not 0 <= idx <= len(self.args):
            raise AssertionError("insert_args index must be between 0 and len(self.args), "
                                 f"got {idx}")
        self.args = (*self.args[:idx], arg, *self.args[idx:])

    def update_kwarg(self, key: str, arg: Argument) -> None:
        """Set `kwargs[key]` to `arg`."""
        self.kwargs = {**self.kwargs, key: arg}

    def replace_all_uses_with(self, replace_with: Node,
                              delete_user_cb: Callable[[Node], bool] | None = None, *,
                              propagate_meta: bool = False) -> list[Node]:
        """Make every user of this node use `replace_with` instead (those `delete_user_cb`
        accepts, when given); returns the users changed."""
        if propagate_meta:
            if len(replace_with.meta) != 0:
                raise AssertionError(
                    "Called node.replace_all_uses_with(replace_with, propagate_meta=True), "
                    "but replace_with already has .meta keys")
            replace_with.meta.update(self.meta)
        changed = []
        for user in list(self.users):
            if delete_user_cb is not None and not delete_user_cb(user):
                continue
            changed.append(user)
            user._replace_input_with(self, replace_with)
        return changed

    def replace_input_with(self, old_input: Node, new_input: Node) -> None:
        """Use `new_input` wherever this node's arguments use `old_input`."""
        self._replace_input_with(old_input, new_input)

    def _replace_input_with(self, old_input: Node, new_input: Node) -> None:
        def swap(node: Node) -> Node:
            return new_input if node is old_input else node
        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    # ---------------------------------------------------------------- questions
    @property
    def stack_trace(self) -> str | None:
        """The Python stack recorded when the node was traced, if any."""
        return self.meta.get("stack_trace", None)

    @stack_trace.setter
    def stack_trace(self, trace: str | None) -> None:
        self.meta["stack_trace"] = trace

    def is_impure(self, impure_random: bool = True) -> bool:
        """Whether removing this node, unused, would change what the program does."""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_module":
            owner = self.graph.owning_module
            if owner is None:
                raise AssertionError("self.graph.owning_module not set for purity check")
            return getattr(owner.get_submodule(self.target), "_is_impure", False)
        if self.op == "call_function":
            return self.target in _side_effectful_functions or \
                self.target in _random_functions()
        return False

    # ---------------------------------------------------------------- printing
    def __repr__(self) -> str:
        if self._repr_fn:
            return self._repr_fn(self)
        return self.name

    @staticmethod
    def _pretty_print_target(target: object) -> str:
        """builtins.getattr, operator.add, torch.relu, or the string target itself."""
        if isinstance(target, str):
            return target
        if hasattr(target, "__module__"):
            name = getattr(target, "__name__", None)
            if name is None:
                return _get_qualified_name(target)  # type: ignore[arg-type]
            if target.__module__ == "builtins":
                return f"builtins.{name}"
            if target.__module__ == "_operator":
                return f"operator.{name}"
        return _get_qualified_name(target)  # type: ignore[arg-type]

    def format_node(self, placeholder_names: list[str] | None = None,
                    maybe_return_typename: list[str] | None = None) -> str | None:
        """This node as one line of a graph printout, `%name : [num_users=n] = op[target=...]
        (args = ..., kwargs = ...)`. Inside Graph.__str__, placeholders add their names to
        `placeholder_names` and return None."""
        if self.op == "placeholder":
            assert isinstance(self.target, str)
            arg_str = self.target
            arg_str += arg_str + f": {_type_repr(self.type)}" if self.type else ""
            if placeholder_names:
                placeholder_names.append(arg_str)
                return None
            maybe_typename = f"{_type_repr(self.type)} " if self.type else ""
            default_val = "(default=" + str(self.args[0]) + ")" if self.args else ""
            return (f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={self.target}]{default_val}")
        if self.op == "get_attr":
            maybe_typename = f"{_type_repr(self.type)} " if self.type is not None else ""
            return (f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={self._pretty_print_target(self.target)}]")
        if self.op == "output":
            if self.type and maybe_return_typename:
                maybe_return_typename[0] = f" -> {_type_repr(self.type)}"
            return f"return {self.args[0]}"
        maybe_typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        return (f"%{self.name} : {maybe_typename}[num_users={len(self.users)}] = "
                f"{self.op}[target={self._pretty_print_target(self.target)}]("
                f"args = {_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})")

    def _rename(self, candidate: str) -> None:
        if candidate == self.name:
            return
        name = self.graph._graph_namespace.create_name(candidate, None)
        self.name = name
        self.graph._graph_namespace._rename_object(self, name)


def _identity(value: Any) -> Any:
    return value


# ------------------------------------------------------------------------------ map_arg
def map_arg(a: Argument, fn: Callable[[Node], Argument]) -> Argument:
    """Apply `fn` to every Node in the nested argument structure `a`, rebuilding the
    structure (lists and dicts as immutable ones)."""
    if not callable(fn):
        raise AssertionError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def map_aggregate(a: Argument, fn: Callable[[Argument], Argument]) -> Argument:
    """Apply `fn` to every leaf of the nested structure `a` (tuples, named tuples, lists,
    dicts, slices, ranges), rebuilding it."""
    if isinstance(a, tuple):
        items = [map_aggregate(elem, fn) for elem in a]
        return type(a)(*items) if hasattr(a, "_fields") else tuple(items)
    if isinstance(a, list):
        return immutable_list(map_aggregate(elem, fn) for elem in a)
    if isinstance(a, dict):
        return immutable_dict((k, map_aggregate(v, fn)) for k, v in a.items())
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn),
                     map_aggregate(a.step, fn))
    if isinstance(a, range):
        return range(map_aggregate(a.start, fn), map_aggregate(a.stop, fn),
                     map_aggregate(a.step, fn))
    return fn(a)


def _node_iter(root: Node, reverse: bool) -> Iterator[Node]:
    """The nodes after `root` in list order (before it, backwards), skipping erased ones; an
    erased node keeps its links, so erasing the node just yielded is safe."""
    node = root
    while True:
        node = node._prev if reverse else node._next
        if node is root:
            return
        if not node._erased:
            yield node
