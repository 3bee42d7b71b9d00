"""`iinfo` (torch.iinfo): the limits of each integer dtype, as numbers the library knows without
asking a backend. (`finfo` lives with the dtypes, in dtypes.py.)"""

from __future__ import annotations

from typing import Any

from . import dtypes


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
