"""`Device`: which backend an array lives on, parsed from "cpu", "cuda", "cuda:1", ..."""

from __future__ import annotations

from dataclasses import dataclass

# Device types this package knows. "strict" is the array-api-strict test backend: it simulates a
# second device so CPU-only CI can prove that the tape moves data only through the backend.
DEVICE_TYPES = ("cpu", "cuda", "strict")


@dataclass(frozen=True)
class Device:
    """A device, shaped like `torch.device`: a type and an optional index."""

    type: str
    index: int | None = None

    def __post_init__(self) -> None:
        if self.type not in DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                f"string: {self.type}"
            )
        if self.index is not None and (not isinstance(self.index, int) or self.index < 0):
            raise RuntimeError(f"Device index must not be negative, got {self.index}")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


def parse_device(device: object, index: int | None = None) -> Device:
    """Turn "cpu", "cuda", "cuda:1", an int (a CUDA ordinal) or a `Device` into a `Device`."""
    if isinstance(device, Device):
        return device
    if isinstance(device, bool):
        raise TypeError(f"Expected a torch.device or a string, but got: {device!r}")
    if isinstance(device, int):
        return Device("cuda", device)
    if not isinstance(device, str):
        # Objects that carry a device (a Tensor, say) are unwrapped by the caller.
        raise TypeError(f"Expected a torch.device or a string, but got: {device!r}")
    text = device.strip()
    kind, sep, number = text.partition(":")
    if sep:
        if index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {device}")
        if not number.isdigit():
            raise RuntimeError(f"Invalid device string: '{device}'")
        index = int(number)
    if kind not in DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {device}"
        )
    if kind == "cpu" and index not in (None, 0):
        raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
    return Device(kind, None if kind == "cpu" else index)
