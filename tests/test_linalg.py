"""Linear algebra against PyTorch: values, gradients (first and second order), node names and
error messages for matmul and friends, einsum, tensordot and autodiff.linalg; the generic
(array-API) einsum and linalg backends against NumPy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.linalg as LA
from backends import decompositions as generic_decompositions
from backends import einsum as generic_einsum
from tests.compare import compare, same_error

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1234)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def spd(*shape: int) -> np.ndarray:
    a = randn(*shape)
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(shape[-1])


# ----------------------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)),
    ((3,), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)),
    ((1, 3), (5, 3, 4)), ((2, 3), (5, 3, 1)), ((2, 3), (2, 1, 3, 4)), ((3,), (2, 4, 3, 5)),
    ((2, 4, 2, 3), (3,)), ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((2, 3), (0, 3, 4)),
    ((1, 2, 3), (3,)), ((3,), (1, 3, 4)),
]


@pytest.mark.parametrize("grad", [(True, True), (True, False), (False, True)],
                         ids=["both", "left", "right"])
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shapes: tuple[Any, ...], grad: tuple[bool, bool]) -> None:
    compare(torch, autodiff.matmul, torch.matmul, [randn(*s) for s in shapes], grad,
            second_order=True)


@pytest.mark.parametrize(("name", "shapes"), [
    ("mm", ((2, 3), (3, 4))), ("bmm", ((2, 2, 3), (2, 3, 4))), ("mv", ((2, 3), (3,))),
    ("dot", ((3,), (3,))), ("outer", ((3,), (4,))), ("inner", ((3,), (3,))),
    ("ger", ((2,), (3,))), ("inner", ((2, 3), (4, 5, 3))), ("inner", ((), (2, 3))),
])
def test_products_match_torch(name: str, shapes: tuple[Any, ...]) -> None:
    compare(torch, getattr(autodiff, name), getattr(torch, name), [randn(*s) for s in shapes],
            second_order=True)
    compare(torch, lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b),
            [randn(*s) for s in shapes])


def test_products_promote_and_keep_integers() -> None:
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    out = autodiff.matmul(autodiff.tensor(a), autodiff.tensor(b))
    assert out.dtype is autodiff.int64 and out.tolist() == (a @ b).tolist()
    outer = autodiff.outer(autodiff.arange(3), autodiff.tensor([1.0, 2.0]))
    expected = torch.outer(torch.arange(3), torch.tensor([1.0, 2.0]))
    assert repr(outer.dtype) == repr(expected.dtype)
    assert outer.tolist() == expected.tolist()


PRODUCT_ERRORS = [
    ("matmul", ((), (2,)), None), ("matmul", ((2, 2, 3), (4, 2)), None),
    ("matmul", ((2, 2, 3), (3, 3, 2)), None), ("matmul", ((4,), (2, 3, 2)), None),
    ("matmul", ((2, 2, 3), (4,)), None), ("matmul", ((2, 3), (5, 4, 2)), None),
    ("matmul", ((2, 1, 2, 3), (3, 4, 3, 2)), None), ("matmul", ((2, 5, 2, 3), (3, 4, 3, 2)), None),
    ("matmul", ((4,), (3, 2)), None), ("matmul", ((2, 4), (3,)), None),
    ("matmul", ((2, 3), (4, 2)), None), ("matmul", ((3,), (4,)), None),
    ("matmul", ((2, 3), (3, 2)), "float64"), ("matmul", ((3,), (3,)), "float64"),
    ("matmul", ((2, 3), (3,)), "float64"), ("matmul", ((2, 2, 3), (2, 3, 2)), "float64"),
    ("matmul", ((2, 2, 3), (3,)), "float64"), ("matmul", ((3,), (2, 3, 2)), "float64"),
    ("mm", ((3,), (3, 2)), None), ("mm", ((2, 3), (3,)), None), ("mm", ((2, 3), (4, 2)), None),
    ("mm", ((2, 3), (3, 2)), "float64"), ("mm", ((2, 3), (3, 2)), "int64"),
    ("bmm", ((2, 3), (3, 2)), None), ("bmm", ((2, 2, 3), (3, 2)), None),
    ("bmm", ((2, 2, 3), (3, 3, 2)), None), ("bmm", ((2, 2, 3), (2, 4, 2)), None),
    ("bmm", ((2, 2, 3), (2, 3, 2)), "float64"),
    ("mv", ((3,), (3,)), None), ("mv", ((2, 3), (4,)), None), ("mv", ((2, 3), (3, 1)), None),
    ("mv", ((2, 3), (3,)), "float64"),
    ("dot", ((2, 3), (3,)), None), ("dot", ((2,), (3,)), None), ("dot", ((3,), (3,)), "float64"),
    ("dot", ((), (2,)), None), ("outer", ((2, 3), (3,)), None), ("outer", ((3,), ()), None),
]


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "grad"])
@pytest.mark.parametrize(("name", "shapes", "other_dtype"), PRODUCT_ERRORS, ids=str)
def test_product_errors_match_torch(name: str, shapes: tuple[Any, ...], other_dtype: str | None,
                                    requires_grad: bool) -> None:
    a, b = (randn(*s) for s in shapes)
    if other_dtype == "int64":
        b = b.astype(np.int64)
    float_b = other_dtype != "int64"
    ours = [autodiff.tensor(a, dtype=autodiff.float32, requires_grad=requires_grad),
            autodiff.tensor(b, dtype=getattr(autodiff, other_dtype or "float32"),
                            requires_grad=requires_grad and float_b)]
    theirs = [torch.tensor(a, dtype=torch.float32, requires_grad=requires_grad),
              torch.tensor(b, dtype=getattr(torch, other_dtype or "float32"),
                           requires_grad=requires_grad and float_b)]
    same_error(lambda: getattr(autodiff, name)(*ours), lambda: getattr(torch, name)(*theirs))


# ----------------------------------------------------------------------------- einsum
EINSUM_CASES = [
    ("ij,jk->ik", ((2, 3), (3, 4))), ("ij,jk", ((2, 3), (3, 4))), ("ii->i", ((3, 3),)),
    ("ii", ((3, 3),)), ("ij->", ((2, 3),)), ("ij->ji", ((2, 3),)), ("i,j->ij", ((2,), (3,))),
    ("bij,bjk->bik", ((2, 2, 3), (2, 3, 4))), ("...ij,...jk", ((2, 1, 2, 3), (5, 3, 4))),
    ("iij->j", ((2, 2, 3),)), ("iii->i", ((2, 2, 2),)), ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 5))),
    ("i,i->i", ((1,), (3,))), ("ij,kj->", ((2, 3), (4, 3))), ("ii,i->i", ((3, 3), (3,))),
    ("ij,jk->ki", ((2, 3), (3, 4))), ("bi,bi->b", ((2, 3), (2, 3))), ("i,i", ((3,), (3,))),
    ("...,...->...", ((2, 3), (2, 3))), ("ij,jk->kij", ((2, 3), (3, 4))),
    ("i...->...", ((2, 3, 4),)), ("i...j->j...i", ((2, 3, 4, 5),)), ("...i,i", ((2, 3), (3,))),
    ("...ij,...jk->ik", ((2, 2, 3), (2, 3, 4))), ("ba,Ac", ((2, 3), (4, 5))),
    ("i j , j k -> i k", ((2, 3), (3, 4))), ("ij,jk", ((2, 1), (4, 2))),
    ("i,j,k->ijk", ((1,), (3,), (2,))), ("abc,cd,ae->be", ((2, 3, 4), (4, 5), (2, 6))),
    ("ij,jk->ik", ((0, 3), (3, 4))), ("ij,jk->ik", ((2, 0), (0, 4))), ("->", ((),)),
    ("i,->i", ((3,), ())),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_torch(equation: str, shapes: tuple[Any, ...]) -> None:
    compare(torch, lambda *ops: autodiff.einsum(equation, *ops),
            lambda *ops: torch.einsum(equation, *ops), [randn(*s) for s in shapes],
            second_order=True)


def test_einsum_operand_list_and_sublists() -> None:
    a, b = randn(2, 3), randn(3, 4)
    compare(torch, lambda x, y: autodiff.einsum("ij,jk", [x, y]),
            lambda x, y: torch.einsum("ij,jk", [x, y]), [a, b])
    compare(torch, lambda x, y: autodiff.einsum(x, [0, 1], y, [1, 2], [0, 2]),
            lambda x, y: torch.einsum(x, [0, 1], y, [1, 2], [0, 2]), [a, b])
    compare(torch, lambda x, y: autodiff.einsum(x, [Ellipsis, 1], y, [1, 2]),
            lambda x, y: torch.einsum(x, [Ellipsis, 1], y, [1, 2]), [a, b])


EINSUM_ERRORS = [
    ("ij,jk", ((2, 3),)), ("ij", ((2, 3), (3, 4))), ("ijk", ((2, 3),)),
    ("ij,jk", ((2, 3), (4, 2))), ("ij->ii", ((2, 2),)), ("ij->k", ((2, 2),)),
    ("i1->i", ((2, 2),)), ("ij->j->i", ((2, 3),)), ("..ij", ((2, 3),)), ("...i...", ((2, 3),)),
    ("...ijk", ((2, 3),)), ("...i,...i->...", ((2, 3), (4, 3))), ("ii->i", ((2, 3),)),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUM_ERRORS, ids=[c[0] for c in EINSUM_ERRORS])
def test_einsum_errors_match_torch(equation: str, shapes: tuple[Any, ...]) -> None:
    arrays = [randn(*s) for s in shapes]
    same_error(lambda: autodiff.einsum(equation, *[autodiff.tensor(a) for a in arrays]),
               lambda: torch.einsum(equation, *[torch.tensor(a) for a in arrays]))


def test_einsum_needs_operands_and_one_dtype() -> None:
    same_error(lambda: autodiff.einsum("i"), lambda: torch.einsum("i"))
    same_error(lambda: autodiff.einsum("ij,jk", autodiff.ones(2, 3),
                                       autodiff.ones(3, 4, dtype=autodiff.float64)),
               lambda: torch.einsum("ij,jk", torch.ones(2, 3),
                                    torch.ones(3, 4, dtype=torch.float64)))


# ----------------------------------------------------------------------------- tensordot
@pytest.mark.parametrize(("shapes", "dims"), [
    (((2, 3, 4), (3, 4, 5)), 2), (((2, 3), (3, 4)), 1), (((2,), (3,)), 0),
    (((2, 3, 4), (3, 5, 2)), ([1, 0], [0, 2])), (((2, 3), (3, 4)), ([-1], [0])),
    (((2, 1), (3, 4)), 1), (((2, 3), (3, 4)), ((1,), (0,))),
], ids=str)
def test_tensordot_matches_torch(shapes: tuple[Any, ...], dims: Any) -> None:
    compare(torch, lambda a, b: autodiff.tensordot(a, b, dims),
            lambda a, b: torch.tensordot(a, b, dims), [randn(*s) for s in shapes],
            second_order=True)


def test_tensordot_dims_as_tensor() -> None:
    a, b = randn(2, 3), randn(3, 4)
    out = autodiff.tensordot(autodiff.tensor(a), autodiff.tensor(b), autodiff.tensor([[1], [0]]))
    np.testing.assert_allclose(out.numpy(), a @ b)
    out = autodiff.tensordot(autodiff.tensor(a), autodiff.tensor(b), autodiff.tensor(1))
    np.testing.assert_allclose(out.numpy(), a @ b)


@pytest.mark.parametrize(("shapes", "dims"), [
    (((2, 3), (4, 5)), 1), (((2, 3), (3, 5)), -1), (((2, 3), (3, 5)), ([1], [1])),
    (((2, 3), (3, 5)), ([1, 0], [1])), (((2, 3), (3, 5)), 3), (((3, 3), (3, 3)), ([0, 0], [0, 1])),
    (((2, 3, 4), (3, 5, 6)), 2),
], ids=str)
def test_tensordot_errors_match_torch(shapes: tuple[Any, ...], dims: Any) -> None:
    a, b = (randn(*s) for s in shapes)
    same_error(lambda: autodiff.tensordot(autodiff.tensor(a), autodiff.tensor(b), dims),
               lambda: torch.tensordot(torch.tensor(a), torch.tensor(b), dims))
    same_error(lambda: autodiff.tensordot(autodiff.ones(2, 2), autodiff.ones(2, 2).double(), 1),
               lambda: torch.tensordot(torch.ones(2, 2), torch.ones(2, 2).double(), 1))


# ----------------------------------------------------------------------------- autodiff.linalg
def _dominant(library: Any, a: Any) -> Any:
    return a + 4 * library.eye(a.shape[-1], dtype=a.dtype)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 1, 3, 3)], ids=str)
def test_inv_det_slogdet_match_torch(shape: tuple[int, ...]) -> None:
    a = randn(*shape) / 2
    for name in ("inv", "det"):
        compare(torch, lambda x, n=name: getattr(LA, n)(_dominant(autodiff, x)),
                lambda x, n=name: getattr(torch.linalg, n)(_dominant(torch, x)), [a],
                second_order=True)
    compare(torch, LA.det, torch.linalg.det, [randn(*shape)], second_order=True, atol=1e-8)
    for index in (0, 1):
        compare(torch, lambda x, i=index: LA.slogdet(x)[i],
                lambda x, i=index: torch.linalg.slogdet(x)[i], [randn(*shape)],
                second_order=True, atol=1e-8)
    compare(torch, autodiff.inverse, torch.inverse, [spd(*shape)])
    compare(torch, lambda x: x.det(), lambda x: x.det(), [spd(*shape)])


def test_slogdet_result_and_sign() -> None:
    a = np.array([[0.0, 1.0], [2.0, 0.0]])
    ours, theirs = LA.slogdet(autodiff.tensor(a)), torch.linalg.slogdet(torch.tensor(a))
    assert ours.sign.item() == theirs.sign.item() == -1.0
    assert ours.logabsdet.item() == pytest.approx(theirs.logabsdet.item())
    sign, logabsdet = autodiff.slogdet(autodiff.tensor(a, requires_grad=True))
    assert sign.requires_grad and logabsdet.grad_fn.name() == "LinalgSlogdetBackward0"


@pytest.mark.parametrize(("a_shape", "b_shape", "left"), [
    ((3, 3), (3,), True), ((3, 3), (3, 2), True), ((2, 3, 3), (2, 3), True),
    ((2, 3, 3), (3,), True), ((2, 3, 3), (3, 2), True), ((3, 3), (4, 3, 2), True),
    ((2, 1, 3, 3), (5, 3, 1), True), ((3, 3), (2, 3), False), ((2, 3, 3), (4, 3), False),
    ((2, 3, 3), (3, 3), False),
], ids=str)
def test_solve_matches_torch(a_shape: tuple[int, ...], b_shape: tuple[int, ...],
                             left: bool) -> None:
    compare(torch, lambda a, b: LA.solve(_dominant(autodiff, a), b, left=left),
            lambda a, b: torch.linalg.solve(_dominant(torch, a), b, left=left),
            [randn(*a_shape) / 2, randn(*b_shape)], second_order=True)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)], ids=str)
def test_cholesky_matches_torch(shape: tuple[int, ...], upper: bool) -> None:
    def ours(a: Any) -> Any:
        return LA.cholesky(a @ a.mT + 3 * autodiff.eye(shape[-1], dtype=a.dtype), upper=upper)

    def theirs(a: Any) -> Any:
        return torch.linalg.cholesky(a @ a.mT + 3 * torch.eye(shape[-1], dtype=a.dtype),
                                     upper=upper)

    compare(torch, ours, theirs, [randn(*shape)], second_order=True)


LINALG_ERRORS = [
    ("inv", lambda lib: lib.linalg.inv(lib.ones(2, 3))),
    ("inv_1d", lambda lib: lib.linalg.inv(lib.ones(3))),
    ("inv_singular", lambda lib: lib.linalg.inv(lib.zeros(2, 2))),
    ("inv_singular_pivot", lambda lib: lib.linalg.inv(lib.tensor([[1.0, 2.0], [2.0, 4.0]]))),
    ("inv_singular_batch", lambda lib: lib.linalg.inv(
        lib.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]))),
    ("inv_int", lambda lib: lib.linalg.inv(lib.eye(2, dtype=lib.int64))),
    ("inv_half", lambda lib: lib.linalg.inv(lib.eye(2, dtype=lib.float16))),
    ("det", lambda lib: lib.linalg.det(lib.ones(2, 3))),
    ("slogdet", lambda lib: lib.linalg.slogdet(lib.ones(2, 3))),
    ("solve_b", lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(2))),
    ("solve_b2", lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(2, 2))),
    ("solve_b0", lambda lib: lib.linalg.solve(lib.eye(2), lib.ones(()))),
    ("solve_a", lambda lib: lib.linalg.solve(lib.ones(2), lib.ones(2))),
    ("solve_square", lambda lib: lib.linalg.solve(lib.ones(2, 3), lib.ones(2))),
    ("solve_batch", lambda lib: lib.linalg.solve(lib.ones(2, 2, 2), lib.ones(3, 2))),
    ("solve_right_vector", lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(3), left=False)),
    ("solve_dtype", lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(3, dtype=lib.float64))),
    ("solve_int", lambda lib: lib.linalg.solve(lib.eye(2, dtype=lib.int64),
                                               lib.ones(2, dtype=lib.int64))),
    ("solve_singular", lambda lib: lib.linalg.solve(lib.zeros(2, 2), lib.ones(2))),
    ("cholesky_nonsquare", lambda lib: lib.linalg.cholesky(lib.ones(2, 3))),
    ("cholesky_not_pd", lambda lib: lib.linalg.cholesky(-lib.eye(2))),
    ("cholesky_minor", lambda lib: lib.linalg.cholesky(
        lib.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, -1]]))),
    ("cholesky_int", lambda lib: lib.linalg.cholesky(lib.eye(2, dtype=lib.int64))),
    ("vector_norm_int", lambda lib: lib.linalg.vector_norm(lib.arange(3))),
    ("vector_norm_str", lambda lib: lib.linalg.vector_norm(lib.ones(3), "fro")),
    ("vector_norm_empty_inf", lambda lib: lib.linalg.vector_norm(lib.ones(0), math.inf)),
    ("vector_norm_empty_dim", lambda lib: lib.linalg.vector_norm(lib.ones(2, 0), math.inf, 1)),
    ("matrix_norm_1d", lambda lib: lib.linalg.matrix_norm(lib.ones(3))),
    ("matrix_norm_order", lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3), 3)),
    ("matrix_norm_order_str", lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3), "abc")),
    ("matrix_norm_order_first", lambda lib: lib.linalg.matrix_norm(lib.ones(3), "abc")),
    ("matrix_norm_dim_3", lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3, 3), dim=(0, 1, 2))),
    ("matrix_norm_same_dims", lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3, 3), dim=(0, -3))),
    ("vector_norm_empty_negative", lambda lib: lib.linalg.vector_norm(lib.ones(2, 0), -1, 1)),
    ("torch_norm_3_dims_fro", lambda lib: lib.norm(lib.ones(3, 3, 3), "fro", dim=(0, 1, 2))),
    ("norm_3d_ord", lambda lib: lib.linalg.norm(lib.ones(3, 3, 3), 2)),
    ("norm_1d_fro", lambda lib: lib.linalg.norm(lib.ones(3), "fro")),
    ("norm_dims", lambda lib: lib.linalg.norm(lib.ones(3, 3, 3), dim=(0, 1, 2))),
]


@pytest.mark.parametrize("build", [case[1] for case in LINALG_ERRORS],
                         ids=[case[0] for case in LINALG_ERRORS])
def test_linalg_errors_match_torch(build: Any) -> None:
    message = same_error(lambda: build(autodiff), lambda: build(torch))
    assert message


def test_singular_errors_are_linalg_errors_and_batched() -> None:
    batch = np.stack([np.eye(2), np.zeros((2, 2))])
    with pytest.raises(LA.LinAlgError) as ours:
        LA.inv(autodiff.tensor(batch))
    with pytest.raises(torch.linalg.LinAlgError) as theirs:
        torch.linalg.inv(torch.tensor(batch))
    assert str(ours.value) == str(theirs.value)
    assert isinstance(ours.value, RuntimeError)
    ones = np.ones((2, 2))
    same_error(lambda: LA.solve(autodiff.tensor(batch), autodiff.tensor(ones)),
               lambda: torch.linalg.solve(torch.tensor(batch), torch.tensor(ones)))
    pd = np.stack([np.eye(2), -np.eye(2)])
    same_error(lambda: LA.cholesky(autodiff.tensor(pd)),
               lambda: torch.linalg.cholesky(torch.tensor(pd)))


def test_failed_factorization_changes_nothing() -> None:
    a = autodiff.zeros(2, 2, requires_grad=True)
    b = a * 1
    with pytest.raises(LA.LinAlgError):
        LA.inv(b)
    assert a.grad is None and b.grad_fn.name() == "MulBackward0"


ORDERS = [2, 1, 3, 0.5, 1.5, math.inf, -math.inf, 0, -1]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 1, (0, 2), -1], ids=str)
@pytest.mark.parametrize("order", ORDERS, ids=str)
def test_vector_norm_matches_torch(order: float, dim: Any, keepdim: bool) -> None:
    compare(torch, lambda x: LA.vector_norm(x, order, dim, keepdim),
            lambda x: torch.linalg.vector_norm(x, order, dim, keepdim), [randn(2, 3, 4)],
            second_order=order not in (0, math.inf, -math.inf))


def test_vector_norm_zero_input_and_dtype() -> None:
    compare(torch, LA.vector_norm, torch.linalg.vector_norm, [np.zeros(3)])
    compare(torch, lambda x: LA.vector_norm(x, 3), lambda x: torch.linalg.vector_norm(x, 3),
            [np.zeros(3)])
    out = LA.vector_norm(autodiff.ones(3), dtype=autodiff.float64)
    assert out.dtype is autodiff.float64 and out.item() == pytest.approx(math.sqrt(3))
    assert LA.vector_norm(autodiff.ones(0)).item() == 0.0


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [(-2, -1), (2, 0), (1, 0)], ids=str)
@pytest.mark.parametrize("order", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf], ids=str)
def test_matrix_norm_matches_torch(order: Any, dim: Any, keepdim: bool) -> None:
    svd_based = order in ("nuc", 2, -2)
    compare(torch, lambda x: LA.matrix_norm(x, order, dim, keepdim),
            lambda x: torch.linalg.matrix_norm(x, order, dim, keepdim), [randn(2, 3, 4)],
            second_order=not svd_based, atol=1e-8)


def test_singular_value_norms_refuse_second_derivatives() -> None:
    a = autodiff.tensor(randn(3, 3), requires_grad=True)
    LA.matrix_norm(a, "nuc").backward(create_graph=True)
    with pytest.raises(RuntimeError, match="first order only"):
        a.grad.sum().backward()


@pytest.mark.parametrize(("order", "dim"), [
    (None, None), (None, 1), (None, (0, 1)), (2, None), (1, None), (math.inf, None),
    ("fro", None), ("nuc", None), (-math.inf, (1, 2)), (3, 0), (2, (0, 2)),
], ids=str)
def test_norm_matches_torch(order: Any, dim: Any) -> None:
    shape = (3, 4) if dim is None and order is not None else (2, 3, 4)
    compare(torch, lambda x: LA.norm(x, order, dim), lambda x: torch.linalg.norm(x, order, dim),
            [randn(*shape)], atol=1e-8)
    compare(torch, lambda x: LA.norm(x, 1), lambda x: torch.linalg.norm(x, 1), [randn(4)])


@pytest.mark.parametrize(("p", "dim"), [
    ("fro", None), ("fro", (0, 2)), ("nuc", None), ("nuc", (2, 0)), (None, 1), (0, None),
    (-1, 2), (math.inf, (0, 1)),
], ids=str)
def test_torch_norm_dispatches_like_torch(p: Any, dim: Any) -> None:
    shape = (3, 4) if p == "nuc" and dim is None else (2, 3, 4)
    compare(torch, lambda x: autodiff.norm(x, p, dim), lambda x: torch.norm(x, p, dim),
            [randn(*shape)], atol=1e-8)


def test_vector_norm_order_0_has_no_gradient() -> None:
    x = autodiff.tensor([0.0, 2.0], requires_grad=True)
    LA.vector_norm(x, 0).backward()
    assert x.grad is None  # as PyTorch's norm_backward: an undefined gradient


# ----------------------------------------------------------------------------- generic backends
class _StrictNamespace:
    """What backends/einsum.py and backends/linalg.py read from a Backend: its namespace."""

    def __init__(self) -> None:
        self.xp = pytest.importorskip("array_api_strict")


@pytest.mark.parametrize(("equation", "shapes"), [
    ("ij,jk->ik", ((2, 3), (3, 4))), ("ii->i", ((3, 3),)), ("ii->", ((3, 3),)),
    ("iij->j", ((2, 2, 3),)), ("iii->i", ((2, 2, 2),)), ("ij->ji", ((2, 3),)),
    ("i,j->ij", ((2,), (3,))), ("bij,bjk->bik", ((2, 2, 3), (2, 3, 4))),
    ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 5))), ("ijk,kji->", ((2, 3, 4), (4, 3, 2))),
    ("abc,cd,ae->be", ((2, 3, 4), (4, 5), (2, 6))), ("ii,i->i", ((3, 3), (3,))),
    ("ij,jk->ik", ((0, 3), (3, 4))), ("ij,jk->ik", ((2, 0), (0, 4))), ("i,i->i", ((1,), (3,))),
    ("ab,ab->", ((1, 3), (2, 1))), ("->", ((),)), (",->", ((), ())), ("i->", ((0,),)),
], ids=str)
def test_generic_einsum_matches_numpy(equation: str, shapes: tuple[Any, ...]) -> None:
    backend = _StrictNamespace()
    arrays = [randn(*s) for s in shapes]
    got = generic_einsum.einsum(backend, equation, *[backend.xp.asarray(a) for a in arrays])
    np.testing.assert_allclose(np.asarray(got), np.einsum(equation, *arrays), atol=1e-12)


def test_generic_decompositions_match_numpy_and_raises_linalg_error() -> None:
    backend = _StrictNamespace()
    xp = backend.xp
    a = spd(2, 3, 3)
    b = randn(2, 3, 2)
    np.testing.assert_allclose(np.asarray(generic_decompositions.inv(backend, xp.asarray(a))),
                               np.linalg.inv(a), atol=1e-12)
    np.testing.assert_allclose(np.asarray(generic_decompositions.solve(backend, xp.asarray(a),
                                                               xp.asarray(b))),
                               np.linalg.solve(a, b), atol=1e-12)
    np.testing.assert_allclose(np.asarray(generic_decompositions.det(backend, xp.asarray(a))),
                               np.linalg.det(a))
    _, logabsdet = generic_decompositions.slogdet(backend, xp.asarray(a))
    np.testing.assert_allclose(np.asarray(logabsdet), np.linalg.slogdet(a)[1])
    np.testing.assert_allclose(np.asarray(generic_decompositions.cholesky(backend, xp.asarray(a))),
                               np.linalg.cholesky(a), atol=1e-12)
    u, s, vh = generic_decompositions.svd(backend, xp.asarray(a))
    np.testing.assert_allclose(np.asarray(u) * np.asarray(s)[..., None, :] @ np.asarray(vh), a,
                               atol=1e-12)
    with pytest.raises(generic_decompositions.LinAlgError):
        generic_decompositions.inv(backend, xp.zeros((2, 2)))
    with pytest.raises(generic_decompositions.LinAlgError):
        generic_decompositions.cholesky(backend, -xp.eye(2))


@pytest.mark.parametrize(("shape", "ind"), [((6, 2, 3), 1), ((2, 3, 6), 2), ((6, 6), 1)])
def test_tensorinv_node_and_gradient_match_torch(shape: tuple[int, ...], ind: int) -> None:
    matrix = np.eye(6) * 2 + np.arange(36).reshape(6, 6) / 50
    compare(torch, lambda a: LA.tensorinv(a, ind=ind), lambda a: torch.linalg.tensorinv(a, ind=ind),
            [matrix.reshape(shape)], second_order=True)
    out = LA.tensorinv(autodiff.tensor(matrix.reshape(shape), requires_grad=True), ind=ind)
    assert out.grad_fn.name() == "ReshapeAliasBackward0"
    assert out.grad_fn.next_functions[0][0].name() == "LinalgInvExBackward0"
