"""The meta backend (`device="meta"`): tensors with a shape and a dtype but no values.

An array here is NumPy's view of one element repeated (every stride 0): it has the shape and
dtype a real array would have and holds a single element. Ops run NumPy's kernels on it, so
every shape, dtype and broadcasting rule is exactly the CPU's (an op's output is a real array of
its size, holding nothing anyone can read). What needs values is refused with PyTorch's errors:
reading them out (`item`, `tolist`, a copy to another device) and ops whose output shape depends
on them (`nonzero`, boolean masks). Factories and random fills make blank arrays, drawing nothing
from any generator; in-place writes land in the one element and mean nothing.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from . import shared_memory
from .base import Array, Backend, Shape, contiguous_strides
from .device import Device
from .numpy_backend import NumpyBackend

_NO_DATA = "Cannot copy out of meta tensor; no data!"


class MetaBackend(NumpyBackend):
    name = "meta"
    holds_values = False

    def __init__(self) -> None:
        super().__init__()
        self.device = Device("meta")

    def blank(self, shape: Shape, dtype: Any) -> Array:
        """An array of `shape` and `dtype` (a NumPy dtype) holding one element."""
        one = np.zeros(1, dtype=dtype)
        return np.lib.stride_tricks.as_strided(one, tuple(shape), (0,) * len(shape))

    def _blank_named(self, shape: Shape, dtype: str) -> Array:
        return self.blank(shape, self._native_dtypes[dtype])

    # Factories: no values to write.
    def zeros(self, shape: Shape, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def ones(self, shape: Shape, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def full(self, shape: Shape, fill_value: Any, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def empty(self, shape: Shape, dtype: str) -> Array:
        return self._blank_named(shape, dtype)

    def rand(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        return self._blank_named(shape, dtype)

    def randn(self, shape: Shape, dtype: str, generator: Any = None) -> Array:
        return self._blank_named(shape, dtype)

    def randint(self, low: int, high: int, shape: Shape, dtype: str,
                generator: Any = None) -> Array:
        return self._blank_named(shape, dtype)

    def randperm(self, n: int, dtype: str, generator: Any = None) -> Array:
        return self._blank_named((n,), dtype)

    def poisson(self, rates: Array, generator: Any = None) -> Array:
        return self.blank(rates.shape, np.float64)

    # Moving data in keeps only its shape and dtype; nothing moves out.
    def transfer(self, array: Array, source: Backend) -> Array:
        return self._blank_named(tuple(array.shape), source.dtype_name(array))

    def from_numpy(self, array: Any) -> Array:
        array = np.asarray(array)
        return self.blank(array.shape, array.dtype)

    def asarray(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> Array:
        if isinstance(obj, np.ndarray) and obj.strides == (0,) * obj.ndim and obj.size > 1:
            return super().asarray(obj, dtype, copy)  # already one of ours
        return self.from_numpy(super().asarray(obj, dtype, copy))

    def to_numpy(self, array: Array) -> NoReturn:
        raise NotImplementedError(_NO_DATA)

    def tolist(self, array: Array) -> NoReturn:
        raise NotImplementedError(_NO_DATA)

    def item(self, array: Array) -> NoReturn:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def nonzero(self, array: Array) -> NoReturn:
        # (PyTorch's message goes on to name a torch.fx setting that makes up a result.)
        raise NotImplementedError(
            "The register_meta function for torch.nonzero() raises unimplemented by default, "
            "as a correct data-independent implementation does not exist.")

    def strides(self, array: Array) -> Shape:
        """Contiguous strides for a blank array (as a meta tensor made by a factory has)."""
        if array.ndim and all(stride == 0 for stride in array.strides):
            return contiguous_strides(tuple(array.shape))
        return super().strides(array)

    def repeats_along(self, array: Array, axis: int) -> bool:
        return self.strides(array)[axis] == 0  # a blank array's zero strides are not repeats

    def share_memory(self, array: Array) -> Array:
        # PyTorch's refusal names the strategy's storage call (_share_fd_ or _share_filename_)
        call = "_share_filename_" if shared_memory.sharing_strategy() == "file_system" \
            else "_share_fd_"
        raise RuntimeError(f"{call}: only available on CPU")

    def is_shared(self, array: Array) -> bool:
        return False

    def is_exclusive(self, array: Array) -> bool:
        return False  # a blank array's element is shared by all its positions
