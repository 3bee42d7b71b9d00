"""Sorting, selection and scans of the generic `Backend`, written once over the array API:
stable sorts (NaN last, as PyTorch orders it), top-k, unique values and slices, binary search,
bincount, cumulative max/min with their indices, logcumsumexp, and scatters that multiply or
keep the max/min (index_reduce).

`Backend` binds these functions as methods. The array API has no partial sort, no scan other
than sums and products and no scatter to a permutation, so the generic versions sort fully and
scan in log2(n) vectorised steps (Hillis-Steele); NumPy's backend overrides the ones NumPy has a
faster kernel for (argpartition, unique, ufunc accumulate).
"""

from __future__ import annotations

from typing import Any

Array = Any

__all__ = [
    "bincount", "cumulative_extreme", "index_reduce", "inverse_permutation", "logcumsumexp",
    "searchsorted",
    "sort_order", "topk", "unique", "unique_consecutive", "unique_rows",
]


def _sortable(self: Any, a: Array) -> Array:
    # The array API orders no bools; as 0/1 they sort the same way.
    return self.astype(a, "uint8") if self.is_bool(a.dtype) else a


def _int64(self: Any, a: Array) -> Array:
    return a if self.dtype_name(a) == "int64" else self.astype(a, "int64")


def sort_order(self: Any, a: Array, axis: int = -1, descending: bool = False) -> Array:
    """The int64 indices that sort `a` along `axis`, stable (equal elements keep their order,
    also when descending) with NaN after every number (first when descending)."""
    return _int64(self, self.argsort(_sortable(self, a), axis=axis, descending=descending,
                                     stable=True))


def _leading(a: Array, axis: int, count: int) -> tuple[Any, ...]:
    return (*(slice(None),) * axis, slice(0, count), ...)


def topk(self: Any, a: Array, k: int, axis: int, largest: bool) -> tuple[Array, Array]:
    """The k largest (or smallest) elements along `axis`, in order, and their indices. NaN is
    larger than any number. Ties come lowest index first."""
    order = self.getitem(sort_order(self, a, axis, descending=largest), _leading(a, axis, k))
    return self.take_along_axis(a, order, axis=axis), order


def inverse_permutation(self: Any, order: Array) -> Array:
    """inverse[order[i]] = i for a permutation `order` of 0..n-1 (1-d)."""
    return sort_order(self, order)


def _run_starts(self: Any, different: Array) -> Array:
    """A mask of where runs start, from `different[i]` = element i+1 differs from element i."""
    first = self.ones((1,), "bool")
    return self.concat([first, different], axis=0)


def _runs(self: Any, starts: Array, count: int, order: Array | None, return_inverse: bool,
          return_counts: bool) -> tuple[Array | None, Array | None]:
    """Inverse indices and run lengths for runs marked by `starts` over `count` elements that
    came from the input in `order` (None: in place)."""
    inverse = counts = None
    if return_inverse:
        group = self.subtract(self.cumulative_sum(self.astype(starts, "int64"), axis=0), 1)
        inverse = group if order is None else self.take(
            group, inverse_permutation(self, order), axis=0)
    if return_counts:
        positions = _int64(self, self.nonzero(starts)[0])
        ends = self.concat([positions[1:], self.asarray([count], dtype="int64")], axis=0)
        counts = self.subtract(ends, positions)
    return inverse, counts


def unique(self: Any, a: Array, return_inverse: bool = False,
           return_counts: bool = False) -> tuple[Array, Array | None, Array | None]:
    """The sorted distinct elements of a 1-d array (every NaN distinct, as in PyTorch), with
    the index of each element's value in them and how often each occurs, when asked for."""
    count = a.shape[0]
    if count == 0:
        empty = self.zeros((0,), "int64")
        return a, empty if return_inverse else None, empty if return_counts else None
    order = sort_order(self, a)
    ordered = self.take(a, order, axis=0)
    starts = _run_starts(self, self.not_equal(ordered[1:], ordered[:-1]))
    inverse, counts = _runs(self, starts, count, order, return_inverse, return_counts)
    return ordered[starts], inverse, counts


def unique_consecutive(self: Any, a: Array, return_inverse: bool = False,
                       return_counts: bool = False) -> tuple[Array, Array | None, Array | None]:
    """The first element of every run of equal elements of a 1-d array (NaNs never equal)."""
    count = a.shape[0]
    if count == 0:
        empty = self.zeros((0,), "int64")
        return a, empty if return_inverse else None, empty if return_counts else None
    starts = _run_starts(self, self.not_equal(a[1:], a[:-1]))
    inverse, counts = _runs(self, starts, count, None, return_inverse, return_counts)
    return a[starts], inverse, counts


def _lexicographic_order(self: Any, rows: Array) -> Array:
    """The stable order that sorts the rows of a 2-d array lexicographically: stable sorts by
    the last column, then the one before, ... (a radix sort over columns)."""
    count, width = rows.shape
    order = self.arange(0, count, 1, "int64")
    for column in range(width - 1, -1, -1):
        keys = self.take(rows[:, column], order, axis=0)
        order = self.take(order, sort_order(self, keys), axis=0)
    return order


def unique_rows(self: Any, rows: Array, return_inverse: bool = False,
                return_counts: bool = False, consecutive: bool = False,
                ) -> tuple[Array, Array | None, Array | None]:
    """unique (or unique_consecutive) over the rows of a 2-d array, rows sorted
    lexicographically."""
    count = rows.shape[0]
    if count == 0:
        empty = self.zeros((0,), "int64")
        return rows, empty if return_inverse else None, empty if return_counts else None
    order = None if consecutive else _lexicographic_order(self, rows)
    ordered = rows if order is None else self.take(rows, order, axis=0)
    if rows.shape[1] == 0:
        different = self.zeros((count - 1,), "bool")
    else:
        different = self.any(self.not_equal(ordered[1:, ...], ordered[:-1, ...]), axis=1)
    starts = _run_starts(self, different)
    inverse, counts = _runs(self, starts, count, order, return_inverse, return_counts)
    kept = self.take(ordered, _int64(self, self.nonzero(starts)[0]), axis=0)
    return kept, inverse, counts


def searchsorted(self: Any, sequence: Array, values: Array, right: bool = False) -> Array:
    """For each value, the insertion point in the sorted last dim of `sequence` (a 1-d
    sequence serves every value; otherwise its leading dims are `values`'). A vectorised binary
    search with PyTorch's comparisons: `left` moves right past `not (s >= v)`, `right` past
    `not (s > v)`, so a NaN in the sequence is never passed and a NaN value goes to the end."""
    size = sequence.shape[-1]
    shape = values.shape
    if not shape:
        values = self.reshape(values, (1,))
    if sequence.ndim == 1:
        sequence = self.broadcast_to(
            self.reshape(sequence, (*(1,) * (values.ndim - 1), size)),
            (*values.shape[:-1], size))
    low = self.zeros(values.shape, "int64")
    high = self.full(values.shape, size, "int64")
    # Each step at least halves every interval [low, high): bit_length(size) steps empty them.
    for _ in range(size.bit_length()):
        middle = self.floor_divide(self.add(low, high), 2)
        probe = self.take_along_axis(sequence, self.clip(middle, 0, size - 1), axis=-1)
        passed = self.logical_not(self.greater(probe, values) if right
                                  else self.greater_equal(probe, values))
        active = self.less(low, high)
        low = self.where(self.logical_and(active, passed), self.add(middle, 1), low)
        high = self.where(self.logical_and(active, self.logical_not(passed)), middle, high)
    return self.reshape(low, shape)


def bincount(self: Any, a: Array, weights: Array | None, length: int, dtype: str) -> Array:
    """How often each of 0..length-1 occurs in the 1-d int array `a` (or the sum of the
    weights at its positions), as `dtype`."""
    out = self.zeros((length,), dtype)
    if a.shape[0] == 0:
        return out
    values = self.ones(a.shape, dtype) if weights is None else self.astype(weights, dtype)
    return self.index_add(out, (a,), values)


def _prefix_scan(self: Any, a: Array, axis: int, combine: Any) -> Any:
    """Inclusive scan along `axis` by doubling (Hillis-Steele): after the step of shift d every
    position holds the combination of the up to 2d elements ending there. `combine(earlier,
    later)` takes and returns tuples of arrays and must be associative."""
    size = a[0].shape[axis]
    shift = 1
    while shift < size:
        head = (*(slice(None),) * axis, slice(0, shift), ...)
        tail = (*(slice(None),) * axis, slice(shift, None), ...)
        before = (*(slice(None),) * axis, slice(0, size - shift), ...)
        combined = combine(tuple(part[before] for part in a), tuple(part[tail] for part in a))
        a = tuple(self.concat([part[head], new], axis=axis) for part, new in zip(a, combined))
        shift *= 2
    return a


def cumulative_extreme(self: Any, a: Array, axis: int, largest: bool) -> tuple[Array, Array]:
    """cummax (cummin when not `largest`) along `axis`: the running extreme and the index
    where it was last reached (ties and NaN take the later index; NaN, once met, stays)."""
    positions = self.arange(0, a.shape[axis], 1, "int64")
    positions = self.reshape(positions, tuple(-1 if d == axis else 1 for d in range(a.ndim)))
    positions = self.broadcast_to(positions, a.shape)
    floating = self.is_floating(a.dtype)
    work = _sortable(self, a)

    def combine(earlier: tuple[Array, Array], later: tuple[Array, Array]) -> tuple[Array, Array]:
        (value, index), (new_value, new_index) = earlier, later
        wins = (self.greater_equal(new_value, value) if largest
                else self.less_equal(new_value, value))
        if floating:
            wins = self.logical_or(self.logical_and(wins, self.logical_not(self.isnan(value))),
                                   self.isnan(new_value))
        return self.where(wins, new_value, value), self.where(wins, new_index, index)

    values, indices = _prefix_scan(self, (work, positions), axis, combine)
    return self.astype(values, self.dtype_name(a)), indices


def logcumsumexp(self: Any, a: Array, axis: int) -> Array:
    """log(cumsum(exp(a))) along `axis`, without overflow: a scan of log-add-exp."""

    def combine(earlier: tuple[Array], later: tuple[Array]) -> tuple[Array]:
        x, y = earlier[0], later[0]
        high, low = self.maximum(x, y), self.minimum(x, y)
        # -inf and -inf (or inf and inf) add to themselves; elsewhere the stable form.
        same = self.equal(high, low)
        gap = self.where(same, self.zeros_like(high), self.subtract(low, high))
        total = self.add(high, self.log1p(self.exp(gap)))
        return (self.where(self.logical_and(same, self.isinf(high)), high, total),)

    return _prefix_scan(self, (a,), axis, combine)[0]


def index_reduce(self: Any, target: Array, key: Any, values: Array, reduce: str) -> Array:
    """target[key] = reduce(target[key], values) in place, combining repeated positions with
    `reduce` ("prod", "amax" or "amin"; NaN wins amax and amin): the elements `key` selects
    are sorted by position and each run reduced by a segmented scan."""
    size = _count(target.shape)
    grid = self.reshape(self.arange(0, size, 1, "int64"), target.shape)
    selected = grid[key]
    positions = self.reshape(selected, (-1,))
    count = positions.shape[0]
    if count == 0 or size == 0:
        return target
    values = self.reshape(self.broadcast_to(self.astype(values, self.dtype_name(target)),
                                            selected.shape), (-1,))
    order = sort_order(self, positions)
    positions = self.take(positions, order, axis=0)
    values = self.take(values, order, axis=0)
    combine = _REDUCERS[reduce]

    def step(earlier: tuple[Array, Array], later: tuple[Array, Array]) -> tuple[Array, Array]:
        same = self.equal(earlier[0], later[0])
        merged = combine(self, earlier[1], later[1])
        return later[0], self.where(same, merged, later[1])

    positions, totals = _prefix_scan(self, (positions, values), 0, step)
    # The last element of each run holds the run's reduction; write it into its position.
    last = self.concat([self.not_equal(positions[1:], positions[:-1]),
                        self.ones((1,), "bool")], axis=0)
    ends = _int64(self, self.nonzero(last)[0])
    written = self.take(positions, ends, axis=0)
    flat = self.reshape(target, (-1,))
    current = self.take(flat, written, axis=0)
    updated = combine(self, current, self.take(totals, ends, axis=0))
    result = self.asarray(flat, copy=True)
    self.setitem(result, (written,), updated)
    self.setitem(target, (...,), self.reshape(result, target.shape))
    return target


def _count(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def _maximum(self: Any, a: Array, b: Array) -> Array:
    if self.is_bool(a.dtype):
        return self.logical_or(a, b)
    out = self.maximum(a, b)
    if self.is_floating(a.dtype):  # NaN wins, whichever side it is on
        out = self.where(self.isnan(a), a, out)
    return out


def _minimum(self: Any, a: Array, b: Array) -> Array:
    if self.is_bool(a.dtype):
        return self.logical_and(a, b)
    out = self.minimum(a, b)
    if self.is_floating(a.dtype):
        out = self.where(self.isnan(a), a, out)
    return out


def _product(self: Any, a: Array, b: Array) -> Array:
    if self.is_bool(a.dtype):
        return self.logical_and(a, b)
    return self.multiply(a, b)


_REDUCERS = {"prod": _product, "amax": _maximum, "amin": _minimum}
