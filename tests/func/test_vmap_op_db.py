"""Every op-table entry under vmap, against a loop of unbatched calls (as PyTorch's test_vmap
does with OpInfo): each input batched in turn and all together, the mapped dim in front and
at the end; and the list of entries that run by batching rules rather than the loop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
from autodiff.func import vmap
from tests.op_db import OP_DB, OpInfo, Sample
from tests.op_db.inplace import INPLACE

BATCH = 3
CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB
    for index, sample in enumerate(info.samples)
]
# Entries whose op still runs once per example (no batching rule for them, or for the case
# their samples reach): checked against the loop too. Every other entry must batch without
# PyTorch's performance warning, so a lost rule fails here.
LOOPED = {
    "as_strided", "as_strided_of_a_view", "as_strided_overlapping", "as_strided_scatter",
    "binomial", "combinations", "combinations_3_replacement", "combinations_too_many",
    "corrcoef", "cov", "cov_weights", "ctc_loss_mean", "ctc_loss_none", "ctc_loss_sum",
    "embedding_bag_2d", "embedding_bag_max", "embedding_bag_mean",
    "embedding_bag_per_sample_weights", "embedding_bag_sum", "fill_diagonal_",
    "fill_diagonal_wrap", "histc", "histc_range", "histogram", "histogram_edges",
    "histogram_weight_density", "histogramdd", "isin", "masked_fill_tensor_", "masked_scatter",
    "masked_scatter_",
    "nn.utils.rnn.pack_padded_sequence",
    "nn.utils.rnn.pack_padded_sequence_unsorted_batch_first", "nn.utils.rnn.pad_packed_sequence",
    "nn.utils.rnn.pad_packed_sequence_batch_first", "nn.utils.rnn.pad_sequence",
    "quantile_vector_q", "squeeze_", "squeeze_dim_", "squeeze_dims_", "t_", "transpose_",
    "unsqueeze_",
    # The factorizations and complex views that came with autodiff.linalg: no rule yet.
    "cholesky", "geqrf", "linalg.cholesky_ex", "linalg.cond", "linalg.cond_fro", "linalg.cond_nuc",
    "linalg.eig", "linalg.eig_complex_input", "linalg.eig_vectors", "linalg.eigvals",
    "linalg.householder_product", "linalg.inv_ex", "linalg.ldl_factor", "linalg.ldl_factor_ex",
    "linalg.ldl_solve", "linalg.lstsq", "linalg.lstsq_gelsd", "linalg.lu", "linalg.lu_L",
    "linalg.lu_U", "linalg.lu_factor", "linalg.lu_factor_ex", "linalg.lu_solve",
    "linalg.lu_solve_adjoint", "linalg.lu_solve_right", "linalg.matrix_exp", "linalg.matrix_rank",
    "linalg.pinv", "linalg.pinv_hermitian", "linalg.qr", "linalg.qr_r", "linalg.solve_ex",
    "linalg.svd", "linalg.svd_full", "linalg.svd_vectors", "linalg.svdvals", "lu", "lu_solve",
    "lu_unpack", "lu_unpack_wide", "matrix_exp", "orgqr", "ormqr", "ormqr_transpose_right",
    "pinverse", "polar", "qr", "svd", "torch.embedding_bag_0", "torch.embedding_bag_1",
    "torch.embedding_bag_2", "triangular_solve", "vander", "vander_increasing", "vdot",
    "vdot_complex", "view_as_complex",
}
# Entries that write into (a copy of) their first input in place.
WRITES_FIRST_INPUT = {info.name for info in INPLACE} | {
    info.name for info in OP_DB
    if info.name.endswith("_") or "setitem" in info.name or "index_put" in info.name}
# Entries that draw random numbers: vmap's randomness flag decides (tested on their own).
RANDOM = {info.name for info in OP_DB
          if (any(word in info.name for word in ("dropout", "bernoulli", "normal_", "poisson",
                                                "multinomial", "gumbel", "rrelu_training",
                                                "rrelu__training"))
          and "nll" not in info.name) or info.name == "rrelu"}
# Entries that update running statistics they were given unbatched: with a batched input,
# PyTorch's vmap refuses them (each example would update the same buffers in place).
RUNNING_STATS = {"F.batch_norm_running"}
# Entries whose output shape depends on the values: PyTorch's vmap refuses them.
DYNAMIC_SHAPE = {info.name for info in OP_DB
                 if info.name.startswith(("nonzero", "argwhere", "unique", "masked_select",
                                          "bincount", "getitem_mask_and", "getitem_random_mask",
                                          "setitem_mask"))}


# Entries that give a tensor another geometry in place (as_strided_): refused under vmap
# (PyTorch's vmap runs the op per example and leaves the batched tensor's shape unchanged).
GEOMETRY_IN_PLACE = {"as_strided_", "as_strided_[overlapping]", "torch.as_strided_"}


def _batched_inputs(info: OpInfo, sample: Sample, device: str) -> list[autodiff.Tensor]:
    rng = np.random.default_rng(0)
    low, high = info.domain
    return [autodiff.tensor(rng.uniform(low, high, size=(BATCH, *shape)), dtype=autodiff.float64,
                            device=device) for shape in sample.shapes]


def _as_numpy(out: autodiff.Tensor) -> np.ndarray:
    return np.array(out.tolist()).reshape(tuple(out.shape))


def _compare(batched: object, looped: list[object], dim: int) -> None:
    if isinstance(batched, autodiff.Tensor):
        expected = autodiff.stack(looped, dim)  # type: ignore[arg-type]
        assert batched.shape == expected.shape
        assert batched.dtype == expected.dtype
        np.testing.assert_allclose(_as_numpy(batched), _as_numpy(expected), rtol=1e-10,
                                   atol=1e-12, equal_nan=True)
    else:
        assert isinstance(batched, tuple)
        for index, part in enumerate(batched):
            _compare(part, [result[index] for result in looped], dim)  # type: ignore[index]


def _run(info: OpInfo, sample: Sample, device: str, in_dims: tuple[int | None, ...],
         move_to_end: bool) -> bool:
    """vmap(op) against the loop; True when the op needed the loop fallback."""
    inputs = _batched_inputs(info, sample, device)
    looped = []
    for index in range(BATCH):
        args = [x[index] if dim is not None else x[0] for x, dim in zip(inputs, in_dims)]
        looped.append(info.op(*args))
    args = [x if dim is not None else x[0] for x, dim in zip(inputs, in_dims)]
    dims: list[int | None] = list(in_dims)
    if move_to_end:
        args = [x.movedim(0, -1) if dim is not None else x for x, dim in zip(args, in_dims)]
        dims = [x.dim() - 1 if dim is not None else None for x, dim in zip(args, in_dims)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = vmap(info.op, in_dims=tuple(dims))(*args)
        except RuntimeError as error:
            # In place into an unbatched tensor from batched values: PyTorch's refusal.
            if in_dims[0] is None and info.name in WRITES_FIRST_INPUT and (
                    "doesn't match the broadcast shape" in str(error)
                    or "being vmapped over but `self` not being vmapped over" in str(error)):
                return False
            if in_dims[0] is not None and info.name in RUNNING_STATS and \
                    "Batch norm got a batched tensor as input while the running_mean" in \
                    str(error):
                return False
            raise
    _compare(out, looped, 0)
    return any("performance drop" in str(w.message) for w in caught)


@pytest.mark.parametrize(("info", "sample"), CASES)
def test_vmap_matches_loop(info: OpInfo, sample: Sample, device: str) -> None:
    if info.name in RANDOM:
        _check_random(info, sample, device)
        return
    if info.name in GEOMETRY_IN_PLACE:
        with pytest.raises(RuntimeError, match="vmap: as_strided_ is not supported inside vmap"):
            vmap(info.op)(*_batched_inputs(info, sample, device))
        return
    if info.name in DYNAMIC_SHAPE:
        with pytest.raises(RuntimeError, match="We do not support batching operators that can "
                                               "output dynamic shape"):
            vmap(info.op)(*_batched_inputs(info, sample, device))
        return
    count = len(sample.shapes)
    fell_back = _run(info, sample, device, (0,) * count, move_to_end=False)
    _run(info, sample, device, (0,) * count, move_to_end=True)
    if count > 1:
        for batched in range(count):
            in_dims = tuple(0 if i == batched else None for i in range(count))
            fell_back |= _run(info, sample, device, in_dims, move_to_end=False)
    assert not fell_back or info.name in LOOPED, (
        f"{info.name} ran once per example (the fallback's performance warning)")


def test_looped_entries_exist_and_named_families_batch() -> None:
    """The list of looped entries names op-table entries, and none of the families that have
    batching rules of their own (convolutions, scatter/gather and index_*, FFTs, recurrent
    cells and layers, attention, normalization, distances) is on it."""
    names = {info.name for info in OP_DB}
    assert not LOOPED - names, sorted(LOOPED - names)
    families = ("F.conv", "scatter", "gather", "index_add", "index_copy", "index_reduce",
                "index_select", "fft.", "rnn.", "scaled_dot_product", "F.batch_norm",
                "F.group_norm", "F.instance_norm", "layer_norm", "pdist", "cdist", "dist")
    assert not [name for name in LOOPED if name.startswith(families)]


def _check_random(info: OpInfo, sample: Sample, device: str) -> None:
    """randomness='error' refuses the op (when it draws); 'same' gives every example the
    draws of one unbatched call from the same generator state."""
    inputs = _batched_inputs(info, sample, device)
    autodiff.manual_seed(0)
    try:
        info.op(*[x[0] for x in inputs])
        draws = True
    except RuntimeError:
        draws = False
    with pytest.raises(RuntimeError, match="randomness error mode") if draws else \
            warnings.catch_warnings():
        vmap(info.op)(*inputs)
    looped = []
    for index in range(BATCH):
        autodiff.manual_seed(0)
        looped.append(info.op(*[x[index] for x in inputs]))
    autodiff.manual_seed(0)
    _compare(vmap(info.op, randomness="same")(*inputs), looped, 0)
    different = vmap(info.op, randomness="different")(*inputs)
    assert different.shape == autodiff.stack(looped).shape
