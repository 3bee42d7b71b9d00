"""`torch.layout` and `torch.memory_format`: how a tensor's elements are laid out.

A tensor is dense (`strided`), sparse COO (`sparse_coo`: indices and values,
`sparse_coo.py`) or compressed sparse (`sparse_csr`, `sparse_csc`, `sparse_bsr`, `sparse_bsc`:
`sparse_compressed.py`); nested tensors (autodiff.nested) are `strided` or `jagged`.
Memory formats name an order of a dense tensor's dims in
memory: `contiguous_format` (row-major), `preserve_format` (as the input's), and
`channels_last` / `channels_last_3d` (the channel dim innermost, for 4-d and 5-d tensors).
"""

from __future__ import annotations

from typing import Any


class layout:
    """A tensor layout: `strided` (dense), `sparse_coo` or a compressed sparse one."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


class memory_format:
    """An order of a dense tensor's dims in memory."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


strided = layout("strided")
jagged = layout("jagged")  # nested tensors of one ragged dim (autodiff.nested)
sparse_coo = layout("sparse_coo")
# The compressed sparse layouts (sparse_compressed.py): rows or columns compressed, of elements
# or of blocks.
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")

contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

# The dim order in memory (outermost first) of the channels-last formats, and their rank.
CHANNELS_LAST_ORDER = {channels_last: (0, 2, 3, 1), channels_last_3d: (0, 2, 3, 4, 1)}


def check_layout(function: str, value: Any) -> None:
    """Accept the dense layout (PyTorch's default); refuse the sparse ones, which autodiff's
    tensors do not have."""
    if value is None or value is strided:
        return
    if isinstance(value, layout):
        raise RuntimeError(f"{function}(): layout={value} is not supported: autodiff's tensors "
                           "are dense (torch.strided)")
    raise TypeError(f"{function}(): argument 'layout' must be torch.layout, not "
                    f"{type(value).__name__}")


def check_memory_format(function: str, value: Any) -> None:
    if value is not None and not isinstance(value, memory_format):
        raise TypeError(f"{function}(): argument 'memory_format' must be torch.memory_format, "
                        f"not {type(value).__name__}")
