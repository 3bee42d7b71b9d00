"""`Device`: which backend an array lives on, shaped like `torch.device`.

`Device("cuda:1")`, `Device("cuda", 1)`, `Device(1)` (a CUDA ordinal) and `Device(other)` all
build the same immutable, hashable value; its repr, str and errors follow PyTorch's.

The default device (where factories put tensors when no device is given) lives here too, per
thread as PyTorch keeps it: `with Device("cuda"):` blocks, innermost first, then
`set_default_device`, then the device of the legacy default tensor type, then the CPU.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

# Device types this package knows. "strict" is the array-api-strict test backend: it simulates a
# second device so CPU-only CI can prove that the tape moves data only through the backend.
# "meta" holds shapes and dtypes without values.
DEVICE_TYPES = ("cpu", "cuda", "strict", "meta")

# "cuda", "cuda:1"; an index has no sign and no leading zero, as PyTorch parses it.
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")


@dataclass(frozen=True, init=False)
class Device:
    """A device: a type ("cpu", "cuda", "strict", "meta") and an optional index."""

    type: str
    index: int | None
    _hash: ClassVar[int]  # per instance, set in __init__ (not a dataclass field)

    def __init__(self, type: Any, index: Any = None) -> None:
        kind, number = _parse(type, index)
        # A frozen dataclass: the fields are set once, here. The hash is kept, since a Device
        # is a dict key on get_backend's fast path.
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", number)
        object.__setattr__(self, "_hash", hash((kind, number)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return (Device, (self.type, self.index))  # string hashes differ between processes

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    # `with device:` makes it the default device of this thread inside the block.
    def __enter__(self) -> Device:
        _defaults.entered.append(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _defaults.entered.pop()


class _DefaultDevice(threading.local):
    def __init__(self) -> None:
        self.entered: list[Device] = []  # `with device:` blocks, innermost last
        self.chosen: Device | None = None  # set_default_device


_defaults = _DefaultDevice()
_legacy_type_device: Device | None = None  # set_default_tensor_type (global, as PyTorch's)


def default_device() -> Device | None:
    """Where factories put tensors by default (None: the CPU)."""
    entered = _defaults.entered
    if entered:
        return entered[-1]
    chosen = _defaults.chosen
    return chosen if chosen is not None else _legacy_type_device


def set_default_device(device: Device | None) -> None:
    """This thread's default device (None: back to the CPU)."""
    _defaults.chosen = device


def legacy_type_device() -> Device | None:
    """The device of the default tensor type (`torch.Tensor(2, 3)` puts tensors there)."""
    return _legacy_type_device


def set_legacy_type_device(device: Device | None) -> None:
    global _legacy_type_device
    _legacy_type_device = device


def _parse(device: Any, index: Any) -> tuple[str, int | None]:
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(
                f"device(): argument 'index' (position 2) must be int, not "
                f"{type(index).__name__}"
            )
        if index < 0:
            raise RuntimeError("Device index must not be negative")
    if isinstance(device, Device):
        if index is not None:
            raise TypeError("device(): a torch.device cannot be given with an index")
        return device.type, device.index
    if isinstance(device, int) and not isinstance(device, bool):
        if device < 0:
            raise RuntimeError("Device index must not be negative")
        from . import cuda_device_count  # (the package imports this module first)

        if not cuda_device_count():  # a bare ordinal is the accelerator's: there is none
            raise RuntimeError("Cannot access accelerator device when none is available.")
        return "cuda", device  # a bare ordinal means a CUDA device, as in PyTorch
    if not isinstance(device, str):
        raise TypeError(
            f"device() received an invalid combination of arguments - got "
            f"({type(device).__name__}), but expected one of:\n"
            " * (torch.device device)\n"
            " * (str type, int index = -1)"
        )
    match = _DEVICE_STRING.fullmatch(device)
    if match is None:
        raise RuntimeError(f"Invalid device string: '{device}'")
    kind, number = match.groups()
    if kind not in DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
            f"string: {device}"
        )
    if number is not None:
        if index is not None:
            raise RuntimeError(
                "type (string) must not include an index because index was passed "
                f"explicitly: {device}"
            )
        index = int(number)
    return kind, index


def parse_cuda_device(device: object) -> Device:
    """A device as the CUDA namespace's functions take it: a bare int is a CUDA ordinal
    (where `Device(int)` is the accelerator's, refused when there is none)."""
    if isinstance(device, int) and not isinstance(device, bool):
        return Device("cuda", device)
    return parse_device(device)


def parse_device(device: object, index: int | None = None) -> Device:
    """Turn "cpu", "cuda", "cuda:1", an int (a CUDA ordinal) or a `Device` into a `Device`."""
    if type(device) is Device and index is None:
        return device
    return Device(device, index)
