"""Indexing with first-class dims: `t[i, j]` binds positional dims to Dims, `t[[i, j]]`-style
dim packs split one dim into several, `...` and DimLists take the dims left over, a Dim used
twice (`t[i, i]`) or a first-class tensor as an index (`t[idx[b]]`, `t[i + j]`) becomes advanced
indexing with its levels; `Tensor.index(dims, indices)` does the same for named dims. Each is
one index of the physical tensor (views, or one gather), so gradients flow through it."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor as _PlainTensor
from .dims import DimList
from .levels import (
    DimensionBindError,
    contains,
    find,
    is_positional,
    match_levels,
    ndim_of,
    renumber,
    union,
    wrap_position,
)
from .tensor import (
    Dim,
    _Tensor,
    from_positional,
    has_device,
    has_dims,
    levels_of,
    on_device,
)


def _is_dimpack(item: Any) -> bool:
    # the first entry first: a long list of ints (an ordinary index) is decided at once
    return (isinstance(item, (tuple, list)) and len(item) > 0 and isinstance(item[0], Dim)
            and all(isinstance(entry, Dim) for entry in item))


def has_first_class(key: Any) -> bool:
    """Whether indexing with `key` needs this layer (a Dim, DimList, first-class tensor or dim
    pack in it)."""
    if isinstance(key, (_Tensor, DimList)):
        return True
    if isinstance(key, (tuple, list)):
        return any(isinstance(item, (_Tensor, DimList)) or _is_dimpack(item) for item in key)
    return False


def _index_items(key: Any) -> tuple[list[Any], bool]:
    """The key as a list of per-dim items, and whether it was a sequence of them."""
    if has_dims(key) or isinstance(key, DimList):
        return [key], False
    if isinstance(key, tuple):
        return list(key), True
    if isinstance(key, list) and (len(key) >= 32 or any(
            isinstance(item, (_PlainTensor, slice, DimList)) or hasattr(item, "__iter__")
            or item is ... or item is None for item in key)):
        return list(key), True
    return [key], False


class _Indexing:
    """One index of a physical tensor: the tensor (reshaped for `None`s and dim packs), the
    index items, and the levels of the result."""

    def __init__(self, tensor: _PlainTensor, items: list[Any], result_levels: list[Any],
                 advanced: bool, has_device: bool) -> None:
        self.tensor = tensor
        self.items = items
        self.result_levels = result_levels
        self.advanced = advanced
        self.has_device = has_device

    def apply(self) -> Any:
        result = self.tensor[tuple(self.items)] if self.advanced else self.tensor
        return from_positional(result, self.result_levels, self.has_device)


def _bind_pack(size: int, pack: list[Any]) -> None:
    """Bind the sizes of the dims of a pack that splits a dim of `size`."""
    product = 1
    for index, dim in enumerate(pack):
        if not dim.is_bound:
            for other in pack[index + 1:]:
                if not other.is_bound:
                    raise DimensionBindError(f"cannot infer the sizes of two dimensions at once "
                                             f"{dim!r} and {other!r}")
                product *= other.size
            if size % product != 0:
                sizes = tuple(d.size if d.is_bound else "?" for d in pack)
                raise DimensionBindError(f"inferred dimension does not evenly fit into larger "
                                         f"dimension: {size} vs {sizes}")
            dim.size = size // product
            product = size
            break
        product *= dim.size
    if product != size:
        raise DimensionBindError(f"Dimension sizes to do not match ({size} != {product}) when "
                                 f"matching dimension pack {tuple(pack)}")


def _flat(physical: _PlainTensor, levels: list[Any], inputs: list[Any], keys: list[Any],
          values: list[Any], reshape: bool, self_has_device: bool) -> _Indexing:
    """Match the index items to the dims of `physical` (`keys[n]` takes `values[n]`, other
    positional dims take `inputs` in order) and work out the index and its result's levels."""
    uses: dict[int, int] = {}
    # ("dim", a Dim) / ("tensor", (physical, levels)) / ("plain", an ordinary index item)
    entries: list[tuple[str, Any]] = []
    sizes = list(physical.shape)
    new_shape: list[int] = []
    pending = list(inputs)

    def use(dim: Any) -> None:
        uses[id(dim)] = uses.get(id(dim), 0) + 1

    def take(position: int, item: Any) -> None:
        size = sizes[position]
        if isinstance(item, Dim):
            item.size = size  # binds an unbound dim; a bound one must fit
            use(item)
            entries.append(("dim", item))
            new_shape.append(size)
            return
        info = levels_of(item)
        if info is not None:
            if self_has_device and not has_device(item):
                info = (on_device(info[0], physical.device), info[1])
            entries.append(("tensor", info))
            for level in info[1]:
                if not is_positional(level):
                    use(level)
            new_shape.append(size)
            return
        if reshape and _is_dimpack(item):
            pack = list(item)
            _bind_pack(size, pack)
            for dim in pack:
                use(dim)
                entries.append(("dim", dim))
                new_shape.append(dim.size)
            return
        entries.append(("plain", item))
        new_shape.append(size)

    def new_axes() -> None:
        while pending and pending[0] is None:
            pending.pop(0)
            entries.append(("plain", slice(None)))
            new_shape.append(1)

    for position, level in enumerate(levels):
        key = find(keys, level)
        if key is not None:
            take(position, values[key])
        elif is_positional(level):
            new_axes()
            if pending:
                take(position, pending.pop(0))
            else:
                entries.append(("plain", slice(None)))
                new_shape.append(sizes[position])
        else:
            use(level)
            entries.append(("dim", level))
            new_shape.append(sizes[position])
    new_axes()
    tensor = physical.reshape(new_shape) if reshape and new_shape != sizes else physical

    result_levels: list[Any] = []
    index_levels: list[Any] = []
    tensor_items: list[tuple[int, Any, list[Any]]] = []
    insert = -1
    advanced = False
    items: list[Any] = []

    def mark() -> None:
        nonlocal insert
        if insert == -1:
            insert = len(result_levels)
        elif insert != len(result_levels):
            insert = 0

    for kind, item in entries:
        if kind == "tensor":
            advanced = True
            mark()
            union(index_levels, item[1])
            tensor_items.append((len(items), item[0], item[1]))
            items.append(None)
        elif kind == "dim":
            if uses[id(item)] == 1:
                items.append(slice(None))
                result_levels.append(item)
            else:  # used again: its range, as an index, makes the uses one dim
                advanced = True
                dim_range = item._physical()
                if self_has_device:
                    dim_range = on_device(dim_range, physical.device)
                tensor_items.append((len(items), dim_range, [item]))
                items.append(None)
                if not contains(index_levels, item):
                    index_levels.append(item)
                mark()
        else:
            if not (isinstance(item, slice) and item == slice(None)):
                advanced = True
            if not isinstance(item, int):
                result_levels.append(-1)
            items.append(item)
    if insert != -1:
        result_levels[insert:insert] = index_levels
    for position, index_tensor, index_tensor_levels in tensor_items:
        items[position] = match_levels(index_tensor, index_tensor_levels, index_levels)
    return _Indexing(tensor, items, renumber(result_levels), advanced, self_has_device)


def _prepare(tensor: Any, key: Any, force: bool = False) -> _Indexing | None:
    """The index `tensor[key]` is, or None where the key holds nothing first-class and the
    tensor is plain (the ordinary indexing then)."""
    items, _ = _index_items(key)
    plain_self = not has_dims(tensor)
    dims_indexed = 0
    expanding = -1
    unbound_list: DimList | None = None
    dim_lists: list[int] = []
    first_class = force or not plain_self
    reshape = False

    def expand_at(position: int) -> None:
        nonlocal expanding
        if expanding != -1:
            raise DimensionBindError(f"at most one ... or unbound dimension list can exist in "
                                     f"indexing list but found 2 at offsets {expanding} and "
                                     f"{position}")
        expanding = position

    for position, item in enumerate(items):
        if has_dims(item):
            first_class = True
            dims_indexed += 1
        elif item is ...:
            expand_at(position)
        elif isinstance(item, DimList):
            first_class = True
            if not item.is_bound:
                expand_at(position)
                unbound_list = item
            else:
                dims_indexed += len(item._dims)
            dim_lists.append(position)
        elif item is None:
            reshape = True
        elif _is_dimpack(item):
            first_class = True
            reshape = True
            dims_indexed += 1
        else:
            dims_indexed += 1
    if not first_class:
        return None
    physical, levels = levels_of(tensor) or (None, [])
    if physical is None:
        raise ValueError("expected a tensor object")
    total = len(levels)
    if dims_indexed > total:
        raise ValueError(f"at least {dims_indexed} indices were supplied but the tensor only "
                         f"has {total} dimensions")
    left = total - dims_indexed
    if expanding != -1:
        if unbound_list is not None:
            unbound_list.bind_len(left)
        else:
            items = items[:expanding] + [slice(None)] * left + items[expanding + 1:]
    for position in reversed(dim_lists):
        if unbound_list is None and expanding != -1 and position > expanding:
            position += left - 1
        items = items[:position] + list(items[position]._dims) + items[position + 1:]
    return _flat(physical, levels, items, [], [], reshape, has_device(tensor))


def getitem(tensor: Any, key: Any) -> Any:
    """`tensor[key]` where the tensor or the key has first-class dims."""
    plan = _prepare(tensor, key)
    if plan is None:
        return _PlainTensor.__getitem__(tensor, key)
    return plan.apply()


def setitem(tensor: Any, key: Any, value: Any) -> None:
    """`tensor[key] = value`: the value's dims must be among the indexed result's."""
    plan = _prepare(tensor, key, force=has_dims(value))
    if plan is None:
        _PlainTensor.__setitem__(tensor, key, value)
        return
    info = levels_of(value)
    if info is not None:
        for level in info[1]:
            if not is_positional(level) and not contains(plan.result_levels, level):
                shown = tuple(plan.result_levels)
                raise DimensionBindError(f"rhs of setitem contains dimension {level!r} which is "
                                         f"not in the dimension on the left ({shown!r})")
        value = match_levels(info[0], info[1], plan.result_levels)
    if plan.advanced:
        plan.tensor[tuple(plan.items)] = value
    else:
        plan.tensor.copy_(value)


def _entry(item: Any, ndim: int) -> Any:
    if isinstance(item, Dim):
        return item
    if isinstance(item, int) and not isinstance(item, bool):
        return wrap_position(item, ndim)
    raise TypeError(f"expected a dimension specifyer but found {item!r}")


def index(tensor: Any, dims: Any, indices: Any) -> Any:
    """`tensor.index(dims, indices)`: index the dims named in `dims` by `indices`."""
    physical, levels = levels_of(tensor) or (None, [])
    if physical is None:
        raise TypeError(f"index() expects a tensor, got {type(tensor).__name__}")
    ndim = ndim_of(levels)
    if isinstance(dims, (tuple, list)) and isinstance(indices, (tuple, list)):
        if len(dims) != len(indices):
            raise TypeError(f"dims ({len(dims)}) and indices ({len(indices)}) must have the "
                            "same length")
        dim_list, index_list = list(dims), list(indices)
    else:
        dim_list, index_list = [dims], [indices]

    def missing(level: Any) -> TypeError:
        if is_positional(level):
            return TypeError(f"dimension {level + ndim} not in tensor of {ndim} dimensions")
        return TypeError(f"dimension {level!r} not in tensor")

    keys: list[Any] = []
    new_levels: list[Any] | None = None
    flattened: list[Any] = []
    for entry in dim_list:
        if not isinstance(entry, (tuple, list)):
            keys.append(_entry(entry, ndim))
            continue
        if not entry:
            keys.append(0)  # matches no level
            continue
        first = _entry(entry[0], ndim)
        keys.append(first)
        if len(entry) == 1:
            continue
        if new_levels is None:
            new_levels = list(levels)
        rest = []
        for item in entry[1:]:
            level = _entry(item, ndim)
            position = find(new_levels, level)
            if position is None:
                raise missing(level)
            new_levels.pop(position)
            rest.append(level)
        position = find(new_levels, first)
        if position is None:
            raise missing(first)
        new_levels[position + 1:position + 1] = rest
        flattened.extend(rest)
    if new_levels is not None and flattened:
        arranged = match_levels(physical, levels, new_levels)
        shape: list[int] = []
        kept: list[Any] = []
        for level, size in zip(new_levels, arranged.shape):
            if contains(flattened, level):
                shape[-1] *= size
            else:
                shape.append(size)
                kept.append(level)
        physical, levels = arranged.reshape(shape), kept
    reshape = any(isinstance(item, (tuple, list)) for item in index_list)
    return _flat(physical, levels, [], keys, index_list, reshape, has_device(tensor)).apply()
