"""`dynamic_shapes` for autodiff.export (torch.export.dynamic_shapes): `Dim` names a size that
may change between calls (with its range), `Dim.AUTO` / `Dim.DYNAMIC` / `Dim.STATIC` are the
hints, and `input_dims` checks a `dynamic_shapes` argument against the example inputs, raising
PyTorch's errors, and says what each user input's sizes may be.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autodiff.fx.experimental.symbolic_shapes import ConstraintViolationError
from autodiff.tensor import Tensor

__all__ = ["Dim", "DimHint", "InputDims", "UserError", "ValueRanges", "dims", "int_oo"]

DOCS = ("For more information about this error, see: "
        "https://pytorch.org/docs/main/generated/exportdb/index.html#dynamic-shapes-validation")


_LINEAR = "(Only increasing linear operations with integer coefficients are supported.)"

class UserError(Exception):
    """torch._dynamo.exc.UserError: a `dynamic_shapes` argument that does not fit the inputs,
    or a size marked dynamic that the program fixes."""


class _IntInfinity:
    """PyTorch's `int_oo`: the upper end of an unbounded range."""

    def __repr__(self) -> str:
        return "int_oo"

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self


int_oo = _IntInfinity()


@dataclass(frozen=True)
class ValueRanges:
    """The sizes a dynamic dimension may take, printed as PyTorch prints it."""

    lower: int
    upper: int | _IntInfinity

    def __repr__(self) -> str:
        return f"VR[{self.lower}, {self.upper!r}]"

    def __contains__(self, value: int) -> bool:
        return self.lower <= value and not (self.upper < value)


class DimHint:
    """Dim.AUTO (dynamic where the program allows, else static), Dim.DYNAMIC (dynamic, an error
    where the program fixes it), Dim.STATIC (the example's size)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"DimHint({self.kind})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DimHint) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)


class Dim:
    """A named size that may change between calls, between `min` and `max`; dimensions that
    share one Dim are equal. Dim.AUTO, Dim.DYNAMIC and Dim.STATIC are hints without a name."""

    AUTO = DimHint("AUTO")
    DYNAMIC = DimHint("DYNAMIC")
    STATIC = DimHint("STATIC")

    def __init__(self, name: str, *, min: int | None = None, max: int | None = None) -> None:
        lower = 0 if min is None else min
        upper: int | _IntInfinity = int_oo if max is None else max
        if not name.isidentifier():
            raise AssertionError(f"Dim name must be a valid identifier, got {name}")
        if upper < lower:
            raise AssertionError(f"Cannot create Dim with inconsistent min={min}, max={max}")
        self.__name__ = name
        self.min = lower
        self.max = upper

    def __repr__(self) -> str:
        bound = "" if self.max is int_oo else f", max={self.max}"
        return f"Dim({self.__name__!r}, min={self.min}{bound})"

    # A Dim is its own root; `2 * dim + 1` is a DerivedDim of it (sizes that follow it).
    scale = 1
    offset = 0

    @property
    def root(self) -> Dim:
        return self

    def root_value(self, size: int) -> int | None:
        """The root's size for this dimension's `size` (None where none gives it)."""
        value, remainder = divmod(size - self.offset, self.scale)
        return value if remainder == 0 else None

    def size_for(self, root_value: int) -> int:
        return self.scale * root_value + self.offset

    def __mul__(self, other: int) -> DerivedDim:
        if type(other) is not int or other <= 0:
            raise NotImplementedError(f"Attempted to multiply {other} with {self.__name__}, "
                                      f"where a positive integer was expected. {_LINEAR}")
        return DerivedDim(self.root, self.scale * other, self.offset * other)

    __rmul__ = __mul__

    def __add__(self, other: int) -> DerivedDim:
        if type(other) is not int:
            raise NotImplementedError(f"Attempted to add {other} to {self.__name__}, where an "
                                      f"integer was expected. {_LINEAR}")
        return DerivedDim(self.root, self.scale, self.offset + other)

    __radd__ = __add__

    def __sub__(self, other: int) -> DerivedDim:
        return self + (-other)


class DerivedDim(Dim):
    """`scale * root + offset`: a size that follows a Dim (a concatenation's, a stride's)."""

    def __init__(self, root: Dim, scale: int, offset: int) -> None:
        self._root = root
        self.scale = scale
        self.offset = offset
        name = root.__name__ if scale == 1 else f"{scale}*{root.__name__}"
        if offset:
            name += f" + {offset}" if offset > 0 else f" - {-offset}"
        self.__name__ = name
        self.min = scale * root.min + offset
        self.max = int_oo if root.max is int_oo else scale * root.max + offset  # type: ignore[operator]

    @property
    def root(self) -> Dim:
        return self._root

    def __repr__(self) -> str:
        return self.__name__


def dims(*names: str, min: int | None = None, max: int | None = None) -> tuple[Dim, ...]:
    """One Dim per name, all with the same range."""
    return tuple(Dim(name, min=min, max=max) for name in names)


@dataclass
class DimSpec:
    """What one dimension of one input may be: static (`dim` None), or dynamic as a named Dim
    or a hint; `group` names the dimensions that must stay equal (its range symbol)."""

    source: str  # "x.size()[1]": the name in guard messages
    origin: str  # "L['x'].size()[1]": the name in export's errors
    example: int
    dim: Dim | DimHint | None = None
    group: str = ""

    @property
    def dynamic(self) -> bool:
        return self.dim is not None


@dataclass
class InputDims:
    """Each flat user input's dimensions (None for an input that is not a tensor)."""

    per_input: list[list[DimSpec] | None]


def combine_args(forward: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> dict[str, Any]:
    """The example inputs by the forward's parameter names (`*args` a tuple, `**kwargs` a
    dict), defaults left out, as `dynamic_shapes` names them."""
    signature = inspect.signature(forward)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        names = [f"arg{i}" for i in range(len(args))]
        return {**dict(zip(names, args)), **kwargs}
    return dict(bound.arguments)


def input_dims(combined: dict[str, Any], dynamic_shapes: Any,
               leaf_paths: list[tuple[str, str]], leaves: list[Any]) -> InputDims:
    """Check `dynamic_shapes` against the inputs `combined` (flattened into `leaves`, whose
    `leaf_paths` are (placeholder name, source) pairs), as PyTorch checks it."""
    per_leaf_spec: list[Any] = [None] * len(leaves)
    if dynamic_shapes is not None:
        if isinstance(dynamic_shapes, dict):
            if list(dynamic_shapes) != list(combined):
                if set(dynamic_shapes) == set(combined):
                    dynamic_shapes = {name: dynamic_shapes[name] for name in combined}
                else:
                    raise UserError(
                        "When `dynamic_shapes` is specified as a dict, its top-level keys must "
                        f"be the arg names {list(combined)} of `inputs`, but here they are "
                        f"{list(dynamic_shapes)}. Alternatively, you could also ignore arg "
                        "names entirely and specify `dynamic_shapes` as a list/tuple matching "
                        f"`inputs`. {DOCS}")
            specs = list(dynamic_shapes.values())
        elif isinstance(dynamic_shapes, (tuple, list)):
            specs = list(dynamic_shapes)
            if len(specs) != len(combined):
                raise UserError(
                    "Detected mismatch between the structure of `inputs` and `dynamic_shapes`: "
                    f"`inputs` has {len(combined)} elements, but `dynamic_shapes` has "
                    f"{len(specs)} elements\n{DOCS}")
        else:
            raise UserError(f"Unexpected dynamic_shape {dynamic_shapes} of Tensor, try None "
                            f"instead\n{DOCS}")
        flat: list[Any] = []
        for value, spec in zip(combined.values(), specs):
            _match(value, spec, flat)
        per_leaf_spec = flat
    out: list[list[DimSpec] | None] = []
    for (name, source), leaf, spec in zip(leaf_paths, leaves, per_leaf_spec):
        out.append(_tensor_dims(name, source, leaf, spec) if isinstance(leaf, Tensor) else None)
    _name_groups(out)
    return InputDims(out)


def _match(value: Any, spec: Any, out: list[Any]) -> None:
    """The spec of each leaf of `value`, in flattening order."""
    if isinstance(value, Tensor) or not isinstance(value, (tuple, list, dict)):
        out.append(spec)
        return
    items = list(value.values()) if isinstance(value, dict) else list(value)
    if spec is None:
        for item in items:
            _match(item, None, out)
        return
    if isinstance(value, dict):
        if not isinstance(spec, dict) or set(spec) != set(value):
            raise UserError(
                "Detected mismatch between the structure of `inputs` and `dynamic_shapes`: "
                f"`inputs` has keys {list(value)}, but `dynamic_shapes` has keys "
                f"{list(spec) if isinstance(spec, dict) else spec}\n{DOCS}")
        for key in value:
            _match(value[key], spec[key], out)
        return
    if not isinstance(spec, (tuple, list)) or len(spec) != len(items):
        count = len(spec) if isinstance(spec, (tuple, list)) else 1
        raise UserError(
            "Detected mismatch between the structure of `inputs` and `dynamic_shapes`: "
            f"`inputs` has {len(items)} elements, but `dynamic_shapes` has {count} elements\n"
            f"{DOCS}")
    for item, item_spec in zip(items, spec):
        _match(item, item_spec, out)


def _tensor_dims(name: str, source: str, tensor: Tensor, spec: Any) -> list[DimSpec]:
    shape = tuple(tensor.shape)
    dims_out = [DimSpec(f"{name}.size()[{i}]", f"{source}.size()[{i}]", size)
                for i, size in enumerate(shape)]
    if spec is None:
        return dims_out
    if isinstance(spec, dict):
        entries = list(spec.items())
        for index, _ in entries:
            if not isinstance(index, int) or not -len(shape) <= index < len(shape):
                raise IndexError("list assignment index out of range")
    elif isinstance(spec, (tuple, list)):
        if len(spec) != len(shape):
            raise UserError(
                f"Expected dynamic shape spec {spec} at inputs{source[1:]} to have the same "
                f"length as the actual tensor shape {tuple(shape)} (expected {len(shape)}, but "
                f"got {len(spec)} instead)\n{DOCS}")
        entries = list(enumerate(spec))
    else:
        raise UserError(f"Unexpected dynamic_shape {spec} of Tensor, try None instead\n{DOCS}")
    for index, entry in entries:
        item = dims_out[index % len(shape)]
        if entry is None or entry == Dim.STATIC:
            continue
        if isinstance(entry, bool) or not isinstance(entry, (int, Dim, DimHint)):
            raise UserError(f"Unexpected dimension mapped to index {index} in input tensor "
                            f"shape {spec} specified at `dynamic_shapes{source[1:]}` (expected "
                            f"None, an int, a Dim, Dim.AUTO, Dim.STATIC, or Dim.DYNAMIC,  but got "
                            f"{entry!r} instead)\n{DOCS}")
        if isinstance(entry, int):
            if entry != item.example:
                raise ConstraintViolationError(
                    f"Static shape constraint of {entry} does not match input size of "
                    f"{item.example}, for {item.origin}")
            continue
        if isinstance(entry, Dim) and item.example not in ValueRanges(entry.min, entry.max):
            # PyTorch states the range from 2 (sizes 0 and 1 are never dynamic)
            raise ConstraintViolationError(
                f"{item.example} not in range [{max(entry.min, 2)}, {entry.max!r}]")
        item.dim = entry
    return dims_out


def _name_groups(per_input: list[list[DimSpec] | None]) -> None:
    """Dimensions that share a Dim are one group, named by it; each hinted one starts its own
    (export may join hinted groups of equal size that the program requires to be equal)."""
    count = 0
    for dims_of_input in per_input:
        for spec in dims_of_input or ():
            if isinstance(spec.dim, Dim):
                spec.group = spec.dim.root.__name__
            elif spec.dim is not None:
                spec.group = f"s{count}"
                count += 1


def check_named_sizes(per_input: list[list[DimSpec] | None]) -> None:
    """Dimensions that share a Dim must have the same size in the example inputs (those of a
    DerivedDim, the size it gives)."""
    seen: dict[str, DimSpec] = {}
    specs = [spec for dims_of_input in per_input for spec in dims_of_input or ()
             if isinstance(spec.dim, Dim)]
    # the plain Dims first: they say what the root's size is
    for spec in sorted(specs, key=lambda spec: isinstance(spec.dim, DerivedDim)):
        assert isinstance(spec.dim, Dim)
        first = seen.setdefault(spec.group, spec)
        assert isinstance(first.dim, Dim)
        root = first.dim.root_value(first.example)
        if isinstance(spec.dim, DerivedDim) and spec.dim.root_value(spec.example) != root:
            raise UserError(
                f"Expected input {spec.origin} to be equal to {spec.dim.__name__}, where "
                f"{spec.group} = {root}, but got {spec.example}")
        if not isinstance(spec.dim, DerivedDim) and first.example != spec.example:
                raise UserError(
                    f"Constraints violated ({spec.group})! For more information, run with "
                    f"TORCH_LOGS=\"+dynamic\".\n  - The values of {spec.group} = "
                    f"{first.source} and {spec.group} = {spec.source} must always be equal.")


def specialization_error(spec: DimSpec) -> UserError:
    """A dimension marked dynamic that the program (or its 0/1 size) fixes."""
    name = spec.group if isinstance(spec.dim, Dim) else spec.origin
    message = (f"Constraints violated ({name})! For more information, run with "
               f"TORCH_LOGS=\"+dynamic\".\n  - You marked {name} as dynamic but your code "
               f"specialized it to be a constant ({spec.example}). If you're using "
               "mark_dynamic, either remove it or use maybe_mark_dynamic. If you're using "
               "Dim.DYNAMIC, replace it with either Dim.STATIC or Dim.AUTO.")
    if isinstance(spec.dim, Dim):
        message += f"\nSuggested fixes:\n  {name} = {spec.example}"
    return UserError(message)
