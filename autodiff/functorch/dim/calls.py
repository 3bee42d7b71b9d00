"""How ops run on first-class tensors. Every method of autodiff's Tensor is mirrored on them,
as functorch.dim mirrors torch.Tensor's, and runs one of three ways:
- elementwise ops (`POINTWISE`): the inputs' levels are joined in argument order, each input's
  dims moved to that order (size 1 where it lacks one), and the op runs once on the physical
  tensors, broadcasting lining the first-class dims up by identity;
- ops with a `dim` argument (`DIM_METHODS`): a Dim there names a physical dim of self, the op
  runs on the physical tensor and a reducing op drops the dims it reduced;
- anything else goes through vmap: one vmap level is opened per first-class dim of the inputs
  (in the order the dims were created), each input wrapped as a BatchedTensor at those levels,
  the op run on what vmap shows (the positional dims only), and the result's levels read back.
All three call autodiff's ordinary ops on the physical tensors, so the tape records them and
gradients reach the leaves the first-class tensors were indexed from.

The mirrors are made in a loop over autodiff's Tensor rather than written out: they are every
public method and property it has (several hundred, more as autodiff grows), each one of the
three calls above, as functorch.dim wraps every torch.Tensor method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...batching.batched_tensor import BatchedTensor, make_batched
from ...batching.levels import levels as _vmap_levels
from ...return_types import _ReturnType
from ...tensor import Tensor as _PlainTensor
from .levels import find, is_positional, match_levels, ndim_of, renumber, union, wrap_position
from .tensor import (
    Dim,
    _Tensor,
    device_of,
    from_positional,
    has_device,
    has_dims,
    levels_of,
    on_device,
)


# ----------------------------------------------------------------------------- the three paths
def _flatten(args: tuple[Any, ...], kwargs: dict[str, Any]
             ) -> tuple[list[Any], Callable[[list[Any]], tuple[tuple[Any, ...], dict[str, Any]]]]:
    """The arguments (and the items of list and tuple arguments) as one list, and the function
    that rebuilds arguments from such a list."""
    flat: list[Any] = []
    shape: list[Any] = []
    for arg in (*args, *kwargs.values()):
        if type(arg) in (list, tuple):
            shape.append((type(arg), len(arg)))
            flat.extend(arg)
        else:
            shape.append(None)
            flat.append(arg)
    keys = list(kwargs)

    def rebuild(items: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        out: list[Any] = []
        position = 0
        for entry in shape:
            if entry is None:
                out.append(items[position])
                position += 1
            else:
                kind, count = entry
                out.append(kind(items[position:position + count]))
                position += count
        return tuple(out[:len(args)]), dict(zip(keys, out[len(args):]))

    return flat, rebuild


def _wrap_results(result: Any, wrap: Callable[[_PlainTensor], Any]) -> Any:
    if isinstance(result, _PlainTensor):
        return wrap(result)
    if isinstance(result, _ReturnType):
        return type(result)([_wrap_results(item, wrap) for item in result])
    if type(result) in (tuple, list):
        return type(result)(_wrap_results(item, wrap) for item in result)
    return result


def pointwise_call(function: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """An elementwise op: each tensor input lined up to the joined levels, one call."""
    flat, rebuild = _flatten(args, kwargs)
    infos = [levels_of(item) for item in flat]
    result_levels: list[Any] = []
    for info in infos:
        if info is not None:
            union(result_levels, info[1])
    if not any(has_dims(item) for item in flat):
        return function(*args, **kwargs)
    device = device_of(flat)
    for index, info in enumerate(infos):
        if info is not None:
            moved = info[0] if has_device(flat[index]) else on_device(info[0], device)
            flat[index] = match_levels(moved, info[1], result_levels)
    new_args, new_kwargs = rebuild(flat)
    result = function(*new_args, **new_kwargs)
    return _wrap_results(result, lambda tensor: from_positional(tensor, result_levels,
                                                                device is not None))


def batched_call(function: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Any:
    """Any op: a vmap level per first-class dim of the inputs, the op on what vmap shows."""
    flat, rebuild = _flatten(args, kwargs)
    dims: list[Any] = []
    for item in flat:
        if has_dims(item):
            union(dims, [level for level in item._levels() if not is_positional(level)])
    if not dims:
        return function(*args, **kwargs)
    dims.sort(key=lambda dim: dim._creation)
    device = device_of(flat)
    opened = [_vmap_levels.push(dim.size, "different") for dim in dims]
    number_of = {id(dim): level.number for dim, level in zip(dims, opened)}
    dim_of = {level.number: dim for dim, level in zip(dims, opened)}
    try:
        for index, item in enumerate(flat):
            if has_dims(item):
                flat[index] = _to_batched(item, number_of, device)
        new_args, new_kwargs = rebuild(flat)
        result = function(*new_args, **new_kwargs)
    finally:
        for level in reversed(opened):
            _vmap_levels.pop(level)
    return _wrap_results(result, lambda tensor: _from_batched(tensor, dim_of,
                                                              device is not None))


def _to_batched(item: _Tensor, number_of: dict[int, int], device: Any) -> _PlainTensor:
    physical, levels = item._physical(), item._levels()
    if not has_device(item):
        physical = on_device(physical, device)
    named = sorted((level for level in levels if not is_positional(level)),
                   key=lambda dim: dim._creation)
    order = named + [level for level in levels if is_positional(level)]
    tensor = match_levels(physical, levels, order)
    for dim in named:  # the oldest dim outermost in the physical layout, innermost wrapper
        tensor = make_batched(tensor, number_of[id(dim)])
    return tensor


def _from_batched(tensor: _PlainTensor, dim_of: dict[int, Any], device: bool) -> Any:
    levels: list[Any] = list(range(-tensor.dim(), 0))
    while type(tensor) is BatchedTensor and tensor._level in dim_of:
        levels.insert(0, dim_of[tensor._level])
        tensor = tensor._value
    return from_positional(tensor, levels, device)


# ----------------------------------------------------------------------------- dim arguments
class DimMethod:
    """How a method's `dim` argument is found: its position after self (`dim_offset`), the
    position of keepdim, whether the method reduces the dims it is given."""

    def __init__(self, dim_offset: int = 0, keepdim_offset: int = 1, reduce: bool = True,
                 dim_name: str = "dim") -> None:
        self.dim_offset = dim_offset
        self.keepdim_offset = keepdim_offset
        self.reduce = reduce
        self.dim_name = dim_name


def _dim_level(dim: Any, ndim: int, keepdim: bool) -> Any:
    if isinstance(dim, Dim):
        if keepdim:
            raise ValueError("cannot preserve first-class dimensions with keepdim=True")
        return dim
    if isinstance(dim, int) and not isinstance(dim, bool):
        return wrap_position(dim, ndim)
    return None


def dim_call(function: Callable[..., Any], spec: DimMethod, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
    """A method whose dim argument may be a Dim (or a tuple of Dims and positions)."""
    dim_arg = kwargs.get(spec.dim_name)
    dim_index = spec.dim_offset + 1
    if dim_arg is None and dim_index < len(args):
        dim_arg = args[dim_index]
    if dim_arg is None:
        return batched_call(function, args, kwargs)
    info = levels_of(args[0])
    if info is None:
        return function(*args, **kwargs)
    physical, levels = info
    keepdim = False
    if spec.reduce:
        keep = kwargs.get("keepdim")
        if keep is None and spec.keepdim_offset + 1 < len(args):
            keep = args[spec.keepdim_offset + 1]
        keepdim = bool(keep) if keep is not None else False
    ndim = ndim_of(levels)
    single = _dim_level(dim_arg, ndim, keepdim)
    wanted = [single] if single is not None else [_dim_level(d, ndim, keepdim) for d in dim_arg]
    indices = []
    for level in wanted:
        position = find(levels, level) if level is not None else None
        if position is None:
            raise ValueError(f"Tensor with dimensions {[str(entry) for entry in levels]} does "
                             f"not contain {'0' if level is None else level}")
        indices.append(position)
    if spec.reduce and not keepdim:
        new_levels = [level for index, level in enumerate(levels) if index not in indices]
    else:
        new_levels = list(levels)
    physical_dims: Any = indices[0] if len(indices) == 1 else tuple(indices)
    new_args = list(args)
    new_args[0] = physical
    new_kwargs = dict(kwargs)
    if spec.dim_name in new_kwargs:
        new_kwargs[spec.dim_name] = physical_dims
    else:
        new_args[dim_index] = physical_dims
    result = function(*new_args, **new_kwargs)
    return _wrap_results(result, lambda tensor: from_positional(tensor, renumber(new_levels),
                                                                has_device(args[0])))


# ----------------------------------------------------------------------------- method mirrors
# functorch.dim's elementwise set, as autodiff names its Tensor methods.
_MAGIC = ("add", "sub", "mul", "floordiv", "truediv", "mod", "pow", "lshift", "rshift", "and",
          "or", "xor")
POINTWISE = frozenset(
    [f"__{name}__" for name in _MAGIC] + [f"__r{name}__" for name in _MAGIC]
    + [f"__i{name}__" for name in _MAGIC]
    + ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__neg__", "__pos__",
       "__abs__", "__invert__", "__div__", "__rdiv__", "__idiv__"]
    + ["abs", "acos", "acosh", "add", "addcdiv", "addcmul", "addr", "angle", "asin",
       "asinh", "atan", "atan2", "atanh", "bitwise_and", "bitwise_left_shift",
       "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "ceil", "clamp",
       "clamp_max", "clamp_min", "copysign", "cos", "cosh", "deg2rad", "digamma", "div",
       "eq", "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "float_power", "floor",
       "floor_divide", "fmod", "frac", "frexp", "gcd", "ge", "gt", "hardshrink",
       "heaviside", "hypot", "i0", "igamma", "igammac", "isclose", "isfinite", "isinf",
       "isnan", "isneginf", "isposinf", "isreal", "kron", "lcm", "ldexp", "le", "lerp",
       "lgamma", "log", "log10", "log1p", "log2", "logical_and", "logical_not",
       "logical_or", "logical_xor", "logit", "lt", "maximum", "minimum", "mvlgamma",
       "nan_to_num", "ne", "neg", "nextafter", "outer", "polygamma", "positive", "pow",
       "prelu", "rad2deg", "reciprocal", "relu", "remainder", "round", "rsqrt", "sgn",
       "sigmoid", "sign", "signbit", "sin", "sinc", "sinh", "sqrt", "square", "sub",
       "tan", "tanh", "true_divide", "trunc", "xlogy"])

DIM_METHODS: dict[str, DimMethod] = {
    **{name: DimMethod() for name in (
        "mean", "sum", "all", "amax", "amin", "aminmax", "any", "count_nonzero", "logsumexp",
        "nanmean", "nansum", "prod", "max", "min", "argmax", "argmin", "median", "nanmedian",
        "mode", "unbind")},
    "kthvalue": DimMethod(dim_offset=1, keepdim_offset=2),  # its dim follows k
    "std": DimMethod(keepdim_offset=2),
    "var": DimMethod(keepdim_offset=2),
    **{name: DimMethod(reduce=False) for name in (
        "sort", "argsort", "cummax", "cummin", "cumprod", "cumprod_", "cumsum", "cumsum_",
        "logcumsumexp", "softmax")},
    "chunk": DimMethod(dim_offset=1, reduce=False),
    "renorm": DimMethod(dim_offset=1, reduce=False),
}

# Reflected operators PyTorch computes in the order written (`plain - fc`: the plain tensor's
# levels first); `plain * fc` is the exception, computed as `fc * plain`.
_REFLECTED = frozenset(f"__r{name}__" for name in _MAGIC if name != "mul")

# Never mirrored: object plumbing, and what _Tensor defines itself.
_KEEP = frozenset({"__new__", "__init__", "__repr__", "__str__", "__dict__", "__weakref__",
                   "__doc__", "__module__", "__hash__", "__getitem__", "__setitem__",
                   "__class__", "__getattribute__", "__setattr__", "__delattr__",
                   "__init_subclass__", "__annotations__", "__reduce_ex__", "__reduce__",
                   "__deepcopy__", "__copy__", "__format__", "__dir__", "__sizeof__",
                   "__class_getitem__", "__subclasshook__", "__slots__", "__qualname__",
                   "__array_priority__", "__array__", "__array_wrap__", "__dlpack__",
                   "__dlpack_device__", "__cuda_array_interface__", "__array_interface__",
                   "__getstate__", "__setstate__"})


def _method(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def call(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        # by name, so a BatchedTensor's (or a view's) own form of the method runs
        return getattr(tensor, name)(*args, **kwargs)

    method: Callable[..., Any]
    if name in _REFLECTED:
        def method(*args: Any, **kwargs: Any) -> Any:
            self, other = args
            if isinstance(other, _PlainTensor) and not has_dims(other):
                # `plain - fc`: PyTorch hands the op to functorch.dim in the written order, so
                # the plain tensor's levels come first
                return pointwise_call(lambda left, right: call(right, left), (other, self), {})
            return pointwise_call(call, (self, other), {})
    elif name == "split":
        def method(*args: Any, **kwargs: Any) -> Any:
            from .joining import split

            return split(*args, **kwargs)
    elif name in POINTWISE:
        def method(*args: Any, **kwargs: Any) -> Any:
            return pointwise_call(call, args, kwargs)
    elif name in DIM_METHODS:
        spec = DIM_METHODS[name]

        def method(*args: Any, **kwargs: Any) -> Any:
            return dim_call(call, spec, args, kwargs)
    else:
        def method(*args: Any, **kwargs: Any) -> Any:
            return batched_call(call, args, kwargs)
    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = getattr(original, "__doc__", None)
    return method


def _property(name: str, original: property) -> property:
    def read(self: Any) -> Any:
        return batched_call(lambda tensor: getattr(tensor, name), (self,), {})

    return property(read, doc=original.__doc__)


def _mirror() -> None:
    """Every public method and property of autodiff's Tensor, on first-class tensors, run by
    one of the three paths (as functorch.dim wraps every torch.Tensor method)."""
    for name, attribute in vars(_PlainTensor).items():
        if name in _KEEP or name in vars(_Tensor):
            continue
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(attribute, property):
            setattr(_Tensor, name, _property(name, attribute))
        elif isinstance(attribute, staticmethod | classmethod):
            continue
        elif callable(attribute):
            setattr(_Tensor, name, _method(name, attribute))


_mirror()
