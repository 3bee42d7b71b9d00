"""Compressed sparse tensors (CSR, CSC, BSR, BSC) against PyTorch 2.13 where it is installed:
reprs (which show the indices, values, size, nnz, dtype, layout and node), refusals (exception
type and message), gradients (their layouts and values) and in-place ops. Values and float64
gradchecks of the differentiable ops are in the op table (`tests/op_db/sparse_compressed.py`),
on every device; `test_on_device` checks the arrays' work on each device here."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")

Case = Callable[[Any], Any]


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        warnings.filterwarnings("ignore", "Sparse invariant checks are implicitly disabled")
        yield


def _dense(m: Any) -> Any:
    return m.tensor([[1.0, 0, 2, 0], [0, 0, 3, 0], [4, 5, 0, 6]], dtype=m.float64)


def _csr(m: Any) -> Any:
    return _dense(m).to_sparse_csr()


def _other(m: Any) -> Any:
    """Of _dense's size, with other non-zeros: some shared with it, some not."""
    return m.tensor([[0.0, 7, 2, 0], [0, 0, 0, 0], [4, 0, 1, 6]], dtype=m.float64)


def _square(m: Any) -> Any:
    return m.tensor([[1.0, 0, 2, 0], [0, 0, 3, 0], [4, 5, 0, 6], [0, 0, 0, 1]],
                    dtype=m.float64)


def _mat(m: Any, rows: int, columns: int) -> Any:
    return m.arange(rows * columns, dtype=m.float64).reshape(rows, columns) / 4 - 1


def _outcome(call: Callable[[], Any]) -> str:
    try:
        return repr(call())
    except Exception as error:  # the first line: PyTorch's dispatcher adds its backend list
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


def _same(case: Case) -> None:
    theirs = _outcome(lambda: case(torch))
    ours = _outcome(lambda: case(autodiff))
    if theirs.startswith("NotImplementedError: Could not run"):  # PyTorch adds a site's URL
        theirs = theirs.split(" If you are a Facebook employee")[0]
    assert ours == theirs


# ----------------------------------------------------------------------------- forward
FORWARD: dict[str, Case] = {
    "to_sparse_csr": lambda m: _csr(m),
    "to_sparse_csc": lambda m: _dense(m).to_sparse_csc(),
    "to_sparse_bsr": lambda m: _dense(m).to_sparse_bsr((1, 2)),
    "to_sparse_bsc": lambda m: _dense(m).to_sparse_bsc(1),
    "to_sparse_bsr_2x2": lambda m: m.arange(16.0).reshape(4, 4).to_sparse_bsr((2, 2)),
    "to_sparse_layout": lambda m: _dense(m).to_sparse(layout=m.sparse_csr),
    "to_sparse_layout_bsc": lambda m: _dense(m).to_sparse(layout=m.sparse_bsc, blocksize=(3, 1)),
    "hybrid": lambda m: m.ones(3, 3, 2).to_sparse_csr(dense_dim=1),
    "hybrid_bsr": lambda m: m.ones(2, 2, 2).to_sparse_bsr((1, 1), dense_dim=1),
    "empty": lambda m: m.zeros(2, 3).to_sparse_csr(),
    "requires_grad": lambda m: _csr(m).requires_grad_(),
    "float32": lambda m: _csr(m).to(m.float32),
    "int64": lambda m: _dense(m).long().to_sparse_csr(),
    "csr_to_csc": lambda m: _csr(m).to_sparse_csc(),
    "csr_to_bsr": lambda m: _csr(m).to_sparse_bsr((1, 2)),
    "csc_to_csr": lambda m: _dense(m).to_sparse_csc().to_sparse_csr(),
    "csr_to_coo": lambda m: _csr(m).to_sparse(),
    "coo_to_csr": lambda m: _dense(m).to_sparse().to_sparse_csr(),
    "coo_to_csc": lambda m: _dense(m).to_sparse().to_sparse_csc(),
    "bsr_to_dense": lambda m: _dense(m).to_sparse_bsr((3, 2)).to_dense(),
    "crow_indices": lambda m: _csr(m).crow_indices(),
    "col_indices": lambda m: _csr(m).col_indices(),
    "ccol_indices": lambda m: _dense(m).to_sparse_csc().ccol_indices(),
    "row_indices": lambda m: _dense(m).to_sparse_csc().row_indices(),
    "values": lambda m: _csr(m).values(),
    "metadata": lambda m: (_csr(m)._nnz(), _csr(m).layout, _csr(m).is_sparse_csr,
                           _csr(m).is_sparse, _csr(m).sparse_dim(), _csr(m).dense_dim(),
                           _dense(m).to_sparse_csc().is_sparse_csr, _csr(m).shape),
    "layout_objects": lambda m: (m.sparse_csr, m.sparse_csc, m.sparse_bsr, m.sparse_bsc),
    "csr_tensor": lambda m: m.sparse_csr_tensor([0, 2, 3, 5], [0, 2, 2, 0, 1],
                                                [1.0, 2, 3, 4, 5]),
    "csr_tensor_size": lambda m: m.sparse_csr_tensor([0, 2, 3, 5], [0, 2, 2, 0, 1],
                                                     [1.0, 2, 3, 4, 5], (3, 4)),
    "csr_tensor_hybrid": lambda m: m.sparse_csr_tensor([0, 2, 3], [1, 2, 2], [[1.0], [2], [3]]),
    "csr_tensor_int": lambda m: m.sparse_csr_tensor([0, 2, 3], [1, 2, 2], [1, 2, 3]),
    "csr_tensor_dtype": lambda m: m.sparse_csr_tensor([0, 2, 3], [1, 2, 2], [1, 2, 3],
                                                      dtype=m.float64),
    "csr_tensor_requires_grad": lambda m: m.sparse_csr_tensor([0, 2, 3], [1, 2, 2],
                                                              [1.0, 2, 3], requires_grad=True),
    "csr_tensor_int32": lambda m: m.sparse_csr_tensor(
        m.tensor([0, 2, 3], dtype=m.int32), m.tensor([1, 2, 2], dtype=m.int32),
        [1.0, 2, 3]).crow_indices(),
    "csr_tensor_empty": lambda m: m.sparse_csr_tensor([0, 0, 0], m.tensor([], dtype=m.int64),
                                                      m.tensor([]), (2, 3)),
    "csc_tensor": lambda m: m.sparse_csc_tensor([0, 2, 3, 5], [0, 2, 2, 0, 1],
                                                [1.0, 2, 3, 4, 5]),
    "bsr_tensor": lambda m: m.sparse_bsr_tensor([0, 1], [0], [[[1.0, 2], [3, 4]]]),
    "bsr_tensor_size": lambda m: m.sparse_bsr_tensor([0, 1], [0], m.ones(1, 2, 2), (2, 4)),
    "bsc_tensor": lambda m: m.sparse_bsc_tensor([0, 1], [0], [[[1.0, 2], [3, 4]]]),
    "compressed_tensor": lambda m: m.sparse_compressed_tensor(
        [0, 1], [0], [[[1.0, 2], [3, 4]]], layout=m.sparse_bsc),
    "mm": lambda m: _csr(m) @ _mat(m, 4, 2),
    "mm_function": lambda m: m.mm(_csr(m), _mat(m, 4, 2)),
    "dense_mm": lambda m: _mat(m, 2, 3) @ _csr(m),
    "csc_mm": lambda m: _dense(m).to_sparse_csc() @ _mat(m, 4, 2),
    "bsr_mm": lambda m: m.arange(16.0).reshape(4, 4).to_sparse_bsr((2, 2)) @ m.ones(4, 2),
    "mv": lambda m: _csr(m) @ m.ones(4, dtype=m.float64),
    "vector_mm": lambda m: m.ones(3, dtype=m.float64) @ _csr(m),
    "addmm_dense_csr": lambda m: m.addmm(m.ones(2, 4, dtype=m.float64), _mat(m, 2, 3), _csr(m)),
    "zeros_like": lambda m: m.zeros_like(_csr(m)),
    "addmm": lambda m: m.addmm(m.ones(3, 2, dtype=m.float64), _csr(m), _mat(m, 4, 2),
                               beta=0.5, alpha=2),
    "sparse.mm": lambda m: m.sparse.mm(_csr(m), _mat(m, 4, 2)),
    "sparse.addmm": lambda m: m.sparse.addmm(m.ones(3, 2, dtype=m.float64), _csr(m),
                                             _mat(m, 4, 2), beta=0.5, alpha=2),
    "sampled_addmm": lambda m: m.sparse.sampled_addmm(_csr(m), _mat(m, 3, 2), _mat(m, 2, 4)),
    "sampled_addmm_scaled": lambda m: m.sparse.sampled_addmm(
        _csr(m), _mat(m, 3, 2), _mat(m, 2, 4), beta=0.5, alpha=2),
    "mul_number": lambda m: _csr(m) * 2.5,
    "number_mul": lambda m: 2 * _csr(m),
    "neg": lambda m: -_csr(m),
    "sin": lambda m: _csr(m).sin(),
    "relu": lambda m: m.relu(_csr(m)),
    "add": lambda m: _csr(m) + _csr(m),
    "add_other_indices": lambda m: _csr(m) + m.eye(3, 4, dtype=m.float64).to_sparse_csr(),
    "add_alpha": lambda m: _csr(m).add(_csr(m), alpha=2),
    "add_dense": lambda m: _csr(m) + _dense(m),
    "dense_add": lambda m: _dense(m) + _csr(m),
    "mul_csr": lambda m: _csr(m) * _other(m).to_sparse_csr(),
    "mul_csr_same": lambda m: _csr(m) * _csr(m),
    "mul_function": lambda m: m.mul(_csr(m), _other(m).to_sparse_csr()),
    "mul_csc": lambda m: _csr(m) * _other(m).to_sparse_csc(),
    "mul_coo": lambda m: _csr(m) * _other(m).to_sparse(),
    "mul_uncoalesced_coo": lambda m: _csr(m) * m.sparse_coo_tensor(
        [[2, 0, 0, 2], [3, 2, 1, 3]], [1.0, 2, 3, 4], (3, 4), dtype=m.float64),
    "mul_dense": lambda m: _csr(m) * _other(m),
    "dense_mul": lambda m: _other(m) * _csr(m),
    "mul_empty": lambda m: _csr(m) * m.zeros(3, 4, dtype=m.float64).to_sparse_csr(),
    "mul_promotes": lambda m: _dense(m).long().to_sparse_csr() * _other(m).float()
    .to_sparse_csr(),
    "mul_int64": lambda m: _dense(m).long().to_sparse_csr() * _other(m).long().to_sparse_csr(),
    "mul_complex": lambda m: _csr(m) * _other(m).to(m.complex128).to_sparse_csr(),
    "mul_hybrid": lambda m: m.ones(3, 4, 2).to_sparse_csr(dense_dim=1) * (
        m.arange(24.0).reshape(3, 4, 2) * (m.arange(24).reshape(3, 4, 2) % 3 != 0))
    .to_sparse_csr(dense_dim=1),
    "mul_0d_tensor": lambda m: _csr(m) * m.tensor(2.5, dtype=m.float64),
    "0d_tensor_mul": lambda m: m.tensor(2.5, dtype=m.float64) * _csr(m),
    "add_csc_dense": lambda m: _dense(m).to_sparse_csc() + _other(m),
    "add_dense_int": lambda m: _csr(m) + _other(m).long(),
    "sum": lambda m: _csr(m).sum(),
    "sum_bsr": lambda m: _dense(m).to_sparse_bsr((1, 2)).sum(),
    "sum_rows": lambda m: _csr(m).sum(1, keepdim=True),
    "sum_columns": lambda m: _csr(m).sum(0, keepdim=True),
    "t": lambda m: _csr(m).t(),
    "transpose": lambda m: _csr(m).transpose(0, 1),
    "t_csc": lambda m: _dense(m).to_sparse_csc().t(),
    "t_bsr": lambda m: _dense(m).to_sparse_bsr((1, 2)).t(),
    "clone": lambda m: _csr(m).clone(),
    "detach": lambda m: _csr(m).requires_grad_().detach(),
    "sparse_mask": lambda m: _mat(m, 3, 4).sparse_mask(_csr(m)),
    "storage_offset": lambda m: _csr(m).storage_offset(),
}

def _batched(m: Any) -> Any:
    """(2, 2, 3), three non-zeros in each batch."""
    return m.tensor([[[1.0, 0, 2], [0, 3, 0]], [[0.0, 4, 0], [5, 0, 6]]], dtype=m.float64)


BATCHED: dict[str, Case] = {
    "to_sparse_csr": lambda m: _batched(m).to_sparse_csr(),
    "to_sparse_csc": lambda m: _batched(m).to_sparse_csc(),
    "to_sparse_bsr": lambda m: m.ones(2, 2, 4).to_sparse_bsr((1, 2)),
    "to_sparse_bsc": lambda m: m.ones(2, 4, 2).to_sparse_bsc((2, 1)),
    "two_batch_dims": lambda m: m.ones(2, 2, 2, 3).to_sparse_csr(),
    "batch_and_dense_dims": lambda m: m.ones(2, 3, 4, 2).to_sparse_csr(dense_dim=1),
    "crow_indices": lambda m: _batched(m).to_sparse_csr().crow_indices(),
    "col_indices": lambda m: _batched(m).to_sparse_csr().col_indices(),
    "ccol_row_indices": lambda m: (_batched(m).to_sparse_csc().ccol_indices(),
                                   _batched(m).to_sparse_csc().row_indices()),
    "values": lambda m: _batched(m).to_sparse_csr().values(),
    "to_dense": lambda m: _batched(m).to_sparse_csr().to_dense(),
    "csc_to_dense": lambda m: _batched(m).to_sparse_csc().to_dense(),
    "bsr_to_dense": lambda m: m.arange(16.0).reshape(2, 2, 4).to_sparse_bsr((1, 2)).to_dense(),
    "metadata": lambda m: (_batched(m).to_sparse_csr()._nnz(),
                           _batched(m).to_sparse_csr().sparse_dim(),
                           _batched(m).to_sparse_csr().dense_dim(),
                           _batched(m).to_sparse_csr().shape),
    "csr_tensor": lambda m: m.sparse_csr_tensor([[0, 1, 2], [0, 0, 2]], [[0, 2], [0, 1]],
                                                [[1.0, 2], [3, 4]], (2, 2, 3)),
    "csr_tensor_inferred_size": lambda m: m.sparse_csr_tensor(
        [[0, 1, 2], [0, 0, 2]], [[0, 2], [0, 1]], [[1.0, 2], [3, 4]]),
    "csr_tensor_to_dense": lambda m: m.sparse_csr_tensor(
        [[0, 1, 2], [0, 0, 2]], [[0, 2], [0, 1]], [[1.0, 2], [3, 4]], (2, 2, 3)).to_dense(),
    "csr_to_csc": lambda m: _batched(m).to_sparse_csr().to_sparse_csc(),
    "to_coo": lambda m: _batched(m).to_sparse_csr().to_sparse(),
    "transpose": lambda m: _batched(m).to_sparse_csr().transpose(1, 2),
    "sum": lambda m: _batched(m).to_sparse_csr().sum(),
    "mul_number": lambda m: _batched(m).to_sparse_csr() * 2,
    "sin": lambda m: _batched(m).to_sparse_csr().sin(),
    "unequal_nnz": lambda m: m.tensor([[[1.0, 0], [0, 0]], [[1.0, 1], [0, 0]]]).to_sparse_csr(),
    "last_not_nnz": lambda m: m.sparse_csr_tensor(
        [[0, 1, 2], [0, 0, 3]], [[0, 2], [0, 1]], [[1.0, 2], [3, 4]], (2, 2, 3),
        check_invariants=True),
    "column_out_of_range": lambda m: m.sparse_csr_tensor(
        [[0, 1, 2], [0, 0, 2]], [[0, 5], [0, 1]], [[1.0, 2], [3, 4]], (2, 2, 3),
        check_invariants=True),
    "not_sorted": lambda m: m.sparse_csr_tensor(
        [[0, 1, 2], [0, 0, 2]], [[0, 2], [1, 0]], [[1.0, 2], [3, 4]], (2, 2, 3),
        check_invariants=True),
    "matmul": lambda m: _batched(m).to_sparse_csr() @ m.ones(2, 3, 2, dtype=m.float64),
    "matmul_matrix": lambda m: _batched(m).to_sparse_csr() @ m.ones(3, 2, dtype=m.float64),
    "matmul_vector": lambda m: _batched(m).to_sparse_csr() @ m.ones(3, dtype=m.float64),
    "dense_matmul": lambda m: m.ones(2, 2, 2, dtype=m.float64) @ _batched(m).to_sparse_csr(),
    "csc_matmul": lambda m: _batched(m).to_sparse_csc() @ m.ones(2, 3, 2, dtype=m.float64),
    "mm": lambda m: m.mm(_batched(m).to_sparse_csr(), m.ones(3, 2, dtype=m.float64)),
    "mul_csr": lambda m: _batched(m).to_sparse_csr() * _batched(m).to_sparse_csr(),
    "select": lambda m: _batched(m).to_sparse_csr()[1],
    "select_negative": lambda m: _batched(m).to_sparse_csc().select(0, -2),
    "select_sparse_dim": lambda m: _batched(m).to_sparse_csr().select(1, 0),
    "select_node": lambda m: _batched(m).to_sparse_csr().requires_grad_()[0].grad_fn.name(),
}


@pytest.mark.parametrize("name", list(BATCHED))
def test_batched_matches_pytorch(name: str) -> None:
    _same(BATCHED[name])


def test_batched_gradients() -> None:
    """values() gives a batched CSR leaf a batched CSR gradient, as in PyTorch; to_dense and
    sparse_csr_tensor give theirs too (PyTorch 2.13 refuses them: "sparse_coo_to_sparse:
    conversion from Sparse to SparseCsr for input tensors with sparse_dim()!=2")."""
    def values(m: Any) -> Any:
        leaf = _batched(m).to_sparse_csr().requires_grad_()
        (leaf.values() ** 2).sum().backward()
        return leaf.grad
    _same(values)
    leaf = _batched(autodiff).to_sparse_csr().requires_grad_()
    (leaf.to_dense() ** 2).sum().backward()
    assert leaf.grad.layout is autodiff.sparse_csr
    np.testing.assert_array_equal(leaf.grad.crow_indices().numpy(),
                                  leaf.crow_indices().numpy())
    np.testing.assert_allclose(leaf.grad.values().numpy(), 2 * leaf.detach().values().numpy())


REFUSED: dict[str, Case] = {
    "no_layout": lambda m: m.sparse_compressed_tensor([0, 1], [0], [[[1.0, 2], [3, 4]]]),
    "last_not_nnz": lambda m: m.sparse_csr_tensor([0, 2, 3, 6], [0, 2, 2, 0, 1],
                                                  [1.0, 2, 3, 4, 5], check_invariants=True),
    "first_not_zero": lambda m: m.sparse_csr_tensor([1, 2, 3, 5], [0, 2, 2, 0, 1],
                                                    [1.0, 2, 3, 4, 5], check_invariants=True),
    "not_sorted": lambda m: m.sparse_csr_tensor([0, 2, 3, 5], [2, 0, 2, 0, 1],
                                                [1.0, 2, 3, 4, 5], check_invariants=True),
    "not_distinct": lambda m: m.sparse_csr_tensor([0, 3, 2, 5], [0, 2, 2, 0, 1],
                                                  [1.0, 2, 3, 4, 5], check_invariants=True),
    "column_out_of_range": lambda m: m.sparse_csr_tensor(
        [0, 2, 3, 5], [0, 2, 2, 0, 7], [1.0, 2, 3, 4, 5], (3, 3), check_invariants=True),
    "negative_column": lambda m: m.sparse_csr_tensor(
        [0, 2, 3, 5], [0, 2, 2, 0, -1], [1.0, 2, 3, 4, 5], (3, 3), check_invariants=True),
    "steps": lambda m: m.sparse_csr_tensor([0, 2, 1, 3], [0, 1, 2], [1.0, 2, 3], (3, 3),
                                           check_invariants=True),
    "csc_steps": lambda m: m.sparse_csc_tensor([0, 2, 1, 3], [0, 1, 2], [1.0, 2, 3], (3, 3),
                                               check_invariants=True),
    "nnz_mismatch": lambda m: m.sparse_csr_tensor([0, 2, 3, 5], [0, 2, 2, 0, 1],
                                                  [1.0, 2, 3, 4], check_invariants=True),
    "rows_mismatch": lambda m: m.sparse_csr_tensor([0, 2, 3, 3], [1, 0, 2], [1.0, 2, 3],
                                                   (2, 3), check_invariants=True),
    "block_divisibility": lambda m: m.sparse_bsr_tensor([0, 1], [0], m.ones(1, 2, 2), (3, 2),
                                                        check_invariants=True),
    "block_values_dims": lambda m: m.sparse_bsr_tensor([0, 1], [0], m.ones(1, 2)),
    "index_dtypes": lambda m: m.sparse_csr_tensor(
        m.tensor([0, 2, 3], dtype=m.int32), m.tensor([1, 2, 2], dtype=m.int16), [1, 2, 3],
        check_invariants=True),
    "index_dims": lambda m: m.sparse_csr_tensor([[0, 2, 3, 5]], [0, 2, 2, 0, 1],
                                                [1.0, 2, 3, 4, 5]),
    "int_requires_grad": lambda m: m.sparse_csr_tensor([0, 2, 3], [1, 2, 2], [1, 2, 3],
                                                       requires_grad=True),
    "blocksize_divisibility": lambda m: _dense(m).to_sparse_bsr((2, 2)),
    "no_blocksize": lambda m: _dense(m).to_sparse(layout=m.sparse_bsr),
    "dense_dim_range": lambda m: m.zeros(3, 3).to_sparse_csr(dense_dim=1),
    "to_sparse_bsr_blocksize": lambda m: m.ones(3, 2).to_sparse(layout=m.sparse_bsr,
                                                               blocksize=(2, 1)),
    "to_sparse_csr_blocksize": lambda m: m.ones(3, 2).to_sparse(layout=m.sparse_csr,
                                                               blocksize=(2, 1)),
    "coo_to_sparse_bsr_blocksize": lambda m: m.ones(3, 2).to_sparse().to_sparse(
        layout=m.sparse_bsr, blocksize=(2, 1)),
    "coo_to_sparse_csr_blocksize": lambda m: m.ones(3, 2).to_sparse().to_sparse(
        layout=m.sparse_csr, blocksize=(2, 1)),
    "csr_to_sparse_bsr_blocksize": lambda m: _csr(m).to_sparse(layout=m.sparse_bsr,
                                                               blocksize=(2, 1)),
    "coo_to_bsr_blocksize": lambda m: m.ones(3, 2).to_sparse().to_sparse_bsr((2, 1)),
    "csr_to_bsr_blocksize": lambda m: _csr(m).to_sparse_bsr((2, 1)),
    "ccol_of_csr": lambda m: _csr(m).ccol_indices(),
    "row_of_csr": lambda m: _csr(m).row_indices(),
    "crow_of_csc": lambda m: _dense(m).to_sparse_csc().crow_indices(),
    "indices": lambda m: _csr(m).indices(),
    "coalesce": lambda m: _csr(m).coalesce(),
    "stride": lambda m: _csr(m).stride(),
    "stride_bsr": lambda m: _dense(m).to_sparse_bsr((1, 1)).stride(),
    "is_contiguous": lambda m: _dense(m).to_sparse_csc().is_contiguous(),
    "numpy": lambda m: _csr(m).numpy(),
    "data_ptr": lambda m: _csr(m).data_ptr(),
    "tolist": lambda m: _csr(m).tolist(),
    "mm_shapes": lambda m: _csr(m) @ _mat(m, 3, 2),
    "mm_dtypes": lambda m: m.mm(_csr(m), m.ones(4, 2)),
    "add_shapes": lambda m: _csr(m) + m.eye(4, dtype=m.float64).to_sparse_csr(),
    "add_number": lambda m: _csr(m) + 1,
    "number_add": lambda m: 1 + _csr(m),
    "add_broadcast": lambda m: _csr(m) + _other(m)[0],
    "broadcast_add": lambda m: _other(m)[0] + _csr(m),
    "add_csc": lambda m: _csr(m) + _other(m).to_sparse_csc(),
    "csc_add": lambda m: _dense(m).to_sparse_csc() + _other(m).to_sparse_csr(),
    "csc_add_csc": lambda m: _dense(m).to_sparse_csc() + _other(m).to_sparse_csc(),
    "bsc_add_bsc": lambda m: _square(m).to_sparse_bsc(2) + _square(m).to_sparse_bsc(2),
    "bsr_add_non_square_blocks": lambda m: _square(m).to_sparse_bsr((1, 2))
    + _square(m).to_sparse_bsr((1, 2)),
    "add_int64": lambda m: _csr(m) + _other(m).long().to_sparse_csr(),
    "add_float32": lambda m: _dense(m).float().to_sparse_csr() + _other(m).to_sparse_csr(),
    "add_complex": lambda m: _csr(m) + _other(m).to(m.complex128).to_sparse_csr(),
    "add_bool": lambda m: (_dense(m) > 0).to_sparse_csr() + (_other(m) > 0).to_sparse_csr(),
    "sub": lambda m: _csr(m) - _other(m).to_sparse_csr(),
    "sub_dense": lambda m: _csr(m) - _other(m),
    "dense_sub": lambda m: _other(m) - _csr(m),
    "sub_number": lambda m: _csr(m) - 1,
    "number_sub": lambda m: 1 - _csr(m),
    "mul_shapes": lambda m: _csr(m) * _other(m)[:2].to_sparse_csr(),
    "mul_bool": lambda m: (_dense(m) > 0).to_sparse_csr() * (_other(m) > 0).to_sparse_csr(),
    "mul_broadcast": lambda m: _csr(m) * _other(m)[0],
    "csc_mul": lambda m: _dense(m).to_sparse_csc() * _other(m).to_sparse_csr(),
    "csc_mul_csc": lambda m: _dense(m).to_sparse_csc() * _other(m).to_sparse_csc(),
    "csc_mul_dense": lambda m: _dense(m).to_sparse_csc() * _other(m),
    "dense_mul_csc": lambda m: _other(m) * _dense(m).to_sparse_csc(),
    "bsr_mul": lambda m: _square(m).to_sparse_bsr((2, 2)) * _square(m).to_sparse_bsr((2, 2)),
    "bsr_mul_dense": lambda m: _square(m).to_sparse_bsr((2, 2)) * _square(m),
    "bsc_mul_dense": lambda m: _square(m).to_sparse_bsc((2, 2)) * _square(m),
    "dense_mul_bsr": lambda m: _square(m) * _square(m).to_sparse_bsr((2, 2)),
    "coo_mul": lambda m: _other(m).to_sparse() * _csr(m),
    "dense_mul_": lambda m: _other(m).mul_(_csr(m)),
    "div": lambda m: _csr(m) / 2,
    "pow": lambda m: _csr(m) ** 2,
    "nan_to_num": lambda m: _csr(m).nan_to_num(),
    "sum_dim_keepdim_false": lambda m: _csr(m).sum(0),
    "sum_dim_csc": lambda m: _dense(m).to_sparse_csc().sum(0, keepdim=True),
    "sparse.softmax": lambda m: m.sparse.softmax(_csr(m), -1),
    "sparse.log_softmax": lambda m: m.sparse.log_softmax(_csr(m), 1),
    "sampled_addmm_dense": lambda m: m.sparse.sampled_addmm(_dense(m), _mat(m, 3, 2),
                                                            _mat(m, 2, 4)),
    "sampled_addmm_coo": lambda m: m.sparse.sampled_addmm(_dense(m).to_sparse(),
                                                          _mat(m, 3, 2), _mat(m, 2, 4)),
    "sampled_addmm_csc": lambda m: m.sparse.sampled_addmm(_dense(m).to_sparse_csc(),
                                                          _mat(m, 3, 2), _mat(m, 2, 4)),
    "sampled_addmm_shapes": lambda m: m.sparse.sampled_addmm(_csr(m), _mat(m, 3, 2),
                                                             _mat(m, 3, 4)),
    "sampled_addmm_rows": lambda m: m.sparse.sampled_addmm(_csr(m), _mat(m, 2, 2),
                                                           _mat(m, 2, 4)),
    "sampled_addmm_dtypes": lambda m: m.sparse.sampled_addmm(_csr(m), m.ones(3, 2),
                                                             _mat(m, 2, 4)),
}


@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_matches_pytorch(name: str) -> None:
    _same(FORWARD[name])


@pytest.mark.parametrize("name", list(REFUSED))
def test_refusal_matches_pytorch(name: str) -> None:
    theirs = _outcome(lambda: REFUSED[name](torch))
    assert theirs.split(":")[0] in {"RuntimeError", "NotImplementedError", "TypeError"}, theirs
    _same(REFUSED[name])


# ----------------------------------------------------------------------------- gradients
def _leaf(m: Any) -> Any:
    return _csr(m).requires_grad_()


def _x(m: Any) -> Any:
    return _mat(m, 4, 2).requires_grad_()


# Each case returns (a scalar to differentiate, the leaves whose .grad are compared).
GRADIENTS: dict[str, Case] = {}


def _gradient(name: str) -> Callable[[Case], Case]:
    def register(case: Case) -> Case:
        GRADIENTS[name] = case
        return case
    return register


def _square_sum(out: Any) -> Any:
    dense = out.to_dense() if out.layout is not out.to_dense().layout else out
    return (dense * dense).sum()


def _product_case(product: Callable[[Any, Any, Any], Any]) -> Case:
    def case(m: Any) -> Any:
        c, x = _leaf(m), _x(m)
        return _square_sum(product(m, c, x)), (c, x)
    return case


_gradient("mm")(_product_case(lambda m, c, x: c @ x))
_gradient("mm_function")(_product_case(lambda m, c, x: m.mm(c, x)))
_gradient("dense_mm")(_product_case(lambda m, c, x: x.t() @ c.t()))
_gradient("csc_mm")(_product_case(lambda m, c, x: c.to_sparse_csc() @ x))
_gradient("mv")(_product_case(lambda m, c, x: c @ x[:, 0]))
_gradient("vector_mm")(_product_case(lambda m, c, x: x[:3, 0] @ c))
_gradient("addmm_dense_csr")(_product_case(lambda m, c, x: m.addmm(
    m.ones(2, 4, dtype=m.float64), x[:3].t(), c, alpha=2)))
_gradient("addmm")(_product_case(lambda m, c, x: m.addmm(m.ones(3, 2, dtype=m.float64), c, x,
                                                        beta=0.5, alpha=2)))
_gradient("sparse.mm")(_product_case(lambda m, c, x: m.sparse.mm(c, x)))
_gradient("sparse.addmm")(_product_case(lambda m, c, x: m.sparse.addmm(
    m.ones(3, 2, dtype=m.float64), c, x, beta=0.5, alpha=2)))


@_gradient("sampled_addmm")
def _sampled(m: Any) -> Any:
    c, m1, m2 = _leaf(m), _mat(m, 3, 2).requires_grad_(), _mat(m, 2, 4).requires_grad_()
    out = m.sparse.sampled_addmm(c, m1, m2, beta=0.5, alpha=2)
    return _square_sum(out), (c, m1, m2)


def _unary_case(op: Callable[[Any, Any], Any]) -> Case:
    def case(m: Any) -> Any:
        c = _leaf(m)
        return _square_sum(op(m, c)), (c,)
    return case


_gradient("mul_number")(_unary_case(lambda m, c: c * 2.5))
_gradient("neg")(_unary_case(lambda m, c: -c))
_gradient("add")(_unary_case(lambda m, c: c + c * 2))
_gradient("add_dense")(_unary_case(lambda m, c: _dense(m) + c))
_gradient("sum")(_unary_case(lambda m, c: c.sum()))
_gradient("t")(_unary_case(lambda m, c: c.t()))
_gradient("transpose")(_unary_case(lambda m, c: c.transpose(0, 1)))
_gradient("values")(_unary_case(lambda m, c: c.values()))
_gradient("to_dense")(_unary_case(lambda m, c: c.to_dense()))
_gradient("to_csc")(_unary_case(lambda m, c: c.to_sparse_csc()))
_gradient("to_coo")(_unary_case(lambda m, c: c.to_sparse()))
_gradient("clone")(_unary_case(lambda m, c: c.clone()))


_gradient("mul")(_unary_case(lambda m, c: c * _other(m).to_sparse_csr()))
_gradient("mul_self")(_unary_case(lambda m, c: c * c))
_gradient("mul_dense")(_unary_case(lambda m, c: c * _other(m)))
_gradient("dense_mul")(_unary_case(lambda m, c: _other(m) * c))
_gradient("mul_csc")(_unary_case(lambda m, c: c * _other(m).to_sparse_csc()))
_gradient("mul_0d_tensor")(_unary_case(lambda m, c: c * m.tensor(2.5, dtype=m.float64)))
_gradient("mul_values")(_unary_case(lambda m, c: (c * _other(m).to_sparse_csr()).values()))


@_gradient("mul_both")
def _mul_both(m: Any) -> Any:
    c, other = _leaf(m), _other(m).to_sparse_csr().requires_grad_()
    return _square_sum(c * other), (c, other)


@_gradient("mul_0d_tensor_grad")
def _mul_0d(m: Any) -> Any:
    c, factor = _leaf(m), m.tensor(2.5, dtype=m.float64, requires_grad=True)
    return _square_sum(factor * c), (c, factor)


@_gradient("dense_to_csr")
def _dense_to_csr(m: Any) -> Any:
    d = _dense(m).requires_grad_()
    return _square_sum(d.to_sparse_csr()), (d,)


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_gradient_matches_pytorch(name: str) -> None:
    def run(m: Any) -> Any:
        loss, leaves = GRADIENTS[name](m)
        names = loss.grad_fn.name()
        loss.backward()
        return names, [leaf.grad for leaf in leaves]

    _same(run)


def test_gradients_pytorch_does_not_give() -> None:
    """PyTorch refuses these backwards ("derivative for aten::sparse_compressed_tensor is not
    implemented"; sin's needs cos of a CSR tensor, "unsupported tensor layout"); autodiff
    gives the values their gradient and the CSR input one at its elements."""
    values = autodiff.tensor([1.0, 2, 3, 4, 5], dtype=autodiff.float64, requires_grad=True)
    made = autodiff.sparse_csr_tensor([0, 2, 3, 5], [0, 2, 2, 0, 1], values)
    (made.to_dense() ** 2).sum().backward()
    np.testing.assert_allclose(values.grad.numpy(), 2 * values.detach().numpy())
    leaf = _leaf(autodiff)
    leaf.sin().to_dense().sum().backward()
    assert leaf.grad.layout is autodiff.sparse_csr
    np.testing.assert_allclose(leaf.grad.values().numpy(), np.cos(leaf.detach().values()
                                                                  .numpy()))


def test_grad_fn_names_match_pytorch() -> None:
    def names(m: Any) -> Any:
        c, x = _leaf(m), _x(m)
        return [out.grad_fn.name() for out in (
            c @ x, m.sparse.mm(c, x), m.addmm(m.ones(3, 2, dtype=m.float64), c, x),
            c * c, c * _other(m), _other(m) * c, c * m.tensor(2.0, dtype=m.float64),
            m.sparse.sampled_addmm(c, _mat(m, 3, 2), _mat(m, 2, 4)), c * 2, c + c, -c,
            c.sin(), c.sum(), c.t(), c.transpose(0, 1), c.values(), c.to_dense(),
            c.to_sparse_csc(), c.to_sparse_bsr((1, 1)), c.to_sparse(), c.clone(),
            c.to(m.float32), c.sum(1, keepdim=True))]

    _same(names)


def test_sum_dim_backward_is_refused_as_pytorch_refuses_it() -> None:
    _same(lambda m: _leaf(m).sum(1, keepdim=True).values().sum().backward())


@pytest.mark.parametrize("other", ["dense", "csc"])
def test_mul_gradient_of_another_layout_is_refused_as_pytorch(other: str) -> None:
    """A dense or CSC factor's gradient, grad * the CSR one, is CSR: PyTorch refuses it."""
    def run(m: Any) -> Any:
        factor = _other(m) if other == "dense" else _other(m).to_sparse_csc()
        factor.requires_grad_()
        (_leaf(m) * factor).to_dense().sum().backward()
    _same(run)


def test_mul_double_backward_matches_pytorch() -> None:
    def run(m: Any) -> Any:
        c, other = _leaf(m), _other(m).to_sparse_csr().requires_grad_()
        grad, = m.autograd.grad((c * other).to_dense().sum(), c, create_graph=True)
        second, = m.autograd.grad(grad.to_dense().sum(), other)
        return grad.grad_fn.name(), second
    _same(run)


IN_PLACE: dict[str, Case] = {
    "mul_": lambda m: _csr(m).mul_(2),
    "neg_": lambda m: _csr(m).neg_(),
    "sin_": lambda m: _csr(m).sin_(),
    "t_": lambda m: _csr(m).t_(),
    "zero_": lambda m: _csr(m).zero_(),
    "add_": lambda m: _csr(m).add_(_csr(m)),
    "mul_csr_": lambda m: _csr(m).mul_(_other(m).to_sparse_csr()),
    "mul_dense_": lambda m: _csr(m).mul_(_other(m)),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_matches_pytorch(name: str) -> None:
    _same(IN_PLACE[name])


def test_pickle_and_deepcopy_keep_the_arrays() -> None:
    import copy
    import pickle

    for tensor in (_leaf(autodiff), _dense(autodiff).to_sparse_bsc((3, 2))):
        for copied in (pickle.loads(pickle.dumps(tensor)), copy.deepcopy(tensor)):
            assert repr(copied) == repr(tensor)
            assert copied.layout is tensor.layout


def test_on_device(device: str) -> None:
    """The arrays' work (conversions, products, sums, transposes) on each device."""
    dense = _dense(autodiff).to(device)
    x = _mat(autodiff, 4, 2).to(device)
    expected = np.array([[1.0, 0, 2, 0], [0, 0, 3, 0], [4, 5, 0, 6]])
    for layout in ("csr", "csc"):
        sparse = getattr(dense, f"to_sparse_{layout}")()
        assert sparse.device == dense.device
        np.testing.assert_allclose(sparse.to_dense().cpu().numpy(), expected)
        np.testing.assert_allclose((sparse @ x).cpu().numpy(), expected @ x.cpu().numpy())
        np.testing.assert_allclose(sparse.t().to_dense().cpu().numpy(), expected.T)
        np.testing.assert_allclose(float(sparse.sum()), expected.sum())
    blocked = dense.to_sparse_bsr((1, 2))
    np.testing.assert_allclose(blocked.to_dense().cpu().numpy(), expected)
    batched = autodiff.stack([dense, dense * 2])
    for layout in ("csr", "csc"):
        sparse = getattr(batched, f"to_sparse_{layout}")()
        np.testing.assert_allclose(sparse.to_dense().cpu().numpy(),
                                   np.stack([expected, expected * 2]))
    made = autodiff.sparse_csr_tensor([0, 2, 3, 6], [0, 2, 2, 0, 1, 3],
                                      [1.0, 2, 3, 4, 5, 6], (3, 4), device=device,
                                      dtype=autodiff.float64, check_invariants=True)
    np.testing.assert_allclose(made.to_dense().cpu().numpy(), expected)
    assert made.crow_indices().device == made.device
