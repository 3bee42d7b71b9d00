"""linalg.solve_triangular, cholesky_solve, cholesky_inverse, linalg.eigh and linalg.eigvalsh
against PyTorch: values, first and second derivatives, node names, which triangle is read,
singular triangles, and error messages; the generic (substitution) triangular solve against
NumPy on every device."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.linalg as LA
from tests.compare import compare, same_error

RNG = np.random.default_rng(4321)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def triangular(*shape: int) -> np.ndarray:
    """A well-conditioned triangle, either one, with noise in the other (which must not be
    read)."""
    return randn(*shape) + 4 * np.eye(shape[-1])


# ----------------------------------------------------------------------------- without torch
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_substitution_on_every_device(device: str, upper: bool, unitriangular: bool) -> None:
    a, b = triangular(2, 4, 4), randn(4, 3)
    kept = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        kept = (np.triu(a, 1) if upper else np.tril(a, -1)) + np.eye(4)
    x = LA.solve_triangular(autodiff.tensor(a, device=device), autodiff.tensor(b, device=device),
                            upper=upper, unitriangular=unitriangular)
    assert x.device == autodiff.device(device) and tuple(x.shape) == (2, 4, 3)
    np.testing.assert_allclose(x.cpu().numpy(), np.linalg.solve(kept, b), atol=1e-12)


def test_generic_backend_matches_numpy() -> None:
    from backends.decompositions import solve_triangular

    backend = autodiff.tensor(0.0)._backend
    a, b = triangular(3, 5, 5), randn(1, 5, 2)
    generic = solve_triangular(backend, a, b, upper=True, unitriangular=False)
    np.testing.assert_allclose(generic, np.linalg.solve(np.triu(a), b), atol=1e-12)


def test_zero_on_the_diagonal_gives_inf_and_nan(device: str) -> None:
    a = autodiff.tensor([[0.0, 1.0], [0.0, 2.0]], device=device)
    x = LA.solve_triangular(a, autodiff.ones(2, 1, device=device), upper=True)
    values = x.cpu().numpy().ravel()
    assert values[1] == 0.5 and not np.isfinite(values[0])


def test_eigh_reads_one_triangle(device: str) -> None:
    a = randn(2, 4, 4)
    for uplo in ("L", "U"):
        result = LA.eigh(autodiff.tensor(a, device=device), UPLO=uplo)
        values, vectors = result.eigenvalues.cpu().numpy(), result.eigenvectors.cpu().numpy()
        np.testing.assert_allclose(values, np.linalg.eigvalsh(a, UPLO=uplo), atol=1e-12)
        rebuilt = vectors @ (values[..., None] * np.swapaxes(vectors, -1, -2))
        expected = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2) if uplo == "L" else \
            np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)
        np.testing.assert_allclose(rebuilt, expected, atol=1e-12)
        eig = LA.eigvalsh(autodiff.tensor(a, device=device), uplo)
        np.testing.assert_allclose(eig.cpu().numpy(), values, atol=1e-12)


def test_eigenvalue_gradient_at_a_repeated_eigenvalue_is_finite() -> None:
    # The identity has one eigenvalue three times: the eigenvalues' gradient is still V V^T.
    a = autodiff.eye(3, dtype=autodiff.float64, requires_grad=True)
    (LA.eigvalsh(a) * autodiff.tensor([1.0, 1.0, 1.0], dtype=autodiff.float64)).sum().backward()
    assert a.grad is not None
    np.testing.assert_allclose(a.grad.cpu().numpy(), np.eye(3), atol=1e-12)


def test_eigh_return_type() -> None:
    result = LA.eigh(autodiff.tensor(np.diag([2.0, 1.0])))
    assert type(result).__name__ == "linalg_eigh"
    assert result.eigenvalues.tolist() == [1.0, 2.0] and result[0] is result.eigenvalues
    assert abs(result.eigenvectors.cpu().numpy()).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_cholesky_round_trip(device: str) -> None:
    a = randn(3, 3)
    spd = a @ a.T + 3 * np.eye(3)
    factor = LA.cholesky(autodiff.tensor(spd, device=device))
    inverse = autodiff.cholesky_inverse(factor)
    np.testing.assert_allclose(inverse.cpu().numpy(), np.linalg.inv(spd), atol=1e-12)
    b = randn(3, 2)
    x = autodiff.tensor(b, device=device).cholesky_solve(factor)
    np.testing.assert_allclose(x.cpu().numpy(), np.linalg.solve(spd, b), atol=1e-12)
    np.testing.assert_allclose(factor.cholesky_inverse().cpu().numpy(), inverse.cpu().numpy())


# ----------------------------------------------------------------------------- against torch
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_solve_triangular_against_torch(upper: bool, left: bool, unitriangular: bool) -> None:
    torch = pytest.importorskip("torch")
    b = randn(4, 3, 2) if left else randn(4, 2, 3)
    compare(torch, lambda a, b: LA.solve_triangular(a, b, upper=upper, left=left,
                                                    unitriangular=unitriangular),
            lambda a, b: torch.linalg.solve_triangular(a, b, upper=upper, left=left,
                                                       unitriangular=unitriangular),
            [triangular(3, 3), b], second_order=True)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_against_torch(upper: bool) -> None:
    torch = pytest.importorskip("torch")
    compare(torch, lambda b, f: autodiff.cholesky_solve(b, f, upper),
            lambda b, f: torch.cholesky_solve(b, f, upper),
            [randn(2, 3, 2), triangular(3, 3)], second_order=True)
    compare(torch, lambda b, f: b.cholesky_solve(f, upper=upper),
            lambda b, f: b.cholesky_solve(f, upper=upper),
            [randn(3, 1), triangular(2, 3, 3)])


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_against_torch(upper: bool) -> None:
    torch = pytest.importorskip("torch")
    compare(torch, lambda f: autodiff.cholesky_inverse(f, upper),
            lambda f: torch.cholesky_inverse(f, upper), [triangular(2, 3, 3)],
            second_order=True)
    compare(torch, lambda f: f.cholesky_inverse(upper),
            lambda f: f.cholesky_inverse(upper), [triangular(3, 3)])


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigvalsh_against_torch(uplo: str) -> None:
    torch = pytest.importorskip("torch")
    compare(torch, lambda a: LA.eigvalsh(a, uplo), lambda a: torch.linalg.eigvalsh(a, uplo),
            [randn(2, 4, 4)], second_order=True)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_against_torch(uplo: str) -> None:
    torch = pytest.importorskip("torch")
    a = randn(2, 4, 4)
    ours, theirs = LA.eigh(autodiff.tensor(a), UPLO=uplo), torch.linalg.eigh(torch.tensor(a),
                                                                             UPLO=uplo)
    np.testing.assert_allclose(ours.eigenvalues.cpu().numpy(), theirs.eigenvalues.numpy(),
                               atol=1e-12)
    # Each eigenvector is one up to its sign, which is the LAPACK build's choice.
    ours_v, theirs_v = ours.eigenvectors.cpu().numpy(), theirs.eigenvectors.numpy()
    signs = np.sign((ours_v * theirs_v).sum(-2, keepdims=True))
    np.testing.assert_allclose(ours_v * signs, theirs_v, atol=1e-12)
    # A sign-free loss of both outputs, to second order.
    compare(torch, lambda a: _sign_free(LA.eigh(a, UPLO=uplo)),
            lambda a: _sign_free(torch.linalg.eigh(a, UPLO=uplo)), [randn(3, 3)],
            second_order=True, check_name=False)


def _sign_free(result: Any) -> Any:
    values, vectors = result
    return values.sin() + (vectors * vectors).sum(-2) * values.cos()


ERROR_CASES: list[tuple[str, tuple[tuple[int, ...], ...], str, dict[str, Any]]] = [
    # (function, shapes of A then B, dtype, keywords)
    ("linalg.solve_triangular", ((3, 3), (4, 2)), "float64", {"upper": True}),
    ("linalg.solve_triangular", ((3, 3), (3,)), "float64", {"upper": True}),
    ("linalg.solve_triangular", ((3,), (3, 2)), "float64", {"upper": True}),
    ("linalg.solve_triangular", ((3, 4), (3, 2)), "float64", {"upper": True}),
    ("linalg.solve_triangular", ((3, 3), (3, 4)), "float64", {"upper": True, "left": False}),
    ("linalg.solve_triangular", ((2, 3, 3), (4, 3, 2)), "float64", {"upper": False}),
    ("linalg.solve_triangular", ((3, 3), (3, 2)), "int32", {"upper": False}),
    ("linalg.solve_triangular", ((3, 3), (3, 2)), "float16", {"upper": False}),
    ("cholesky_solve", ((3, 3), (3,)), "float64", {}),
    ("cholesky_solve", ((3,), (3, 2)), "float64", {}),
    ("cholesky_solve", ((3, 3), (4, 2)), "float64", {}),
    ("cholesky_solve", ((4, 3, 3), (2, 3, 2)), "float64", {}),
    ("cholesky_solve", ((3, 3), (3, 2)), "int32", {}),
    ("cholesky_solve", ((3, 3), (3, 2)), "float16", {}),
    ("cholesky_inverse", ((3,),), "float64", {}),
    ("cholesky_inverse", ((3, 4),), "float64", {}),
    ("cholesky_inverse", ((3, 3),), "int32", {}),
    ("linalg.eigh", ((3,),), "float64", {}),
    ("linalg.eigh", ((3, 4),), "float64", {}),
    ("linalg.eigh", ((3, 3),), "float64", {"UPLO": "X"}),
    ("linalg.eigvalsh", ((3, 3),), "int32", {}),
    ("linalg.eigvalsh", ((3, 3),), "float16", {}),
]


def _call(library: Any, function: str, shapes: tuple[tuple[int, ...], ...], dtype: str,
          keywords: dict[str, Any]) -> Any:
    arrays = [RNG.standard_normal(shape).astype(dtype) for shape in shapes]
    if function == "cholesky_solve":  # (B, L): A's shape is listed first
        arrays = arrays[::-1]
    target = library
    for part in function.split("."):
        target = getattr(target, part)
    return target(*(library.tensor(array) for array in arrays), **keywords)


@pytest.mark.parametrize(("function", "shapes", "dtype", "keywords"), ERROR_CASES)
def test_errors_as_torch(function: str, shapes: tuple[tuple[int, ...], ...], dtype: str,
                         keywords: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: _call(autodiff, function, shapes, dtype, keywords),
               lambda: _call(torch, function, shapes, dtype, keywords))


def test_mixed_float_dtypes_promote() -> None:
    torch = pytest.importorskip("torch")
    a, b = triangular(3, 3), randn(3, 2).astype(np.float32)
    ours = LA.solve_triangular(autodiff.tensor(a), autodiff.tensor(b), upper=True)
    theirs = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    assert ours.dtype.name == "float64" == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.cpu().numpy(), theirs.cpu().numpy(), atol=1e-12)
