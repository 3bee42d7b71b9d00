"""Argument checks the op families share, with PyTorch's messages: a dtype a kernel does not
implement, tensors where numbers were passed, tensors on one device, and dtype names as PyTorch
prints them."""

from __future__ import annotations

from numbers import Number
from typing import Any

from backends import Device

from .. import dtypes
from ..argument_parsing import method_error, type_name
from ..function import _raise_device_mismatch
from ..tensor import Tensor

# C++ type names, as PyTorch's mm prints them ("expected m1 and m2 to have the same dtype").
_CPP_TYPE_NAMES = {
    "bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
    "int32": "int", "int64": "long int", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "float32": "float", "float64": "double", "uint16": "short unsigned int",
    "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
}


def not_implemented_for(kernel: str, backend: Any, array: Any, *,
                        on_device: bool = True) -> NotImplementedError:
    """PyTorch's error for a dtype a kernel has no implementation for, e.g.
    `"abs_cpu" not implemented for 'Bool'` (some kernels' names carry no device)."""
    return not_implemented_for_dtype(kernel, backend, backend.dtype_name(array),
                                     on_device=on_device)


def not_implemented_for_dtype(kernel: str, backend: Any, dtype_name: str, *,
                              on_device: bool = True) -> NotImplementedError:
    """`not_implemented_for` by the dtype's name ("int64"), for a promoted dtype."""
    name = dtypes.SCALAR_TYPE_NAMES[dtype_name]
    if on_device:
        kernel = f"{kernel}_{backend.device.type}"
    return NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def require_tensors(function: str, *arguments: tuple[str, Any]) -> None:
    """PyTorch's argument parser: each (name, value), in position order from 1, must be a
    Tensor (a number there would otherwise fail deep inside with an AttributeError)."""
    for position, (name, value) in enumerate(arguments, start=1):
        if not isinstance(value, Tensor):
            refused = method_error(Tensor)  # a Tensor method's call counts positions its way
            if refused is not None:
                raise refused
            raise TypeError(f"{function}(): argument '{name}' (position {position}) must be "
                            f"Tensor, not {type(value).__name__}")


def is_number(value: Any) -> bool:
    """Whether PyTorch's parser takes `value` as a Number: Python's and NumPy's scalars (NumPy's
    bool is no `numbers.Number`, but PyTorch takes it)."""
    kind = type(value)
    return isinstance(value, Number) or (kind.__name__ == "bool" and kind.__module__ == "numpy")


def require_operands(function: str, input: Any, other: Any) -> None:
    """PyTorch's argument parser for a binary op declared for Tensors and Numbers (bitwise
    ops, shifts): anything else (None, a string, an object) is refused with its TypeError."""
    for value in (input, other):
        if not isinstance(value, Tensor) and not is_number(value):
            refused = method_error(Tensor)  # a Tensor method's call: its own wording
            if refused is not None:
                raise refused
            raise TypeError(f"{function}() received an invalid combination of arguments - got "
                            f"({type_name(input)}, {type_name(other)}), but expected one of:\n")


def require_tensor(function: str, name: str, position: int, value: Any) -> None:
    """One Tensor argument, at its position in the call as written: a Tensor method's
    positions skip `self`, so `x.gather(0, [1])` and `torch.gather(x, 0, [1])` name the index
    at positions 2 and 3, as PyTorch's parser does."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def require_floating(kernel: str, backend: Any, array: Any) -> None:
    if not backend.is_floating(array.dtype):
        raise not_implemented_for(kernel, backend, array)


def refuse_bool(kernel: str, left: Tensor, right: Tensor) -> None:
    """PyTorch has no bool kernel for mm, mv, bmm or dot (NumPy would compute or/and); only
    dot reaches it with an empty operand."""
    if left._data.dtype == left._backend.bool_dtype and (
            kernel == "dot" or (left.numel() and right.numel())):
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def same_device(*tensors: Tensor | None) -> None:
    """PyTorch's device mismatch error, before any check that reads two tensors' arrays."""
    backend = None
    for tensor in tensors:
        if tensor is None:
            continue
        if backend is None:
            backend = tensor._backend
        elif tensor._backend is not backend:
            _raise_device_mismatch(backend, tensor._backend)


def scalar_type_name(tensor: Tensor) -> str:
    """The dtype as PyTorch's messages name it: "Float", "Long", "Bool", ..."""
    return dtypes.SCALAR_TYPE_NAMES[tensor._backend.dtype_name(tensor._data)]


def cpp_type_name(tensor: Tensor) -> str:
    """The dtype as C++ names it ("float", "long int"), as some of PyTorch's messages do."""
    return _CPP_TYPE_NAMES[tensor._backend.dtype_name(tensor._data)]


def invalid_arguments(function: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                      signatures: tuple[str, ...]) -> TypeError:
    """PyTorch's argument parser's refusal of a call no overload takes: what it got (each
    argument's type, keywords by name) and every signature it accepts, each followed, where
    it takes as many arguments as were given, by why it did not match (PyTorch's
    invalid_arguments.cpp: the keywords it lacks, or the arguments whose types differ, marked
    !so!). Keywords are listed in the order PyTorch's hash map of them yields."""
    keywords = hash_map_order(list(kwargs))
    got = [_argument_type(value) for value in args]
    got += [f"{key}={_argument_type(kwargs[key])}" for key in keywords]
    listed = ", ".join(got) + (", " if kwargs and not args else "")
    expected = ""
    for signature in signatures:
        expected += f" * ({signature})\n"
        parameters = [_Parameter(text) for text in signature.split(", ")]
        if len(args) + len(kwargs) != len(parameters):
            continue
        names = [parameter.name for parameter in parameters[len(parameters) - len(kwargs):]]
        unmatched = [key for key in keywords if key not in names]
        if unmatched:
            expected += ("      didn't match because some of the keywords were incorrect: "
                         f"{', '.join(unmatched)}\n")
            continue
        described = [_described(parameters[index], value)
                     for index, value in enumerate(args)]
        described += [_described(parameter, kwargs[parameter.name], keyword=True)
                      for parameter in parameters[len(args):]]
        listed_types = ", ".join(described) + (", " if kwargs and not args else "")
        expected += ("      didn't match because some of the arguments have invalid types: "
                     f"({listed_types})\n")
    return TypeError(f"{function}() received an invalid combination of arguments - got "
                     f"({listed}), but expected one of:\n{expected}")


class _Parameter:
    """One parameter of a signature as PyTorch's message parser reads it: the type is all but
    the last word ("*" stands alone, as a parameter named and typed "*")."""

    __slots__ = ("name", "type")

    def __init__(self, text: str) -> None:
        space = text.rfind(" ")
        self.name = text[space + 1:]
        self.type = text[:space] if space >= 0 else text

    def takes(self, value: Any) -> bool:
        """Whether the value's type name is the parameter's (an int is a float too); a
        "Number" is never matched by name (PyTorch's own quirk)."""
        name = _argument_type(value)
        if self.type == "float":
            return name in ("float", "int")
        return name == self.type


def _described(parameter: _Parameter, value: Any, keyword: bool = False) -> str:
    text = f"{parameter.name}=" if keyword else ""
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_argument_type(item) for item in value)
        if isinstance(value, tuple):
            text += f"tuple of ({inner}{',' if len(value) == 1 else ''})"
        else:
            text += f"list of [{inner}]"
    else:
        text += _argument_type(value)
    return text if parameter.takes(value) else f"!{text}!"


def _argument_type(value: Any) -> str:
    if isinstance(value, Tensor):
        return "Tensor"
    if isinstance(value, dtypes.dtype):
        return "torch.dtype"
    return "torch.device" if isinstance(value, Device) else type(value).__name__


# ----------------------------------------------------------------------------- keyword order
# PyTorch's parser collects the keywords it got in a std::unordered_map<std::string, ...> and
# lists them as the map yields them. With libstdc++ (PyTorch's Linux builds) the map has 13
# buckets from its first insertion (up to 13 keys); a key whose bucket is empty goes to the
# front of the map's single list, one whose bucket is taken goes first in that bucket's run.
_BUCKETS = 13
_MASK = (1 << 64) - 1
_MULTIPLIER = (0xC6A4A793 << 32) + 0x5BD1E995
_SEED = 0xC70F6907


def hash_map_order(keys: list[str]) -> list[str]:
    """`keys`, inserted in this order, as such a map yields them."""
    order: list[str] = []
    before: dict[int, str | None] = {}  # bucket -> the key before its run (None: the front)
    for key in keys:
        bucket = _string_hash(key) % _BUCKETS
        if bucket in before:
            anchor = before[bucket]
            order.insert(0 if anchor is None else order.index(anchor) + 1, key)
            continue
        if order:
            before[_string_hash(order[0]) % _BUCKETS] = key
        order.insert(0, key)
        before[bucket] = None
    return order


def _string_hash(text: str) -> int:
    """std::hash<std::string> of libstdc++ on 64-bit: its _Hash_bytes (a MurmurHash2
    variant)."""
    data = text.encode()
    size = len(data)
    aligned = size & ~7
    value = (_SEED ^ (size * _MULTIPLIER)) & _MASK
    for start in range(0, aligned, 8):
        word = int.from_bytes(data[start:start + 8], "little")
        value ^= (_shift_mix((word * _MULTIPLIER) & _MASK) * _MULTIPLIER) & _MASK
        value = (value * _MULTIPLIER) & _MASK
    if size & 7:
        value ^= int.from_bytes(data[aligned:], "little")
        value = (value * _MULTIPLIER) & _MASK
    value = (_shift_mix(value) * _MULTIPLIER) & _MASK
    return _shift_mix(value)


def _shift_mix(value: int) -> int:
    return value ^ (value >> 47)
