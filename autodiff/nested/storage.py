"""Where a nested tensor's components lie in its buffer, and how the buffer is built.

A nested tensor is one dense `buffer` tensor (the graph sees only it) plus, per component, a
`Component`: its sizes, strides and first position in the buffer's memory, as PyTorch's
strided NestedTensorImpl keeps them (nested sizes, nested strides, storage offsets). A
component is `buffer.as_strided(size, stride, offset)`, so views (transpose, chunk, view) only
change the records, and every gradient reaches the buffer. The jagged layout's buffer is its
`values()`: (total ragged length, *the regular dims).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..ops.joining import cat
from ..tensor import Tensor


@dataclass(frozen=True)
class Component:
    """One component's place in the buffer's memory (offset from the buffer's first element)."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    offset: int

    @property
    def numel(self) -> int:
        return math.prod(self.size)

    def is_contiguous(self) -> bool:
        return self.stride == contiguous_strides(self.size) or self.numel <= 1


class RaggedSize:
    """The size of a jagged tensor's ragged dim: PyTorch's nested int `j<n>`, one per offsets
    tensor. It equals only itself: tensors that share offsets share it."""

    _counter = itertools.count(1)

    def __init__(self) -> None:
        self.number = next(self._counter)

    def __repr__(self) -> str:
        return f"j{self.number}"


def contiguous_strides(size: Sequence[int]) -> tuple[int, ...]:
    strides = []
    step = 1
    for length in reversed(size):
        strides.append(step)
        step *= max(length, 1)
    return tuple(reversed(strides))


def packed(sizes: Sequence[tuple[int, ...]]) -> tuple[Component, ...]:
    """Components of these sizes, contiguous, one after the other from position 0."""
    components = []
    offset = 0
    for size in sizes:
        components.append(Component(tuple(size), contiguous_strides(size), offset))
        offset += math.prod(size)
    return tuple(components)


def is_packed(components: Sequence[Component]) -> bool:
    """Contiguous components one after the other from position 0 (PyTorch's is_contiguous of a
    nested tensor)."""
    offset = 0
    for component in components:
        if component.numel and (component.offset != offset or not component.is_contiguous()):
            return False
        offset += component.numel
    return True


def component_view(buffer: Tensor, component: Component) -> Tensor:
    """The component as a view of the buffer's memory (recorded: its gradient reaches the
    buffer)."""
    return buffer.as_strided(component.size, component.stride,
                             buffer.storage_offset() + component.offset)


def pack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors' elements one after the other (recorded): as rows of their common last dim
    when they have one (a jagged layout's values, and what linear multiplies), else flat."""
    lasts = {tensor.shape[-1] if tensor.dim() else None for tensor in tensors}
    if len(lasts) == 1 and None not in lasts:
        last = lasts.pop()
        return cat([tensor.reshape(-1, last) for tensor in tensors])
    return cat([tensor.reshape(-1) for tensor in tensors])
