"""Every op-table entry under vmap, against a loop of unbatched calls (as PyTorch's test_vmap
does with OpInfo): each input batched in turn and all together, the mapped dim in front and
at the end; and the list of entries that run by batching rules rather than the loop."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.func import grad, jacfwd, jacrev, vmap
from tests.op_db import OP_DB, OpInfo, Sample
from tests.op_db.decompositions import DECOMPOSITIONS
from tests.op_db.inplace import INPLACE
from tests.op_db.sparse import SPARSE
from tests.op_db.sparse_compressed import COMPRESSED

BATCH = 3
CASES = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB
    for index, sample in enumerate(info.samples)
]
# Entries whose op still runs once per example (no batching rule for them, or for the case
# their samples reach): checked against the loop too. Every other entry must batch without
# PyTorch's performance warning, so a lost rule fails here.
# histogram: PyTorch 2.13's vmap runs it once per example too, with its performance warning
# (for aten::histogram.bin_ct). histogramdd: PyTorch 2.13's vmap refuses it ("Batching rule
# not implemented for aten::histogramdd. We could not generate a fallback."); the loop gives
# each example's histogram, so it stays (tests/func/test_vmap_masked_rules.py).
LOOPED = {"histogram", "histogram_edges", "histogram_weight_density", "histogramdd"}
# Entries that read their input's memory (as_strided): inside vmap each example's view is of
# its own memory, as PyTorch's rule has it, so the loop runs on each example's own copy.
OWN_MEMORY = {"as_strided", "as_strided_of_a_view", "as_strided_overlapping",
              "as_strided_of_an_expand"}
# Entries that write into (a copy of) their first input in place.
WRITES_FIRST_INPUT = {info.name for info in INPLACE} | {
    info.name for info in OP_DB
    if info.name.endswith("_") or "setitem" in info.name or "index_put" in info.name}
# Entries that draw random numbers: vmap's randomness flag decides (tested on their own).
RANDOM = {info.name for info in OP_DB
          if (any(word in info.name for word in ("dropout", "bernoulli", "normal_", "poisson",
                                                "multinomial", "gumbel", "rrelu_training",
                                                "rrelu__training", "lowrank"))
          and "nll" not in info.name) or info.name in ("rrelu", "binomial")}
# Entries that update running statistics they were given unbatched: with a batched input,
# PyTorch's vmap refuses them (each example would update the same buffers in place).
RUNNING_STATS = {"F.batch_norm_running"}
# Entries that lay their result out in a memory format other than contiguous or preserve:
# PyTorch's vmap refuses them ("NYI: Tensor.clone(memory_format) inside vmap is only supported
# with memory_format torch.preserve_format or torch.contiguous_format"); autodiff's too, as it
# does any read of a batched tensor's strides.
MEMORY_FORMAT = {"clone_channels_last_3d", "to_channels_last_of_a_view"}
# Entries whose output shape depends on the values: PyTorch's vmap refuses them.
DYNAMIC_SHAPE = {info.name for info in OP_DB
                 if info.name.startswith(("nonzero", "argwhere", "unique", "masked_select",
                                          "bincount", "getitem_mask_and", "getitem_random_mask",
                                          "setitem_mask")) and info.name != "nonzero_static"}
# Entries autodiff's vmap refuses where PyTorch's runs them once per example (a gap).
NOT_BATCHED = {"nonzero_static"}


# Entries that give a tensor another geometry in place (as_strided_): refused under vmap
# (PyTorch's vmap runs the op per example and leaves the batched tensor's shape unchanged).
# vmap has no batching rules for sparse tensors
SPARSE_LAYOUT = {info.name for info in (*SPARSE, *COMPRESSED)}
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
        if info.name in OWN_MEMORY:
            args = [x.clone() for x in args]
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
    if info.name in SPARSE_LAYOUT:
        with pytest.raises(RuntimeError, match="sparse tensors are not supported inside vmap"):
            vmap(info.op)(*_batched_inputs(info, sample, device))
        return
    if info.name in GEOMETRY_IN_PLACE:
        with pytest.raises(RuntimeError, match="vmap: as_strided_ is not supported inside vmap"):
            vmap(info.op)(*_batched_inputs(info, sample, device))
        return
    if info.name in MEMORY_FORMAT:
        with pytest.raises(RuntimeError,
                           match="strides of a batched Tensor are not available inside vmap"):
            vmap(info.op)(*_batched_inputs(info, sample, device))
        return
    if info.name in NOT_BATCHED:
        with pytest.raises(RuntimeError, match=f"^vmap: {info.name} is not supported inside vmap"):
            vmap(info.op)(*_batched_inputs(info, sample, device))
        return
    if info.name in DYNAMIC_SHAPE:
        # masked_select batches with a mask every example shares; a mask per example is
        # refused in PyTorch's words for it
        message = "Attempted to vmap over `mask` in torch.masked_select" \
            if info.name.startswith("masked_select") else \
            "We do not support batching operators that can output dynamic shape"
        with pytest.raises(RuntimeError, match=message):
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


# The entries of the linear algebra and the others whose forward batches by a rule of its own:
# their backward and forward-mode formulas must batch too, under vmap(grad), vmap(jacrev)
# (which also maps the backward over the cotangents) and vmap(jacfwd).
BATCHED_GRADIENTS = [
    pytest.param(info, sample, id=f"{info.name}-{index}")
    for info in OP_DB
    if info.differentiable and (info in DECOMPOSITIONS or info.name in (
        "vdot", "vdot_complex", "polar", "view_as_complex", "vander", "vander_increasing",
        "cov", "cov_weights", "corrcoef", "fill_diagonal_", "fill_diagonal_wrap",
        "quantile_vector_q", "as_strided", "as_strided_of_a_view", "as_strided_overlapping",
        "as_strided_of_an_expand",
        "as_strided_scatter", "t_", "transpose_", "squeeze_", "squeeze_dim_", "squeeze_dims_",
        "unsqueeze_") or info.name.startswith((
            "embedding_bag", "torch.embedding_bag", "ctc_loss", "nn.utils.rnn.")))
    for index, sample in enumerate(info.samples)
]
# Ops with no forward-mode formula (as in PyTorch): jacfwd raises PyTorch's error.
NO_FORWARD_AD = {"ormqr": "ormqr", "ormqr_transpose_right": "ormqr", "ctc_loss_mean": "_ctc_loss",
                 "ctc_loss_sum": "_ctc_loss", "ctc_loss_none": "_ctc_loss"}
# as_strided inside two vmaps (jacfwd maps the tangents too): the examples' tensor is itself
# batched, its strides not observable, so the inner vmap runs the op once per example.
NESTED_LOOPED = {"as_strided", "as_strided_of_a_view", "as_strided_overlapping",
                 "as_strided_of_an_expand"}


def _loss(info: OpInfo) -> Any:
    def loss(*inputs: autodiff.Tensor) -> autodiff.Tensor:
        out = info.op(*inputs)
        if out.dtype.is_complex:
            out = out.abs()
        return (out * out).sum()

    return loss


@pytest.mark.parametrize("transform", [grad, jacrev, jacfwd])
@pytest.mark.parametrize(("info", "sample"), BATCHED_GRADIENTS)
def test_vmap_of_gradients_matches_loop(info: OpInfo, sample: Sample, transform: Any,
                                        device: str) -> None:
    inputs = _batched_inputs(info, sample, device)
    argnums = tuple(range(info.grad_inputs or len(inputs)))
    function = transform(_loss(info), argnums=argnums)
    if transform is jacfwd and info.name in NO_FORWARD_AD:
        with pytest.raises(NotImplementedError, match="Trying to use forward AD with "
                                                      f"{NO_FORWARD_AD[info.name]} "):
            vmap(function)(*inputs)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batched = vmap(function)(*inputs)
    slow = [str(w.message) for w in caught if "performance drop" in str(w.message)]
    assert not slow or (transform is jacfwd and info.name in NESTED_LOOPED), slow
    looped = [function(*[x[index].clone() if info.name in OWN_MEMORY else x[index]
                         for x in inputs]) for index in range(BATCH)]
    _compare(tuple(batched), [tuple(result) for result in looped], 0)
