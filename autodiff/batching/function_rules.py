"""Batching rules of functions written in Python on arrays (not one Function), applied at the
function (`dispatch.function_rule`): each runs the function once on the physical tensors,
the vmap dim one more dim the function treats element by element or leaves alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor, _wrap, _wrap_dim
from .batched_tensor import BatchedTensor, make_batched, unwrap
from .levels import Level


def _batched(item: Tensor, level: Level) -> Tensor:
    value, batched = unwrap(item, level.number)
    return value if batched else value.expand((level.batch_size, *value.shape))


def quantile(function: Callable[..., Any], level: Level, input: Tensor, q: Any,
             dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """The quantiles of each example along `dim` (or of its flattened elements); a vector q
    puts its dim first, before the examples', which then moves in front."""
    if isinstance(q, Tensor) and unwrap(q, level.number)[1]:
        # a q per example: the function's own ops (sort, gather, lerp) batch one by one
        return function.__wrapped__(input, q, dim, keepdim, **kwargs)  # type: ignore[attr-defined]
    value = _batched(input, level)
    size, rank = level.batch_size, input.dim()
    if dim is None or rank == 0:
        out = function(value.reshape((size, -1)), q, 1, False, **kwargs)
        vector = out.dim() == 2
        if keepdim:
            out = out.reshape((*out.shape, *(1,) * rank))
    else:
        out = function(value, q, _wrap_dim(dim, rank) + 1, keepdim, **kwargs)
        vector = isinstance(q, Tensor) and q.dim() == 1
    return make_batched(out.movedim(1, 0) if vector else out, level.number)


def one_hot(function: Callable[..., Any], level: Level, tensor: Tensor,
            num_classes: int = -1) -> Any:
    """Elementwise with a new last dim, given its size (inferred from the values, the size
    could differ between examples: one example at a time, as the loop)."""
    if num_classes == -1:
        from .dispatch import looped

        return looped("one_hot", function, (tensor,), {}, level)
    return make_batched(function(_batched(tensor, level), num_classes), level.number)


def leading_dims(function: Callable[..., Any], level: Level, input: Tensor, *args: Any,
                 **kwargs: Any) -> Any:
    """A function of the trailing dims that treats every leading dim alike (circular
    padding): the examples are one more leading dim."""
    return make_batched(function(_batched(input, level), *args, **kwargs), level.number)


def _is_batched(item: Any, level: Level) -> bool:
    return isinstance(item, Tensor) and unwrap(item, level.number)[1]


def searchsorted(function: Callable[..., Any], level: Level, sorted_sequence: Tensor,
                 input: Any, **kwargs: Any) -> Any:
    """A shared 1-d sequence: elementwise in the values. A sequence per example: each
    example's values as one row against its row of the sequence (an n-d sequence's leading
    dims already match the values')."""
    sorter = kwargs.get("sorter")
    if not isinstance(input, Tensor):  # one number against each example's sequence
        from .dispatch import looped

        return looped("searchsorted", function, (sorted_sequence, input), kwargs, level)
    values = _batched(input, level)
    if not _is_batched(sorted_sequence, level) and not _is_batched(sorter, level) \
            and sorted_sequence.dim() == 1:
        return make_batched(function(sorted_sequence, values, **kwargs), level.number)
    sequence = _batched(sorted_sequence, level)
    options = dict(kwargs)
    if sorter is not None:
        options["sorter"] = _batched(sorter, level)
    if sorted_sequence.dim() == 1:  # each example's values as one row
        out = function(sequence, values.reshape((level.batch_size, -1)), **options)
        return make_batched(out.reshape(tuple(values.shape)), level.number)
    return make_batched(function(sequence, values, **options), level.number)


def bucketize(function: Callable[..., Any], level: Level, input: Any, boundaries: Tensor,
              **kwargs: Any) -> Any:
    """Elementwise in the values against shared boundaries; boundaries per example are
    searchsorted's rows."""
    from ..ops.searching import searchsorted as search

    return search(boundaries, input, **kwargs)


def isin(function: Callable[..., Any], level: Level, elements: Any, test_elements: Any,
         **kwargs: Any) -> Any:
    """Elementwise in `elements` against a shared set; a set per example is compared with
    each of its example's elements."""
    if _is_batched(test_elements, level) or not isinstance(elements, Tensor):
        return _isin_each_set(level, elements, test_elements, **kwargs)
    return make_batched(function(_batched(elements, level), test_elements, **kwargs),
                        level.number)


# ----------------------------------------------------------------------------- linear algebra
def _logical_check(function: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any], rank: int) -> None:
    """An operand with fewer dims than a matrix fails as one example's call does (its checks
    raise before any value is read)."""
    if args[0].dim() < rank:
        function.__wrapped__(*args, **kwargs)  # type: ignore[attr-defined]


def _result(out: Any, parts: list[Any]) -> Any:
    try:
        return type(out)(*parts)
    except TypeError:  # autodiff.return_types: made from one sequence, as PyTorch's
        return type(out)(parts)


def factorization_ex(function: Callable[..., Any], level: Level, A: Tensor, *args: Any,
                     **kwargs: Any) -> Any:
    """cholesky_ex, inv_ex and solve_ex: one call on the examples' matrices (the functions
    take any batch dims; with check_errors a failure names its batch element, as PyTorch's
    check of the batched infos does). Where an example's factorization failed unchecked, the
    functions give it another result (a partial factor or NaNs, carrying no gradient) than
    the others: that data-dependent choice is made one example at a time, as the loop."""
    from .dispatch import all_examples, looped

    _logical_check(function, (A, *args), kwargs, 2)
    operands = _solve_operands(level, A, args[0]) if args else [_batched(A, level)]
    out = function(*operands, **kwargs)
    if not bool((all_examples(out[1]) == 0).all()):
        return looped(function.__name__, function, (A, *args), kwargs, level)
    return _result(out, [make_batched(part, level.number) for part in out])


def _solve_operands(level: Level, A: Tensor, B: Tensor) -> list[Any]:
    """solve's A and B with the examples in front, B still read as linalg.solve reads the
    example's (a vector when 1-D or of A's shape minus its last dim)."""
    from .linalg_rules import stacked_operands
    from .rules import _pad

    a_shape, b_shape = tuple(A.shape), tuple(B.shape)
    if len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and b_shape == a_shape[:-1]):
        b_value, batched = unwrap(B, level.number)
        b_value = _pad(b_value if batched else b_value.unsqueeze(0), len(a_shape) - 1)
        return [_batched(A, level), b_value.expand((level.batch_size, *a_shape[:-1]))]
    return stacked_operands((A, B), (2, 2), level)


def matrix_rank(function: Callable[..., Any], level: Level, A: Tensor, tol: Any = None,
                hermitian: bool = False, *, atol: Any = None, rtol: Any = None) -> Any:
    """One call on the examples' matrices; a tolerance given per example lines up with their
    batch dims."""
    from .rules import _pad

    _logical_check(function, (A, tol, hermitian), {"atol": atol, "rtol": rtol}, 2)
    rank = A.dim() - 2

    def tolerance(value: Any) -> Any:
        if _is_batched(value, level):
            return _pad(unwrap(value, level.number)[0], rank)
        return value

    out = function(_batched(A, level), tolerance(tol), hermitian, atol=tolerance(atol),
                   rtol=tolerance(rtol))
    return make_batched(out, level.number)


def vander(function: Callable[..., Any], level: Level, x: Tensor, N: int | None = None,
           increasing: bool = False) -> Any:
    """Each example's vector gives its rows (its columns joined, not written in place)."""
    from ..ops.matrix_functions import vander_rows

    if x.dim() != 1 or (N is not None and N < 0):
        return function.__wrapped__(x, N, increasing)  # type: ignore[attr-defined]
    return make_batched(vander_rows(_batched(x, level), N, increasing, in_place=False),
                        level.number)


# ----------------------------------------------------------------------------- strides
def as_strided(function: Callable[..., Any], level: Level, input: Tensor, size: Any,
               stride: Any, storage_offset: int | None = None) -> Any:
    """PyTorch's rule: each example's view of its own memory, the examples one more dim in
    front whose stride is the batch dim's; an explicit storage offset counts from each
    example's start (as the op on each example on its own would). A view that would reach
    memory outside the example's is refused, in PyTorch's words."""
    value = _batched(input, level)
    if isinstance(value, BatchedTensor):  # batched again below: no strides to read
        from .dispatch import looped

        return looped("as_strided", function, (input, size, stride, storage_offset), {},
                      level)
    from ..ops.shape import shape_arg
    from ..ops.strides import AsStridedView, as_strided_view

    size, stride = shape_arg((size,)), shape_arg((stride,))
    if len(size) != len(stride):
        raise RuntimeError("Tensor.as_strided(size, stride, ...): size and stride must have the "
                           f"same length! Got size {list(size)} and stride {list(stride)}")
    offset = value.storage_offset() if storage_offset is None else storage_offset
    _check_within_example(value, size, stride, offset)
    # examples=1: the view's tangent is taken per example (AsStridedView.jvp)
    out = as_strided_view(value, (level.batch_size, *size), (value.stride(0), *stride), offset,
                          AsStridedView, examples=1)
    return make_batched(out, level.number)


def _check_within_example(value: Tensor, size: tuple[int, ...], stride: tuple[int, ...],
                          offset: int) -> None:
    """PyTorch's check that a view of one example reaches only memory the example reaches
    (the highest position of each counted as storage_size_for plus the offset, as there)."""
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        return  # the view itself refuses these, in its words
    base = value.storage_offset()
    reach = _storage_size_for(size, stride)
    if not reach:
        return
    call = f"result = tensor.as_strided({list(size)}, {list(stride)}, {offset}) "
    example_reach = _storage_size_for(tuple(value.shape[1:]), value.stride()[1:])
    if not example_reach:
        raise RuntimeError(
            call + "can access memory outside of `tensor`. `tensor` has no storage but the "
            "passed-in (size, stride, storage_offset) imply a result with some storage. This "
            "is not supported inside of vmap, please try to rewrite the `as_strided` call as a "
            "sequence of PyTorch view operations")
    if reach + offset > example_reach + base or base > offset:
        raise RuntimeError(
            call + "can access memory outside of `tensor`. `result` can access some memory in "
            f"range [{offset}, {reach + offset}], but `tensor` can only access some memory in "
            f"range [{base}, {example_reach + base}]. This is not supported inside of vmap, "
            "please try to rewrite the `as_strided` call as a sequence of PyTorch view "
            "operations")


def _storage_size_for(size: tuple[int, ...], stride: tuple[int, ...]) -> int:
    if 0 in size:
        return 0
    return 1 + sum((n - 1) * s for n, s in zip(size, stride))


def fill_diagonal_(function: Callable[..., Any], level: Level, input: Tensor,
                   fill_value: Any, wrap: bool = False) -> Any:
    """The diagonal's positions in one example as a mask every example shares: one
    masked_fill_ of the examples' tensor."""
    from ..ops.diagonal import diagonal_positions

    value, batched = unwrap(input, level.number)
    if not batched:  # a value per example into a tensor they share: PyTorch's error
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                           f"broadcast shape {[level.batch_size, *input.shape]}")
    shape = tuple(input.shape)
    count, step = diagonal_positions(shape, wrap)
    backend = value._backend
    flat = backend.zeros((math.prod(shape),), "bool")
    if count:
        backend.setitem(flat, (backend.multiply(backend.arange(0, count, 1, "int64"), step),),
                        True)
    value.masked_fill_(_wrap(backend.reshape(flat, shape), backend), fill_value)
    return input


def _isin_each_set(level: Level, elements: Any, test_elements: Tensor, *,
                   assume_unique: bool = False,
                   invert: bool = False) -> Any:
    """A set per example: each element compared with every member of its example's set."""
    for item in (elements, test_elements):
        if isinstance(item, bool) or (isinstance(item, Tensor) and item.dtype.name == "bool"):
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    size = level.batch_size
    members = _batched(test_elements, level).reshape((size, 1, -1))
    if isinstance(elements, Tensor):
        shape = tuple(elements.shape)
        values = _batched(elements, level).reshape((size, -1, 1))
        found = (values == members).any(-1).reshape((size, *shape))
    else:
        found = (members == elements).any(-1).reshape((size,))
    return make_batched(found.logical_not() if invert else found, level.number)


# ----------------------------------------------------------------------------- embedding_bag
def bag_details(function: Callable[..., Any], level: Level, weight: Tensor, indices: Tensor,
                offsets: Tensor, *args: Any) -> Any:
    """A weight per example (the bags shared): the function's own ops batch, the winners of
    max picked per example. Indices or offsets per example make bags of their own: one
    example at a time."""
    if _is_batched(indices, level) or _is_batched(offsets, level):
        from .dispatch import looped

        return looped("bag_details", function, (weight, indices, offsets, *args), {}, level)
    return function.__wrapped__(weight, indices, offsets, *args)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- histograms
def histc(function: Callable[..., Any], level: Level, input: Tensor, bins: int = 100,
          min: float = 0, max: float = 0) -> Any:
    """Each example's elements one row: one count of all the rows, each over its own range
    (the data's, when min and max are equal)."""
    from ..ops.histogram import check_histc, histc_rows

    check_histc(input, bins)
    value = _batched(input, level)
    if isinstance(value, BatchedTensor):  # batched again below
        from .dispatch import looped

        return looped("histc", function, (input, bins, min, max), {}, level)
    backend = value._backend
    rows = backend.reshape(value._data, (level.batch_size, -1))
    return make_batched(_wrap(histc_rows(backend, rows, bins, min, max), backend),
                        level.number)


RULES: dict[str, Callable[..., Any]] = {
    "quantile": quantile, "one_hot": one_hot, "leading_dims": leading_dims,
    "searchsorted": searchsorted, "bucketize": bucketize, "isin": isin,
    "factorization_ex": factorization_ex, "matrix_rank": matrix_rank, "vander": vander,
    "as_strided": as_strided, "fill_diagonal_": fill_diagonal_, "bag_details": bag_details,
    "histc": histc,
}
