"""torch._foreach_*: PyTorch's multi-tensor ops, each the per-tensor op applied to the i-th
tensor of every list.

One table (`FOREACH`) maps each foreach name to the Tensor method it loops over and the
argument forms it takes, as PyTorch's overloads do: a second argument that is a number
(`Scalar`), a list of numbers (`ScalarList`), a list of tensors (`List`) or one 0-d tensor
(`Tensor`). The functions `_foreach_<name>` (out of place: a tuple of new tensors) and
`_foreach_<name>_` (in place: the tensors changed one by one, each version counter bumped, the
`self` list returned) are made from it. Values, dtype promotion and per-tensor errors are the
per-tensor op's, as PyTorch's own slow path (the loop it falls back to) gives them; list
checks come first, with PyTorch's messages.

Autograd: the per-tensor ops record their nodes, and the outputs of one out-of-place call then
pass through one node shared by all of them, named as PyTorch names its foreach node
(`ForeachAddBackward1Scalar`), whose backward hands each gradient on unchanged. Where PyTorch
has no derivative (`_foreach_addcmul` with a tensor of scalars, `_foreach_powsum`) the
per-tensor nodes are the outputs' own. In-place forms record the per-tensor in-place nodes, as
PyTorch does.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import dtypes
from .function import Function
from .grad_mode import is_grad_enabled
from .jvp_rules import auto_linear
from .ops.arithmetic import pow as _pow
from .ops.norm import vector_norm
from .tensor import Tensor
from .torch_function import overridable

# ----------------------------------------------------------------------------- the shared node


class ForeachBackward(Function):
    """The outputs of one foreach call, copied (the per-tensor nodes keep what they saved to
    themselves); the gradients pass through to the per-tensor nodes. Each foreach overload is
    a subclass named as PyTorch's node (`NODE_CLASSES`)."""

    node_name = "ForeachBackward"
    jvp = staticmethod(auto_linear)

    @staticmethod
    def forward(ctx: Any, *arrays: Any) -> Any:
        copies = tuple(ctx.backend.asarray(array, copy=True) for array in arrays)
        return copies if len(copies) != 1 else copies[0]

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Any:
        return grads if len(grads) != 1 else grads[0]


def _node_class(node_name: str) -> type[ForeachBackward]:
    return type(node_name, (ForeachBackward,), {"node_name": node_name, "__module__": __name__})


# ----------------------------------------------------------------------------- arguments


@dataclass
class Call:
    """One foreach call, parsed: the overload PyTorch would pick, the `self` list as given,
    and per tensor the per-tensor op's positional and keyword arguments."""

    overload: str
    tensors: Any  # the list or tuple the caller passed (in-place forms return it)
    rows: list[tuple[Any, ...]]
    options: list[dict[str, Any]] = field(default_factory=list)


def _type_name(value: Any) -> str:
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _invalid(name: str, signatures: Sequence[str], args: Sequence[Any],
             kwargs: dict[str, Any]) -> TypeError:
    got = [_type_name(a) for a in args] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()]
    lines = "".join(f" * ({signature})\n" for signature in signatures)
    return TypeError(f"_foreach_{name}() received an invalid combination of arguments - got "
                     f"({', '.join(got)}), but expected one of:\n{lines}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, Tensor)


def _tensor_list(name: str, value: Any, position: int, argument: str = "self") -> Any:
    """`value` as PyTorch's `Tensor[]` argument: a list or tuple of tensors."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"_foreach_{name}(): argument '{argument}' (position {position}) must be "
                        f"tuple of Tensors, not {_type_name(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, Tensor):
            raise TypeError(f"expected Tensor as element {index} in argument {position - 1}, "
                            f"but got {_type_name(item)}")
    return value


def _overloaded_self(spec: Foreach, value: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
    """`self` of a name with several overloads: PyTorch's parser names them all when it is
    not a list or tuple."""
    if not isinstance(value, (list, tuple)):
        raise _invalid(spec.name, spec.signatures, args, kwargs)
    return _tensor_list(spec.name, value, 1)


def _check_self(tensors: Sequence[Tensor]) -> None:
    if not tensors:
        raise RuntimeError("Tensor list must have at least one tensor.")


def _check_lists(tensors: Sequence[Tensor], *others: Sequence[Tensor]) -> None:
    _check_self(tensors)
    for other in others:
        if len(other) != len(tensors):
            raise RuntimeError("Tensor lists must have the same number of tensors, got "
                               f"{len(tensors)} and {len(other)}")


def _check_scalars(tensors: Sequence[Tensor], scalars: Sequence[Any]) -> None:
    _check_self(tensors)
    if len(scalars) != len(tensors):
        raise RuntimeError("Tensor list must have same number of elements as scalar list.")


def _scalar_list(value: Any) -> list[Any] | None:
    """A list of numbers, or None where `value` is not one (PyTorch's parser takes no tensor
    in a list of scalars)."""
    if not isinstance(value, (list, tuple)) or not all(_is_number(item) for item in value):
        return None
    return list(value)


def _kind(value: Any) -> str | None:
    """Which overload a second argument selects: Scalar, ScalarList, List or Tensor."""
    if isinstance(value, Tensor):
        return "Tensor"
    if _is_number(value):
        return "Scalar"
    if isinstance(value, (list, tuple)):
        if _scalar_list(value) is not None:
            return "ScalarList"
        return "List" if any(isinstance(item, Tensor) for item in value) else None
    return None


def _too_many(name: str, low: int, high: int, given: int) -> TypeError:
    count = str(low) if low == high else f"from {low} to {high}"
    plural = "" if low == high == 1 else "s"
    return TypeError(f"_foreach_{name}() takes {count} positional argument{plural} but {given} "
                     "were given")


def _scalar_kind(value: Any, kind: str | None, overloads: Sequence[str]) -> tuple[str | None, Any]:
    """A 0-d tensor where no overload takes a Tensor is a Scalar, as PyTorch's parser reads it."""
    if kind == "Tensor" and "Tensor" not in overloads and value.dim() == 0:
        return "Scalar", value.item()
    return kind, value


def _bind(name: str, signatures: Sequence[str], params: Sequence[str],
          defaults: dict[str, Any], args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments by parameter name (a keyword may use any of a slot's names, `a|b`)."""
    if len(args) > len(params):
        raise _invalid(name, signatures, args, kwargs)
    bound: dict[str, Any] = {}
    for slot, value in zip(params, args):
        bound[slot.split("|")[0]] = value
    for key, value in kwargs.items():
        found = next((s for s in params if key in s.split("|")), None)
        if found is None and key in defaults:
            found = key
        if found is None or found.split("|")[0] in bound:
            raise _invalid(name, signatures, args, kwargs)
        bound[found.split("|")[0]] = value
    for key, value in defaults.items():
        bound.setdefault(key, value)
    if any(slot.split("|")[0] not in bound for slot in params):
        raise _invalid(name, signatures, args, kwargs)
    return bound


def _scalar_tensor(other: Tensor) -> Tensor:
    if other.dim() != 0:
        raise RuntimeError(f"scalar tensor expected to be 0 dim but it has {other.dim()} "
                           f"dimensions and {other.numel()} elements.")
    return other


# ----------------------------------------------------------------------------- the forms


@dataclass(frozen=True)
class Foreach:
    """One foreach name: how its arguments parse (`parse(spec, args, kwargs) -> Call`), the
    per-tensor op it loops over (out of place and in place; None where PyTorch has no such
    form), and PyTorch's node name per overload (None: the per-tensor nodes stay visible)."""

    name: str
    parse: Callable[[Foreach, tuple[Any, ...], dict[str, Any]], Call]
    op: Callable[..., Tensor] | None
    inplace_op: Callable[..., Any] | None
    node_names: dict[str, str | None]
    overloads: tuple[str, ...] = ()  # the second argument's accepted kinds
    signatures: tuple[str, ...] = ()  # for TypeError's "expected one of"
    alpha: tuple[str, ...] = ()  # the overloads that take `alpha=`


def _method(name: str) -> Callable[..., Any]:
    return lambda tensor, *args, **kwargs: getattr(tensor, name)(*args, **kwargs)


def _camel(name: str) -> str:
    """PyTorch's node-name spelling of an op name: `log1p` -> `Log1P`, `clamp_min` ->
    `ClampMin`."""
    words = name.split("_")
    return "".join(re.sub(r"(?<=\d)[a-z]", lambda m: m.group().upper(), w.capitalize())
                   for w in words)


def _parse_unary(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
    if kwargs or len(args) != 1:
        if len(args) > 1:
            raise _too_many(spec.name, 1, 1, len(args))
        bound = _bind(spec.name, spec.signatures, ("self",), {}, args, kwargs)
        args = (bound["self"],)
    tensors = _tensor_list(spec.name, args[0], 1)
    _check_self(tensors)
    return Call("", tensors, [() for _ in tensors])


def _parse_binary(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
    bound = _bind(spec.name, spec.signatures, ("self", "other|scalar|scalars|exponent"),
                  {"alpha": None}, args, kwargs)
    if spec.name == "pow" and _is_number(bound["self"]):  # ScalarAndTensor: scalar ** list
        if bound["alpha"] is not None:
            raise _invalid(spec.name, spec.signatures, args, kwargs)
        exponents = _tensor_list(spec.name, bound["other"], 2, "exponent")
        _check_self(exponents)
        return Call("ScalarAndTensor", exponents, [(bound["self"],) for _ in exponents])
    tensors = _overloaded_self(spec, bound["self"], args, kwargs)
    kind, other = _scalar_kind(bound["other"], _kind(bound["other"]), spec.overloads)
    alpha = bound["alpha"]
    if kind not in spec.overloads or (alpha is not None and kind not in spec.alpha):
        raise _invalid(spec.name, spec.signatures, args, kwargs)
    options = [{"alpha": alpha}] * len(tensors) if alpha is not None else []
    if kind == "Scalar":
        _check_self(tensors)
        return Call(kind, tensors, [(other,) for _ in tensors])
    if kind == "Tensor":
        _check_self(tensors)
        return Call(kind, tensors, [(_scalar_tensor(other),) for _ in tensors], options)
    if kind == "List":
        _check_lists(tensors, _tensor_list(spec.name, other, 2, "other"))
        return Call(kind, tensors, [(item,) for item in other], options)
    _check_scalars(tensors, other)
    return Call(kind, tensors, [(item,) for item in other])


def _packed_scalars(tensors: Sequence[Tensor], scalars: Tensor) -> list[Any]:
    """A 1-d tensor of one scalar per tensor, read as a list (PyTorch's
    convert_tensor_to_scalar_list)."""
    if scalars.dim() != 1:
        raise RuntimeError("Expected packed scalar Tensor to be of dimension 1. Got "
                           f"{scalars.dim()} instead.")
    if scalars.numel() != len(tensors):
        raise RuntimeError(f"Expected length of scalars to match input of length {len(tensors)} "
                           f"but got {scalars.numel()} instead.")
    return scalars.tolist()


def _parse_pointwise(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
    """addcmul, addcdiv: (self, tensor1, tensor2, value=1 | scalars | packed scalars)."""
    bound = _bind(spec.name, spec.signatures,
                  ("self", "tensor1", "tensor2", "value|scalars"), {"value": 1}, args, kwargs)
    tensors = _overloaded_self(spec, bound["self"], args, kwargs)
    first = _tensor_list(spec.name, bound["tensor1"], 2, "tensor1")
    second = _tensor_list(spec.name, bound["tensor2"], 3, "tensor2")
    _check_lists(tensors, first, second)
    value = bound["value"]
    kind = _kind(value)
    if kind == "Scalar":
        values = [value] * len(tensors)
    elif kind == "Tensor":
        values = _packed_scalars(tensors, value)
    elif kind == "ScalarList":
        values = list(value)
        _check_scalars(tensors, values)
    else:
        raise _invalid(spec.name, spec.signatures, args, kwargs)
    return Call(kind, tensors, list(zip(first, second)), [{"value": v} for v in values])


def _parse_lerp(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
    bound = _bind(spec.name, spec.signatures, ("self", "tensors1", "weight|weights"), {},
                  args, kwargs)
    tensors = _overloaded_self(spec, bound["self"], args, kwargs)
    ends = _tensor_list(spec.name, bound["tensors1"], 2, "tensors1")
    kind, weight = _scalar_kind(bound["weight"], _kind(bound["weight"]), ())
    _check_lists(tensors, ends)
    if kind == "Scalar":
        weights: Sequence[Any] = [weight] * len(tensors)
    elif kind == "List":
        weights = _tensor_list(spec.name, weight, 3, "weights")
        _check_lists(tensors, weights)
    elif kind == "ScalarList":
        weights = list(weight)
        _check_scalars(tensors, weights)
    else:
        raise _invalid(spec.name, spec.signatures, args, kwargs)
    return Call(kind, tensors, list(zip(ends, weights)))


def _parse_with_list(argument: str, position: int, extra: dict[str, Any]) -> Callable[..., Call]:
    """copy_(self, src, non_blocking=False), mm(self, mat2): a second tensor list, and
    keyword options passed to each per-tensor call."""

    def parse(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
        if len(args) > 2 + len(extra):
            raise _too_many(spec.name, 2, 2 + len(extra), len(args))
        bound = _bind(spec.name, spec.signatures, ("self", argument, *extra), extra, args,
                      kwargs)
        tensors = _tensor_list(spec.name, bound["self"], 1)
        other = _tensor_list(spec.name, bound[argument], position, argument)
        _check_lists(tensors, other)
        options = {key: bound[key] for key in extra}
        return Call("", tensors, [(item,) for item in other], [options] * len(tensors))

    return parse


def _parse_options(params: dict[str, Any], keyword_only: tuple[str, ...] = ()
                   ) -> Callable[..., Call]:
    """norm(self, ord=2, dtype=None), powsum, max(self), clone(self, *, memory_format),
    zero_(self): the self list and options given to each per-tensor call."""

    def parse(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
        positional = ("self", *(p for p in params if p not in keyword_only))
        if len(args) > len(positional):
            raise _too_many(spec.name, 1, len(positional), len(args))
        bound = _bind(spec.name, spec.signatures, ("self",), params, args[:1], {
            **kwargs, **dict(zip(positional[1:], args[1:]))})
        tensors = _tensor_list(spec.name, bound["self"], 1)
        _check_self(tensors)
        if "ord" in params and not _is_number(bound["ord"]):
            raise TypeError(f"_foreach_{spec.name}(): argument 'ord' (position 2) must be "
                            f"Number, not {_type_name(bound['ord'])}")
        options = {key: bound[key] for key in params}
        return Call("", tensors, [() for _ in tensors], [options] * len(tensors))

    return parse


# ----------------------------------------------------------------------------- per-tensor ops
# that are not one Tensor method under the foreach name


def _maximum(tensor: Tensor, other: Any) -> Tensor:
    """maximum with a number is clamp_min (PyTorch's foreach kernels use the same)."""
    return tensor.clamp_min(other) if not isinstance(other, Tensor) else tensor.maximum(other)


def _minimum(tensor: Tensor, other: Any) -> Tensor:
    return tensor.clamp_max(other) if not isinstance(other, Tensor) else tensor.minimum(other)


def _maximum_(tensor: Tensor, other: Any) -> Any:
    if isinstance(other, Tensor):
        return tensor.copy_(tensor.maximum(other))
    return tensor.clamp_min_(other)


def _minimum_(tensor: Tensor, other: Any) -> Any:
    if isinstance(other, Tensor):
        return tensor.copy_(tensor.minimum(other))
    return tensor.clamp_max_(other)


def _pow_op(tensor: Tensor, exponent: Any) -> Tensor:
    return _pow(tensor, exponent)


def _norm(tensor: Tensor, ord: Any = 2, dtype: Any = None) -> Tensor:
    return vector_norm(tensor, ord, dtype=dtype)


def _powsum(tensor: Tensor, ord: Any = 2, dtype: Any = None) -> Tensor:
    """sum(|x| ** ord): the norm before its root."""
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise NotImplementedError('"powsum_cpu" not implemented for '
                                  f"'{dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]}'")
    magnitude = tensor.abs() if dtype is None else tensor.abs().to(dtype)
    return (magnitude ** ord).sum()


def _max(tensor: Tensor) -> Tensor:
    if tensor.numel() == 0:
        raise RuntimeError("_foreach_max cannot compute the maximum of an empty tensor; max "
                           "over zero elements is undefined.")
    return tensor.max()


def _zero_(tensor: Tensor) -> Any:
    return tensor.zero_()


# ----------------------------------------------------------------------------- the table

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
          "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")


def _binary_signatures(overloads: tuple[str, ...], alpha: tuple[str, ...],
                       scalar: str = "scalar", scalars: str = "scalars",
                       other: str = "other") -> tuple[str, ...]:
    forms = {"Scalar": f"Number {scalar}", "ScalarList": f"tuple of Scalars {scalars}",
             "Tensor": f"Tensor {other}", "List": f"tuple of Tensors {other}"}
    return tuple(f"tuple of Tensors self, {forms[kind]}"
                 + (", *, Number alpha = 1" if kind in alpha else "") for kind in overloads)


def _binary(name: str, node_names: dict[str, str | None], alpha: tuple[str, ...] = (),
            op: Callable[..., Tensor] | None = None,
            inplace_op: Callable[..., Any] | None = None) -> Foreach:
    overloads = tuple(kind for kind in ("Scalar", "ScalarList", "Tensor", "List")
                      if kind in node_names)
    exponent = name == "pow"
    signatures = _binary_signatures(
        overloads, alpha, *(("exponent", "exponent", "exponent") if exponent else ()))
    if exponent:
        signatures = ("Number self, tuple of Tensors exponent", *signatures)
    return Foreach(name, _parse_binary, op or _method(name), inplace_op or _method(name + "_"),
                   node_names, overloads, signatures, alpha)


def _table() -> dict[str, Foreach]:
    table: dict[str, Foreach] = {}
    for name in _UNARY:
        table[name] = Foreach(name, _parse_unary, _method(name), _method(name + "_"),
                              {"": f"Foreach{_camel(name)}Backward0"},
                              signatures=("tuple of Tensors self",))
    for name in ("add", "sub"):
        table[name] = _binary(name, {
            "Scalar": f"Foreach{_camel(name)}Backward1Scalar",
            "ScalarList": f"Foreach{_camel(name)}Backward1ScalarList",
            "List": f"Foreach{_camel(name)}Backward0List",
            **({"Tensor": "ForeachAddBackward0Tensor"} if name == "add" else {}),
        }, alpha=("Tensor", "List"))
    table["mul"] = _binary("mul", {
        "Scalar": "ForeachMulBackward1Scalar", "ScalarList": "ForeachMulBackward1ScalarList",
        "List": "ForeachMulBackward0List", "Tensor": "ForeachMulBackward0Tensor"})
    table["div"] = _binary("div", {
        "Scalar": "ForeachDivBackward1Scalar", "ScalarList": "ForeachDivBackward1ScalarList",
        "List": "ForeachDivBackward0", "Tensor": "ForeachDivBackward0Tensor"})
    table["pow"] = _binary("pow", {
        "Scalar": "ForeachPowBackward0Scalar", "ScalarList": "ForeachPowBackward1",
        "List": "ForeachPowBackward0", "ScalarAndTensor": "ForeachPowBackward2"}, op=_pow_op)
    for name, op, inplace_op in (("maximum", _maximum, _maximum_),
                                 ("minimum", _minimum, _minimum_)):
        table[name] = _binary(name, {
            "Scalar": f"Foreach{_camel(name)}Backward0",
            "ScalarList": f"Foreach{_camel(name)}Backward1",
            "List": f"Foreach{_camel(name)}Backward0List"}, op=op, inplace_op=inplace_op)
    for name in ("clamp_min", "clamp_max"):
        table[name] = _binary(name, {
            "Scalar": f"Foreach{_camel(name)}Backward0Scalar",
            "ScalarList": f"Foreach{_camel(name)}Backward0ScalarList",
            "List": f"Foreach{_camel(name)}Backward1List"})
    for name in ("addcmul", "addcdiv"):
        table[name] = Foreach(
            name, _parse_pointwise, _method(name), _method(name + "_"),
            {"Scalar": f"Foreach{_camel(name)}Backward0Scalar",
             "ScalarList": f"Foreach{_camel(name)}Backward0ScalarList",
             "Tensor": None},  # PyTorch: no derivative for packed scalars
            signatures=tuple(f"tuple of Tensors self, tuple of Tensors tensor1, tuple of "
                             f"Tensors tensor2, {last}" for last in (
                                 "Tensor scalars", "tuple of Scalars scalars",
                                 "Number value = 1")))
    table["lerp"] = Foreach(
        "lerp", _parse_lerp, _method("lerp"), _method("lerp_"),
        {"Scalar": "ForeachLerpBackward0Scalar", "ScalarList": "ForeachLerpBackward0ScalarList",
         "List": "ForeachLerpBackward1List"},
        signatures=tuple(f"tuple of Tensors self, tuple of Tensors tensors1, {last}" for last in (
            "tuple of Tensors weights", "Number weight", "tuple of Scalars weight")))
    table["copy"] = Foreach(
        "copy_", _parse_with_list("src", 2, {"non_blocking": False}), None, _method("copy_"),
        {}, signatures=("tuple of Tensors self, tuple of Tensors src, bool non_blocking = False",))
    table["mm"] = Foreach("mm", _parse_with_list("mat2", 2, {}), _method("mm"), None,
                          {"": "ForeachMmBackward0"},
                          signatures=("tuple of Tensors self, tuple of Tensors mat2",))
    table["clone"] = Foreach(
        "clone", _parse_options({"memory_format": None}, ("memory_format",)), _method("clone"),
        None, {"": "ForeachCloneBackward0"},
        signatures=("tuple of Tensors self, *, MemoryFormat memory_format = None",))
    table["zero"] = Foreach("zero_", _parse_options({}), None, _zero_, {},
                            signatures=("tuple of Tensors self",))
    table["norm"] = Foreach(
        "norm", _parse_options({"ord": 2, "dtype": None}), _norm, None,
        {"": "ForeachNormBackward0"},
        signatures=("tuple of Tensors self, Number ord = 2, ScalarType dtype = None",))
    table["powsum"] = Foreach(
        "powsum", _parse_options({"ord": 2, "dtype": None}), _powsum, None, {"": None},
        signatures=("tuple of Tensors self, Number ord = 2, ScalarType dtype = None",))
    table["max"] = Foreach("max", _parse_options({}), _max, None, {"": "ForeachMaxBackward1"},
                           signatures=("tuple of Tensors self",))
    return table


FOREACH = _table()
# The shared node's class for each of PyTorch's foreach node names (batching/rules.py gives
# them their vmap rule).
NODE_CLASSES = {name: _node_class(name) for spec in FOREACH.values()
                for name in spec.node_names.values() if name is not None}


# ----------------------------------------------------------------------------- running a call


def _rows(call: Call) -> Any:
    options = call.options or [{}] * len(call.tensors)
    return zip(call.tensors, call.rows, options)


def run(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Tensor, ...]:
    """The out-of-place form: the per-tensor op on each row, then the shared node."""
    call = spec.parse(spec, args, kwargs)
    assert spec.op is not None
    op = spec.op
    if call.overload == "ScalarAndTensor":  # the scalar is the base, the tensor the exponent
        results = [op(row[0], tensor) for tensor, row, _ in _rows(call)]
    else:
        results = [op(tensor, *row, **options) for tensor, row, options in _rows(call)]
    node_name = spec.node_names.get(call.overload)
    if node_name is not None and is_grad_enabled() and any(r.requires_grad for r in results):
        outputs = NODE_CLASSES[node_name].apply(*results)
        return outputs if isinstance(outputs, tuple) else (outputs,)
    return tuple(results)


def run_(spec: Foreach, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The in-place form: the per-tensor in-place op on each row; returns `self` as given."""
    call = spec.parse(spec, args, kwargs)
    assert spec.inplace_op is not None
    for tensor, row, options in _rows(call):
        spec.inplace_op(tensor, *row, **options)
    return call.tensors


def _out_of_place(spec: Foreach) -> Callable[..., tuple[Tensor, ...]]:
    def function(*args: Any, **kwargs: Any) -> tuple[Tensor, ...]:
        return run(spec, args, kwargs)

    function.__name__ = function.__qualname__ = f"_foreach_{spec.name}"
    function.__doc__ = f"torch._foreach_{spec.name}: Tensor.{spec.name} on each tensor."
    return function


def _in_place(spec: Foreach) -> Callable[..., Any]:
    name = spec.name if spec.name.endswith("_") else spec.name + "_"

    def function(*args: Any, **kwargs: Any) -> Any:
        return run_(spec, args, kwargs)

    function.__name__ = function.__qualname__ = f"_foreach_{name}"
    function.__doc__ = f"torch._foreach_{name}: Tensor.{name} on each tensor, in place."
    return function


def _functions() -> dict[str, Callable[..., Any]]:
    """Each public `_foreach_*` function, through `__torch_function__` as PyTorch's are (a
    Tensor subclass in a list, or a TorchFunctionMode, sees the call)."""
    functions: dict[str, Callable[..., Any]] = {}
    for spec in FOREACH.values():
        if spec.op is not None:
            functions[f"_foreach_{spec.name}"] = overridable(_out_of_place(spec), "autodiff")
        if spec.inplace_op is not None:
            function = _in_place(spec)
            functions[function.__name__] = overridable(function, "autodiff")
    return dict(sorted(functions.items()))


# Every `_foreach_*` function, by name (autodiff exports them all).
FUNCTIONS = _functions()
globals().update(FUNCTIONS)
__all__ = ["FOREACH", "FUNCTIONS", "NODE_CLASSES", "ForeachBackward", *FUNCTIONS]
