"""`finfo` and `iinfo` (torch.finfo / torch.iinfo): the limits of each dtype, as numbers the
library knows without asking a backend (IEEE-754 binary16/32/64 and bfloat16's 8-bit exponent
with a 7-bit fraction)."""

from __future__ import annotations

from typing import Any

from . import dtypes


class _FloatLimits:
    __slots__ = ("bits", "eps", "max", "resolution", "tiny")

    def __init__(self, bits: int, fraction_bits: int, max_exponent: int, resolution: float):
        self.bits = bits
        self.eps = 2.0 ** -fraction_bits
        self.max = (2.0 - 2.0 ** -fraction_bits) * 2.0 ** max_exponent
        self.tiny = 2.0 ** (1 - max_exponent)
        self.resolution = resolution


_FLOATS = {
    "float16": _FloatLimits(16, 10, 15, 1e-3),
    "bfloat16": _FloatLimits(16, 7, 127, 1e-2),
    "float32": _FloatLimits(32, 23, 127, 1e-6),
    "float64": _FloatLimits(64, 52, 1023, 1e-15),
}


class finfo:
    """The machine limits of a floating dtype (the default dtype when none is given)."""

    bits: int
    eps: float
    max: float
    min: float
    tiny: float
    smallest_normal: float
    resolution: float
    dtype: str

    def __init__(self, type: dtypes.dtype | None = None) -> None:
        kind = dtypes.get_default_dtype() if type is None else type
        if not isinstance(kind, dtypes.dtype) or not kind.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        limits = _FLOATS[kind.name]
        self.bits = limits.bits
        self.eps = limits.eps
        self.max = limits.max
        self.min = -limits.max
        self.tiny = self.smallest_normal = limits.tiny
        self.resolution = limits.resolution
        self.dtype = kind.name

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer (or bool) dtype."""

    bits: int
    min: int
    max: int
    dtype: str

    def __init__(self, type: dtypes.dtype) -> None:
        if not isinstance(type, dtypes.dtype) or type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        if type.category == 0:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        self.bits = 8 * type.itemsize
        if type.is_signed:
            self.min, self.max = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        else:
            self.min, self.max = 0, 2 ** self.bits - 1
        self.dtype = type.name

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
