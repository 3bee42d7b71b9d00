"""`Flatten` (merges dims start_dim..end_dim into one, by default all but the batch dim) and
`Unflatten` (splits one dim into several)."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .module import Module


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim into `unflattened_size` (a tuple, list or Size of ints; -1 once allowed)."""

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        _require_tuple_int(unflattened_size)
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _require_tuple_int(sizes: Any) -> None:
    if isinstance(sizes, (tuple, list)):
        for position, element in enumerate(sizes):
            if not isinstance(element, int):
                raise TypeError(
                    "unflattened_size must be tuple of ints, but found element of type "
                    f"{type(element).__name__} at pos {position}")
        return
    raise TypeError(
        f"unflattened_size must be a tuple of ints, but found type {type(sizes).__name__}")
