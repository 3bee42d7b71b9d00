"""PyTorch's legacy tensor types and constructors.

`torch.FloatTensor`, `torch.LongTensor`, `torch.cuda.FloatTensor`, ... are types only in name:
calling one makes a Tensor of its dtype on its device type (`torch.FloatTensor(2, 3)` by sizes,
`torch.LongTensor([1, 2])` from data), and `isinstance(t, torch.FloatTensor)` asks whether `t`
is a float32 CPU tensor. `torch.Tensor(...)` and `Tensor.new(...)` parse their arguments the
same way, for the default tensor type and for the tensor's own type.

The overloads, in PyTorch's order: `()` (an empty 1-d tensor), `(other)` (a tensor: an alias
of it), `(*sizes)` (uninitialised), `(data)` (a copy, cast to the type's dtype); each takes a
`device=` of the type's device type. A single sequence is data, unless it is a `torch.Size`.
"""

from __future__ import annotations

import operator
from typing import Any

from backends import get_backend, legacy_type_device, parse_device

from . import dtypes
from .dtypes import Size
from .ops._checks import invalid_arguments
from .tensor import Tensor, _new

_SIGNATURES = (
    "*, torch.device device = None",
    "torch.Storage storage",
    "Tensor other",
    "tuple of ints size, *, torch.device device = None",
    "object data, *, torch.device device = None",
)


class _LegacyType(type):
    """The type of the legacy tensor types. Such a type names a dtype and a device type."""

    dtype: dtypes.dtype
    device_type: str

    def __instancecheck__(cls, instance: Any) -> bool:
        return (isinstance(instance, Tensor) and instance.dtype is cls.dtype
                and instance._backend.device.type == cls.device_type)

    def __call__(cls, *args: Any, **kwargs: Any) -> Tensor:
        name = f"torch.{'cuda.' if cls.device_type == 'cuda' else ''}{cls.__name__}"
        if cls.device_type == "cuda":
            try:
                get_backend("cuda")
            except RuntimeError as error:
                raise TypeError(f"type {name} not available. {error}") from None
        return new(cls.dtype, cls.device_type, args, kwargs, typed=True)

    @property
    def is_cuda(cls) -> bool:
        return cls.device_type == "cuda"

    @property
    def is_sparse(cls) -> bool:
        return False

    def __repr__(cls) -> str:
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _legacy_types(device_type: str, module: str) -> dict[str, _LegacyType]:
    return {
        legacy: _LegacyType(legacy, (), {"dtype": dtypes.BY_NAME[name],
                                          "device_type": device_type, "__module__": module,
                                          "__slots__": ()})
        for name, legacy in dtypes.LEGACY_NAMES.items()
    }


CPU_TYPES = _legacy_types("cpu", "torch")
CUDA_TYPES = _legacy_types("cuda", "torch.cuda")

# torch.FloatTensor & co. (autodiff exports these; autodiff.cuda the CUDA_TYPES)
BoolTensor = CPU_TYPES["BoolTensor"]
ByteTensor = CPU_TYPES["ByteTensor"]
CharTensor = CPU_TYPES["CharTensor"]
ShortTensor = CPU_TYPES["ShortTensor"]
IntTensor = CPU_TYPES["IntTensor"]
LongTensor = CPU_TYPES["LongTensor"]
HalfTensor = CPU_TYPES["HalfTensor"]
FloatTensor = CPU_TYPES["FloatTensor"]
DoubleTensor = CPU_TYPES["DoubleTensor"]


def tensor_type(value: Any) -> _LegacyType:
    """A legacy type, given as itself or by name ('torch.FloatTensor',
    'torch.cuda.LongTensor')."""
    if isinstance(value, _LegacyType):
        return value
    if isinstance(value, str):
        module, _, name = value.rpartition(".")
        table = {"torch": CPU_TYPES, "torch.cuda": CUDA_TYPES}.get(module)
        if table is None or name not in table:
            raise AttributeError(f"module '{module}' has no attribute '{name}'")
        return table[name]
    raise TypeError("invalid type object: only floating-point types are supported as the "
                    "default type")


# ----------------------------------------------------------------------------- constructing
def default_tensor(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """`torch.Tensor(...)`: the default tensor type's constructor (the default dtype, on the
    device `set_default_tensor_type` chose)."""
    device = legacy_type_device()
    return new(dtypes.get_default_dtype(), "cpu" if device is None else device.type, args,
               kwargs, typed=False)


def tensor_new(self: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """`Tensor.new(...)`: the constructor of `self`'s type, on `self`'s device."""
    return new(self.dtype, self._backend.device.type, args, kwargs, typed=True,
               device=self._backend.device)


def new(kind: dtypes.dtype, device_type: str, args: tuple[Any, ...], kwargs: dict[str, Any],
        typed: bool, device: Any = None) -> Tensor:
    """The legacy constructor of the type (`kind`, `device_type`). `typed`: a tensor given as
    data must already be of that type (torch.Tensor itself takes a tensor of any dtype)."""
    from . import creation  # creation imports the tensor module this one needs first

    options = dict(kwargs)
    given_device = options.pop("device", None)
    size = options.pop("size", None)
    if options or (size is not None and (args or not isinstance(size, (tuple, list)))):
        raise invalid_arguments("new", args, kwargs, _SIGNATURES)
    if given_device is not None:
        parsed = parse_device(given_device)
        if parsed.type != device_type:
            raise RuntimeError(f"legacy constructor expects device type: {device_type} but "
                               f"device type: {parsed.type} was passed")
        device = parsed
    if device is None:
        device = device_type if device_type != "cpu" else "cpu"
    if size is not None:
        return creation.empty(tuple(size), dtype=kind, device=device)
    if not args:
        return creation.empty(0, dtype=kind, device=device)
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if given_device is not None:
            raise RuntimeError(
                "Legacy tensor constructor of the form torch.Tensor(tensor, device=device) is "
                "not supported.  Use torch.tensor(...) or torch.as_tensor(...) instead.")
        if typed and (first.dtype is not kind or first._backend.device.type != device_type):
            raise TypeError(f"expected {_options_text(kind, device_type)} (got "
                            f"{_options_text(first.dtype, first._backend.device.type)})")
        from .ops.shape import alias  # the ops need this module's Tensor

        return alias(first)
    if len(args) == 1 and not isinstance(first, Size) and not _is_index(first):
        return _from_data(kind, device, first)
    return creation.empty(_sizes(args), dtype=kind, device=device)


def _is_index(value: Any) -> bool:
    """An int, or what converts to one (a NumPy integer, a 0-d integer tensor)."""
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _sizes(args: tuple[Any, ...]) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], Size):
        return tuple(args[0])
    for position, value in enumerate(args, start=1):
        if not _is_index(value):
            if all(isinstance(arg, (list, tuple)) for arg in args):
                raise invalid_arguments("new", args, {}, _SIGNATURES)
            raise TypeError(
                f"new(): argument 'size' failed to unpack the object at pos {position} with "
                f'error "type must be tuple of ints,but got {type(value).__name__}"')
    return tuple(operator.index(value) for value in args)


def _from_data(kind: dtypes.dtype, device: Any, data: Any) -> Tensor:
    from . import creation

    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    if not (isinstance(data, (list, tuple, range)) or hasattr(data, "__len__")):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return creation.tensor(data, dtype=kind, device=device)


def _options_text(kind: dtypes.dtype, device_type: str) -> str:
    """How PyTorch prints a tensor type in the legacy constructors' dtype error."""
    device = "cpu" if device_type == "cpu" else f"{device_type}:0"
    return (f"TensorOptions(dtype={dtypes.CPP_TYPE_NAMES[kind.name]}, device={device}, "
            "layout=Strided, requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


def construct(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """`Tensor(...)` (and a subclass's): the default type's legacy constructor."""
    made = default_tensor(args, kwargs)
    if cls is Tensor:
        return made
    out: Tensor = _new(cls)
    out._data = made._data
    out._backend = made._backend
    return out
