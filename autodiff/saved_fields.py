"""A node's saved values under PyTorch's names: `grad_fn._saved_<name>` for every tensor and
argument derivatives.yaml saves, and `grad_fn._raw_saved_<name>` for each tensor (the saved
tensor itself, PyTorch's `torch._C._autograd.SavedTensor`: `register_hooks`, `unpack`, `data`).

An op declares them once, in its class, as `saved_fields`: PyTorch's name (derivatives.yaml's)
to a `Field` that reads the value off the node, usually what forward gave save_for_backward or
kept on ctx:

    class Mul(Function):
        node_name = "MulBackward0"
        saved_fields = fields(self=saved(0, when=1), other=saved(1, when=0))

`Function.__init_subclass__` turns each entry into the two properties (`install`), so a node
pays nothing for them until they are read. Tensors come back as backward would unpack them: a
saved input is the Tensor itself, a saved output is rebuilt around its array with the node as
its grad_fn, a packed one goes through its unpack hook each time. Once backward freed the node,
a tensor field raises PyTorch's "backward through the graph a second time"; the other values
stay readable, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .saved import FREED, RELEASED, SavedTensor
from .tensor import Tensor, _wrap

if TYPE_CHECKING:
    from .function import Function

_HOOKS_FREED = (
    "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate "
    "values of the graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if you need "
    "to access saved variables after calling backward."
)
_HOOKS_TWICE = ("Calling register_hooks on a saved tensor whose hooks have already been set. "
                "Hint: only one pair of hooks is allowed at a time.")
_HOOKS_ON_NONE = "Calling register_hooks on a saved tensor with value None is forbidden"


class Field:
    """How one saved value is read off a node. `tensor`: a saved tensor (it has a raw
    SavedTensor, and is freed with the graph)."""

    tensor = False

    def read(self, node: Function) -> Any:
        raise NotImplementedError

    def entry(self, node: Function) -> SavedTensor | None:
        """The SavedTensor behind a tensor field (None: no tensor saved)."""
        return None


class Saved(Field):
    """The `index`-th item forward gave save_for_backward. `when`: the input whose gradient
    needs it; PyTorch saves it only then (None otherwise)."""

    tensor = True

    def __init__(self, index: int, when: int | None = None) -> None:
        self.index = index
        self.when = when

    def entry(self, node: Function) -> SavedTensor | None:
        saved = node._saved
        if saved is RELEASED:
            raise RuntimeError(FREED)
        if not saved or self.index >= len(saved):
            return None
        if self.when is not None:
            needs = node.needs_input_grad
            if needs is not None and not needs[self.when]:
                return None
        entry = saved[self.index]
        return entry if type(entry) is SavedTensor else None

    def read(self, node: Function) -> Any:
        saved = node._saved
        if saved is RELEASED:
            raise RuntimeError(FREED)
        entry = self.entry(node)
        if entry is None:
            if saved and self.index < len(saved) and self.when is None:
                return saved[self.index]  # a Python number saved as it is
            return None
        return entry.unpack(node)


class SavedNumber(Saved):
    """A Python number forward gave save_for_backward in place of a tensor (a Scalar
    argument in PyTorch's overload). It goes with the other saved items: once backward freed
    them, reading it raises as for a tensor (PyTorch keeps a Scalar readable)."""

    tensor = False


class Value(Field):
    """A value forward kept on ctx as `attribute` (dotted: an attribute of one, as
    `geometry.stride`), through `convert` (PyTorch's type for it: `int_tuple` for an
    IntArrayRef, ...). `default`: its value when ctx has none."""

    def __init__(self, attribute: str, convert: Callable[[Any], Any] | None = None,
                 default: Any = None) -> None:
        self.path = attribute.split(".")
        self.convert = convert
        self.default = default

    def read(self, node: Function) -> Any:
        value: Any = node
        for name in self.path:
            value = getattr(value, name, self.default)
        if self.convert is not None:
            value = self.convert(value)
        return value


class Computed(Field):
    """A value computed from the node by `function` (`tensor`: a Tensor, freed with the
    graph)."""

    def __init__(self, function: Callable[[Any], Any], tensor: bool = False) -> None:
        self.function = function
        self.tensor = tensor

    def read(self, node: Function) -> Any:
        if self.tensor and node._saved is RELEASED:
            raise RuntimeError(FREED)
        return self.function(node)


class InputSizes(Field):
    """`<input>_sym_sizes`: the shape of the node's `index`-th input, as a tuple."""

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def read(self, node: Function) -> Any:
        meta = node._input_meta[self.index]
        return None if meta is None else tuple(meta[0])


class InputNumel(InputSizes):
    """`<input>_sym_numel`: the number of elements of the node's `index`-th input."""

    def read(self, node: Function) -> Any:
        sizes = super().read(node)
        if sizes is None:
            return None
        count = 1
        for size in sizes:
            count *= size
        return count


def fields(**named: Field) -> Mapping[str, Field]:
    """An op's `saved_fields`: PyTorch's name for each saved value, and how to read it."""
    return MappingProxyType(named)


def saved(index: int, when: int | None = None) -> Saved:
    return Saved(index, when)


def number(index: int) -> SavedNumber:
    return SavedNumber(index)


def saved_or_number(index: int, attribute: str, when: int | None = None) -> Computed:
    """A tensor operand that may be a Python number: the `index`-th saved item, or, where
    forward saved nothing (the number case), the number kept on ctx as `attribute`, as the
    0-d tensor PyTorch wraps it in."""
    field = Saved(index, when)

    def read(node: Function) -> Any:
        if node._saved:
            return field.read(node)
        return wrapped_number(node, getattr(node, attribute))

    return Computed(read, tensor=True)


def saved_array(attribute: str) -> Computed:
    """A tensor PyTorch saves (indices, masks) that forward kept on ctx as an array or a
    Tensor (None: none)."""
    def read(node: Function) -> Tensor | None:
        kept = getattr(node, attribute)
        if kept is None or isinstance(kept, Tensor):
            return kept
        return _wrap(kept, node.backend)

    return Computed(read, tensor=True)


def strides(index: int, when: int) -> Computed:
    """`<input>_sym_strides`: the `index`-th saved tensor's strides, saved (as PyTorch) only
    when input `when` needs its gradient; `()` otherwise."""
    field = Saved(index)

    def read(node: Function) -> tuple[int, ...]:
        needs = node.needs_input_grad
        if needs is not None and not needs[when]:
            return ()
        tensor = field.read(node)
        return () if tensor is None else tuple(tensor.stride())

    return Computed(read)


def value(attribute: str, convert: Callable[[Any], Any] | None = None,
          default: Any = None) -> Value:
    return Value(attribute, convert, default)


def constant(result: Any) -> Computed:
    """A value PyTorch saves that is the same for every node of the op (alpha=1 of add)."""
    return Computed(lambda node: result)


def int_tuple(dims: Any) -> tuple[int, ...] | None:
    """An IntArrayRef as PyTorch returns it: a tuple of ints (one int becomes a 1-tuple; None,
    an optional one not given, stays None)."""
    if dims is None:
        return None
    if isinstance(dims, int):
        return (dims,)
    return tuple(int(dim) for dim in dims)


def befores(pairs: Any) -> tuple[int, ...]:
    """The padding before each dim, of (before, after) pairs: PyTorch's symmetric padding."""
    return tuple(int(before) for before, _ in pairs)


def every_dim_empty(dims: Any) -> tuple[int, ...]:
    """A dim list where the op kept None for "every dim": PyTorch's empty tuple."""
    return () if dims is None else tuple(int(dim) for dim in int_tuple(dims) or ())


def wrapped_number(node: Function, number: Any) -> Tensor:
    """A Python number an op took as a tensor operand, as PyTorch saves it: a 0-d tensor of
    the number's default dtype (int64, float64, complex128, bool)."""
    backend = node.backend
    return _wrap(backend.asarray(number, dtype=_NUMBER_DTYPES[type(number)]), backend)


_NUMBER_DTYPES = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}


# ----------------------------------------------------------------------------- the attributes
class SavedAttribute:
    """`_saved_<name>` on the node class: the field's value."""

    def __init__(self, field: Field) -> None:
        self.field = field

    def __get__(self, node: Function | None, owner: type | None = None) -> Any:
        if node is None:
            return self
        return self.field.read(node)


class RawSavedAttribute:
    """`_raw_saved_<name>` on the node class: the field's SavedTensor."""

    def __init__(self, field: Field) -> None:
        self.field = field

    def __get__(self, node: Function | None, owner: type | None = None) -> Any:
        if node is None:
            return self
        return RawSavedTensor(node, self.field)


class AbsentAttribute:
    """A `_saved_<name>` a base class declared and this op's node does not have."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, node: Function | None, owner: type | None = None) -> Any:
        owner_name = (owner or type(node)).__name__
        raise AttributeError(f"'{owner_name}' object has no attribute '{self.name}'")


def install(cls: type, declared: Mapping[str, Field]) -> None:
    """Give the op class `cls` its `_saved_<name>` (and `_raw_saved_<name>`) attributes, and
    hide those a base class declared that `declared` does not."""
    names = set()
    for name, field in declared.items():
        names.add(f"_saved_{name}")
        setattr(cls, f"_saved_{name}", SavedAttribute(field))
        if field.tensor:
            names.add(f"_raw_saved_{name}")
            setattr(cls, f"_raw_saved_{name}", RawSavedAttribute(field))
    for name in dir(cls):
        if name.startswith(("_saved_", "_raw_saved_")) and name not in names and isinstance(
                _class_attribute(cls, name), (SavedAttribute, RawSavedAttribute)):
            setattr(cls, name, AbsentAttribute(name))


def visible(cls: type, names: list[str]) -> list[str]:
    """`names` (a node's dir()) without the saved attributes its op does not have."""
    return [name for name in names
            if not isinstance(_class_attribute(cls, name), AbsentAttribute)]


def _class_attribute(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


class RawSavedTensor:
    """One saved tensor of a node, as PyTorch's `torch._C._autograd.SavedTensor` shows it."""

    __slots__ = ("field", "node")

    def __init__(self, node: Function, field: Field) -> None:
        self.node = node
        self.field = field

    def _entry(self) -> SavedTensor | None:
        if self.node._saved is RELEASED:
            return None
        return self.field.entry(self.node)

    def register_hooks(self, *args: Any) -> None:
        """Pack this saved tensor now with `pack_hook`; backward (and `_saved_<name>`) gets
        `unpack_hook` of what it returned."""
        if len(args) != 2 or not all(callable(arg) for arg in args):
            invoked = ", ".join([repr(self), *[repr(arg) for arg in args]])
            raise TypeError(
                "register_hooks(): incompatible function arguments. The following argument "
                "types are supported:\n    1. (self: torch._C._autograd.SavedTensor, arg0: "
                "collections.abc.Callable, arg1: collections.abc.Callable) -> None\n\n"
                f"Invoked with: {invoked}")
        if self.node._saved is RELEASED:
            raise RuntimeError(_HOOKS_FREED)
        entry = self._entry()
        if entry is None:
            raise RuntimeError(_HOOKS_ON_NONE)
        if entry.unpack_hook is not None:
            raise RuntimeError(_HOOKS_TWICE)
        entry.register_hooks(args[0], args[1], self.node)

    def unpack(self) -> Any:
        """The saved tensor, as backward reads it."""
        if self.node._saved is RELEASED:
            raise RuntimeError(FREED)
        entry = self._entry()
        return None if entry is None else entry.unpack(self.node)

    @property
    def data(self) -> Any:
        """The saved tensor without unpacking it (what the pack hook returned, once packed)."""
        entry = self._entry()
        if entry is None:
            return None
        return entry.stored(self.node)

    @property
    def unpack_hook(self) -> Callable[[Any], Any] | None:
        entry = self._entry()
        return None if entry is None else entry.unpack_hook


# PyTorch's Reduction enum, as its loss nodes save `reduction`.
REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def reduction(attribute: str = "reduction") -> Value:
    """A loss's `reduction`, kept on ctx as its name, as PyTorch's enum value (an int)."""
    return Value(attribute, REDUCTIONS.__getitem__)
