"""`BatchedTensor`: a tensor inside `vmap`. It shows the function its logical shape (one
example's) and holds the physical tensor, whose dim 0 is the mapped dimension of one vmap
level. Nested vmaps nest these: the physical tensor of level 2 may itself be batched at
level 1, so every batching rule handles one batch dim and calls the op again one level down.

Python code in the ops reads shapes from `tensor._data.shape`; a BatchedTensor's `_data` is a
`BatchedArray`, which has the logical shape and the dtype and nothing else, so shape logic
sees one example and any code that would compute on the array itself fails instead of mixing
examples. Computation happens in `Function.apply`, which hands batched inputs to the op's
batching rule (`batching.py`).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

_ITEM = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
         "calling .item() on a Tensor, please try to rewrite what you're doing with other "
         "operations. If error is occurring somewhere inside PyTorch internals, please file a "
         "bug report.")
_CONTROL_FLOW = ("vmap: It looks like you're attempting to use a Tensor in some data-dependent "
                 "control flow. We don't support that yet, please file an issue at "
                 "https://github.com/pytorch/pytorch/issues .")


class BatchedArray:
    """What a BatchedTensor shows as its array: the logical shape and the dtype. It keeps the
    physical tensor and the level rather than the BatchedTensor itself, so the two make no
    reference cycle (a batched tensor is freed as soon as it is dropped)."""

    __slots__ = ("dtype", "level", "ndim", "shape", "value")

    def __init__(self, value: Tensor, level: int, shape: tuple[int, ...], dtype: Any) -> None:
        self.value = value
        self.level = level
        self.shape = shape
        self.ndim = len(shape)
        self.dtype = dtype

    @property
    def tensor(self) -> BatchedTensor:
        """The batched tensor this array belongs to (one like it)."""
        return make_batched(self.value, self.level)

    @property
    def size(self) -> int:
        total = 1
        for extent in self.shape:
            total *= extent
        return total


class BatchedTensor(Tensor):
    """A tensor batched at one vmap level: `_value` holds the examples along its dim 0."""

    _value: Tensor
    _level: int
    _batched = True

    @property
    def requires_grad(self) -> bool:
        return self._value.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._value.requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self._value.requires_grad_(requires_grad)
        return self

    def detach(self) -> Tensor:
        return make_batched(self._value.detach(), self._level)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        return make_batched(self._value.contiguous(), self._level)

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return True  # as PyTorch's BatchedTensor: one example's layout is not observable

    def stride(self, dim: int | None = None) -> Any:
        raise RuntimeError("vmap: strides of a batched Tensor are not available inside vmap")

    def item(self) -> Any:
        raise RuntimeError(_ITEM)

    def tolist(self) -> Any:
        raise RuntimeError(_ITEM)

    def numpy(self, *, force: bool = False) -> Any:
        raise RuntimeError("vmap: numpy() is not supported inside vmap: the values of one "
                           "example do not exist as an array of their own")

    def __bool__(self) -> bool:
        raise RuntimeError(_CONTROL_FLOW)

    def __float__(self) -> float:
        raise RuntimeError(_CONTROL_FLOW)

    def __int__(self) -> int:
        raise RuntimeError(_CONTROL_FLOW)

    def __index__(self) -> int:
        raise RuntimeError(_CONTROL_FLOW)

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __repr__(self) -> str:
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n{self._value!r}\n)"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise RuntimeError("vmap: a batched Tensor cannot be pickled inside vmap")

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        return make_batched(self._value.clone(), self._level)


def make_batched(value: Tensor, level: int) -> BatchedTensor:
    """`value` (examples along dim 0) as a tensor batched at `level`."""
    out = object.__new__(BatchedTensor)
    out._value = value
    out._level = level
    out._backend = value._backend
    # BatchedArray's fields set here (every batched result is made here: no __init__ call)
    data = value._data
    shape = tuple(data.shape[1:])
    array = object.__new__(BatchedArray)
    array.value = value
    array.level = level
    array.shape = shape
    array.ndim = len(shape)
    array.dtype = data.dtype
    out._data = array
    return out


def level_of(item: Any) -> int:
    """The vmap level a tensor (or the array of one) is batched at; 0 when it is not."""
    if type(item) is BatchedTensor:
        return item._level
    if type(item) is BatchedArray:
        return item.level
    return 0


def unwrap(item: Any, level: int) -> tuple[Any, bool]:
    """(the physical value, True) for a tensor batched at `level`; (item, False) otherwise.
    A BatchedArray (an array taken from a batched tensor) unwraps to its value's array."""
    if type(item) is BatchedTensor and item._level == level:
        return item._value, True
    if type(item) is BatchedArray and item.level == level:
        return item.value._data, True
    return item, False


def slice_level(item: Any, level: int, index: int) -> Any:
    """Example `index` of the mapped dim of `level`, through the wrappers of higher levels."""
    if type(item) is BatchedArray:
        return slice_level(item.tensor, level, index)._data
    if type(item) is not BatchedTensor or item._level < level:
        return item
    if item._level == level:
        return item._value.select(0, index)
    return make_batched(slice_level(item._value, level, index), item._level)


def move_into_level(tensor: Tensor, level: int) -> Tensor:
    """A tensor whose logical dim 0 holds the examples of `level` (already open and below any
    level `tensor` is batched at), as a tensor batched at `level`."""
    if type(tensor) is BatchedTensor and tensor._level > level:
        inner = tensor._value.movedim(1, 0)  # its dim 0 is its own level's
        return make_batched(move_into_level(inner, level), tensor._level)
    return make_batched(tensor, level)
