"""Sparse COO tensors in the op table: each entry makes its sparse operand from a dense input
with a third of its entries zeroed (`_thinned`, so the sparsity is real) and returns a dense
tensor, so forward, gradcheck and gradgradcheck run as for dense ops, on every device."""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff

from .info import OpInfo, Sample


def _mask_array(shape: tuple[int, ...]) -> np.ndarray:
    return (np.arange(int(np.prod(shape))).reshape(shape) % 3) != 0


def _thinned(x: autodiff.Tensor) -> autodiff.Tensor:
    """x with every third entry (row-major) zero."""
    positions = autodiff.arange(x.numel(), device=x.device).reshape(x.shape)
    return x * (positions % 3 != 0)


def _sparse(x: autodiff.Tensor) -> autodiff.Tensor:
    return _thinned(x).to_sparse()


def _thin(a: np.ndarray) -> np.ndarray:
    return a * _mask_array(a.shape)


def _values_sparse(values: autodiff.Tensor) -> autodiff.Tensor:
    """A (3, 4) sparse tensor from 5 values, one index repeated (uncoalesced)."""
    indices = autodiff.tensor([[0, 2, 1, 0, 2], [1, 3, 0, 1, 0]], device=values.device)
    return autodiff.sparse_coo_tensor(indices, values, (3, 4))


def _values_dense(values: np.ndarray) -> np.ndarray:
    out = np.zeros((3, 4))
    np.add.at(out, ([0, 2, 1, 0, 2], [1, 3, 0, 1, 0]), values)
    return out


def _sum_rows(a: np.ndarray) -> Any:
    return _thin(a).sum(axis=1)


def _masked_softmax(a: np.ndarray, dim: int, log: bool = False) -> np.ndarray:
    """softmax along `dim` of the entries `_sparse` keeps (the others absent: 0 out)."""
    mask = _mask_array(a.shape)
    shifted = np.where(mask, a, -np.inf)
    shifted = shifted - shifted.max(axis=dim, keepdims=True)
    total = np.where(mask, np.exp(shifted), 0.0).sum(axis=dim, keepdims=True)
    out = shifted - np.log(total) if log else np.exp(shifted) / total
    return np.where(mask, out, 0.0)


MATRICES = (Sample(((3, 4), (4, 5))), Sample(((5, 2), (2, 3))))

SPARSE = [
    OpInfo("sparse_mm", lambda a, b: autodiff.mm(_sparse(a), b),
           lambda a, b: _thin(a) @ b, MATRICES, "MmBackward0"),
    OpInfo("sparse_matmul_operator", lambda a, b: _sparse(a) @ b,
           lambda a, b: _thin(a) @ b, MATRICES, "MmBackward0"),
    OpInfo("sparse_dense_mm", lambda a, b: a @ _sparse(b),
           lambda a, b: a @ _thin(b), MATRICES, "MmBackward0"),
    OpInfo("sparse_spmm", lambda a, b: autodiff.spmm(_sparse(a), b),
           lambda a, b: _thin(a) @ b, MATRICES, "MmBackward0"),
    OpInfo("sparse.mm", lambda a, b: autodiff.sparse.mm(_sparse(a), b),
           lambda a, b: _thin(a) @ b, MATRICES, "SparseAddmmBackward0"),
    OpInfo("sparse_mm_sparse", lambda a, b: autodiff.mm(_sparse(a), _sparse(b)).to_dense(),
           lambda a, b: _thin(a) @ _thin(b), MATRICES, "ToDenseBackward0"),
    OpInfo("sparse.mm_sparse",
           lambda a, b: autodiff.sparse.mm(_sparse(a), _sparse(b)).to_dense(),
           lambda a, b: _thin(a) @ _thin(b), MATRICES, "ToDenseBackward0"),
    OpInfo("sparse_mv", lambda a, v: _sparse(a) @ v, lambda a, v: _thin(a) @ v,
           (Sample(((3, 4), (4,))),), "MvBackward0"),
    OpInfo("sparse_torch_addmm", lambda c, a, b: autodiff.addmm(c, _sparse(a), b, alpha=2.0),
           lambda c, a, b: c + 2.0 * (_thin(a) @ b), (Sample(((3, 5), (3, 4), (4, 5))),),
           "AddmmBackward0"),
    OpInfo("sparse_mul_sparse", lambda a, b: (_sparse(a) * _sparse(b)).to_dense(),
           lambda a, b: _thin(a) * _thin(b), (Sample(((3, 4), (3, 4))),), "ToDenseBackward0"),
    OpInfo("sparse_sub", lambda d, a, b: d - _sparse(a) - _sparse(b),
           lambda d, a, b: d - _thin(a) - _thin(b), (Sample(((3, 4), (3, 4), (3, 4))),),
           "SubBackward0"),
    OpInfo("sparse_sin", lambda a: _sparse(a).sin().to_dense(), lambda a: np.sin(_thin(a)),
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse.addmm",
           lambda c, a, b: autodiff.sparse.addmm(c, _sparse(a), b, beta=0.5, alpha=2.0),
           lambda c, a, b: 0.5 * c + 2.0 * (_thin(a) @ b),
           (Sample(((3, 5), (3, 4), (4, 5))), Sample(((5,), (3, 4), (4, 5)))),
           "SparseAddmmBackward0"),
    OpInfo("sparse_to_dense", lambda a: _sparse(a).to_dense(), _thin,
           (Sample(((3, 4),)), Sample(((2, 3, 2),)), Sample(((5,),))), "ToDenseBackward0"),
    OpInfo("sparse_to_sparse_dims", lambda a: _thinned(a).to_sparse(1).to_dense(), _thin,
           (Sample(((3, 4),)), Sample(((2, 3, 2),))), "ToDenseBackward0"),
    OpInfo("sparse_coo_tensor", lambda v: _values_sparse(v).to_dense(), _values_dense,
           (Sample(((5,),)),), "ToDenseBackward0"),
    OpInfo("sparse_coalesce_values", lambda v: _values_sparse(v).coalesce().values(),
           lambda v: np.array([v[0] + v[3], v[2], v[4], v[1]]), (Sample(((5,),)),),
           "ValuesBackward0"),
    OpInfo("sparse_add_dense", lambda d, a: d + _sparse(a), lambda d, a: d + _thin(a),
           (Sample(((3, 4), (3, 4))),), "AddBackward0"),
    OpInfo("sparse_add_sparse", lambda a, b: (_sparse(a) + _sparse(b)).to_dense(),
           lambda a, b: _thin(a) + _thin(b), (Sample(((3, 4), (3, 4))),), "ToDenseBackward0"),
    OpInfo("sparse_mul_number", lambda a: (_sparse(a) * 2.5).to_dense(),
           lambda a: 2.5 * _thin(a), (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse_mul_dense", lambda a, b: (_sparse(a) * b).to_dense(),
           lambda a, b: _thin(a) * b, (Sample(((3, 4), (3, 4))), Sample(((3, 4), (4,)))),
           "ToDenseBackward0"),
    OpInfo("sparse_neg", lambda a: (-_sparse(a)).to_dense(), lambda a: -_thin(a),
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse_t", lambda a: _sparse(a).t().to_dense(), lambda a: _thin(a).T,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse_transpose", lambda a: _sparse(a).transpose(0, 2).to_dense(),
           lambda a: np.swapaxes(_thin(a), 0, 2), (Sample(((2, 3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse_sum", lambda a: _sparse(a).sum(), lambda a: _thin(a).sum(),
           (Sample(((3, 4),)),), "SumBackward0"),
    OpInfo("sparse_sum_dim", lambda a: _sparse(a).sum(1).to_dense(), _sum_rows,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse.sum", lambda a: autodiff.sparse.sum(_sparse(a), 1).to_dense(),
           _sum_rows, (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse.sum_all", lambda a: autodiff.sparse.sum(_sparse(a), (0, 1)),
           lambda a: _thin(a).sum(), (Sample(((3, 4),)),), "SparseSumBackward0"),
    OpInfo("sparse.sum_dense_dim",
           lambda a: autodiff.sparse.sum(_thinned(a).to_sparse(1), 1).to_dense(),
           lambda a: _thin(a).sum(axis=1), (Sample(((3, 4, 2),)),), "ToDenseBackward0"),
    OpInfo("sparse_mask", lambda a, b: a.sparse_mask(_sparse(b)).to_dense(),
           lambda a, b: a * _mask_array(b.shape), (Sample(((3, 4), (3, 4))),),
           "ToDenseBackward0", grad_inputs=1),
    OpInfo("sparse.softmax", lambda a: autodiff.sparse.softmax(_sparse(a), 1).to_dense(),
           lambda a: _masked_softmax(a, 1), (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse.softmax_dim0", lambda a: autodiff.sparse.softmax(_sparse(a), 0).to_dense(),
           lambda a: _masked_softmax(a, 0), (Sample(((3, 4),)), Sample(((2, 3, 2),))),
           "ToDenseBackward0"),
    OpInfo("sparse.log_softmax",
           lambda a: autodiff.sparse.log_softmax(_sparse(a), -1).to_dense(),
           lambda a: _masked_softmax(a, -1, log=True), (Sample(((3, 4),)),),
           "ToDenseBackward0"),
    OpInfo("sparse.softmax_values",
           lambda a: autodiff.sparse.softmax(_sparse(a), 1).coalesce().values(),
           lambda a: _masked_softmax(a, 1)[_mask_array(a.shape)], (Sample(((3, 4),)),),
           "ValuesBackward0"),
    OpInfo("sparse_select", lambda a: _sparse(a).select(0, 1).to_dense(),
           lambda a: _thin(a)[1], (Sample(((3, 4),)), Sample(((2, 3, 2),))), "ToDenseBackward0"),
    OpInfo("sparse_select_to_dense_sum", lambda a: _sparse(a)[2, 1], lambda a: _thin(a)[2, 1],
           (Sample(((3, 4),)),), "SelectBackward0"),
    OpInfo("sparse_select_dense_dim",
           lambda a: _thinned(a).to_sparse(1).select(1, 2).to_dense(),
           lambda a: _thin(a)[:, 2], (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse_index_select",
           lambda a: _sparse(a).index_select(1, autodiff.tensor([2, 0, 2], device=a.device))
           .to_dense(), lambda a: _thin(a)[:, [2, 0, 2]], (Sample(((3, 4),)),),
           "ToDenseBackward0"),
    OpInfo("sparse_index_select_dense_dim",
           lambda a: _thinned(a).to_sparse(1).index_select(1, autodiff.tensor(
               [3, 3, 0], device=a.device)).to_dense(),
           lambda a: _thin(a)[:, [3, 3, 0]], (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("sparse_clone_to", lambda a: _sparse(a).clone().to(a.device).to_dense(), _thin,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
]
