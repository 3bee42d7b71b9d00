"""Sparse COO tensors (layout torch.sparse_coo): construction, metadata, reprs, errors, the
layouts of gradients, and refusals, against PyTorch 2.13 where it is installed. Values and
gradients of the ops are in the op table (`tests/op_db/sparse.py`)."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.autograd import gradcheck, gradgradcheck

Build = Callable[[Any], Any]

# repr(...) of each case as PyTorch 2.13 prints it (the same code with `m` bound to torch).
REPRS: list[tuple[str, Build, str]] = [
    ("to_sparse", lambda m: m.tensor([[0., 1, 0], [2, 0, 3]]).to_sparse(),
     "tensor(indices=tensor([[0, 1, 1],\n                       [1, 0, 2]]),\n       "
     "values=tensor([1., 2., 3.]),\n       size=(2, 3), nnz=3, layout=torch.sparse_coo)"),
    ("uncoalesced",
     lambda m: m.sparse_coo_tensor([[1, 0, 1], [0, 1, 0]], [1., 2, 3], (2, 2)),
     "tensor(indices=tensor([[1, 0, 1],\n                       [0, 1, 0]]),\n       "
     "values=tensor([1., 2., 3.]),\n       size=(2, 2), nnz=3, layout=torch.sparse_coo)"),
    ("coalesced",
     lambda m: m.sparse_coo_tensor([[1, 0, 1], [0, 1, 0]], [1., 2, 3], (2, 2)).coalesce(),
     "tensor(indices=tensor([[0, 1],\n                       [1, 0]]),\n       "
     "values=tensor([2., 4.]),\n       size=(2, 2), nnz=2, layout=torch.sparse_coo)"),
    ("hybrid", lambda m: m.sparse_coo_tensor([[1, 0]], [[1., 2], [3, 4]], (2, 2)),
     "tensor(indices=tensor([[1, 0]]),\n       values=tensor([[1., 2.],\n"
     "                      [3., 4.]]),\n       size=(2, 2), nnz=2, layout=torch.sparse_coo)"),
    ("int64", lambda m: m.sparse_coo_tensor([[1, 0], [0, 1]], [1, 2]),
     "tensor(indices=tensor([[1, 0],\n                       [0, 1]]),\n       "
     "values=tensor([1, 2]),\n       size=(2, 2), nnz=2, layout=torch.sparse_coo)"),
    ("float64", lambda m: m.sparse_coo_tensor([[1, 0], [0, 1]], [1., 2], (2, 2),
                                              dtype=m.float64, requires_grad=True),
     "tensor(indices=tensor([[1, 0],\n                       [0, 1]]),\n       "
     "values=tensor([1., 2.]),\n       size=(2, 2), nnz=2, dtype=torch.float64, "
     "layout=torch.sparse_coo,\n       requires_grad=True)"),
    ("empty", lambda m: m.sparse_coo_tensor(m.zeros(2, 0, dtype=m.int64), [], (2, 2)),
     "tensor(indices=tensor([], size=(2, 0)),\n       values=tensor([], size=(0,)),\n"
     "       size=(2, 2), nnz=0, layout=torch.sparse_coo)"),
    ("grad_fn", lambda m: m.tensor([[0., 1.5], [-2, 0]], requires_grad=True).to_sparse(),
     "tensor(indices=tensor([[0, 1],\n                       [1, 0]]),\n       "
     "values=tensor([ 1.5000, -2.0000]),\n       size=(2, 2), nnz=2, layout=torch.sparse_coo, "
     "grad_fn=<ToSparseBackward1>)"),
    ("sparse_sum", lambda m: m.sparse.sum(
        m.tensor([[0., 1.5], [-2, 0]], requires_grad=True).to_sparse(), 1),
     "tensor(indices=tensor([[0, 1]]),\n       values=tensor([ 1.5000, -2.0000]),\n       "
     "size=(2,), nnz=2, layout=torch.sparse_coo, grad_fn=<SparseSumBackward0>)"),
    ("three_dims", lambda m: m.tensor([[[0., 1], [0, 0]], [[2, 0], [0, 3]]]).to_sparse(),
     "tensor(indices=tensor([[0, 1, 1],\n                       [0, 0, 1],\n"
     "                       [1, 0, 1]]),\n       values=tensor([1., 2., 3.]),\n       "
     "size=(2, 2, 2), nnz=3, layout=torch.sparse_coo)"),
]


@pytest.fixture(autouse=True)
def _quiet_invariant_warning() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse invariant checks are implicitly disabled")
        yield


@pytest.mark.parametrize(("build", "expected"), [case[1:] for case in REPRS],
                         ids=[case[0] for case in REPRS])
def test_repr_is_pytorchs(build: Build, expected: str) -> None:
    assert repr(build(autodiff)) == expected


@pytest.mark.parametrize("build", [case[1] for case in REPRS], ids=[case[0] for case in REPRS])
def test_repr_matches_torch(build: Build) -> None:
    torch = pytest.importorskip("torch")
    assert repr(build(autodiff)) == repr(build(torch))


def test_repr_names_the_device(device: str) -> None:
    s = autodiff.tensor([[0., 1.]], device=device).to_sparse()
    if device == "cpu":
        assert "device=" not in repr(s)
    else:
        assert f"]),\n       device='{device}', size=(1, 2), nnz=1," in repr(s)


def test_metadata(device: str) -> None:
    dense = autodiff.tensor([[0., 1, 0], [2, 0, 3]], device=device)
    s = dense.to_sparse()
    assert s.is_sparse and not dense.is_sparse
    assert s.layout is autodiff.sparse_coo and dense.layout is autodiff.strided
    assert s.shape == (2, 3) and s.dim() == 2 and s.numel() == 6 and len(s) == 2
    assert s.dtype is autodiff.float32 and str(s.device) == device
    assert s.sparse_dim() == 2 and s.dense_dim() == 0 and s._nnz() == 3
    assert dense.sparse_dim() == 0 and dense.dense_dim() == 2
    assert s.is_coalesced()
    assert s.indices().tolist() == [[0, 1, 1], [1, 0, 2]]
    assert s.indices().dtype is autodiff.int64 and str(s.indices().device) == device
    assert s.values().tolist() == [1., 2., 3.] and str(s.values().device) == device
    assert s.to_dense().tolist() == dense.tolist()
    assert dense.to_dense() is dense and s.to_sparse() is s
    assert s.stride() == (0, 0) and not s.is_contiguous()
    hybrid = dense.to_sparse(1)
    assert hybrid.sparse_dim() == 1 and hybrid.dense_dim() == 1
    assert hybrid.indices().tolist() == [[0, 1]] and hybrid.values().shape == (2, 3)


def test_coalesce_sums_repeated_indices(device: str) -> None:
    s = autodiff.sparse_coo_tensor([[1, 0, 1, 2], [0, 1, 0, 2]], [1., 2, 3, 4], (3, 3),
                                   device=device)
    assert not s.is_coalesced() and s._nnz() == 4
    c = s.coalesce()
    assert c.is_coalesced() and c.coalesce() is c
    assert c.indices().tolist() == [[0, 1, 2], [1, 0, 2]]
    assert c.values().tolist() == [2., 4., 4.]
    assert s._indices().tolist() == [[1, 0, 1, 2], [0, 1, 0, 2]]
    assert s._values().tolist() == [1., 2., 3., 4.]
    assert s.to_dense().tolist() == c.to_dense().tolist()
    with pytest.raises(RuntimeError, match=r"^Cannot get indices on an uncoalesced tensor, "
                                           r"please call \.coalesce\(\) first$"):
        s.indices()
    with pytest.raises(RuntimeError, match=r"^Cannot get values on an uncoalesced tensor"):
        s.values()


def test_construction(device: str) -> None:
    indices = np.array([[0, 1, 2], [1, 2, 0]], dtype=np.int32)  # NumPy int32, as gcn.py's
    s = autodiff.sparse_coo_tensor(indices, autodiff.ones(3), (3, 3), dtype=autodiff.int64,
                                   device=device)
    assert s.dtype is autodiff.int64 and s._indices().dtype is autodiff.int64
    assert str(s.device) == device and str(s._indices().device) == device
    inferred = autodiff.sparse_coo_tensor([[0, 3], [1, 1]], [[1., 5], [2, 4]], device=device)
    assert inferred.shape == (4, 2, 2)
    flagged = autodiff.sparse_coo_tensor([[0, 1]], [1., 2], (2,), is_coalesced=True)
    assert flagged.is_coalesced()
    leaf = autodiff.sparse_coo_tensor([[0, 1]], [1., 2], (2,), requires_grad=True)
    assert leaf.is_leaf and leaf.requires_grad and leaf.grad_fn is None


def test_dense_plus_sparse_is_dense(device: str) -> None:
    """gcn.py's `torch.eye(V) + adj_mat` with an int64 adjacency: dense float."""
    adjacency = autodiff.sparse_coo_tensor([[0, 1], [1, 2]], autodiff.ones(2), (3, 3),
                                           dtype=autodiff.int64, device=device)
    total = autodiff.eye(3, device=device) + adjacency
    assert not total.is_sparse and total.dtype is autodiff.float32
    assert total.tolist() == [[1., 1., 0.], [0., 1., 1.], [0., 0., 1.]]


def test_dense_add_sparse_in_place_with_alpha(device: str) -> None:
    """The Adagrad tutorial's `param.add_(sparse_update, alpha=-clr)`."""
    update = autodiff.sparse_coo_tensor([[0, 1], [2, 0]], [3., 4.], (2, 4), device=device)
    param = autodiff.arange(8.0, device=device).reshape(2, 4)
    assert param.add_(update, alpha=-0.5) is param
    assert param.tolist() == [[0., 1., 0.5, 3.], [2., 5., 6., 7.]]
    param.sub_(update, alpha=2)
    assert param.tolist() == [[0., 1., -5.5, 3.], [-6., 5., 6., 7.]]


CONSTRUCTION_ERRORS: list[tuple[str, Build]] = [
    ("out_of_bounds", lambda m: m.sparse_coo_tensor([[0, 5]], [1., 2], (2,),
                                                    check_invariants=True)),
    ("negative", lambda m: m.sparse_coo_tensor([[0, -1]], [1., 2], (2,), check_invariants=True)),
    ("flat_indices", lambda m: m.sparse_coo_tensor(m.tensor([0, 1]), [1., 2], (2,))),
    ("three_d_indices", lambda m: m.sparse_coo_tensor(m.tensor([[[0, 1]]]), [1., 2], (2,))),
    ("nnz", lambda m: m.sparse_coo_tensor([[0, 1]], [1., 2, 3], (2,))),
    ("size_rank", lambda m: m.sparse_coo_tensor([[0, 1]], [1., 2], (2, 2))),
    ("dense_size_rank", lambda m: m.sparse_coo_tensor([[0, 1]], [[1., 2]], (2,))),
    ("scalar_values", lambda m: m.sparse_coo_tensor([[0, 1]], 5., (1,))),
    ("integer_grad", lambda m: m.sparse_coo_tensor([[0, 1]], [1, 2], (2,),
                                                   requires_grad=True)),
    ("sparse_plus_dense", lambda m: m.tensor([[0., 1]]).to_sparse() + m.ones(1, 2)),
    ("sparse_plus_number", lambda m: m.tensor([[0., 1]]).to_sparse() + 1),
    ("sparse_minus_dense", lambda m: m.tensor([[0., 1]]).to_sparse() - m.ones(1, 2)),
    ("sizes_differ", lambda m: m.tensor([[0., 1]]).to_sparse() + m.tensor([[1.], [0]]).to_sparse()),
    ("mm_shapes", lambda m: m.tensor([[0., 1, 2]]).to_sparse() @ m.ones(2, 2)),
    ("mm_dtypes", lambda m: m.tensor([[0., 1]], dtype=m.float64).to_sparse() @ m.ones(2, 2)),
    ("transpose_dense_dim", lambda m: m.sparse_coo_tensor([[1, 0]], [[1., 2], [3, 4]],
                                                          (2, 2)).transpose(0, 1)),
    ("t_dense_dim", lambda m: m.sparse_coo_tensor([[1, 0]], [[1., 2], [3, 4]], (2, 2)).t()),
    ("sum_dim_range", lambda m: m.sparse.sum(m.tensor([[0., 1]]).to_sparse(), 5)),
    ("to_sparse_dims", lambda m: m.tensor([[0., 1]]).to_sparse().to_sparse(1)),
    ("uncoalesced_indices", lambda m: m.sparse_coo_tensor([[0, 0]], [1., 2], (2,)).indices()),
    ("numpy", lambda m: m.tensor([[0., 1]]).to_sparse().numpy()),
    ("tolist", lambda m: m.tensor([[0., 1]]).to_sparse().tolist()),
    ("item", lambda m: m.tensor([[0., 1]]).to_sparse().item()),
    ("contiguous", lambda m: m.tensor([[0., 1]]).to_sparse().contiguous()),
    ("is_coalesced_dense", lambda m: m.tensor([[0., 1]]).is_coalesced()),
]


def _error(build: Build, module: Any) -> tuple[type[BaseException], str]:
    with pytest.raises(Exception) as caught:
        build(module)
    return caught.type, str(caught.value)


@pytest.mark.parametrize("build", [case[1] for case in CONSTRUCTION_ERRORS],
                         ids=[case[0] for case in CONSTRUCTION_ERRORS])
def test_errors_match_torch(build: Build) -> None:
    torch = pytest.importorskip("torch")
    assert _error(build, autodiff) == _error(build, torch)


REFUSED: list[tuple[str, Callable[[Any, Any], Any], str]] = [
    ("exp", lambda m, s: m.exp(s), "aten::exp"),
    ("cos", lambda m, s: s.cos(), "aten::cos"),
    ("softmax", lambda m, s: s.softmax(1), "aten::_softmax"),
    ("view", lambda m, s: s.view(6), "aten::view"),
    ("ones_like", lambda m, s: m.ones_like(s), "aten::fill_.Scalar"),
    ("gt", lambda m, s: s > 0, "aten::gt.Scalar"),
    ("eq_dense", lambda m, s: s == m.ones(2, 3, device=s.device), "aten::eq.Tensor"),
]


@pytest.mark.parametrize(("refused", "operator"), [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_ops_without_a_sparse_kernel_refuse(refused: Callable[[Any, Any], Any], operator: str,
                                           device: str) -> None:
    s = autodiff.tensor([[0., 1, 0], [2, 0, 3]], device=device).to_sparse()
    backend = "SparseCPU" if device == "cpu" else "SparseSTRICT"
    with pytest.raises(NotImplementedError, match=(
            f"^Could not run '{operator}' with arguments from the '{backend}' backend. This "
            "could be because the operator doesn't exist for this backend")):
        refused(autodiff, s)


@pytest.mark.parametrize("name", [case[0] for case in REFUSED])
def test_refusals_are_torchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    refused = dict((case[0], case[1]) for case in REFUSED)[name]
    ours, theirs = (_error(lambda m: refused(m, m.tensor([[0., 1, 0], [2, 0, 3]]).to_sparse()),
                           m) for m in (autodiff, torch))
    assert ours[0] is theirs[0] is NotImplementedError
    assert theirs[1].startswith(ours[1])


VALUEWISE: list[tuple[str, Build, str]] = [
    ("sin", lambda s: s.sin(), "SinBackward0"),
    ("abs", lambda s: s.abs(), "AbsBackward0"),
    ("sqrt", lambda s: (s * s).sqrt(), "SqrtBackward0"),
    ("relu", lambda s: s.relu(), "ReluBackward0"),
    ("tanh", lambda s: s.tanh(), "TanhBackward0"),
    ("pow", lambda s: s ** 2, "PowBackward0"),
    ("div", lambda s: s / 4, "DivBackward0"),
    ("neg", lambda s: -s, "NegBackward0"),
    ("mul", lambda s: s * 3, "MulBackward0"),
]


@pytest.mark.parametrize(("op", "node"), [case[1:] for case in VALUEWISE],
                         ids=[case[0] for case in VALUEWISE])
def test_elementwise_ops_keeping_zero_act_on_the_values(op: Build, node: str,
                                                        device: str) -> None:
    dense = autodiff.tensor([[0., 1, 0], [-2, 0, 3]], dtype=autodiff.float64, device=device)
    out = op(dense.to_sparse().requires_grad_())
    assert out.is_sparse and out.grad_fn.name() == node
    assert np.allclose(out.to_dense().tolist(), op(dense).tolist())
    assert out._indices().tolist() == [[0, 1, 1], [1, 0, 2]]
    values = dense.to_sparse().values().requires_grad_()
    indices = dense.to_sparse().indices()

    def through_values(v: autodiff.Tensor) -> autodiff.Tensor:
        return op(autodiff.sparse_coo_tensor(indices, v, (2, 3))).to_dense()

    assert gradcheck(through_values, (values,))
    assert gradgradcheck(through_values, (values,))


@pytest.mark.parametrize(("op", "node"), [case[1:] for case in VALUEWISE],
                         ids=[case[0] for case in VALUEWISE])
def test_elementwise_node_names_are_torchs(op: Build, node: str) -> None:
    torch = pytest.importorskip("torch")
    s = torch.tensor([[0., 1, 0], [-2, 0, 3]]).to_sparse().requires_grad_()
    assert op(s).grad_fn.name() == node


def _layouts(module: Any) -> dict[str, Any]:
    """The layout of a sparse leaf's gradient (and its indices when sparse) through each
    product and sum: PyTorch gives torch.mm and Tensor.sum dense gradients, torch.sparse.mm
    and to_dense sparse ones."""
    found = {}
    uses: dict[str, Callable[[Any, Any], Any]] = {
        "mm": lambda s, d: module.mm(s, d).sum(),
        "matmul": lambda s, d: (s @ d).sum(),
        "sparse_mm": lambda s, d: module.sparse.mm(s, d).sum(),
        "addmm": lambda s, d: module.addmm(d[:2], s, d).sum(),
        "sparse_addmm": lambda s, d: module.sparse.addmm(d[:2], s, d).sum(),
        "to_dense": lambda s, d: s.to_dense().sum(),
        "sum": lambda s, d: s.sum(),
        "sparse_sum": lambda s, d: module.sparse.sum(s, 1).to_dense().sum(),
        "dense_plus": lambda s, d: (module.ones(2, 3) + s).sum(),
        "mul": lambda s, d: (s * 2).to_dense().sum(),
        "mv": lambda s, d: (s @ d[:, 0]).sum(),
    }
    for name, use in uses.items():
        leaf = module.sparse_coo_tensor([[0, 1, 1, 0], [2, 0, 2, 2]], [3., 4, 5, 6], (2, 3),
                                        requires_grad=True)
        dense = module.arange(6.).reshape(3, 2)
        use(leaf, dense).backward()
        grad = leaf.grad
        found[name] = (str(grad.layout), grad.to_dense().tolist(),
                       grad._indices().tolist() if grad.is_sparse else None)
    return found


def test_gradient_layouts_match_torch() -> None:
    torch = pytest.importorskip("torch")
    assert _layouts(autodiff) == _layouts(torch)


def test_gradient_layouts(device: str) -> None:
    found = _layouts(autodiff)
    assert found["mm"][0] == "torch.strided" and found["sparse_mm"][0] == "torch.sparse_coo"
    # torch.sparse.mm masks the gradient to the coalesced indices
    assert found["sparse_mm"][2] == [[0, 1, 1], [2, 0, 2]]
    assert found["mm"][1] == [[1., 5., 9.], [1., 5., 9.]]


def test_to_dense_options_match_torch() -> None:
    torch = pytest.importorskip("torch")
    found = []
    for module in (autodiff, torch):
        leaf = module.tensor([[0., 1], [2, 0]]).to_sparse().requires_grad_()
        leaf.to_dense(masked_grad=False).sum().backward()
        found.append((repr(leaf.grad), repr(module.ones(2).to_dense(dtype=module.float64)),
                      _error(lambda m, leaf=leaf: leaf.to_dense(dtype=m.float64), module)))
    assert found[0] == found[1]


def test_sum_over_a_dim_takes_a_sparse_gradient(device: str) -> None:
    """PyTorch's SumBackward1 of a sparse input fails when its gradient is sparse ("expand is
    unsupported for Sparse tensors"); autodiff densifies it and gives the dense gradient."""
    leaf = autodiff.tensor([[0., 1, 2], [3, 0, 0]], device=device).to_sparse().requires_grad_()
    leaf.sum(1).to_dense().sum().backward()
    assert not leaf.grad.is_sparse and leaf.grad.tolist() == [[1., 1., 1.], [1., 1., 1.]]


def test_sparse_gradients_accumulate(device: str) -> None:
    leaf = autodiff.tensor([[0., 1], [2, 0]], device=device).to_sparse().requires_grad_()
    (leaf * 2).to_dense().sum().backward()
    (leaf * 3).to_dense().sum().backward()
    # to_dense hands a sparse input the gradient at its own indices only
    assert leaf.grad.is_sparse and leaf.grad.to_dense().tolist() == [[0., 5.], [5., 0.]]
    leaf.grad = None
    leaf.to_dense().sum().backward()
    (leaf @ autodiff.ones(2, 1, device=device)).sum().backward()  # dense into sparse
    assert not leaf.grad.is_sparse and leaf.grad.tolist() == [[1., 2.], [2., 1.]]


def test_products_on_the_device(device: str) -> None:
    """sparse @ dense and dense @ sparse (gcn.py's D A D) against NumPy, on the device."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 4)) * (rng.random((5, 4)) < 0.4)
    b = rng.standard_normal((4, 3))
    c = rng.standard_normal((3, 5))
    s = autodiff.tensor(a, device=device).to_sparse()
    dense_b = autodiff.tensor(b, device=device)
    dense_c = autodiff.tensor(c, device=device)
    assert np.allclose((s @ dense_b).tolist(), a @ b)
    assert np.allclose(autodiff.spmm(s, dense_b).tolist(), a @ b)
    assert np.allclose((dense_c @ s).tolist(), c @ a)
    assert np.allclose(autodiff.sparse.mm(s, dense_b).tolist(), a @ b)
    assert np.allclose((s @ dense_b[:, 0]).tolist(), a @ b[:, 0])
    assert str((s @ dense_b).device) == device


def test_to_moves_and_casts(device: str) -> None:
    s = autodiff.tensor([[0., 1], [2, 0]]).to_sparse()
    moved = s.to(device)
    assert moved.is_sparse and str(moved._indices().device) == device
    assert str(moved._values().device) == device and moved.to(device) is moved
    cast = moved.to(autodiff.float64)
    assert cast.dtype is autodiff.float64 and cast._indices().dtype is autodiff.int64
    assert cast.to_dense().tolist() == [[0., 1.], [2., 0.]]


def test_like_and_copies(device: str) -> None:
    s = autodiff.tensor([[0., 1], [2, 0]], device=device).to_sparse()
    zeros = autodiff.zeros_like(s)
    assert zeros.is_sparse and zeros._nnz() == 0 and zeros.shape == (2, 2)
    copied = copy.deepcopy(s)
    assert copied.is_sparse and copied._values()._data is not s._values()._data
    assert copied.to_dense().tolist() == s.to_dense().tolist()
    assert s.clone().to_dense().tolist() == s.to_dense().tolist()
    assert autodiff.sparse_coo_tensor([[0]], [5.], (1,)).item() == 5.0


def _sparse_products(module: Any) -> list[Any]:
    a = module.sparse_coo_tensor([[0, 1, 1, 0], [2, 0, 2, 2]], [1., 2, 3, 4], (2, 3),
                                 requires_grad=True)
    b = module.sparse_coo_tensor([[0, 2, 2], [1, 0, 1]], [5., 6, 7], (3, 2), requires_grad=True)
    found = []
    for product in (module.mm, lambda x, y: x @ y, module.sparse.mm):
        out = product(a, b)
        out.to_dense().sum().backward()
        found.append((repr(out.detach()), out.grad_fn.name(), a.grad.to_dense().tolist(),
                      b.grad.to_dense().tolist(), str(a.grad.layout)))
        a.grad = b.grad = None
    found.append(repr(module.mm(a, b).detach()))
    return found


def test_sparse_times_sparse_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    assert _sparse_products(autodiff) == _sparse_products(torch)


def test_sparse_times_sparse(device: str) -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 5)) * (rng.random((6, 5)) < 0.3)
    b = rng.standard_normal((5, 4)) * (rng.random((5, 4)) < 0.3)
    product = autodiff.tensor(a, device=device).to_sparse() @ autodiff.tensor(
        b, device=device).to_sparse()
    assert product.is_sparse and product.is_coalesced() and str(product.device) == device
    assert np.allclose(product.to_dense().tolist(), a @ b)


def test_sparse_times_sparse_keeps_common_entries(device: str) -> None:
    a = autodiff.tensor([[0., 1, 2], [3, 0, 4]], device=device).to_sparse()
    b = autodiff.tensor([[5., 0, 6], [7, 8, 0]], device=device).to_sparse()
    product = a * b
    assert product._indices().tolist() == [[0, 1], [2, 0]]
    assert product.to_dense().tolist() == [[0., 0., 12.], [21., 0., 0.]]


def test_invariant_checks_switch() -> None:
    sparse = autodiff.sparse
    assert not sparse.check_sparse_tensor_invariants.is_enabled()
    with sparse.check_sparse_tensor_invariants():
        assert sparse.check_sparse_tensor_invariants.is_enabled()
        with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
            autodiff.sparse_coo_tensor([[0, 5]], [1., 2], (2,))
    assert not sparse.check_sparse_tensor_invariants.is_enabled()
    unchecked = autodiff.sparse_coo_tensor([[0, 5]], [1., 2], (2,), check_invariants=False)
    assert unchecked._nnz() == 2


def test_vmap_refuses_sparse_tensors() -> None:
    with pytest.raises(RuntimeError, match="sparse tensors are not supported inside vmap"):
        autodiff.func.vmap(lambda x: x.to_sparse().to_dense())(autodiff.ones(2, 3))
