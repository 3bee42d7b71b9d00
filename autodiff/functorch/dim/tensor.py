"""First-class tensors: `Tensor` holds one physical autodiff tensor and a level per dim of it
(a `Dim` or a position); `Dim` is itself a tensor (its range, 0..size-1, along itself). How ops
run on them is `calls.py`'s.

A first-class tensor is an autodiff Tensor subclass, so `plain * fc` reaches `fc.__rmul__` first
(Python tries the reflected operator of a subclass first). A public function given one
(`autodiff.mm`, `F.linear`, `autodiff.stack`) hands the call to its `__torch_function__`, which
runs it through a vmap level per first-class dim, as functorch.dim's does. An op reached
otherwise meets `Function.apply`: a first-class tensor has no array, its `_data` is layout data
(`layout_dispatch.py`) whose dispatch sends the op through vmap levels as well.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from ...layout_dispatch import LayoutData
from ...override_tables import is_tensor_method_or_property
from ...return_types import _ReturnType
from ...tensor import Tensor as _PlainTensor
from ...torch_function import DisableTorchFunctionSubclass
from .levels import (
    DimensionBindError,
    find,
    is_positional,
    match_levels,
    ndim_of,
    union,
)

_creation = itertools.count()


def _apply_rule(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What `Function.apply` does with a first-class input: the op through vmap levels, a
    result with the inputs' levels in their order (an elementwise op's, as PyTorch's)."""
    joined: list[Any] = []
    for arg in args:
        info = levels_of(arg)
        if info is not None:
            union(joined, info[1])
    from .calls import batched_call

    return _in_order(batched_call(op.apply, args, kwargs), joined)


def _call_through_levels(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`func` on first-class inputs (maybe in lists): a vmap level per first-class dim."""
    from .calls import batched_call

    return batched_call(func, args, kwargs)


def _in_order(result: Any, joined: list[Any]) -> Any:
    if isinstance(result, Tensor):
        levels = result._levels()
        if (len(levels) == len(joined) and all(find(joined, level) is not None for level in levels)
                and _valid(joined)):
            return from_positional(match_levels(result._physical(), levels, joined), joined,
                                   result._has_device)
        return result
    if isinstance(result, (tuple, list)) and not isinstance(result, _ReturnType):
        return type(result)(_in_order(item, joined) for item in result)
    return result


def _valid(levels: list[Any]) -> bool:
    """Whether positional levels run -n..-1 in order (what from_positional accepts)."""
    positions = [level for level in levels if is_positional(level)]
    return positions == list(range(-len(positions), 0))


class FirstClassData(LayoutData):
    """A first-class tensor's `_data`: hands ops that reach `Function.apply` to
    `_apply_rule` (public functions are taken over before, by `__torch_function__`)."""

    __slots__ = ()
    layout_name = "first-class dimension"

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _apply_rule(op, args, kwargs)


_FIRST_CLASS_DATA = FirstClassData()


class _Tensor(_PlainTensor):
    """What first-class tensors and dims share: levels over a physical tensor."""

    # What `Function.apply` reads in place of an array: a first-class tensor has none, so the
    # op goes to `_apply_rule` (and anywhere else reading it is the error).
    @property
    def _data(self) -> FirstClassData:
        return _FIRST_CLASS_DATA

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        """A public function given first-class tensors (autodiff.mm, F.linear, stack, ...):
        run through a vmap level per first-class dim, as functorch.dim's. Tensor's methods
        and properties run as written: first-class tensors mirror them (calls.py), and a
        plain tensor's meet first-class arguments in `x[i, j]` (indexing.py) and
        `Function.apply` (`_apply_rule`)."""
        if is_tensor_method_or_property(func):
            with DisableTorchFunctionSubclass():
                return func(*args, **(kwargs or {}))
        return _call_through_levels(func, args, kwargs or {})

    @property
    def _backend(self) -> Any:  # type: ignore[override]
        return self._physical()._backend

    def _physical(self) -> _PlainTensor:
        raise NotImplementedError

    def _levels(self) -> list[Any]:
        raise NotImplementedError

    @property
    def dims(self) -> tuple[Any, ...]:
        """The first-class dims of this tensor, in its levels' order."""
        return tuple(level for level in self._levels() if not is_positional(level))

    @property
    def ndim(self) -> int:
        """The number of positional dims (first-class dims are not counted)."""
        return ndim_of(self._levels())

    def dim(self) -> int:
        return self.ndim

    def __getitem__(self, key: Any) -> Any:
        from .indexing import getitem

        return getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        from .indexing import setitem

        setitem(self, key, value)

    def index(self, dims: Any, indices: Any) -> Any:  # type: ignore[override]
        """Index the dims `dims` (Dims or positions; a list of them is flattened into one) by
        `indices`, as `t[...]` would index them."""
        from .indexing import index

        return index(self, dims, indices)

    def expand(self, *args: Any) -> Any:
        """With Dims: new first-class dims (stride 0) in front; with sizes, Tensor.expand."""
        if not all(isinstance(arg, Dim) for arg in args):
            from .calls import batched_call

            return batched_call(lambda tensor, *sizes: tensor.expand(*sizes), (self, *args), {})
        levels = self._levels()
        new: list[Any] = []
        for dim in args:
            if any(level is dim for level in levels) or any(level is dim for level in new):
                raise DimensionBindError(
                    f"expanding dimension {dim!r} already exists in tensor with dims")
            new.append(dim)
        physical = self._physical()
        shape = [dim.size for dim in new] + list(physical.shape)
        expanded = physical.reshape([1] * len(new) + list(physical.shape)).expand(shape)
        return from_positional(expanded, new + levels, has_device(self))

    def __repr__(self) -> str:
        physical, levels = self._physical(), self._levels()
        ndim = ndim_of(levels)
        shown = tuple(level + ndim if is_positional(level) else level for level in levels)
        return f"{physical!r}\nwith dims={shown} sizes={tuple(physical.shape)}"

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __iter__(self) -> Any:
        """The first positional dim's slices, each keeping this tensor's dims."""
        return iter(self.unbind(0))

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """A Dim is an identity (kept); a first-class tensor copies its physical tensor."""
        if isinstance(self, Dim):
            return self
        return from_positional(copy.deepcopy(self._physical(), memo), self._levels(),
                               has_device(self))

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("first-class dimension tensors cannot be pickled: order() them first")


class Dim(_Tensor):
    """A first-class dimension: a name and a size, bound on first use. As a tensor it is its
    own range, 0..size-1, along itself."""

    _name: str
    _size: int
    _creation: int
    _range: _PlainTensor | None

    def __new__(cls, name: str, s: int = -1) -> Dim:
        dim = object.__new__(cls)
        dim._name = name
        dim._size = s
        dim._creation = next(_creation)
        dim._range = None
        return dim

    def __init__(self, name: str, s: int = -1) -> None:
        pass  # all done in __new__

    @property  # type: ignore[override]
    def size(self) -> int:
        if self._size == -1:
            raise ValueError(f"dimension {self._name} is unbound")
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        if self._size == -1:
            self._size = value
        elif self._size != value:
            raise DimensionBindError(
                f"Dim '{self!r}' previously bound to a dimension of size {self._size} cannot "
                f"bind to a dimension of size {value}")

    @property
    def is_bound(self) -> bool:
        return self._size != -1

    @property
    def ndim(self) -> int:
        return 1

    def _physical(self) -> _PlainTensor:
        if self._range is None:
            from ...creation import arange

            self._range = arange(self.size)
        return self._range

    def _levels(self) -> list[Any]:
        return [self]

    def __repr__(self) -> str:
        return self._name

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if spec:  # as object.__format__, which functorch.dim's Dim keeps
            raise TypeError("unsupported format string passed to Dim.__format__")
        return self._name


class Tensor(_Tensor):
    """A tensor with first-class dims: a physical tensor and one level per dim of it."""

    _tensor: _PlainTensor
    _level_list: list[Any]
    _has_device: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        return object.__new__(cls)

    def _physical(self) -> _PlainTensor:
        return self._tensor

    def order(self, *dims: Any) -> Any:
        """The dims `dims` (Dims, positions, a DimList, or a sequence of them to flatten into one
        dim) made positional, in front of the remaining positional dims."""
        from .ordering import order

        return order(self, *dims)

    def _levels(self) -> list[Any]:
        return self._level_list


def from_positional(tensor: _PlainTensor, levels: list[Any], has_device: bool = True) -> Any:
    """`tensor` with `levels`: a first-class Tensor, or `tensor` itself when no level is a
    Dim. `has_device`: whether its device is its own (False where it was made from dims'
    ranges only, which go to the device of whatever tensor they meet)."""
    last = 0
    named = 0
    for level in levels:
        if is_positional(level):
            if not (last == 0 or last + 1 == level):
                raise AssertionError(
                    f"Positional dimensions must be consecutive, got {last} then {level}")
            last = level
        else:
            named += 1
    if last not in (0, -1):
        raise AssertionError(f"Final positional dimension must be 0 or -1, got {last}")
    if not named:
        return tensor
    if tensor.dim() != len(levels):
        raise AssertionError(
            f"Tensor has {tensor.dim()} dimensions but {len(levels)} levels provided")
    result = object.__new__(Tensor)
    result._tensor = tensor
    result._level_list = list(levels)
    result._has_device = has_device
    return result


def levels_of(item: Any) -> tuple[_PlainTensor, list[Any]] | None:
    """(physical tensor, levels) of a first-class tensor, a Dim or a plain tensor; None for
    anything else."""
    if isinstance(item, _Tensor):
        return item._physical(), item._levels()
    if isinstance(item, _PlainTensor):
        return item, list(range(-item.dim(), 0))
    return None


def has_dims(item: Any) -> bool:
    return isinstance(item, _Tensor)


def has_device(item: Any) -> bool:
    """Whether a tensor's device counts: not a Dim's range (made on the default device), nor
    what was computed from ranges alone."""
    if isinstance(item, Dim):
        return False
    if isinstance(item, Tensor):
        return item._has_device
    return True


def device_of(items: list[Any]) -> Any:
    """The device of the first of `items` whose device counts (None if none does)."""
    for item in items:
        if isinstance(item, _PlainTensor) and has_device(item):
            return (item._physical() if isinstance(item, _Tensor) else item).device
    return None


def on_device(tensor: _PlainTensor, device: Any) -> _PlainTensor:
    return tensor if device is None or tensor.device == device else tensor.to(device)
