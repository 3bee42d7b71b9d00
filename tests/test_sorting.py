"""Sorting, order statistics, unique values, searching, histograms, cumulative extremes and the
flat-index ops: special inputs (NaN, ties, empty and 0-d tensors), errors, and PyTorch parity
on every device (the parity tests skip without torch; the op table holds the random cases)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import compare_outputs, same_error

NAN = float("nan")


def _tensor(values: Any, device: str, **kwargs: Any) -> autodiff.Tensor:
    return autodiff.tensor(values, device=device, **kwargs)


def _values(tensor: autodiff.Tensor) -> list[Any]:
    return tensor.tolist()


# ----------------------------------------------------------------------------- literal cases
def test_sort_orders_nan_last_and_first_when_descending(device: str) -> None:
    x = _tensor([3.0, NAN, 1.0, 3.0, NAN, -0.0, 0.0, 1.0], device)
    ascending = autodiff.sort(x)
    assert ascending.indices.tolist() == [5, 6, 2, 7, 0, 3, 1, 4]
    descending = x.sort(descending=True)
    assert descending.indices.tolist() == [1, 4, 0, 3, 2, 7, 5, 6]
    assert np.isnan(descending.values.tolist()[:2]).all()


def test_sort_is_stable_for_ties_in_both_directions(device: str) -> None:
    x = _tensor([[2, 1, 2, 1, 2]], device)
    assert x.sort(1).indices.tolist() == [[1, 3, 0, 2, 4]]
    assert x.sort(1, descending=True).indices.tolist() == [[0, 2, 4, 1, 3]]
    assert autodiff.argsort(x, 1, descending=True).tolist() == [[0, 2, 4, 1, 3]]


def test_sort_of_bools_and_of_a_0d_tensor(device: str) -> None:
    result = _tensor([True, False, True], device).sort()
    assert result.values.tolist() == [False, True, True]
    assert result.indices.tolist() == [1, 0, 2]
    scalar = _tensor(2.5, device).sort()
    assert scalar.values.item() == 2.5 and scalar.indices.item() == 0


def test_sort_gradient_goes_back_to_the_sorted_positions(device: str) -> None:
    x = _tensor([3.0, 1.0, 2.0], device, requires_grad=True)
    values = x.sort().values
    assert values.grad_fn.name() == "SortBackward0"
    (values * _tensor([1.0, 10.0, 100.0], device)).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_topk_nan_is_largest_and_indices_name_the_values(device: str) -> None:
    x = _tensor([1.0, NAN, 2.0, 2.0, -1.0], device)
    top = x.topk(2)
    assert np.isnan(top.values.tolist()[0]) and top.values.tolist()[1] == 2.0
    assert top.indices.tolist()[0] == 1 and top.indices.tolist()[1] in (2, 3)  # a tie
    low = autodiff.topk(x, 2, largest=False)
    assert low.values.tolist() == [-1.0, 1.0] and low.indices.tolist() == [4, 0]


def test_median_is_the_lower_median_and_nan_wins(device: str) -> None:
    x = _tensor([[2.0, 1.0, 2.0, 2.0, 1.0], [1.0, NAN, 3.0, NAN, 0.0]], device)
    result = x.median(1)
    assert result.values.tolist()[0] == 2.0 and np.isnan(result.values.tolist()[1])
    assert result.indices.tolist() == [0, 1]  # ties by position; the first NaN
    assert _tensor([1.0, 4.0, 2.0, 3.0], device).median().item() == 2.0
    assert np.isnan(_tensor([], device).median().item())


def test_nanmedian_ignores_nan(device: str) -> None:
    x = _tensor([[1.0, NAN, 3.0, NAN, 0.0], [NAN, NAN, NAN, NAN, NAN]], device)
    result = x.nanmedian(1)
    assert result.values.tolist()[0] == 1.0 and result.indices.tolist()[0] == 0
    assert np.isnan(result.values.tolist()[1])
    assert result.indices.tolist()[1] == 0  # PyTorch's nth_element may name another NaN
    assert x[0].nanmedian().item() == 1.0


def test_median_of_all_spreads_the_gradient_over_ties(device: str) -> None:
    x = _tensor([2.0, 1.0, 2.0, 3.0], device, requires_grad=True)
    x.median().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5, 0.0]


def test_mode_takes_the_smallest_most_frequent_value_and_its_last_index(device: str) -> None:
    result = _tensor([3.0, 1.0, 2.0, 1.0, 3.0, 0.0], device).mode()
    assert result.values.item() == 1.0 and result.indices.item() == 3
    rows = _tensor([[1.0, 2.0, 2.0, 1.0, 5.0], [NAN, NAN, 1.0, 1.0, NAN]], device).mode(1)
    assert rows.values.tolist() == [1.0, 1.0] and rows.indices.tolist() == [3, 3]


def test_kthvalue_counts_nan_as_largest(device: str) -> None:
    x = _tensor([2.0, 1.0, NAN, 0.5], device)
    assert x.kthvalue(1).values.item() == 0.5
    assert np.isnan(x.kthvalue(4).values.item()) and x.kthvalue(4).indices.item() == 2


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_numpy(method: str, device: str) -> None:
    data = np.random.default_rng(0).standard_normal((4, 7))
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    ours = autodiff.quantile(_tensor(data, device), _tensor(q, device), dim=1, keepdim=True,
                             interpolation=method)
    expected = np.quantile(data, q, axis=1, keepdims=True, method=method)
    np.testing.assert_allclose(np.array(ours.tolist()), expected, rtol=1e-12)


def test_quantile_with_nan_and_nanquantile(device: str) -> None:
    x = _tensor([[1.0, 2.0, 3.0], [4.0, NAN, 6.0]], device)
    assert np.isnan(x.quantile(0.5, 1).tolist()[1])
    assert x.nanquantile(0.5, 1).tolist() == [2.0, 5.0]
    assert np.isnan(autodiff.nanquantile(_tensor([NAN, NAN], device), 0.3).item())


def test_unique_keeps_every_nan_and_sorts(device: str) -> None:
    values, inverse, counts = autodiff.unique(_tensor([2.0, NAN, 1.0, NAN, 2.0], device),
                                              return_inverse=True, return_counts=True)
    assert values.tolist()[:2] == [1.0, 2.0] and np.isnan(values.tolist()[2:]).all()
    assert inverse.tolist() == [1, 2, 0, 3, 1] and counts.tolist() == [1, 2, 1, 1]


def test_unique_dim_and_unique_consecutive(device: str) -> None:
    x = _tensor([[1, 2], [1, 2], [0, 5], [1, 2]], device)
    values, inverse, counts = x.unique(dim=0, return_inverse=True, return_counts=True)
    assert values.tolist() == [[0, 5], [1, 2]]
    assert inverse.tolist() == [1, 1, 0, 1] and counts.tolist() == [1, 3]
    runs, run_inverse, lengths = x.unique_consecutive(return_inverse=True,
                                                      return_counts=True, dim=0)
    assert runs.tolist() == [[1, 2], [0, 5], [1, 2]]
    assert run_inverse.tolist() == [0, 0, 1, 2] and lengths.tolist() == [2, 1, 1]
    assert _tensor(3.0, device).unique().tolist() == [3.0]


def test_unique_has_no_derivative(device: str) -> None:
    x = _tensor([1.0, 2.0, 2.0], device, requires_grad=True)
    values = x.unique()
    assert values.grad_fn.name() == "Unique2Backward0"
    with pytest.raises(NotImplementedError, match="the derivative for '_unique2' is not"):
        values.sum().backward()


def test_nonzero_of_0d_tensors_and_as_tuple(device: str) -> None:
    assert autodiff.nonzero(_tensor(5.0, device)).shape == (1, 0)
    assert autodiff.nonzero(_tensor(0.0, device)).shape == (0, 0)
    assert [t.tolist() for t in _tensor(5.0, device).nonzero(as_tuple=True)] == [[0]]
    rows, cols = _tensor([[0, 3], [4, 0]], device).nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert autodiff.count_nonzero(_tensor([[True, False], [True, True]], device), 0).tolist() \
        == [2, 1]


def test_nonzero_static_pads_and_truncates(device: str) -> None:
    x = _tensor([[1, 0], [3, 2]], device)
    assert autodiff.nonzero_static(x, size=4).tolist() == [[0, 0], [1, 0], [1, 1], [-1, -1]]
    assert x.nonzero_static(size=3, fill_value=7).tolist() == [[0, 0], [1, 0], [1, 1]]
    assert autodiff.nonzero_static(x, size=2).tolist() == [[0, 0], [1, 0]]
    assert autodiff.nonzero_static(_tensor([10], device), size=0).shape == (0, 1)
    assert autodiff.nonzero_static(_tensor(10, device), size=2).shape == (2, 0)
    assert autodiff.nonzero_static(x, size=1).dtype is autodiff.int64
    with pytest.raises(RuntimeError, match=r"^nonzero_static: 'size' must be an non-negative "
                                           r"integer$"):
        autodiff.nonzero_static(x, size=-1)
    with pytest.raises(TypeError, match=r"^nonzero_static\(\) missing 1 required positional "
                                        r'arguments: "size"$'):
        autodiff.nonzero_static(x)


def test_searchsorted_compares_as_pytorch_with_nan(device: str) -> None:
    sequence = _tensor([1.0, 2.0, 2.0, NAN], device)
    values = _tensor([NAN, 2.0, 0.0, 3.0], device)
    assert autodiff.searchsorted(sequence, values).tolist() == [4, 1, 0, 4]
    assert autodiff.searchsorted(sequence, values, right=True).tolist() == [4, 4, 0, 4]
    assert autodiff.searchsorted(sequence, 2, side="right").item() == 4  # the NaN is never passed
    assert autodiff.bucketize(_tensor([[3.5, 1.0]], device), sequence[:3],
                              out_int32=True).dtype is autodiff.int32


def test_cummax_ties_and_nan_take_the_later_index(device: str) -> None:
    result = _tensor([1.0, 3.0, 3.0, NAN, 2.0, NAN], device).cummax(0)
    assert result.indices.tolist() == [0, 1, 2, 3, 3, 5]
    minimum = autodiff.cummin(_tensor([[2, 1, 1, 3]], device), 1)
    assert minimum.values.tolist() == [[2, 1, 1, 1]] and minimum.indices.tolist() == [[0, 1, 2, 2]]


def test_cummax_gradient_accumulates_on_repeated_indices(device: str) -> None:
    x = _tensor([3.0, 1.0, 2.0], device, requires_grad=True)
    x.cummax(0).values.sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 0.0]


def test_logcumsumexp_does_not_overflow(device: str) -> None:
    x = _tensor([1000.0, 1000.0, -float("inf")], device, dtype=autodiff.float64,
                requires_grad=True)
    out = x.logcumsumexp(0)
    np.testing.assert_allclose(out.tolist(), [1000.0, 1000.0 + np.log(2), 1000.0 + np.log(2)])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.tolist(), [2.0, 1.0, 0.0])


def test_aminmax_propagates_nan_and_shares_gradients(device: str) -> None:
    low, high = autodiff.aminmax(_tensor([1.0, NAN, 3.0], device))
    assert np.isnan(low.item()) and np.isnan(high.item())
    x = _tensor([[1.0, 2.0, 2.0], [3.0, 3.0, 0.0]], device, requires_grad=True)
    low, high = x.aminmax(dim=1)
    (low * 2 + high * 3).sum().backward()
    assert x.grad.tolist() == [[2.0, 1.5, 1.5], [1.5, 1.5, 2.0]]


def test_histc_bins_by_arithmetic_and_range_from_data(device: str) -> None:
    x = _tensor([1.0, 2.0, 1.0, 4.0], device)
    assert autodiff.histc(x, bins=4).tolist() == [2.0, 1.0, 0.0, 1.0]
    assert x.histc(bins=3, min=1, max=1).tolist() == [2.0, 1.0, 1.0]
    assert autodiff.histc(_tensor([], device), bins=3).tolist() == [0.0, 0.0, 0.0]


def test_histogram_returns_edges_and_density(device: str) -> None:
    hist, edges = autodiff.histogram(_tensor([1.0, 2.0, 5.0], device), bins=2,
                                     range=(0.0, 4.0), weight=_tensor([1.0, 2.0, 3.0], device),
                                     density=True)
    np.testing.assert_allclose(hist.tolist(), [1 / 6, 1 / 3])
    assert edges.tolist() == [0.0, 2.0, 4.0]
    assert autodiff.histogram(_tensor([], device), bins=2).bin_edges.tolist() == [0.0, 0.5, 1.0]


def test_histogramdd_with_edge_tensors(device: str) -> None:
    points = _tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], device)
    result = autodiff.histogramdd(points, bins=[_tensor([0.0, 1.0, 3.0], device),
                                                _tensor([0.0, 2.0], device)])
    assert result.hist.tolist() == [[1.0], [2.0]]
    assert [edge.tolist() for edge in result.bin_edges] == [[0.0, 1.0, 3.0], [0.0, 2.0]]


def test_bincount_dtypes(device: str) -> None:
    index = _tensor([0, 1, 1], device)
    assert autodiff.bincount(index, minlength=4).tolist() == [1, 2, 0, 0]
    assert index.bincount(_tensor([1, 2, 3], device)).dtype is autodiff.float64
    weights = _tensor([0.5, 1.0, 1.0], device, dtype=autodiff.float32)
    assert autodiff.bincount(index, weights).dtype is autodiff.float32


def test_take_put_and_masks_address_the_flattened_tensor(device: str) -> None:
    x = _tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], device)
    assert autodiff.take(x, _tensor([[0, -1]], device)).tolist() == [[0.0, 5.0]]
    put = x.put(_tensor([0, 4], device), _tensor([9.0, 8.0], device))
    assert put.tolist() == [[9.0, 1.0, 2.0], [3.0, 8.0, 5.0]]
    added = x.put(_tensor([1, 1], device), _tensor([1.0, 1.0], device), accumulate=True)
    assert added.tolist()[0] == [0.0, 3.0, 2.0]
    mask = _tensor([True, False, True], device)
    assert x.masked_select(mask).tolist() == [0.0, 2.0, 3.0, 5.0]
    scattered = x.masked_scatter(mask, _tensor([9.0, 8.0, 7.0, 6.0, 5.0], device))
    assert scattered.tolist() == [[9.0, 1.0, 8.0], [7.0, 4.0, 6.0]]
    y = x.clone()
    assert y.masked_scatter_(mask, _tensor([1.0, 1.0, 1.0, 1.0], device)) is y
    assert y.tolist() == [[1.0, 1.0, 1.0], [1.0, 4.0, 1.0]]


def test_unravel_index(device: str) -> None:
    rows, cols = autodiff.unravel_index(_tensor([4, 1, -1], device), (2, 3))
    assert rows.tolist() == [1, 0, 1] and cols.tolist() == [1, 1, 2]
    assert autodiff.unravel_index(_tensor([1], device), ()) == ()


# ----------------------------------------------------------------------------- errors
ERRORS: dict[str, Any] = {
    "topk_k": lambda L: L.topk(L.tensor([1.0, 2.0]), 3),
    "topk_bool": lambda L: L.topk(L.tensor([True, False]), 1),
    "kthvalue_k": lambda L: L.kthvalue(L.tensor([1.0, 2.0]), 3),
    "kthvalue_bool": lambda L: L.kthvalue(L.tensor([True]), 1),
    "kthvalue_empty_dim": lambda L: L.kthvalue(L.zeros(1, 0), 1),
    "median_empty_dim": lambda L: L.median(L.zeros(2, 0), 1),
    "median_bool": lambda L: L.median(L.tensor([True, False])),
    "mode_empty_dim": lambda L: L.mode(L.zeros(2, 0), 1),
    "quantile_int": lambda L: L.quantile(L.tensor([1, 2]), 0.5),
    "quantile_q_range": lambda L: L.quantile(L.tensor([1.0]), 1.5),
    "quantile_q_tensor_range": lambda L: L.quantile(L.tensor([1.0]), L.tensor([1.5])),
    "quantile_q_2d": lambda L: L.quantile(L.tensor([1.0]), L.tensor([[0.5]])),
    "quantile_q_dtype": lambda L: L.quantile(L.tensor([1.0]), L.tensor([0.5], dtype=L.float64)),
    "quantile_empty": lambda L: L.quantile(L.tensor([]), 0.5),
    "quantile_interpolation": lambda L: L.quantile(L.tensor([1.0]), 0.5, interpolation="foo"),
    "unique_dim_0d": lambda L: L.unique(L.tensor(3.0), dim=0),
    "unique_zero_sized": lambda L: L.unique(L.zeros(0, 2), dim=1),
    "searchsorted_shapes": lambda L: L.searchsorted(L.zeros(2, 3), L.zeros(3, 2)),
    "searchsorted_side": lambda L: L.searchsorted(L.zeros(3), L.zeros(2), side="foo"),
    "searchsorted_opposite": lambda L: L.searchsorted(L.zeros(3), L.zeros(2), side="left",
                                                      right=True),
    "searchsorted_sorter_dtype": lambda L: L.searchsorted(L.zeros(3), L.zeros(2), sorter=L.tensor(
        [0, 1, 2], dtype=L.int32)),
    "searchsorted_sorter_shape": lambda L: L.searchsorted(L.zeros(3), L.zeros(2),
                                                          sorter=L.tensor([0, 1])),
    "searchsorted_sorter_range": lambda L: L.searchsorted(L.zeros(3), L.zeros(2),
                                                          sorter=L.tensor([0, 1, 3])),
    "searchsorted_scalar": lambda L: L.searchsorted(L.zeros(2, 3), 3),
    "searchsorted_0d": lambda L: L.searchsorted(L.tensor(1.0), L.zeros(2)),
    "searchsorted_bool": lambda L: L.searchsorted(L.tensor([True]), L.tensor([True])),
    "bucketize_2d": lambda L: L.bucketize(L.zeros(2), L.zeros(2, 2)),
    "bincount_negative": lambda L: L.bincount(L.tensor([0, -1])),
    "bincount_float": lambda L: L.bincount(L.tensor([0.0])),
    "bincount_weights": lambda L: L.bincount(L.tensor([0, 1]), L.tensor([1.0])),
    "bincount_minlength": lambda L: L.bincount(L.tensor([0]), minlength=-1),
    "histc_int": lambda L: L.histc(L.tensor([1, 2])),
    "histc_bins": lambda L: L.histc(L.tensor([1.0]), bins=0),
    "histc_order": lambda L: L.histc(L.tensor([1.0]), min=3, max=1),
    "histc_inf": lambda L: L.histc(L.tensor([1.0, float("inf")])),
    "histogram_bins_2d": lambda L: L.histogram(L.tensor([1.0]), bins=L.zeros(1, 3)),
    "histogram_weight": lambda L: L.histogram(L.tensor([1.0, 2.0]), 2, weight=L.tensor([1.0])),
    "histogram_range": lambda L: L.histogram(L.tensor([1.0]), 2, range=(3.0, 1.0)),
    "histogram_int": lambda L: L.histogram(L.tensor([1, 2]), 2),
    "histogramdd_1d": lambda L: L.histogramdd(L.tensor([0.0, 1.0]), bins=[2]),
    "histogramdd_nan_range": lambda L: L.histogramdd(L.tensor([[NAN]]), bins=[2]),
    "take_int32": lambda L: L.take(L.zeros(3), L.tensor([0], dtype=L.int32)),
    "take_range": lambda L: L.take(L.zeros(2, 3), L.tensor([6])),
    "put_count": lambda L: L.zeros(3).put(L.tensor([0, 1]), L.zeros(3)),
    "put_dtype": lambda L: L.zeros(3).put(L.tensor([0]), L.zeros(1, dtype=L.float64)),
    "put_range": lambda L: L.zeros(3).put(L.tensor([-4]), L.zeros(1)),
    "masked_select_mask": lambda L: L.masked_select(L.zeros(3), L.tensor([1, 0, 1])),
    "masked_select_shape": lambda L: L.masked_select(L.zeros(2, 3), L.tensor([[True], [False],
                                                                             [True]])),
    "masked_scatter_short": lambda L: L.masked_scatter(L.zeros(2, 3), L.ones(2, 3).bool(),
                                                       L.zeros(5)),
    "masked_scatter_mask": lambda L: L.masked_scatter(L.zeros(3), L.ones(3).long(), L.zeros(5)),
    "masked_scatter_dtype": lambda L: L.masked_scatter(L.zeros(3), L.ones(3).bool(),
                                                       L.zeros(5, dtype=L.float64)),
    "unravel_index_float": lambda L: L.unravel_index(L.tensor([1.0]), (2, 3)),
    "unravel_index_negative_shape": lambda L: L.unravel_index(L.tensor([1]), (2, -3)),
    "logcumsumexp_int": lambda L: L.logcumsumexp(L.tensor([1, 2]), 0),
    "aminmax_empty": lambda L: L.aminmax(L.tensor([])),
    "aminmax_empty_dim": lambda L: L.aminmax(L.zeros(2, 0), dim=1),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: ERRORS[name](autodiff), lambda: ERRORS[name](torch))


def test_errors_leave_the_input_untouched(device: str) -> None:
    x = _tensor([1.0, 2.0, 3.0], device)
    with pytest.raises(RuntimeError, match="Number of elements of source"):
        x.masked_scatter_(_tensor([True, True, True], device), _tensor([1.0], device))
    with pytest.raises(IndexError, match="out of range"):
        x.put_(_tensor([5], device), _tensor([0.0], device))
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version == 0


# ----------------------------------------------------------------------------- PyTorch parity
def _draw(shape: tuple[int, ...], seed: int = 0, ties: bool = False) -> np.ndarray:
    values = np.random.default_rng(seed).standard_normal(shape)
    return np.round(values * 2) / 2 if ties else values


_X = _draw((3, 5))
_TIES = _draw((4, 6), 1, ties=True)
_NANS = _draw((3, 5), 2)
_NANS[0, 1] = _NANS[1, 3] = _NANS[1, 4] = NAN
_INDEX = np.array([[0, 2, 1, 0, 2], [1, 1, 0, 2, 0]])

# name -> (function of (library, *inputs), inputs)
PARITY: dict[str, tuple[Any, list[np.ndarray]]] = {
    "sort": (lambda L, x: L.sort(x, dim=1, stable=True), [_TIES]),
    "sort_descending": (lambda L, x: x.sort(dim=0, descending=True, stable=True), [_TIES]),
    "sort_nan": (lambda L, x: x.sort(dim=1, stable=True), [_NANS]),
    "argsort": (lambda L, x: L.argsort(x, dim=0, stable=True), [_TIES]),
    "msort": (lambda L, x: L.msort(x), [_X]),
    "topk": (lambda L, x: x.topk(3, 1), [_X]),
    "topk_smallest": (lambda L, x: L.topk(x, 2, 0, largest=False), [_X]),
    "kthvalue": (lambda L, x: x.kthvalue(2, 1, keepdim=True), [_X]),
    "median": (lambda L, x: x.median(), [_TIES]),
    "median_dim": (lambda L, x: L.median(x, 0), [_TIES]),
    "median_nan": (lambda L, x: x.median(1), [_NANS]),
    "nanmedian": (lambda L, x: x.nanmedian(1), [_NANS]),
    "nanmedian_all": (lambda L, x: x.nanmedian(), [_NANS]),
    "mode": (lambda L, x: x.mode(1), [_TIES]),
    "quantile": (lambda L, x, q: L.quantile(x, q, 1), [_X, np.array([0.1, 0.5, 1.0])]),
    "quantile_lower": (lambda L, x: x.quantile(0.3, interpolation="lower"), [_X]),
    "quantile_nearest": (lambda L, x: x.quantile(0.4, 0, True, interpolation="nearest"), [_X]),
    "quantile_midpoint": (lambda L, x: x.quantile(0.4, 1, interpolation="midpoint"), [_TIES]),
    "quantile_higher_nan": (lambda L, x: x.quantile(0.7, 1, interpolation="higher"), [_NANS]),
    "nanquantile": (lambda L, x: L.nanquantile(x, 0.25, 1), [_NANS]),
    "unique": (lambda L, x: L.unique(x, return_inverse=True, return_counts=True), [_TIES]),
    "unique_dim": (lambda L, x: x.unique(dim=1, return_inverse=True), [np.round(_X)]),
    "unique_consecutive": (lambda L, x: L.unique_consecutive(x, return_counts=True), [_TIES]),
    "nonzero": (lambda L, x: L.nonzero(x), [np.round(_X)]),
    "argwhere": (lambda L, x: x.argwhere(), [np.round(_X)]),
    "count_nonzero": (lambda L, x: L.count_nonzero(x, (0, 1)), [np.round(_X)]),
    "searchsorted": (lambda L, s, v: L.searchsorted(s, v, right=True),
                     [np.sort(_TIES[:3], 1), _X[:, :2]]),
    "bucketize": (lambda L, v, s: L.bucketize(v, s), [_X, np.sort(_TIES[0])]),
    "histc": (lambda L, x: L.histc(x, 7), [_X]),
    "histogram": (lambda L, x, w: L.histogram(x, 4, weight=w), [_X, _TIES[:3, :5]]),
    "histogramdd": (lambda L, x: L.histogramdd(x, [3, 2], density=True), [_X[:, :2]]),
    "bincount": (lambda L, i, w: L.bincount(i, w), [_INDEX[0], _X[0]]),
    "cummax": (lambda L, x: L.cummax(x, 1), [_TIES]),
    "cummin_nan": (lambda L, x: x.cummin(1), [_NANS]),
    "logcumsumexp": (lambda L, x: x.logcumsumexp(0), [_X]),
    "aminmax": (lambda L, x: L.aminmax(x, dim=0, keepdim=True), [_TIES]),
    "aminmax_all": (lambda L, x: x.aminmax(), [_TIES]),
    "take": (lambda L, x, i: L.take(x, i), [_X, _INDEX]),
    "put": (lambda L, x, i, s: x.put(i, s, accumulate=True), [_X, _INDEX, _X[:2]]),
    "masked_select": (lambda L, x: x.masked_select(x > 0), [_X]),
    "masked_scatter": (lambda L, x, s: L.masked_scatter(x, x > 0, s), [_X, _TIES]),
    "unravel_index": (lambda L, i: L.unravel_index(i, (4, 5)), [_INDEX * 7]),
}


# Their backward raises (no derivative), as PyTorch's does: values and nodes only.
NO_DERIVATIVE = {"unique", "unique_dim", "unique_consecutive", "histogram", "histogramdd",
                 "bincount"}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_matches_pytorch(name: str, device: str) -> None:
    torch = pytest.importorskip("torch")
    function, inputs = PARITY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare_outputs(torch, lambda *t: function(autodiff, *t),
                        lambda *t: function(torch, *t), inputs, device=device,
                        backward=name not in NO_DERIVATIVE)
