"""Every op table entry whose node PyTorch names the same: the node's `_saved_<name>` and
`_raw_saved_<name>` attributes are PyTorch's, and so are their values (a saved input is the very
input Tensor where PyTorch's is; numbers, tuples and None of PyTorch's types). Needs PyTorch
(skipped without it). The nodes in NOT_DECLARED and the entries in ENTRY_DIFFERENCES differ, each
for the reason given; they are strict xfails, so one that starts to match must leave the list.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.autograd.torch_op_db import on_torch
from tests.op_db import OP_DB, OpInfo
from tests.op_db.sparse import SPARSE
from tests.op_db.sparse_compressed import COMPRESSED

torch = pytest.importorskip("torch")

# Why an entry's node shows other saved attributes than PyTorch's.
SCALAR_AS_FLOAT = ("PyTorch keeps a Scalar argument as the caller's Python number (ord=2 stays "
                   "an int); autodiff's op converts it to float before the node keeps it")
DIMS_AS_KEPT = ("PyTorch shows dims and indices as given (a negative one as an unsigned 64-bit "
                "number, its conversion bug); autodiff's node keeps them wrapped and sorted (a "
                "0-d input's dim 0 as no dim)")
ROW_MAJOR = ("autodiff's factorization results are row-major where LAPACK's, in PyTorch, are "
             "column-major: the saved matrices' strides differ")
EIGENVECTOR_SIGNS = ("eigenvectors are defined up to sign and the LAPACK drivers pick other "
                     "signs: the saved tensor's values differ (both right)")
POWER_ORDER = ("autodiff's matrix_power multiplies the powers in another order: the last "
               "MmBackward0's operands differ")
RANDOM = "random: the Gumbel noise comes from another generator"
UNWRITTEN_ALPHA = ("PyTorch's ctc_loss leaves the log_alpha entries past a sample's input length "
                   "and lattice uninitialized; autodiff's hold -inf and the continued "
                   "recursion (test_ctc_log_alpha_where_pytorch_writes_it compares the rest)")
RANDOM_BLOCK = "random: the range finder's Gaussian block comes from another generator"
RANDOM_SLOPES = "random: rrelu's slopes (its saved noise) come from another generator"
UNINITIALIZED_NOISE = ("in evaluation PyTorch's rrelu saves an uninitialized noise buffer it "
                       "never reads; autodiff's node saves None")
OTHER_RESHAPE = "autodiff's node reshapes from another intermediate shape"
SGN_REAL = "autodiff's sgn of a real input saves nothing (its gradient is zero)"
BROADCAST_FIRST = ("PyTorch's take_along_dim broadcasts the input first and gathers from that "
                   "view; autodiff gathers from the input itself")
SAME_PADDED = ("for padding='same' that is longer on one side PyTorch pads a copy of the input "
               "and saves that; autodiff's node pads inside its kernel and saves the input")
NLL_4D_VIEW = ("PyTorch's nll_loss2d takes a 3-D input as a 4-D view (N, C, 1, L) and saves "
               "that view; autodiff's node takes the 3-D input itself")
INDICES_AS_KEPT = ("PyTorch's index nodes save a boolean mask and negative indices as given; "
                   "autodiff's keep a mask as the index arrays of its True elements and wrap "
                   "negative indices")
PYTHON_FUNCTION = ("PyTorch's resize node is a Python autograd.Function's, which shows "
                   "_raw_saved_tensors; autodiff's is a built-in node that saves nothing")
COMPOSITE = ("autodiff computes the op as one node that carries the name of PyTorch's last "
             "node; that class declares no saved names")

# Nodes whose class declares no saved names yet: the op keeps what it saved only in
# saved_tensors and ctx attributes. Each entry with one of these nodes is a strict xfail.
NOT_DECLARED: frozenset[str] = frozenset()

# Entries whose node differs for a reason of its own (the names above).
ENTRY_DIFFERENCES: dict[str, str] = {
    "svd_lowrank": RANDOM_BLOCK,
    "svd_lowrank_M": RANDOM_BLOCK,
    "svd_lowrank_vectors": RANDOM_BLOCK,
    "pca_lowrank": RANDOM_BLOCK,
    "take_along_dim": BROADCAST_FIRST,
    "take_along_dim_broadcast": BROADCAST_FIRST,
    "F.alpha_dropout_all": COMPOSITE,
    "F.dropout1d_all": COMPOSITE,
    "F.dropout2d_all": COMPOSITE,
    "F.dropout3d_all": COMPOSITE,
    "F.feature_alpha_dropout_all": COMPOSITE,
    "F.scaled_dot_product_attention": COMPOSITE,
    "addmm": COMPOSITE,
    "addmm_beta0": COMPOSITE,
    "cdist_mm": COMPOSITE,
    "conj_physical": COMPOSITE,
    "conj_physical_": COMPOSITE,
    "dropout_all": COMPOSITE,
    "einsum[...ij,...jk]": COMPOSITE,
    "einsum[abc,cd,ae->be]": COMPOSITE,
    "einsum[ba,Ac]": COMPOSITE,
    "einsum[bij,bjk->bik]": COMPOSITE,
    "einsum[i,i->]": COMPOSITE,
    "einsum[i,j->ij]": COMPOSITE,
    "einsum[i...->...]": COMPOSITE,
    "einsum[i...j->j...i]": COMPOSITE,
    "einsum[ii,i->i]": COMPOSITE,
    "einsum[ii->i]": COMPOSITE,
    "einsum[ii]": COMPOSITE,
    "einsum[iii->i]": COMPOSITE,
    "einsum[iij->j]": COMPOSITE,
    "einsum[ij,ij->ij]": COMPOSITE,
    "einsum[ij,jk,kl->il]": COMPOSITE,
    "einsum[ij,jk->ik]": COMPOSITE,
    "einsum[ij,jk]": COMPOSITE,
    "einsum[ij,kj->]": COMPOSITE,
    "einsum[ij->]": COMPOSITE,
    "einsum[ij->ji]": COMPOSITE,
    "einsum_broadcast": COMPOSITE,
    "einsum_sublist": COMPOSITE,
    "imag": COMPOSITE,
    "imag_unary": COMPOSITE,
    "inner": COMPOSITE,
    "kron": COMPOSITE,
    "l1_loss_none": COMPOSITE,
    "linalg.eigvals": COMPOSITE,
    "matmul_batched": COMPOSITE,
    "matmul_row_batch": COMPOSITE,
    "real": COMPOSITE,
    "real_unary": COMPOSITE,
    "resolve_conj": COMPOSITE,
    "scaled_dot_product_attention_2d": COMPOSITE,
    "scaled_dot_product_attention_bool_mask": COMPOSITE,
    "scaled_dot_product_attention_causal": COMPOSITE,
    "scaled_dot_product_attention_float_mask": COMPOSITE,
    "scaled_dot_product_attention_gqa": COMPOSITE,
    "scaled_dot_product_attention_gqa_causal": COMPOSITE,
    "scaled_dot_product_attention_scale": COMPOSITE,
    "special.ndtr": COMPOSITE,
    "tensordot": COMPOSITE,
    "tensordot_int": COMPOSITE,
    "F.adaptive_avg_pool2d_mean": DIMS_AS_KEPT,
    "atleast_3d": DIMS_AS_KEPT,
    "flip_0d": DIMS_AS_KEPT,
    "linalg.matrix_norm[-2]": DIMS_AS_KEPT,
    "linalg.matrix_norm[2]": DIMS_AS_KEPT,
    "linalg.matrix_norm[nuc]": DIMS_AS_KEPT,
    "linalg.matrix_norm_complex[2]": DIMS_AS_KEPT,
    "linalg.matrix_norm_complex[nuc]": DIMS_AS_KEPT,
    "logsumexp_0d": DIMS_AS_KEPT,
    "mean_dims": DIMS_AS_KEPT,
    "nanquantile_plain": DIMS_AS_KEPT,
    "nuclear_norm": DIMS_AS_KEPT,
    "quantile": DIMS_AS_KEPT,
    "select": DIMS_AS_KEPT,
    "linalg.eigh": EIGENVECTOR_SIGNS,
    "linalg.eigh_vectors": EIGENVECTOR_SIGNS,
    "linalg.eigvalsh": EIGENVECTOR_SIGNS,
    "linalg.eigvalsh_upper": EIGENVECTOR_SIGNS,
    "linalg.eigh_vectors_upper": EIGENVECTOR_SIGNS,
    "cross_entropy_3d_none": OTHER_RESHAPE,
    "linalg.matrix_power": POWER_ORDER,
    "F.gumbel_softmax": RANDOM,
    "ctc_loss_none": UNWRITTEN_ALPHA,
    "F.rrelu": UNINITIALIZED_NOISE,
    "F.rrelu_": UNINITIALIZED_NOISE,
    "rrelu": UNINITIALIZED_NOISE,
    "F.rrelu_training": RANDOM_SLOPES,
    "F.rrelu__training": RANDOM_SLOPES,
    "linalg.matrix_power_negative": ROW_MAJOR,
    "linalg.svd_full": ROW_MAJOR,
    "linalg.svd_vectors": ROW_MAJOR,
    "svd": ROW_MAJOR,
    "F.relu6": SCALAR_AS_FLOAT,
    "cross_entropy_probs": SCALAR_AS_FLOAT,
    "linalg.matrix_norm[fro]": SCALAR_AS_FLOAT,
    "linalg.matrix_norm_complex[fro]": SCALAR_AS_FLOAT,
    "linalg.norm": SCALAR_AS_FLOAT,
    "linalg.vector_norm": SCALAR_AS_FLOAT,
    "linalg.vector_norm[1]": SCALAR_AS_FLOAT,
    "linalg.vector_norm[3]": SCALAR_AS_FLOAT,
    "linalg.vector_norm_complex[1]": SCALAR_AS_FLOAT,
    "linalg.vector_norm_complex[2]": SCALAR_AS_FLOAT,
    "linalg.vector_norm_complex[3]": SCALAR_AS_FLOAT,
    "linalg.vector_norm_keepdim": SCALAR_AS_FLOAT,
    "norm": SCALAR_AS_FLOAT,
    "norm_0": SCALAR_AS_FLOAT,
    "norm_1": SCALAR_AS_FLOAT,
    "norm_3": SCALAR_AS_FLOAT,
    "norm_complex": SCALAR_AS_FLOAT,
    "norm_except_dim_-1": SCALAR_AS_FLOAT,
    "norm_fro_dim": SCALAR_AS_FLOAT,
    "renorm": SCALAR_AS_FLOAT,
    "renorm_p1": SCALAR_AS_FLOAT,
    "sgn": SGN_REAL,
    "F.conv2d_groups": SAME_PADDED,
    "cross_entropy_3d": NLL_4D_VIEW,
    "getitem_mask": INDICES_AS_KEPT,
    "getitem_mask_and_index": INDICES_AS_KEPT,
    "getitem_random_mask": INDICES_AS_KEPT,
    "getitem_slice_array": INDICES_AS_KEPT,
    "index_fill": INDICES_AS_KEPT,
    "put": INDICES_AS_KEPT,
    "resize": PYTHON_FUNCTION,
    "resize_copy": PYTHON_FUNCTION,
    "take": INDICES_AS_KEPT,
    "setitem_mask": INDICES_AS_KEPT,
}


# The sparse forms of ops (Function.sparse_form classes) carry their dense op's node name but
# most declare no saved names yet (add's and sub's declare alpha).
SPARSE_FORMS = frozenset(info.name for info in (*SPARSE, *COMPRESSED)) - {
    "sparse_add_dense", "sparse_sub"}


def _expected(info: OpInfo) -> list[pytest.MarkDecorator]:
    reason = ENTRY_DIFFERENCES.get(info.name)
    if reason is None and info.grad_fn in NOT_DECLARED:
        reason = "the node's class declares no saved names yet"
    if reason is None and info.name in SPARSE_FORMS:
        reason = "the sparse form of the op declares no saved names yet"
    return [] if reason is None else [pytest.mark.xfail(strict=True, reason=reason)]


CASES = [pytest.param(info, id=info.name, marks=_expected(info)) for info in OP_DB if info.grad_fn]

def _run(info: OpInfo, library: Any, op: Any) -> tuple[list[Any], Any]:
    rng = np.random.default_rng(0)
    low, high = info.domain
    arrays = [rng.uniform(low, high, size=shape) for shape in info.samples[0].shapes]
    count = info.grad_inputs if info.grad_inputs is not None else len(arrays)
    inputs = [library.tensor(array, dtype=library.float64, requires_grad=index < count)
              for index, array in enumerate(arrays)]
    out = op(*inputs)
    if isinstance(out, (tuple, list)):
        out = out[0]
    return inputs, out.grad_fn


def _saved_names(node: Any) -> set[str]:
    return {name for name in dir(node) if name.startswith(("_saved_", "_raw_saved_"))}


def _same(ours: Any, theirs: Any, our_inputs: list[Any], their_inputs: list[Any]) -> bool:
    """Whether a saved value is PyTorch's: the same Tensor input (or none), values, shape and
    dtype; numbers, tuples and None of the same types. PyTorch shows a negative dim it saved
    as an unsigned 64-bit number (dim -1 as 2**64 - 1, a conversion bug); autodiff shows the
    dim wrapped into [0, rank), so a wrapped dim counts as the same."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, autodiff.Tensor):
            return False
        their_input = [index for index, x in enumerate(their_inputs) if x is theirs]
        our_input = [index for index, x in enumerate(our_inputs) if x is ours]
        if their_input != our_input or tuple(ours.shape) != tuple(theirs.shape):
            return False
        if str(ours.dtype) != str(theirs.dtype):
            return False
        return bool(np.allclose(np.asarray(ours.detach().tolist()),
                                np.asarray(theirs.detach().tolist()), equal_nan=True))
    if isinstance(theirs, (tuple, list)):
        return (type(ours) is type(theirs) and len(ours) == len(theirs)
                and all(_same(a, b, our_inputs, their_inputs) for a, b in zip(ours, theirs)))
    if isinstance(theirs, torch.dtype):
        return str(ours) == str(theirs)
    if type(theirs) is int and theirs >= 2**63 and type(ours) is int:
        dim = theirs - 2**64
        ranks = {tensor.dim() for tensor in our_inputs}
        return ours == dim or any(ours == dim + rank + extra for rank in ranks
                                  for extra in (0, 1))
    if type(ours) is not type(theirs):
        return False
    if isinstance(theirs, float):
        return math.isclose(ours, theirs) or (math.isnan(ours) and math.isnan(theirs))
    return bool(ours == theirs)


@pytest.mark.parametrize("info", CASES)
def test_saved_attributes_match_pytorch(info: OpInfo) -> None:
    their_op = on_torch(info.op, torch)
    if their_op is None:
        pytest.skip("the entry's function has no PyTorch counterpart to call")
    try:
        their_inputs, their_node = _run(info, torch, their_op)
    except Exception as error:  # the entry's text is autodiff's own (an alias, a helper)
        pytest.skip(f"the entry does not run on PyTorch: {type(error).__name__}")
    if their_node is None or their_node.name() != info.grad_fn:
        pytest.skip("PyTorch records another node")
    our_inputs, our_node = _run(info, autodiff, info.op)
    assert _saved_names(our_node) == _saved_names(their_node)
    for name in sorted(_saved_names(their_node)):
        if name.startswith("_raw_saved_"):
            continue
        ours, theirs = getattr(our_node, name), getattr(their_node, name)
        assert _same(ours, theirs, our_inputs, their_inputs), (name, ours, theirs)


def test_ctc_log_alpha_where_pytorch_writes_it() -> None:
    rng = np.random.default_rng(0)
    log_probs = rng.standard_normal((6, 2, 4))
    targets, input_lengths, target_lengths = [[1, 2, 1], [1, 3, 0]], [6, 4], [3, 1]
    nodes = []
    for library in (autodiff, torch):
        x = library.tensor(log_probs).log_softmax(2).detach().requires_grad_()
        nodes.append(library.nn.functional.ctc_loss(
            x, library.tensor(targets), input_lengths, target_lengths, reduction="none").grad_fn)
    ours, theirs = (np.array(node._saved_result1.tolist()) for node in nodes)
    assert ours.shape == theirs.shape == (2, 6, 7)
    for sample, (frames, length) in enumerate(zip(input_lengths, target_lengths)):
        np.testing.assert_allclose(ours[sample, :frames, :2 * length + 1],
                                   theirs[sample, :frames, :2 * length + 1], rtol=1e-12)
    np.testing.assert_allclose(nodes[0]._saved_result0.tolist(), nodes[1]._saved_result0.tolist(),
                               rtol=1e-12)
    assert nodes[0]._saved_input_lengths == (6, 4) and nodes[0]._saved_target_lengths == (3, 1)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("index_dtype", ["int32", "int64"])
def test_embedding_bag_saved_values_match_pytorch(mode: str, dtype: str, padding_idx: Any,
                                                  index_dtype: str) -> None:
    """ATen's offset2bag, bag_size and max_indices (result1-3, which its CPU kernel fills
    differently per mode and dtype), the indices and offsets as given, and the rest."""
    def node(library: Any, indices: Any, offsets: Any, **options: Any) -> tuple[Any, Any]:
        weight = library.tensor(np.random.default_rng(1).standard_normal((10, 3)),
                                dtype=getattr(library, dtype), requires_grad=True)
        index = library.tensor(indices, dtype=getattr(library, index_dtype))
        offset = None if offsets is None else library.tensor(offsets)
        out = library.nn.functional.embedding_bag(index, weight, offset, mode=mode,
                                                  padding_idx=padding_idx, **options)
        return out.grad_fn, [item for item in (weight, index, offset) if item is not None]

    cases = [([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 3, 6, 8], {"include_last_offset": True}),
             ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 3, 6], {}),
             ([[1, 2, 2], [4, 9, 4]], None, {})]
    for indices, offsets, options in cases:
        ours, our_inputs = node(autodiff, indices, offsets, **options)
        theirs, their_inputs = node(torch, indices, offsets, **options)
        assert _saved_names(ours) == _saved_names(theirs)
        for name in sorted(_saved_names(theirs)):
            if name.startswith("_saved_"):
                assert _same(getattr(ours, name), getattr(theirs, name), our_inputs,
                             their_inputs), (name, getattr(ours, name),
                                                   getattr(theirs, name))


def test_embedding_bag_saves_per_sample_weights_and_weight_as_pytorch() -> None:
    """per_sample_weights is saved whenever given; weight only when per_sample_weights needs
    its gradient (its formula reads weight)."""
    for library in (autodiff, torch):
        weight = library.randn(10, 3, dtype=library.float64, requires_grad=True)
        scales = library.rand(8, dtype=library.float64, requires_grad=True)
        indices, offsets = library.tensor([1, 2, 4, 5, 4, 3, 2, 9]), library.tensor([0, 3, 6])
        F = library.nn.functional
        node = F.embedding_bag(indices, weight, offsets, mode="sum",
                               per_sample_weights=scales).grad_fn
        assert node._saved_weight is weight and node._saved_per_sample_weights is scales
        assert node._saved_indices is indices and node._saved_offsets.tolist() == [0, 3, 6]
        node = F.embedding_bag(indices, weight, offsets, mode="sum",
                               per_sample_weights=scales.detach()).grad_fn
        assert node._saved_weight is None
        assert node._saved_per_sample_weights.tolist() == scales.tolist()
