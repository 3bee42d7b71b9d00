"""Tensor subclasses that take over the ops applied to them (`__torch_dispatch__`), as
PyTorch's wrapper subclasses: `Tensor._make_wrapper_subclass(cls, size, dtype=..., ...)` makes
an instance that has a size, strides, dtype, device and requires_grad of its own, usually
wrapping other tensors in its attributes (a quantized weight wrapping its float values).

An op applied to such an instance is handed to `cls.__torch_dispatch__(func, types, args,
kwargs)`, `func` being the aten OpOverload (`aten.detach.default`, `aten._to_copy.default`),
`args`/`kwargs` as PyTorch's dispatcher passes them; whatever it returns is the op's result.
Handed over: `detach`, `to` and the conversions written with it (`_to_copy`), and every op
`Function.apply` runs (its arguments then are the op's own, which for most ops are aten's).
What `func(...)` can run: `detach.default` and `_to_copy.default` (`op_overloads.implement`);
other overloads name ops but do not run them.

The instance holds an uninitialised array of its size and strides (on the meta device, none):
PyTorch's holds no memory; the values are the subclass's business.

A class that defines `__torch_dispatch__` is marked when it is made (`Tensor._python_dispatch`,
PyTorch's Python dispatch key); `Function.apply` reads the mark of each input it reads the
array of, so the plain path pays one attribute read per input.
"""

from __future__ import annotations

from typing import Any

from backends import get_backend

from . import dtypes, layouts
from .op_overloads import OpOverload, aten, implement, overload_of
from .tensor import Tensor, _new


def dispatches(tensor: Any) -> bool:
    """Whether `tensor` is an instance of a class with its own `__torch_dispatch__`."""
    return isinstance(tensor, Tensor) and tensor._python_dispatch


def _dispatching(args: Any) -> list[Any]:
    found: list[Any] = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            found.extend(_dispatching(arg))
        elif dispatches(arg):
            found.append(arg)
    return found


def apply(ctx: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Function.apply` of the op `ctx` on `args`, one of which dispatches: the op as its
    aten overload, handed over."""
    tensors = _dispatching(args) + _dispatching(kwargs.values())
    return dispatch(overload_of(ctx, args), tensors, args, kwargs)


def dispatch(func: OpOverload | None, tensors: list[Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
    """Hand the op to the first dispatching argument's class, as PyTorch's dispatcher does
    (a subclass before its base; NotImplemented passes to the next)."""
    if func is None:
        raise RuntimeError("this op has no aten operator to hand to __torch_dispatch__")
    types = tuple(dict.fromkeys(type(tensor) for tensor in tensors))
    ordered = sorted(types, key=lambda kind: sum(issubclass(kind, other) for other in types),
                     reverse=True)
    for kind in ordered:
        result = kind.__torch_dispatch__(func, types, args, kwargs)
        if result is not NotImplemented:
            return result
    raise TypeError(f"Multiple dispatch failed for '{func.name()}'; all __torch_dispatch__ "
                    "handlers returned NotImplemented:\n\n"
                    + "".join(f"  - tensor subclass {kind}\n" for kind in types)
                    + "\nFor more information, try re-running with TORCH_LOGS=not_implemented")


def is_traceable_wrapper_subclass(tensor: Any) -> bool:
    """A Tensor subclass instance that says how to flatten itself into inner tensors and
    back (`__tensor_flatten__`, `__tensor_unflatten__`), as PyTorch's check."""
    return isinstance(tensor, Tensor) and type(tensor) is not Tensor \
        and hasattr(tensor, "__tensor_flatten__") and hasattr(tensor, "__tensor_unflatten__")


_KEYWORDS = frozenset({"strides", "storage_offset", "memory_format", "dtype", "layout", "device",
                       "pin_memory", "requires_grad", "dispatch_sizes_strides_policy",
                       "dispatch_device", "dispatch_layout", "_extra_dispatch_keys",
                       "storage_size"})


def make_wrapper_subclass(cls: type, size: Any, *args: Any, **kwargs: Any) -> Tensor:
    """`Tensor._make_wrapper_subclass(cls, size, *, strides=None, storage_offset=None,
    dtype=None, layout=torch.strided, device=None, requires_grad=False, ...)`: an instance of
    `cls` (which must define `__torch_dispatch__`) with that metadata."""
    if args:
        raise TypeError(f"_make_wrapper_subclass() takes 2 positional arguments but "
                        f"{2 + len(args)} were given")
    for keyword in kwargs:
        if keyword not in _KEYWORDS:
            raise TypeError(f"_make_wrapper_subclass() got an unexpected keyword argument "
                            f"'{keyword}'")
    if not isinstance(cls, type) or not issubclass(cls, Tensor) \
            or getattr(cls, "__torch_dispatch__", None) is None:
        raise TypeError(f"{getattr(cls, '__name__', cls)} must define __torch_dispatch__")
    layout = kwargs.get("layout")
    if layout is not None and layout is not layouts.strided:
        raise RuntimeError(f"_make_wrapper_subclass(): layout {layout} is not supported: "
                           "autodiff's wrapper subclasses are strided")
    shape = tuple(int(extent) for extent in size)
    dtype = kwargs.get("dtype") or dtypes.get_default_dtype()
    device = kwargs.get("device")
    backend = get_backend("cpu" if device is None else device)
    strides = kwargs.get("strides")
    offset = int(kwargs.get("storage_offset") or 0)
    if strides is None:
        array = backend.empty(shape, dtypes.to_dtype(dtype).name)
    else:
        extent = offset + 1 + sum((n - 1) * abs(int(s)) for n, s in zip(shape, strides) if n)
        storage = backend.empty((extent,), dtypes.to_dtype(dtype).name)
        array = backend.as_strided(storage, shape, tuple(int(s) for s in strides), offset)
    instance: Tensor = _new(cls)
    instance._data = array
    instance._backend = backend
    if kwargs.get("requires_grad"):
        instance._requires_grad = True
    return instance


def detach(tensor: Tensor) -> Any:
    return dispatch(aten.detach.default, [tensor], (tensor,), {})


@implement(aten.detach.default)
def _detach(input: Tensor) -> Tensor:
    return input.detach()


@implement(aten._to_copy.default)
def _to_copy(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
             pin_memory: bool | None = None, non_blocking: bool = False,
             memory_format: Any = None) -> Tensor:
    if layout is not None and layout is not layouts.strided:
        raise RuntimeError(f"_to_copy(): layout {layout} is not supported")
    if pin_memory:
        return input.to(device=device, dtype=dtype, copy=True).pin_memory()
    return input.to(device=device, dtype=dtype, copy=True)


def to_copy_arguments(device: Any, dtype: Any, non_blocking: bool, current: dtypes.dtype
                      ) -> dict[str, Any]:
    """`_to_copy`'s keywords for a `Tensor.to` call, as PyTorch's `to` overloads pass them:
    to(dtype) and to(device, dtype) the dtype (and device); to(device) the tensor's dtype, the
    layout and the device."""
    arguments: dict[str, Any] = {"dtype": current if dtype is None else dtype}
    if device is not None:
        if dtype is None:
            arguments["layout"] = layouts.strided
        arguments["device"] = device
    if non_blocking:
        arguments["non_blocking"] = True
    return arguments
