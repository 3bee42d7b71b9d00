"""Shape and indexing ops beyond views: splitting and stacking by dims, grids and
combinations, rotations and flips, repeat_interleave, unfold, diagonals in and out, the writes
through views (select/slice/diagonal_scatter), index_copy/index_fill/scatter_reduce/
index_reduce, creation (linspace, logspace, tril/triu_indices) and Tensor metadata (new_*,
type, nbytes, itemsize, data_ptr): literal cases, errors and PyTorch parity on every device
(the parity and error tests skip without torch; the op table holds the random cases)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import compare_outputs, same_error


def _tensor(values: Any, device: str, **kwargs: Any) -> autodiff.Tensor:
    return autodiff.tensor(values, device=device, **kwargs)


# ----------------------------------------------------------------------------- literal cases
def test_permute_order_by_keyword(device: str) -> None:
    x = _tensor(np.arange(6.0).reshape(2, 3), device)
    assert x.permute(dims=(1, 0)).tolist() == x.T.tolist()
    assert autodiff.permute(x, dims=[1, 0]).shape == (3, 2)


def test_tensor_split_sections_and_indices(device: str) -> None:
    x = _tensor([0.0, 1.0, 2.0, 3.0, 4.0], device)
    assert [p.tolist() for p in x.tensor_split(3)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert [p.tolist() for p in autodiff.tensor_split(x, (-2, -4))] == [
        [0.0, 1.0, 2.0], [], [1.0, 2.0, 3.0, 4.0]]
    pieces = autodiff.tensor_split(x, _tensor([1, 10], "cpu"))
    assert [p.tolist() for p in pieces] == [[0.0], [1.0, 2.0, 3.0, 4.0], []]
    assert pieces[0]._base is x  # slices of the input, as PyTorch's


def test_stacking_by_dims(device: str) -> None:
    a, b = _tensor([1.0, 2.0], device), _tensor([3.0, 4.0], device)
    assert autodiff.hstack([a, b]).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert autodiff.vstack([a, b]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert autodiff.column_stack([a, b]).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert autodiff.dstack([a, b]).shape == (1, 2, 2)


def test_atleast_returns_the_same_tensor_when_it_has_the_dims(device: str) -> None:
    x = _tensor([[1.0]], device)
    assert autodiff.atleast_2d(x) is x
    assert autodiff.atleast_3d(_tensor([1.0, 2.0], device)).shape == (1, 2, 1)
    assert isinstance(autodiff.atleast_1d((x,)), tuple)


def test_meshgrid_warns_without_indexing_and_swaps_for_xy(device: str) -> None:
    a, b = _tensor([1.0, 2.0, 3.0], device), _tensor([4.0, 5.0], device)
    with pytest.warns(UserWarning, match="it will be required to pass the indexing"):
        ij = autodiff.meshgrid(a, b)
    assert ij[0].shape == (3, 2)
    xy = autodiff.meshgrid([a, b], indexing="xy")
    assert xy[0].shape == (2, 3) and xy[0].tolist()[1] == [1.0, 2.0, 3.0]


def test_broadcast_helpers(device: str) -> None:
    x = _tensor([[1.0], [2.0]], device)
    y = _tensor([1.0, 2.0, 3.0], device)
    first, second = autodiff.broadcast_tensors(x, y)
    assert first.shape == second.shape == (2, 3)
    assert autodiff.broadcast_tensors(x, x)[0] is x
    assert autodiff.broadcast_shapes((2, 1), (3,), 1) == autodiff.Size([2, 3])
    assert repr(autodiff.broadcast_shapes()) == "torch.Size([])"


def test_combinations_and_cartesian_prod(device: str) -> None:
    x = _tensor([1.0, 2.0, 3.0], device)
    assert autodiff.combinations(x).tolist() == [[1.0, 2.0], [1.0, 3.0], [2.0, 3.0]]
    assert autodiff.combinations(x, 2, with_replacement=True).shape == (6, 2)
    assert autodiff.combinations(x, 0).shape == (0,)
    assert autodiff.combinations(x, 4).shape == (0, 4)
    assert autodiff.cartesian_prod(x, x[:2]).shape == (6, 2)
    assert autodiff.cartesian_prod(x) is x


def test_rot90_and_flips(device: str) -> None:
    x = _tensor([[1, 2], [3, 4]], device)
    assert x.rot90().tolist() == [[2, 4], [1, 3]]
    assert autodiff.rot90(x, -1).tolist() == [[3, 1], [4, 2]]
    assert autodiff.rot90(x, 2, [1, 0]).tolist() == [[4, 3], [2, 1]]
    assert x.fliplr().tolist() == [[2, 1], [4, 3]] and x.flipud().tolist() == [[3, 4], [1, 2]]


def test_repeat_interleave(device: str) -> None:
    x = _tensor([[1, 2], [3, 4]], device)
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    counts = _tensor([1, 2], device)
    assert autodiff.repeat_interleave(x, counts, dim=0).tolist() == [[1, 2], [3, 4], [3, 4]]
    assert autodiff.repeat_interleave(counts).tolist() == [0, 1, 1]


def test_unfold_is_a_view_where_the_backend_has_strides(device: str) -> None:
    x = _tensor([1.0, 2.0, 3.0, 4.0, 5.0], device)
    windows = x.unfold(0, 2, 2)
    assert windows.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    if device == "cpu":  # NumPy lays the windows over the input's memory
        windows[0, 0] = 10.0
        assert x.tolist()[0] == 10.0
    x = _tensor([1.0, 2.0, 3.0], device, requires_grad=True)
    x.unfold(0, 2, 1).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 1.0]


def test_overlapping_unfold_views_refuse_in_place_writes() -> None:
    x = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    windows = x.unfold(0, 2, 1)
    with pytest.raises(RuntimeError, match="single memory location"):
        windows.mul_(2)


def test_diagonal_family(device: str) -> None:
    v = _tensor([1.0, 2.0], device)
    assert autodiff.diag(v, 1).tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    m = _tensor([[1.0, 2.0], [3.0, 4.0]], device)
    assert m.diag().tolist() == [1.0, 4.0] and m.diagflat().shape == (4, 4)
    assert autodiff.diag_embed(m).shape == (2, 2, 2)
    scattered = autodiff.diagonal_scatter(m, _tensor([9.0, 9.0], device))
    assert scattered.tolist() == [[9.0, 2.0], [3.0, 9.0]]
    assert autodiff.block_diag(_tensor(1.0, device), v).tolist() == [[1.0, 0.0, 0.0],
                                                                    [0.0, 1.0, 2.0]]
    assert autodiff.block_diag().shape == (1, 0)


def test_writes_through_views_leave_the_input_alone(device: str) -> None:
    x = _tensor([[1.0, 2.0], [3.0, 4.0]], device)
    out = autodiff.select_scatter(x, _tensor([0.0, 0.0], device), 0, 1)
    assert out.tolist() == [[1.0, 2.0], [0.0, 0.0]] and x.tolist()[1] == [3.0, 4.0]
    out = x.slice_scatter(_tensor([[7.0], [8.0]], device), 1, 1)
    assert out.tolist() == [[1.0, 7.0], [3.0, 8.0]]
    assert x.narrow_copy(1, 0, 1)._base is None


def test_index_ops_and_their_in_place_forms(device: str) -> None:
    x = _tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], device)
    index = _tensor([2, 0], device)
    assert x.index_copy(0, index, _tensor([[0.0, 0.0], [9.0, 9.0]], device)).tolist() == [
        [9.0, 9.0], [3.0, 4.0], [0.0, 0.0]]
    assert x.index_fill(1, _tensor([-1], device), 0.5).tolist()[0] == [1.0, 0.5]
    y = x.clone()
    assert y.index_fill_(0, index, 0.0) is y and y.tolist()[1] == [3.0, 4.0]
    reduced = x.scatter_reduce(0, _tensor([[0, 0]], device), _tensor([[10.0, -10.0]], device),
                               "amax", include_self=False)
    assert reduced.tolist()[0] == [10.0, -10.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        means = x.index_reduce(0, _tensor([1, 1], device), _tensor([[1.0, 1.0], [7.0, 7.0]],
                                                                    device), "mean")
    assert means.tolist()[1] == pytest.approx([11 / 3, 4.0])


def test_scatter_reduce_prod_gradient_with_zeros(device: str) -> None:
    x = _tensor([2.0, 3.0], device, requires_grad=True)
    src = _tensor([0.0, 5.0, 0.0], device, requires_grad=True)
    out = x.scatter_reduce(0, _tensor([0, 0, 1], device), src, "prod")
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert src.grad.tolist() == [10.0, 0.0, 3.0]


def test_two_zeros_in_one_product_refuse_double_backward(device: str) -> None:
    x = _tensor([2.0], device, requires_grad=True)
    src = _tensor([0.0, 0.0], device, requires_grad=True)
    out = x.scatter_reduce(0, _tensor([0, 0], device), src, "prod")
    (grad_src,) = autodiff.autograd.grad(out.sum(), src, create_graph=True)
    assert grad_src.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src"):
        grad_src.sum().backward()


def test_unsafe_split_pieces_are_not_tracked_views(device: str) -> None:
    x = _tensor([[1.0, 2.0], [3.0, 4.0]], device) * 1
    first, second = autodiff.unsafe_split(x, 1)
    assert first._base is None and second.grad_fn is None
    first.mul_(2)  # split's views would refuse nothing here either; unsafe ones share no counter
    assert x._version == 0


def test_fill_diagonal_writes_through_a_view_where_there_are_strides() -> None:
    x = autodiff.ones(3, 3, requires_grad=True) * 1
    x.fill_diagonal_(0.0)
    assert x.grad_fn.name() == "torch::autograd::CopySlices"
    assert x.tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        autodiff.zeros(3, 3, 2).fill_diagonal_(1.0)


def test_linspace_logspace_and_triangle_indices(device: str) -> None:
    assert autodiff.linspace(0, 10, 5, dtype=autodiff.int64, device=device).tolist() == [
        0, 2, 5, 7, 10]
    assert autodiff.logspace(0, 2, 3, base=2, device=device).tolist() == [1.0, 2.0, 4.0]
    assert autodiff.linspace(autodiff.tensor(0), autodiff.tensor(1), 3).tolist() == [
        0.0, 0.5, 1.0]
    assert autodiff.tril_indices(3, 3, device=device).tolist() == [[0, 1, 1, 2, 2, 2],
                                                                   [0, 0, 1, 0, 1, 2]]
    assert autodiff.triu_indices(2, 3, 1, device=device).tolist() == [[0, 0, 1], [1, 2, 2]]


def test_tensor_metadata(device: str) -> None:
    x = _tensor([1, 2], device)
    assert x.new_tensor([1.5, 2.7]).tolist() == [1, 2]
    assert x.new_zeros(2, 3).dtype is autodiff.int64 and x.new_zeros(2).device == x.device
    assert x.new_full((2,), 1.5, dtype=autodiff.float32).tolist() == [1.5, 1.5]
    assert x.new_ones(()).shape == () and x.new_empty((3,)).shape == (3,)
    assert x.nbytes == 16 and x.itemsize == 8 and x.element_size() == 8
    assert isinstance(x.data_ptr(), int)
    assert x.type(autodiff.int64) is x
    assert x.type(autodiff.float64).dtype is autodiff.float64
    if device == "cpu":
        assert x.type() == "torch.LongTensor"
        assert x.type("torch.DoubleTensor").dtype is autodiff.float64


def test_data_ptr_of_a_view_is_its_first_element() -> None:
    x = autodiff.arange(6.0)
    assert x[2:].data_ptr() == x.data_ptr() + 2 * x.element_size()


# ----------------------------------------------------------------------------- errors
ERRORS: dict[str, Any] = {
    "tensor_split_0d": lambda L: L.tensor_split(L.tensor(1.0), 2),
    "tensor_split_sections": lambda L: L.tensor_split(L.zeros(3), 0),
    "tensor_split_dtype": lambda L: L.tensor_split(L.zeros(3), L.tensor([1.0])),
    "tensor_split_2d": lambda L: L.tensor_split(L.zeros(3), L.tensor([[1]])),
    "hsplit_divisible": lambda L: L.hsplit(L.zeros(2, 3), 2),
    "vsplit_ndim": lambda L: L.vsplit(L.zeros(3), 2),
    "dsplit_ndim": lambda L: L.dsplit(L.zeros(2, 3), 2),
    "split_with_sizes": lambda L: L.zeros(5).split_with_sizes([2, 2]),
    "hstack_empty": lambda L: L.hstack([]),
    "column_stack_sizes": lambda L: L.column_stack([L.tensor(1.0), L.zeros(2)]),
    "meshgrid_indexing": lambda L: L.meshgrid(L.zeros(2), indexing="foo"),
    "meshgrid_empty": lambda L: L.meshgrid(indexing="ij"),
    "meshgrid_dtype": lambda L: L.meshgrid(L.zeros(2), L.zeros(2).long(), indexing="ij"),
    "broadcast_tensors": lambda L: L.broadcast_tensors(L.zeros(3), L.zeros(2)),
    "broadcast_shapes": lambda L: L.broadcast_shapes((2, 3), (4, 3)),
    "broadcast_shapes_negative": lambda L: L.broadcast_shapes((2, -1)),
    "cartesian_prod_2d": lambda L: L.cartesian_prod(L.zeros(2, 2)),
    "combinations_2d": lambda L: L.combinations(L.zeros(2, 3)),
    "combinations_r": lambda L: L.combinations(L.zeros(3), -1),
    "block_diag_3d": lambda L: L.block_diag(L.zeros(2, 2, 2)),
    "rot90_dims": lambda L: L.rot90(L.zeros(2, 2), 1, [0]),
    "rot90_same": lambda L: L.rot90(L.zeros(2, 2), 1, [0, 0]),
    "rot90_1d": lambda L: L.rot90(L.zeros(2)),
    "fliplr_1d": lambda L: L.fliplr(L.zeros(2)),
    "flipud_0d": lambda L: L.flipud(L.tensor(1.0)),
    "diag_3d": lambda L: L.diag(L.zeros(2, 2, 2)),
    "diag_0d": lambda L: L.diag(L.tensor(1.0)),
    "diag_embed_dims": lambda L: L.diag_embed(L.zeros(2, 3), 0, 1, 1),
    "diagonal_scatter_size": lambda L: L.diagonal_scatter(L.zeros(2, 3), L.zeros(3)),
    "select_scatter_size": lambda L: L.select_scatter(L.zeros(2, 3), L.zeros(3), 1, 0),
    "slice_scatter_size": lambda L: L.slice_scatter(L.zeros(2, 3), L.zeros(2, 3), 1, 1),
    "repeat_interleave_negative": lambda L: L.zeros(3).repeat_interleave(-1),
    "repeat_interleave_size": lambda L: L.zeros(3).repeat_interleave(L.tensor([1, 2]), dim=0),
    "repeat_interleave_counts": lambda L: L.repeat_interleave(L.tensor([1, -2])),
    "repeat_interleave_output_size": lambda L: L.zeros(3).repeat_interleave(2, output_size=5),
    "repeat_interleave_float": lambda L: L.repeat_interleave(L.tensor([1.0])),
    "unfold_size": lambda L: L.zeros(2, 3).unfold(1, 4, 1),
    "unfold_step": lambda L: L.zeros(2, 3).unfold(1, 2, 0),
    "index_copy_range": lambda L: L.zeros(3, 4).index_copy(0, L.tensor([0, 5]), L.ones(2, 4)),
    "index_copy_slices": lambda L: L.zeros(3, 4).index_copy(0, L.tensor([0, 1]), L.ones(2, 3)),
    "index_copy_2d": lambda L: L.zeros(3, 4).index_copy(0, L.tensor([[0]]), L.ones(1, 4)),
    "index_copy_int32": lambda L: L.zeros(3).index_copy(0, L.tensor([0], dtype=L.int32),
                                                       L.ones(1)),
    "index_copy_dtype": lambda L: L.zeros(3).index_copy(0, L.tensor([0]), L.ones(1).double()),
    "index_copy_count": lambda L: L.zeros(3, 2).index_copy(0, L.tensor([0, 1, 2]), L.ones(2, 2)),
    "index_fill_range": lambda L: L.zeros(3).index_fill(0, L.tensor([5]), 1.0),
    "index_fill_value": lambda L: L.zeros(3).index_fill(0, L.tensor([0]), L.ones(2)),
    "index_fill_int32": lambda L: L.zeros(3).index_fill(0, L.tensor([0], dtype=L.int32), 1.0),
    "scatter_reduce_reduce": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([0]), L.ones(1),
                                                                  "foo"),
    "scatter_reduce_dtype": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([0]),
                                                                 L.ones(1).double(), "sum"),
    "scatter_reduce_range": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([3]), L.ones(1),
                                                                 "sum"),
    "index_reduce_sum": lambda L: L.zeros(3).index_reduce(0, L.tensor([0]), L.ones(1), "sum"),
    "index_reduce_shape": lambda L: L.zeros(3, 4).index_reduce(0, L.tensor([0]), L.ones(1, 3),
                                                                "prod"),
    "index_reduce_2d": lambda L: L.zeros(3).index_reduce(0, L.tensor([[0]]), L.ones(1), "prod"),
    "index_reduce_range": lambda L: L.zeros(3).index_reduce(0, L.tensor([3]), L.ones(1),
                                                             "prod"),
    "linspace_steps": lambda L: L.linspace(0, 1, -1),
    "linspace_1d_start": lambda L: L.linspace(L.tensor([0.0]), 1, 3),
    "tril_indices_row": lambda L: L.tril_indices(-1, 2),
    "tril_indices_dtype": lambda L: L.tril_indices(3, 2, dtype=L.float32),
    "new_full_size": lambda L: L.zeros(2).new_full(2, 1.0),
    "type_name": lambda L: L.zeros(2).type("torch.double"),
    "fill_diagonal_dims": lambda L: L.zeros(3, 3, 2).fill_diagonal_(1.0),
    "fill_diagonal_1d": lambda L: L.zeros(3).fill_diagonal_(1.0),
    "unsafe_chunk": lambda L: L.unsafe_chunk(L.zeros(3), 0),
    "permute_dims_twice": lambda L: L.zeros(2, 3).permute(1, dims=(1, 0)),
    "permute_no_order": lambda L: L.zeros(2, 3).permute(order=(1, 0)),
    "permute_unknown_keyword": lambda L: L.permute(L.zeros(2, 3), dims=(1, 0), order=1),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        same_error(lambda: ERRORS[name](autodiff), lambda: ERRORS[name](torch))


# ----------------------------------------------------------------------------- PyTorch parity
_R = np.random.default_rng(0)
_V, _M, _C, _S = (_R.standard_normal((5,)), _R.standard_normal((3, 4)),
                  _R.standard_normal((2, 3, 4)), np.array(1.5))

PARITY: dict[str, tuple[Any, list[np.ndarray]]] = {
    "tensor_split": (lambda L, x: L.tensor_split(x, [1, 3], dim=1), [_M]),
    "tensor_split_sections": (lambda L, x: x.tensor_split(3), [_V]),
    "hsplit": (lambda L, x: L.hsplit(x, 3), [_C]),
    "hsplit_indices": (lambda L, x: x.hsplit([2]), [_M]),
    "vsplit": (lambda L, x: x.vsplit([1]), [_M]),
    "dsplit": (lambda L, x: L.dsplit(x, [1, 3]), [_C]),
    "split_with_sizes": (lambda L, x: x.split_with_sizes([1, 3], 1), [_M]),
    "unsafe_split": (lambda L, x: L.unsafe_split(x, 3, 1), [_M]),
    "unsafe_chunk": (lambda L, x: x.unsafe_chunk(2), [_M]),
    "unsafe_split_with_sizes": (lambda L, x: x.unsafe_split_with_sizes([2, 1]), [_M]),
    "ravel": (lambda L, x: L.ravel(x.transpose(0, 2)), [_C]),
    "fill_diagonal": (lambda L, x: (x * 1).fill_diagonal_(2.0, wrap=True),
                      [_R.standard_normal((7, 2))]),
    "hstack": (lambda L, x, y: L.hstack([x, y]), [_M, _M]),
    "vstack": (lambda L, x, y: L.vstack((x, y)), [_V, _V]),
    "dstack": (lambda L, x, y: L.dstack([x, y]), [_M, _M]),
    "column_stack": (lambda L, x, y: L.column_stack([x, y]), [_M[:, 0], _M]),
    "row_stack": (lambda L, x, y: L.row_stack([x, y]), [_S, _S]),
    "atleast_1d": (lambda L, x, y: L.atleast_1d(x, y), [_S, _V]),
    "atleast_2d": (lambda L, x, y: L.atleast_2d([x, y]), [_S, _V]),
    "atleast_3d": (lambda L, x, y, z: L.atleast_3d(x, y, z), [_S, _V, _M]),
    "meshgrid": (lambda L, x, y, z: L.meshgrid(x, y, z, indexing="xy"), [_V, _V[:3], _S]),
    "broadcast_tensors": (lambda L, x, y, z: L.broadcast_tensors(x, y, z), [_M, _M[:1], _S]),
    "cartesian_prod": (lambda L, x, y: L.cartesian_prod(x, y), [_V, _V[:2]]),
    "combinations": (lambda L, x: L.combinations(x, 3), [_V]),
    "combinations_replacement": (lambda L, x: L.combinations(x, 2, True), [_V]),
    "block_diag": (lambda L, a, b, c: L.block_diag(a, b, c), [_S, _V, _M]),
    "rot90": (lambda L, x: L.rot90(x, 3, [2, 0]), [_C]),
    "fliplr": (lambda L, x: L.fliplr(x), [_C]),
    "flipud": (lambda L, x: x.flipud(), [_V]),
    "diag": (lambda L, x: L.diag(x, 1), [_M]),
    "diag_vector": (lambda L, x: x.diag(-2), [_V]),
    "diagflat": (lambda L, x: L.diagflat(x, 1), [_M]),
    "diag_embed": (lambda L, x: L.diag_embed(x, -1, 2, 0), [_M]),
    "diagonal_scatter": (lambda L, x, s: L.diagonal_scatter(x, s, 1, 2, 0),
                         [_C, _R.standard_normal((3, 1))]),
    "select_scatter": (lambda L, x, s: L.select_scatter(x, s, 1, -1), [_M, _M[:, 0]]),
    "slice_scatter": (lambda L, x, s: x.slice_scatter(s, 1, 1, None, 2), [_M, _M[:, :2]]),
    "narrow_copy": (lambda L, x: x.narrow_copy(2, 1, 2), [_C]),
    "repeat_interleave": (lambda L, x: x.repeat_interleave(2), [_M]),
    "repeat_interleave_dim": (lambda L, x: L.repeat_interleave(x, 3, dim=-1), [_C]),
    "repeat_interleave_counts": (lambda L, x, r: x.repeat_interleave(r, dim=0),
                                 [_M, np.array([2, 0, 1])]),
    "unfold": (lambda L, x: x.unfold(2, 3, 1), [_C]),
    "unfold_step": (lambda L, x: x.unfold(0, 2, 3), [_V]),
    "index_copy": (lambda L, x, i, s: x.index_copy(1, i, s), [_M, np.array([3, 0]), _M[:, :2]]),
    "index_fill": (lambda L, x, i: L.index_fill(x, 0, i, -2.0), [_M, np.array([2])]),
    "index_fill_tensor": (lambda L, x, i, v: x.index_fill(1, i, v), [_M, np.array([1, 3]), _S]),
    "scatter_reduce_mean": (lambda L, x, i, s: x.scatter_reduce(0, i, s, "mean",
                                                                  include_self=False),
                            [_M, np.array([[0, 2, 2, 0], [0, 0, 1, 1]]), _C[0, :2]]),
    "scatter_reduce_amin": (lambda L, x, i, s: L.scatter_reduce(x, 1, i, s, "amin"),
                            [_M, np.array([[0, 0], [3, 3], [1, 2]]), _M[:, :2]]),
    "scatter_reduce_prod": (lambda L, x, i, s: x.scatter_reduce(0, i, s, "prod"),
                            [_M, np.array([[0, 2, 2, 0], [0, 0, 1, 1]]), _C[1, :2]]),
    "index_reduce_amax": (lambda L, x, i, s: x.index_reduce(0, i, s, "amax",
                                                             include_self=False),
                          [_M, np.array([2, 2]), _C[0, :2]]),
    "index_reduce_prod": (lambda L, x, i, s: x.index_reduce(1, i, s, "prod"),
                          [_M, np.array([0, 3, 0]), _C[1, :, :3]]),
}


# Their node is PyTorch's where the backend has strided views (the CPU), another elsewhere.
NODE_BY_LAYOUT = {"fill_diagonal"}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_matches_pytorch(name: str, device: str) -> None:
    torch = pytest.importorskip("torch")
    function, inputs = PARITY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare_outputs(torch, lambda *t: function(autodiff, *t),
                        lambda *t: function(torch, *t), inputs, device=device,
                        check_names=name not in NODE_BY_LAYOUT or device == "cpu")
