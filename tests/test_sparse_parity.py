"""Sparse COO tensors in in-place ops, samplers and ops computed on arrays outside
`Function.apply`, against PyTorch 2.13 where it is installed: results, node names, gradients,
and refusals (exception type and message). Also the layout protocol itself
(`layout_dispatch.py`): what a layout implements is all `Function.apply` needs."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.layout_dispatch import LayoutData, dense_only, layout_data

Case = Callable[[Any, Any], Any]


@pytest.fixture(autouse=True)
def _quiet_invariant_warning() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse invariant checks are implicitly disabled")
        yield


def _values(m: Any) -> Any:
    return m.tensor([1.5, 3.0, -2.0], dtype=m.float64, requires_grad=True)


def _sparse(m: Any, values: Any) -> Any:
    """A (2, 3) coalesced sparse tensor, not a leaf (in-place ops may change it)."""
    indices = m.tensor([[0, 1, 1], [1, 0, 2]])
    return m.sparse_coo_tensor(indices, values, (2, 3)).coalesce()


def _dense(m: Any) -> Any:
    return m.tensor([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]], dtype=m.float64)


# In-place ops PyTorch runs on a sparse tensor, and differentiates: (name, op of (module,
# sparse tensor)). (sin_ runs, but PyTorch's backward of it needs cos of a sparse tensor.)
IN_PLACE: list[tuple[str, Case]] = [
    ("neg_", lambda m, s: s.neg_()),
    ("relu_", lambda m, s: s.relu_()),
    ("mul_number", lambda m, s: s.mul_(2)),
    ("mul_dense", lambda m, s: s.mul_(_dense(m))),
    ("div_number", lambda m, s: s.div_(2)),
    ("add_sparse", lambda m, s: s.add_(_sparse(m, _values(m).detach()), alpha=2)),
    ("sub_sparse", lambda m, s: s.sub_(_sparse(m, _values(m).detach()))),
    ("zero_", lambda m, s: s.zero_()),
    ("t_", lambda m, s: s.t_()),
    ("transpose_", lambda m, s: s.transpose_(0, 1)),
]


def _run_in_place(m: Any, case: Case) -> tuple[Any, str, Any]:
    values = _values(m)
    sparse = _sparse(m, values)
    out = case(m, sparse)
    assert out is sparse and out.layout == m.sparse_coo
    (grad,) = m.autograd.grad(out.to_dense().pow(2).sum(), values)
    return out.detach().to_dense().numpy(), out.grad_fn.name(), grad.numpy()


@pytest.mark.parametrize("case", [case[1] for case in IN_PLACE],
                         ids=[case[0] for case in IN_PLACE])
def test_in_place_ops_match_torch(case: Case) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _run_in_place(autodiff, case), _run_in_place(torch, case)
    np.testing.assert_allclose(ours[0], theirs[0])
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(ours[2], theirs[2])


def test_in_place_ops_on_the_device(device: str) -> None:
    sparse = autodiff.tensor([[0.0, 1.5], [3.0, 0.0]], device=device).to_sparse()
    sparse.mul_(2).sin_().t_()
    expected = np.sin(np.array([[0.0, 6.0], [3.0, 0.0]]))
    np.testing.assert_allclose(sparse.to_dense().cpu().numpy(), expected, rtol=1e-6)
    assert sparse._version == 3


def test_in_place_op_is_caught_by_a_node_that_saved_the_tensor() -> None:
    values = _values(autodiff)
    sparse = _sparse(autodiff, values)
    product = autodiff.sparse.mm(sparse, autodiff.ones(3, 2, dtype=autodiff.float64))
    sparse.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        product.to_dense().sum().backward()


def test_dense_in_place_with_a_sparse_operand() -> None:
    torch = pytest.importorskip("torch")
    for name in ("add_", "mul_"):
        results = []
        for m in (autodiff, torch):
            dense = _dense(m)
            getattr(dense, name)(_sparse(m, _values(m).detach()))
            assert dense.layout == m.strided
            results.append(dense.numpy())
        np.testing.assert_allclose(*results)


# What PyTorch refuses, or answers with its own error, on a sparse tensor `s`.
ERRORS: list[tuple[str, Case]] = [
    ("add_dense", lambda m, s: s.add_(_dense(m))),
    ("add_number", lambda m, s: s.add_(1.0)),
    ("sub_number", lambda m, s: s.sub_(1)),
    ("pow_", lambda m, s: s.pow_(2)),
    ("pow_tensor", lambda m, s: s.pow_(_dense(m))),
    ("square_", lambda m, s: s.square_()),
    ("exp_", lambda m, s: s.exp_()),
    ("clamp_", lambda m, s: s.clamp_(0, 1)),
    ("fill_", lambda m, s: s.fill_(1)),
    ("copy_number", lambda m, s: s.copy_(2.0)),
    ("copy_dense", lambda m, s: s.copy_(_dense(m))),
    ("dense_copy_sparse", lambda m, s: _dense(m).copy_(s)),
    ("uniform_", lambda m, s: s.uniform_()),
    ("normal_", lambda m, s: s.normal_()),
    ("bernoulli_", lambda m, s: s.bernoulli_(2.0)),
    ("random_", lambda m, s: s.random_(0, 5)),
    ("exponential_", lambda m, s: s.exponential_()),
    ("cauchy_", lambda m, s: s.cauchy_()),
    ("log_normal_", lambda m, s: s.log_normal_()),
    ("geometric_", lambda m, s: s.geometric_(0.5)),
    ("bernoulli", lambda m, s: s.bernoulli()),
    ("multinomial", lambda m, s: s.multinomial(1)),
    ("all", lambda m, s: s.all()),
    ("all_dim", lambda m, s: s.all(0)),
    ("any_dim", lambda m, s: s.any(1)),
    ("argmax", lambda m, s: s.argmax()),
    ("argmin_dim", lambda m, s: s.argmin(1)),
    ("argsort", lambda m, s: s.argsort()),
    ("nonzero", lambda m, s: s.nonzero()),
    ("argwhere", lambda m, s: s.argwhere()),
    ("count_nonzero", lambda m, s: s.count_nonzero()),
    ("equal", lambda m, s: s.equal(s)),
    ("isclose", lambda m, s: s.isclose(_dense(m))),
    ("allclose", lambda m, s: s.allclose(s)),
    ("isfinite", lambda m, s: s.isfinite()),
    ("logical_and", lambda m, s: s.logical_and(s)),
    ("logical_not", lambda m, s: s.logical_not()),
    ("nanmean", lambda m, s: s.nanmean()),
    ("histc", lambda m, s: s.histc()),
    ("resize_as_", lambda m, s: s.resize_as_(m.ones(4))),
]


def _error(m: Any, case: Case) -> tuple[type[BaseException], str]:
    sparse = _sparse(m, _values(m).detach())
    with pytest.raises(Exception) as caught:
        case(m, sparse)
    return caught.type, str(caught.value)


@pytest.mark.parametrize("case", [case[1] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_errors_match_torch(case: Case) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _error(autodiff, case), _error(torch, case)
    assert ours[0] is theirs[0]
    # PyTorch's dispatcher goes on to list the backends that have the operator.
    assert theirs[1].startswith(ours[1])


def test_errors_leave_the_tensor_as_it_was() -> None:
    sparse = _sparse(autodiff, _values(autodiff).detach())
    before = sparse.to_dense().numpy()
    for _, case in ERRORS:
        with pytest.raises((RuntimeError, NotImplementedError)):
            case(autodiff, sparse)
    np.testing.assert_array_equal(sparse.to_dense().numpy(), before)
    assert sparse._version == 0


# Ops outside the graph that PyTorch computes on a sparse tensor's values.
ON_VALUES: list[tuple[str, Case]] = [
    ("any", lambda m, s: s.any()),
    ("isnan", lambda m, s: s.isnan()),
    ("isinf", lambda m, s: s.isinf()),
    ("isposinf", lambda m, s: s.isposinf()),
    ("isneginf", lambda m, s: s.isneginf()),
    ("signbit", lambda m, s: s.signbit()),
]


def _on_values(m: Any, case: Case) -> tuple[Any, Any]:
    values = m.tensor([1.5, float("inf"), -2.0, float("nan")], dtype=m.float64)
    sparse = m.sparse_coo_tensor(m.tensor([[0, 1, 1, 0], [1, 0, 2, 2]]), values, (2, 3))
    out = case(m, sparse)
    dense = out.to_dense() if out.layout == m.sparse_coo else out
    return out.layout == m.sparse_coo, dense.numpy()


@pytest.mark.parametrize("case", [case[1] for case in ON_VALUES],
                         ids=[case[0] for case in ON_VALUES])
def test_value_tests_match_torch(case: Case) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _on_values(autodiff, case), _on_values(torch, case)
    assert ours[0] == theirs[0]
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_type_names_the_layout() -> None:
    sparse = _sparse(autodiff, _values(autodiff))
    assert sparse.type() == "torch.sparse.DoubleTensor"


# ----------------------------------------------------------------------------- the protocol
class Negated(LayoutData):
    """A toy layout: a tensor stored as its negation. It computes add and neg, and refuses
    every other op, which is all Function.apply asks of a layout."""

    __slots__ = ("stored",)
    layout_name = "negated"

    def __init__(self, stored: autodiff.Tensor) -> None:
        self.stored = stored

    def dispatch(self, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        dense = [-arg._data.stored if isinstance(getattr(arg, "_data", None), Negated)
                 else arg for arg in args]
        if op.node_name in ("AddBackward0", "NegBackward0"):
            return op.apply(*dense, **kwargs)
        self.refuse(f"aten::{op.node_name}", args[0])


def _negated(values: list[float]) -> autodiff.Tensor:
    tensor = autodiff.tensor(0.0)
    tensor._data = Negated(-autodiff.tensor(values))
    return tensor


def test_a_layout_gets_the_ops_apply_is_handed() -> None:
    x = _negated([1.0, 2.0])
    np.testing.assert_array_equal((x + autodiff.tensor([10.0, 20.0])).numpy(), [11.0, 22.0])
    np.testing.assert_array_equal((-x).numpy(), [-1.0, -2.0])
    with pytest.raises(NotImplementedError, match="aten::MulBackward0 does not support "
                                                  "negated tensors"):
        x * 2
    assert layout_data((1, x)) is x._data
    assert layout_data((1, autodiff.ones(2))) is None


def test_a_layout_refuses_array_level_ops() -> None:
    x = _negated([1.0])
    with pytest.raises(NotImplementedError, match="aten::argmax does not support negated"):
        dense_only("aten::argmax", autodiff.ones(1), x)
    with pytest.raises(NotImplementedError, match=r"^Could not run 'aten::argmax' with "
                                                  r"arguments from the 'SparseCPU' backend"):
        autodiff.ones(2, 2).to_sparse().argmax()


# ----------------------------------------------------------------------------- torch.sparse.softmax
def _softmax_case(m: Any, name: str, dim: int, hybrid: bool) -> tuple[Any, ...]:
    if hybrid:
        values = m.tensor([[1.5, 0.2], [3.0, -1.0], [-2.0, 4.0], [0.5, 0.5]], dtype=m.float64,
                          requires_grad=True)
        sparse = m.sparse_coo_tensor(m.tensor([[0, 1, 1, 0]]), values, (2, 2))
    else:  # uncoalesced: (0, 1) twice
        values = m.tensor([1.5, 3.0, -2.0, 0.5, 7.0], dtype=m.float64, requires_grad=True)
        sparse = m.sparse_coo_tensor(m.tensor([[0, 1, 1, 0, 0], [1, 0, 2, 2, 1]]), values,
                                     (2, 3))
    out = getattr(m.sparse, name)(sparse, dim)
    weights = m.arange(out.numel(), dtype=m.float64).reshape(out.shape)
    (grad,) = m.autograd.grad((out.to_dense() * weights).sum(), values)
    return (out.detach().to_dense().numpy(), out.grad_fn.name(), grad.numpy(),
            out.is_coalesced())


# Non-negative dims only: PyTorch 2.13's backward of a negative dim differs from the same
# dim counted from the front (our gradient is the same for both; gradcheck checks it).
@pytest.mark.parametrize("hybrid", [False, True], ids=["sparse_dims", "hybrid"])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_sparse_softmax_matches_torch(name: str, dim: int, hybrid: bool) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _softmax_case(autodiff, name, dim, hybrid), _softmax_case(torch, name, dim,
                                                                             hybrid)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10, atol=1e-12)
    assert ours[3] is theirs[3] is True


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_sparse_softmax_gradcheck(name: str, device: str) -> None:
    values = autodiff.tensor([1.5, 3.0, -2.0, 0.5, 7.0], dtype=autodiff.float64,
                             device=device, requires_grad=True)
    indices = autodiff.tensor([[0, 1, 1, 0, 0], [1, 0, 2, 2, 1]], device=device)

    def op(values: autodiff.Tensor) -> autodiff.Tensor:
        sparse = autodiff.sparse_coo_tensor(indices, values, (2, 3))
        return getattr(autodiff.sparse, name)(sparse, -1).to_dense()

    assert autodiff.autograd.gradcheck(op, (values,))
    assert autodiff.autograd.gradgradcheck(op, (values,))


SOFTMAX_ERRORS: list[tuple[str, Case]] = [
    ("dim_out_of_range", lambda m, s: m.sparse.softmax(s, 2)),
    ("integer", lambda m, s: m.sparse.softmax(s.to(m.int64), 1)),
]


@pytest.mark.parametrize("case", [case[1] for case in SOFTMAX_ERRORS],
                         ids=[case[0] for case in SOFTMAX_ERRORS])
def test_sparse_softmax_errors_match_torch(case: Case) -> None:
    torch = pytest.importorskip("torch")
    assert _error(autodiff, case) == _error(torch, case)


def test_sparse_softmax_dtype() -> None:
    sparse = _sparse(autodiff, _values(autodiff).detach())
    assert autodiff.sparse.softmax(sparse, 1, dtype=autodiff.float32).dtype is autodiff.float32


# ----------------------------------------------------------------------------- indexing
INDEXING: list[tuple[str, Case]] = [
    ("select_sparse_dim", lambda m, s: s.select(0, 0)),
    ("select_last", lambda m, s: s.select(1, 2)),
    ("select_coalesced", lambda m, s: s.coalesce().select(0, 0)),
    ("select_to_dense_sum", lambda m, s: s.select(0, 0).select(0, 1)),
    ("getitem_int", lambda m, s: s[1]),
    ("getitem_pair", lambda m, s: s[0, 1]),
    ("getitem_column", lambda m, s: s[:, 1]),
    ("getitem_ellipsis", lambda m, s: s[..., -1]),
    ("index_select", lambda m, s: s.index_select(0, m.tensor([1, 0, 1]))),
    ("index_select_repeated", lambda m, s: s.index_select(1, m.tensor([2, 2, -3]))),
    ("hybrid_select_dense_dim", lambda m, s: _hybrid(m).select(1, 0)),
    ("hybrid_select_sparse_dim", lambda m, s: _hybrid(m).select(0, 0)),
    ("hybrid_index_select", lambda m, s: _hybrid(m).index_select(1, m.tensor([1, 1]))),
]


def _hybrid(m: Any) -> Any:
    return m.sparse_coo_tensor(m.tensor([[0, 1, 0]]),
                               m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (2, 2))


def _uncoalesced(m: Any) -> Any:
    """(2, 3) with (0, 1) twice, entries out of order."""
    return m.sparse_coo_tensor(m.tensor([[0, 1, 1, 0, 0], [1, 0, 2, 2, 1]]),
                               m.tensor([1.5, 3.0, -2.0, 0.5, 7.0], dtype=m.float64), (2, 3))


def _indexed(m: Any, case: Case) -> tuple[Any, ...]:
    out = case(m, _uncoalesced(m))
    if out.layout == m.strided:
        return ("strided", out.numpy().tolist())
    return ("sparse", tuple(out.shape), out.is_coalesced(), out._indices().numpy().tolist(),
            out._values().numpy().tolist())


@pytest.mark.parametrize("case", [case[1] for case in INDEXING],
                         ids=[case[0] for case in INDEXING])
def test_indexing_matches_torch(case: Case) -> None:
    torch = pytest.importorskip("torch")
    assert _indexed(autodiff, case) == _indexed(torch, case)


def test_indexing_gradients(device: str) -> None:
    """PyTorch 2.13 refuses these backwards (select_backward / index_add_ of a sparse
    gradient): ours are checked numerically, duplicates in the input included."""
    indices = autodiff.tensor([[0, 1, 1, 0, 0], [1, 0, 2, 2, 1]], device=device)
    picks = autodiff.tensor([1, 0, 1], device=device)

    def op(values: autodiff.Tensor) -> tuple[autodiff.Tensor, ...]:
        sparse = autodiff.sparse_coo_tensor(indices, values, (2, 3))
        return (sparse.select(1, 2).to_dense(), sparse[0, 1], sparse[0].to_dense(),
                sparse.index_select(0, picks).to_dense())

    values = autodiff.tensor([1.5, 3.0, -2.0, 0.5, 7.0], dtype=autodiff.float64, device=device,
                             requires_grad=True)
    assert autodiff.autograd.gradcheck(op, (values,))
    assert autodiff.autograd.gradgradcheck(op, (values,))
    assert autodiff.sparse_coo_tensor(indices, values, (2, 3))[0].grad_fn.name() == \
        "SelectBackward0"


INDEXING_ERRORS: list[tuple[str, Case]] = [
    ("select_out_of_range", lambda m, s: s.select(0, 5)),
    ("index_select_out_of_range", lambda m, s: s.index_select(0, m.tensor([5]))),
    ("index_select_2d_index", lambda m, s: s.index_select(0, m.tensor([[0]]))),
    ("index_select_float_index", lambda m, s: s.index_select(0, m.tensor([0.0]))),
    ("reshape", lambda m, s: s.reshape(6)),
    ("flatten", lambda m, s: s.flatten()),
    ("view", lambda m, s: s.view(6)),
    ("expand", lambda m, s: s.expand(2, 2, 3)),
    ("expand_too_few", lambda m, s: s.expand(3)),
    ("slice", lambda m, s: s[0:1]),
]


@pytest.mark.parametrize("case", [case[1] for case in INDEXING_ERRORS],
                         ids=[case[0] for case in INDEXING_ERRORS])
def test_indexing_and_reshaping_errors_match_torch(case: Case) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _error(autodiff, case), _error(torch, case)
    assert ours[0] is theirs[0]
    if case is not dict(INDEXING_ERRORS)["slice"]:  # PyTorch names aten::as_strided there
        assert theirs[1].startswith(ours[1])


# ----------------------------------------------------------------------------- saving
def _round_trips(sparse: autodiff.Tensor) -> dict[str, autodiff.Tensor]:
    import io
    import pickle

    out = {"pickle": pickle.loads(pickle.dumps(sparse))}
    for format in ("autodiff", "torch"):
        buffer = io.BytesIO()
        autodiff.save({"s": sparse}, buffer, format=format)
        buffer.seek(0)
        out[format] = autodiff.load(buffer)["s"]
    return out


@pytest.mark.parametrize("coalesce", [False, True], ids=["uncoalesced", "coalesced"])
def test_saving_keeps_indices_values_and_flags(coalesce: bool, device: str) -> None:
    sparse = _uncoalesced(autodiff).to(device)
    if coalesce:
        sparse = sparse.coalesce()
    for format, loaded in _round_trips(sparse).items():
        assert loaded.layout == autodiff.sparse_coo, format
        assert loaded.is_coalesced() is coalesce, format
        assert loaded.device == sparse.device, format
        np.testing.assert_array_equal(loaded._indices().cpu().numpy(),
                                      sparse._indices().cpu().numpy())
        np.testing.assert_array_equal(loaded._values().cpu().numpy(),
                                      sparse._values().cpu().numpy())


def test_torch_reads_and_writes_sparse_checkpoints() -> None:
    import io

    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    autodiff.save({"s": _uncoalesced(autodiff)}, buffer, format="torch")
    buffer.seek(0)
    theirs = torch.load(buffer, weights_only=True)["s"]
    assert theirs.layout == torch.sparse_coo and not theirs.is_coalesced()
    np.testing.assert_array_equal(theirs.to_dense().numpy(),
                                  _uncoalesced(autodiff).to_dense().numpy())
    buffer = io.BytesIO()
    torch.save({"h": torch.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse(1)}, buffer)
    buffer.seek(0)
    ours = autodiff.load(buffer)["h"]
    assert ours.layout == autodiff.sparse_coo and ours.sparse_dim() == 1 and ours.is_coalesced()
    np.testing.assert_array_equal(ours.to_dense().numpy(), [[0.0, 1.0], [2.0, 0.0]])


def test_a_checkpoint_cannot_index_outside_the_size() -> None:
    from autodiff.serialization.errors import CheckpointError
    from autodiff.serialization.torch_names import TorchGlobals

    rebuild = TorchGlobals(lambda tensor, location: tensor).rebuild_sparse_tensor
    parts = (autodiff.tensor([[0, 5]]), autodiff.tensor([1.0, 2.0]), autodiff.Size([3]), False)
    with pytest.raises(CheckpointError, match="invalid sparse tensor"):
        rebuild(autodiff.sparse_coo, parts)
    with pytest.raises(CheckpointError, match="no sparse layout"):
        rebuild(autodiff.strided, parts)
