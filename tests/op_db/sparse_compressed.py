"""Compressed sparse tensors (CSR, CSC, BSR, BSC) in the op table: each entry makes its sparse
operand from a dense input with a third of its entries zeroed (so the sparsity is real) and
returns a dense tensor (or the values), so forward, gradcheck and gradgradcheck run as for
dense ops, on every device."""

from __future__ import annotations

import numpy as np

import autodiff

from .info import OpInfo, Sample
from .sparse import MATRICES, _mask_array, _thin, _thinned


def _csr(x: autodiff.Tensor) -> autodiff.Tensor:
    return _thinned(x).to_sparse_csr()


def _csc(x: autodiff.Tensor) -> autodiff.Tensor:
    return _thinned(x).to_sparse_csc()


def _bsr(x: autodiff.Tensor) -> autodiff.Tensor:
    return _thinned(x).to_sparse_bsr((2, 2))


def _bsc(x: autodiff.Tensor) -> autodiff.Tensor:
    return _thinned(x).to_sparse_bsc((1, 2))


def _every_other(x: autodiff.Tensor) -> autodiff.Tensor:
    """x with every second entry (row-major) zero: a sparsity other than `_thinned`'s."""
    positions = autodiff.arange(x.numel(), device=x.device).reshape(x.shape)
    return x * (positions % 2 != 0)


def _every_other_array(a: np.ndarray) -> np.ndarray:
    return a * ((np.arange(a.size).reshape(a.shape) % 2) != 0)


def _both_mask(shape: tuple[int, ...]) -> np.ndarray:
    """Where `_thinned` and `_every_other` both keep an entry: their product's elements."""
    return _mask_array(shape) & ((np.arange(int(np.prod(shape))).reshape(shape) % 2) != 0)


def _values_csr(values: autodiff.Tensor) -> autodiff.Tensor:
    """A (3, 4) CSR tensor from 5 values: row 0 holds columns 1 and 3, row 2 columns 0, 2, 3."""
    return autodiff.sparse_csr_tensor(
        autodiff.tensor([0, 2, 2, 5], device=values.device),
        autodiff.tensor([1, 3, 0, 2, 3], device=values.device), values, (3, 4))


def _values_dense(values: np.ndarray) -> np.ndarray:
    out = np.zeros((3, 4))
    out[[0, 0, 2, 2, 2], [1, 3, 0, 2, 3]] = values
    return out


# (3, 4) tensors from values: each layout's indices, and the (row, column) each value lands at.
_LAYOUT_SAMPLES = {
    "csc": ([0, 2, 2, 3, 5], [0, 2, 1, 0, 2], ([0, 2, 1, 0, 2], [0, 0, 2, 3, 3])),
    "bsr": ([0, 1, 1, 3], [1, 0, 1], ([0, 0, 2, 2, 2, 2], [2, 3, 0, 1, 2, 3])),  # 1 x 2 blocks
    "bsc": ([0, 2, 3], [0, 2, 1], ([0, 0, 2, 2, 1, 1], [0, 1, 0, 1, 2, 3])),
    "compressed": ([0, 2, 2, 5], [1, 3, 0, 2, 3], ([0, 0, 2, 2, 2], [1, 3, 0, 2, 3])),
}
_LAYOUTS = {"csc": autodiff.sparse_csc, "bsr": autodiff.sparse_bsr, "bsc": autodiff.sparse_bsc,
            "compressed": autodiff.sparse_csr}


def _from_values(kind: str) -> object:
    compressed, plain, _ = _LAYOUT_SAMPLES[kind]

    def make(values: autodiff.Tensor) -> autodiff.Tensor:
        device = values.device
        return autodiff.sparse_compressed_tensor(
            autodiff.tensor(compressed, device=device), autodiff.tensor(plain, device=device),
            values, (3, 4), layout=_LAYOUTS[kind]).to_dense()
    return make


def _dense_from_values(kind: str) -> object:
    positions = _LAYOUT_SAMPLES[kind][2]

    def ref(values: np.ndarray) -> np.ndarray:
        out = np.zeros((3, 4))
        out[positions] = values.reshape(-1)
        return out
    return ref


def _sampled(c: np.ndarray, m1: np.ndarray, m2: np.ndarray) -> np.ndarray:
    return _mask_array(c.shape) * (0.5 * c + 2.0 * (m1 @ m2))


SQUARE_BLOCKS = (Sample(((4, 4), (4, 3))), Sample(((2, 6), (6, 2))))
SAMPLED = (Sample(((3, 4), (3, 2), (2, 4))),)

COMPRESSED = [
    OpInfo("csr_mm", lambda a, b: autodiff.mm(_csr(a), b), lambda a, b: _thin(a) @ b,
           MATRICES, "MmBackward0"),
    OpInfo("csr_matmul_operator", lambda a, b: _csr(a) @ b, lambda a, b: _thin(a) @ b,
           MATRICES, "MmBackward0"),
    OpInfo("dense_csr_mm", lambda a, b: a @ _csr(b), lambda a, b: a @ _thin(b), MATRICES,
           "MmBackward0"),
    OpInfo("csc_mm", lambda a, b: _csc(a) @ b, lambda a, b: _thin(a) @ b, MATRICES,
           "MmBackward0"),
    OpInfo("bsr_mm", lambda a, b: _bsr(a) @ b, lambda a, b: _thin(a) @ b, SQUARE_BLOCKS,
           "MmBackward0"),
    OpInfo("csr_mm_csr", lambda a, b: (_csr(a) @ _csr(b)).to_dense(),
           lambda a, b: _thin(a) @ _thin(b), MATRICES, "ToDenseBackward0"),
    OpInfo("csr_mv", lambda a, v: _csr(a) @ v, lambda a, v: _thin(a) @ v,
           (Sample(((3, 4), (4,))),), "MvBackward0"),
    OpInfo("csr_torch_addmm", lambda c, a, b: autodiff.addmm(c, _csr(a), b, alpha=2.0),
           lambda c, a, b: c + 2.0 * (_thin(a) @ b), (Sample(((3, 5), (3, 4), (4, 5))),),
           "AddmmBackward0"),
    OpInfo("sparse.mm_csr", lambda a, b: autodiff.sparse.mm(_csr(a), b),
           lambda a, b: _thin(a) @ b, MATRICES, "SparseAddmmBackward0"),
    OpInfo("sparse.addmm_csr",
           lambda c, a, b: autodiff.sparse.addmm(c, _csr(a), b, beta=0.5, alpha=2.0),
           lambda c, a, b: 0.5 * c + 2.0 * (_thin(a) @ b),
           (Sample(((3, 5), (3, 4), (4, 5))), Sample(((5,), (3, 4), (4, 5)))),
           "SparseAddmmBackward0"),
    OpInfo("sparse.sampled_addmm",
           lambda c, m1, m2: autodiff.sparse.sampled_addmm(_csr(c), m1, m2, beta=0.5,
                                                           alpha=2.0).to_dense(),
           _sampled, SAMPLED, "ToDenseBackward0"),
    OpInfo("sparse.sampled_addmm_values",
           lambda c, m1, m2: autodiff.sparse.sampled_addmm(_csr(c), m1, m2).values(),
           lambda c, m1, m2: (c + m1 @ m2)[_mask_array(c.shape)], SAMPLED,
           "ValuesBackward0"),
    OpInfo("csr_to_dense", lambda a: _csr(a).to_dense(), _thin, (Sample(((3, 4),)),),
           "ToDenseBackward0"),
    OpInfo("csr_hybrid_to_dense", lambda a: _thinned(a).to_sparse_csr(dense_dim=1).to_dense(),
           _thin, (Sample(((3, 4, 2),)),), "ToDenseBackward0"),
    OpInfo("csc_to_dense", lambda a: _csc(a).to_dense(), _thin, (Sample(((3, 4),)),),
           "ToDenseBackward0"),
    OpInfo("bsr_to_dense", lambda a: _bsr(a).to_dense(), _thin, (Sample(((4, 6),)),),
           "ToDenseBackward0"),
    OpInfo("bsc_to_dense", lambda a: _bsc(a).to_dense(), _thin, (Sample(((3, 4),)),),
           "ToDenseBackward0"),
    OpInfo("csr_values", lambda a: _csr(a).values(), lambda a: _thin(a)[_mask_array(a.shape)],
           (Sample(((3, 4),)),), "ValuesBackward0"),
    OpInfo("sparse_csr_tensor", lambda v: _values_csr(v).to_dense(), _values_dense,
           (Sample(((5,),)),), "ToDenseBackward0"),
    OpInfo("sparse_csc_tensor", _from_values("csc"), _dense_from_values("csc"),
           (Sample(((5,),)),), "ToDenseBackward0"),
    OpInfo("sparse_bsr_tensor", _from_values("bsr"), _dense_from_values("bsr"),
           (Sample(((3, 1, 2),)),), "ToDenseBackward0"),
    OpInfo("sparse_bsc_tensor", _from_values("bsc"), _dense_from_values("bsc"),
           (Sample(((3, 1, 2),)),), "ToDenseBackward0"),
    OpInfo("sparse_compressed_tensor", _from_values("compressed"),
           _dense_from_values("compressed"), (Sample(((5,),)),), "ToDenseBackward0"),
    OpInfo("csr_to_csc", lambda a: _csr(a).to_sparse_csc().to_dense(), _thin,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("csr_to_bsr", lambda a: _csr(a).to_sparse_bsr((1, 2)).to_dense(), _thin,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("csr_to_coo", lambda a: _csr(a).to_sparse().to_dense(), _thin,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("coo_to_csr", lambda a: _thinned(a).to_sparse().to_sparse_csr().to_dense(), _thin,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("coo_to_csc", lambda a: _thinned(a).to_sparse().to_sparse_csc().to_dense(), _thin,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("to_sparse_layout_csr",
           lambda a: _thinned(a).to_sparse(layout=autodiff.sparse_csr).values(),
           lambda a: _thin(a)[_mask_array(a.shape)], (Sample(((3, 4),)),), "ValuesBackward0"),
    OpInfo("csr_mul_number", lambda a: (_csr(a) * 2.5).to_dense(), lambda a: 2.5 * _thin(a),
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("csr_neg", lambda a: (-_csr(a)).to_dense(), lambda a: -_thin(a),
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("csr_sin", lambda a: _csr(a).sin().to_dense(), lambda a: np.sin(_thin(a)),
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("csr_add_csr", lambda a, b: (_csr(a) + _csr(b)).to_dense(),
           lambda a, b: _thin(a) + _thin(b), (Sample(((3, 4), (3, 4))),), "ToDenseBackward0"),
    OpInfo("csr_add_transposed_csr", lambda a, b: (_csr(a) + _csc(b.mT).t()).to_dense(),
           lambda a, b: _thin(a) + _thin(b.T).T, (Sample(((3, 4), (3, 4))),),
           "ToDenseBackward0"),
    OpInfo("csr_mul_csr", lambda a, b: (_csr(a) * _csr(b)).to_dense(),
           lambda a, b: _thin(a) * _thin(b), (Sample(((3, 4), (3, 4))),), "ToDenseBackward0"),
    OpInfo("csr_mul_csr_other_elements",
           lambda a, b: (_csr(a) * _every_other(b).to_sparse_csr()).to_dense(),
           lambda a, b: _thin(a) * _every_other_array(b), (Sample(((3, 4), (3, 4))),),
           "ToDenseBackward0"),
    OpInfo("csr_mul_csr_values",
           lambda a, b: (_csr(a) * _every_other(b).to_sparse_csr()).values(),
           lambda a, b: (a * b)[_both_mask(a.shape)], (Sample(((3, 4), (3, 4))),),
           "ValuesBackward0"),
    OpInfo("csr_hybrid_mul_csr",
           lambda a, b: (_thinned(a).to_sparse_csr(dense_dim=1)
                         * _thinned(b).to_sparse_csr(dense_dim=1)).to_dense(),
           lambda a, b: _thin(a) * _thin(b), (Sample(((3, 4, 2), (3, 4, 2))),),
           "ToDenseBackward0"),
    # A dense or CSC factor's gradient would be CSR, which PyTorch refuses: not differentiated.
    OpInfo("csr_mul_dense", lambda a, d: (_csr(a) * d).to_dense(), lambda a, d: _thin(a) * d,
           (Sample(((3, 4), (3, 4))),), "ToDenseBackward0", grad_inputs=1),
    OpInfo("dense_mul_csr", lambda a, d: (d * _csr(a)).to_dense(), lambda a, d: d * _thin(a),
           (Sample(((3, 4), (3, 4))),), "ToDenseBackward0", grad_inputs=1),
    OpInfo("csr_mul_csc", lambda a, b: (_csr(a) * _csc(b)).to_dense(),
           lambda a, b: _thin(a) * _thin(b), (Sample(((3, 4), (3, 4))),), "ToDenseBackward0",
           grad_inputs=1),
    OpInfo("csr_mul_0d_tensor", lambda a, s: (_csr(a) * s).to_dense(),
           lambda a, s: _thin(a) * s, (Sample(((3, 4), ())),), "ToDenseBackward0"),
    # Batched: a batch dim first (every batch keeps the same number of elements: each row of
    # _thinned's mask keeps the same count when the rows hold a multiple of 3).
    OpInfo("batched_csr_to_dense", lambda a: _csr(a).to_dense(), _thin,
           (Sample(((2, 3, 3),)),), "ToDenseBackward0"),
    OpInfo("batched_csc_to_dense", lambda a: _csc(a).to_dense(), _thin,
           (Sample(((2, 3, 3),)),), "ToDenseBackward0"),
    OpInfo("batched_bsr_to_dense", lambda a: _thinned(a).to_sparse_bsr((1, 3)).to_dense(),
           _thin, (Sample(((2, 2, 3),)),), "ToDenseBackward0"),
    OpInfo("batched_csr_values", lambda a: _csr(a).values(),
           lambda a: _thin(a)[_mask_array(a.shape)].reshape(a.shape[0], -1),
           (Sample(((2, 3, 3),)),), "ValuesBackward0"),
    OpInfo("batched_csr_transpose", lambda a: _csr(a).transpose(1, 2).to_dense(),
           lambda a: _thin(a).transpose(0, 2, 1), (Sample(((2, 3, 3),)),), "ToDenseBackward0"),
    OpInfo("batched_csr_select", lambda a: _csr(a)[1].to_dense(), lambda a: _thin(a)[1],
           (Sample(((2, 3, 3),)),), "ToDenseBackward0"),
    OpInfo("batched_sparse_csr_tensor",
           lambda v: autodiff.sparse_csr_tensor(
               autodiff.tensor([[0, 1, 2], [0, 0, 2]], device=v.device),
               autodiff.tensor([[0, 2], [0, 1]], device=v.device), v, (2, 2, 3)).to_dense(),
           lambda v: np.array([[[v[0, 0], 0, 0], [0, 0, v[0, 1]]],
                               [[0, 0, 0], [v[1, 0], v[1, 1], 0]]]),
           (Sample(((2, 2),)),), "ToDenseBackward0"),
    OpInfo("dense_add_csr", lambda d, a: d + _csr(a), lambda d, a: d + _thin(a),
           (Sample(((3, 4), (3, 4))),), "AddBackward0"),
    OpInfo("csr_sum", lambda a: _csr(a).sum(), lambda a: _thin(a).sum(), (Sample(((3, 4),)),),
           "SumBackward0"),
    OpInfo("csr_t", lambda a: _csr(a).t().to_dense(), lambda a: _thin(a).T,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
    OpInfo("bsr_transpose", lambda a: _bsr(a).transpose(0, 1).to_dense(), lambda a: _thin(a).T,
           (Sample(((4, 6),)),), "ToDenseBackward0"),
    OpInfo("csr_sparse_mask", lambda a, b: a.sparse_mask(_csr(b)).to_dense(),
           lambda a, b: a * _mask_array(b.shape), (Sample(((3, 4), (3, 4))),),
           "ToDenseBackward0", grad_inputs=1),
    OpInfo("csr_clone_to", lambda a: _csr(a).clone().to(a.device).to_dense(), _thin,
           (Sample(((3, 4),)),), "ToDenseBackward0"),
]
