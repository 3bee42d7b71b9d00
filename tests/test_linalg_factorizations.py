"""The factorizations of autodiff.linalg beyond the op table: results as named tuples, the
*_ex infos, errors with PyTorch's wording (compared with PyTorch where installed), gauge
errors of the singular/eigen vectors, torch.svd's legacy options, and the complex-number
helpers (is_conj, resolve_conj, H/mH, polar). Device-generic tests run on every device."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.linalg as LA


def _t(array: object, device: str = "cpu", **kwargs: object) -> autodiff.Tensor:
    return autodiff.tensor(np.asarray(array, dtype=np.float64), device=device, **kwargs)


def _spd(n: int, seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


# ----------------------------------------------------------------------------- values, batches
def test_svd_reconstructs_batches_and_full_matrices(device: str) -> None:
    a = np.random.default_rng(0).standard_normal((2, 4, 3))
    u, s, vh = LA.svd(_t(a, device))
    assert tuple(u.shape) == (2, 4, 4) and tuple(vh.shape) == (2, 3, 3)
    rebuilt = u[..., :3] * s.unsqueeze(-2) @ vh
    np.testing.assert_allclose(rebuilt.cpu().numpy(), a, atol=1e-12)
    assert str(rebuilt.device) == device


def test_eigh_and_eig_agree_with_numpy(device: str) -> None:
    a = _spd(3)
    w, _ = LA.eigh(_t(a, device))
    np.testing.assert_allclose(w.cpu().numpy(), np.linalg.eigvalsh(a), atol=1e-12)
    values = LA.eigvals(_t(a, device))
    assert values.dtype is autodiff.complex128
    np.testing.assert_allclose(np.sort(values.cpu().numpy().real), np.linalg.eigvalsh(a),
                               atol=1e-10)
    assert LA.eig(_t(a, device).float()).eigenvectors.dtype is autodiff.complex64


def test_lu_round_trip(device: str) -> None:
    a = np.random.default_rng(1).standard_normal((2, 3, 3))
    p, lower, upper = LA.lu(_t(a, device))
    np.testing.assert_allclose((p @ lower @ upper).cpu().numpy(), a, atol=1e-12)
    lu, pivots = LA.lu_factor(_t(a, device))
    assert pivots.dtype is autodiff.int32
    b = _t(np.ones((2, 3, 1)), device)
    x = LA.lu_solve(lu, pivots, b)
    np.testing.assert_allclose(a @ x.cpu().numpy(), np.ones((2, 3, 1)), atol=1e-10)


def test_ex_functions_report_infos(device: str) -> None:
    singular = _t([[1.0, 2.0], [2.0, 4.0]], device)
    assert LA.inv_ex(singular).info.item() == 2
    assert LA.solve_ex(singular, _t([[1.0], [1.0]], device)).info.item() == 2
    assert LA.lu_factor_ex(singular).info.item() == 2
    factor, info = LA.cholesky_ex(_t([[1.0, 2.0], [2.0, 1.0]], device))
    assert info.item() == 2
    np.testing.assert_allclose(factor.cpu().numpy(), [[1.0, 0.0], [2.0, -3.0]])
    assert LA.cholesky_ex(_t(_spd(3), device)).info.item() == 0


def test_ldl_solve_solves_symmetric_indefinite(device: str) -> None:
    a = np.array([[0.0, 2.0, 1.0], [2.0, 0.0, 3.0], [1.0, 3.0, -1.0]])
    ld, pivots = LA.ldl_factor(_t(a, device))
    x = LA.ldl_solve(ld, pivots, _t(np.eye(3), device))
    np.testing.assert_allclose(x.cpu().numpy(), np.linalg.inv(a), atol=1e-12)


def test_torch_svd_legacy_options() -> None:
    a = _t(np.random.default_rng(2).standard_normal((4, 3)))
    u, s, v = autodiff.svd(a)
    np.testing.assert_allclose((u * s @ v.mT).numpy(), a.numpy(), atol=1e-12)
    u, s, v = autodiff.svd(a, some=False, compute_uv=False)
    assert tuple(u.shape) == (4, 4) and tuple(v.shape) == (3, 3)
    assert not u.numpy().any() and not v.numpy().any()


def test_matrix_rank_and_tolerances() -> None:
    a = _t([[1.0, 2.0], [2.0, 4.0000001]])
    assert LA.matrix_rank(a).item() == 2
    assert LA.matrix_rank(a, atol=1e-3).item() == 1
    assert LA.matrix_rank(a, rtol=1e-3).item() == 1
    assert LA.matrix_rank(a, hermitian=True, atol=1e-3).item() == 1


# ----------------------------------------------------------------------------- gradients
def test_svd_gradient_is_twice_differentiable_and_degenerate_gives_nan() -> None:
    a = _t(np.random.default_rng(3).standard_normal((3, 3)), requires_grad=True)
    u, s, vh = LA.svd(a)
    (grad,) = autodiff.autograd.grad((u @ vh).sum() + s.sum(), a, create_graph=True)
    (grad * grad).sum().backward()
    assert a.grad is not None and np.isfinite(a.grad.numpy()).all()
    b = _t(np.zeros((3, 3)), requires_grad=True)
    u, _, _ = LA.svd(b + autodiff.eye(3, dtype=autodiff.float64))
    u.sum().backward()
    assert np.isnan(b.grad.numpy()).all()  # PyTorch gives NaN too: repeated singular values


def test_qr_backward_refuses_mode_r_and_complete_tall() -> None:
    a = _t(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="not computed when mode='r'"):
        LA.qr(a, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        LA.qr(a, mode="complete").Q.sum().backward()


def test_eigenvector_phase_dependence_raises() -> None:
    re = _t(np.random.default_rng(5).standard_normal((3, 3)), requires_grad=True)
    z = autodiff.complex(re, re.detach() * 0.5)
    _, v = LA.eig(z)
    with pytest.raises(RuntimeError, match=r"linalg_eig_backward: The eigenvectors in the "
                       r"complex case are specified up to multiplication by e\^\{i phi\}"):
        v.real.sum().backward()


def test_ldl_is_not_differentiable() -> None:
    a = _t(_spd(3), requires_grad=True)
    ld, _ = LA.ldl_factor(a)
    assert ld.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not "
                       "implemented"):
        ld.sum().backward()


def test_geqrf_is_not_differentiable() -> None:
    a = _t(np.eye(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"the derivative for 'geqrf' is not implemented\."):
        autodiff.geqrf(a).a.sum().backward()


# ----------------------------------------------------------------------------- complex helpers
def test_conj_bits() -> None:
    z = autodiff.complex(_t([1.0, 2.0]), _t([3.0, 4.0]))
    assert not z.is_conj() and z.conj().is_conj() and not z.conj().conj().is_conj()
    assert z.conj().imag.is_neg() and not z.imag.is_neg()
    assert z.resolve_conj() is z and not z.conj().resolve_conj().is_conj()
    assert not z.conj().imag.resolve_neg().is_neg()
    assert not _t([1.0]).conj().is_conj()
    w = z.clone()
    assert w.conj_physical_() is w
    np.testing.assert_allclose(w.imag.numpy(), [-3.0, -4.0])


def test_polar_gradient_for_a_negative_abs_is_the_derivative() -> None:
    # d/dr of r e^{it} is e^{it} for every r; PyTorch 2.13 uses sgn(z), which flips the sign
    # where r < 0.
    r = _t([-2.0], requires_grad=True)
    autodiff.polar(r, _t([0.5])).real.sum().backward()
    np.testing.assert_allclose(r.grad.numpy(), [np.cos(0.5)])


def test_adjoints_and_complex_casts() -> None:
    m = autodiff.complex(_t([[1.0, 2.0], [3.0, 4.0]]), _t([[0.0, 1.0], [0.0, 0.0]]))
    np.testing.assert_allclose(m.mH.numpy(), m.numpy().conj().T)
    np.testing.assert_allclose(m.H.numpy(), m.numpy().conj().T)
    np.testing.assert_allclose(m.adjoint().numpy(), m.numpy().conj().T)
    assert m.mH.is_conj()
    assert _t([1.0]).cfloat().dtype is autodiff.complex64
    assert _t([1.0]).cdouble().dtype is autodiff.complex128
    with pytest.raises(RuntimeError, match=r"tensor\.H is only supported on matrices"):
        _ = _t(np.ones((2, 2, 2))).H


# ----------------------------------------------------------------------------- PyTorch parity
_ERROR_CASES = [
    ("svd_1d", lambda m: m.linalg.svd(m.ones(3))),
    ("svd_int", lambda m: m.linalg.svd(m.ones(2, 2, dtype=m.int64))),
    ("eigh_rect", lambda m: m.linalg.eigh(m.ones(2, 3))),
    ("eigh_uplo", lambda m: m.linalg.eigh(m.ones(2, 2), UPLO="X")),
    ("qr_mode", lambda m: m.linalg.qr(m.ones(2, 2), mode="x")),
    ("cholesky", lambda m: m.linalg.cholesky(m.tensor([[1.0, 2.0], [2.0, 1.0]]))),
    ("lu_factor_singular", lambda m: m.linalg.lu_factor(m.zeros(2, 2))),
    ("solve_triangular_shape", lambda m: m.linalg.solve_triangular(
        m.eye(3), m.ones(2, 1), upper=True)),
    ("householder_shape", lambda m: m.linalg.householder_product(m.ones(2, 3), m.ones(1))),
    ("householder_tau", lambda m: m.linalg.householder_product(m.ones(3, 2), m.ones(3))),
    ("lstsq_driver", lambda m: m.linalg.lstsq(m.ones(3, 2), m.ones(3, 1), driver="x")),
    ("lstsq_dims", lambda m: m.linalg.lstsq(m.ones(2, 4, 3), m.ones(4))),
    ("lstsq_not_vector", lambda m: m.linalg.lstsq(m.ones(1, 4, 3), m.ones(2, 4))),
    ("view_as_complex", lambda m: m.view_as_complex(m.ones(2, 3))),
    ("view_as_complex_int", lambda m: m.view_as_complex(m.ones(2, 2, dtype=m.int32))),
    ("vdot_dims", lambda m: m.vdot(m.ones(2, 2), m.ones(2, 2))),
    ("vdot_dtype", lambda m: m.vdot(m.ones(2), m.ones(2, dtype=m.float64))),
    ("polar_dtype", lambda m: m.polar(m.ones(2), m.ones(2, dtype=m.float64))),
    ("mH_1d", lambda m: m.ones(3).mH),
    ("adjoint_1d", lambda m: m.ones(3).adjoint()),
    ("removed_solve", lambda m: m.solve(m.ones(2, 2), m.ones(2, 2))),
    ("removed_lstsq", lambda m: m.lstsq(m.ones(2, 2), m.ones(2, 2))),
    ("removed_eig", lambda m: m.eig(m.ones(2, 2))),
    ("removed_symeig", lambda m: m.symeig(m.ones(2, 2))),
    ("removed_matrix_rank", lambda m: m.matrix_rank(m.ones(2, 2))),
]


def test_linalg_error_is_named_as_pytorchs_class() -> None:
    with pytest.raises(LA.LinAlgError) as raised:
        LA.inv(autodiff.zeros(2, 2))
    assert type(raised.value).__name__ == "_LinAlgError"
    assert isinstance(raised.value, RuntimeError)


def test_results_are_pytorchs_return_types() -> None:
    a = _t(_spd(3))
    results = {
        "linalg_slogdet": LA.slogdet(a), "slogdet": autodiff.slogdet(a), "slogdet ": a.slogdet(),
        "linalg_inv_ex": LA.inv_ex(a), "linalg_solve_ex": LA.solve_ex(a, a),
        "linalg_lstsq": LA.lstsq(a, a), "linalg_qr": LA.qr(a), "qr": autodiff.qr(a),
        "geqrf": autodiff.geqrf(a), "linalg_ldl_factor": LA.ldl_factor(a),
        "linalg_ldl_factor_ex": LA.ldl_factor_ex(a), "linalg_lu_factor": LA.lu_factor(a),
        "linalg_lu_factor_ex": LA.lu_factor_ex(a), "linalg_lu": LA.lu(a),
        "lu_unpack": autodiff.lu_unpack(*LA.lu_factor(a)), "linalg_svd": LA.svd(a),
        "svd": autodiff.svd(a), "linalg_eig": LA.eig(a),
    }
    for name, result in results.items():
        assert type(result).__name__ == name.strip()
        assert repr(result).startswith(f"torch.return_types.{name.strip()}(\n")
    sign, logabsdet = LA.slogdet(a)
    assert sign.item() == 1.0 and LA.slogdet(a).logabsdet.item() == logabsdet.item()
    assert LA.svd(a).Vh.shape == (3, 3) and autodiff.svd(a).V.shape == (3, 3)


@pytest.mark.parametrize("driver", ["gelsy", "gels", "gelsd", "gelss"])
def test_lstsq_broadcasts_batches(driver: str) -> None:
    # A's batch (1,) broadcasts against B's (2,); ranks and singular values keep A's batch,
    # residuals keep a vector's last dim of 1, and drivers without singular values give (0,).
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((1, 4, 2)), rng.standard_normal((2, 4, 3))
    result = LA.lstsq(_t(a), _t(b), driver=driver)
    expected = np.stack([np.linalg.lstsq(a[0], b[i], rcond=None)[0] for i in range(2)])
    np.testing.assert_allclose(result.solution.numpy(), expected, atol=1e-12)
    singular = (1, 2) if driver in ("gelsd", "gelss") else (0,)
    assert tuple(result.singular_values.shape) == singular
    assert tuple(result.rank.shape) == ((0,) if driver == "gels" else (1,))
    assert tuple(result.residuals.shape) == ((0,) if driver == "gelsy" else (2, 3))
    vector = LA.lstsq(_t(a[0]), _t(b[0, :, 0]), driver=driver)
    assert tuple(vector.solution.shape) == (2,)
    assert tuple(vector.residuals.shape) == ((0,) if driver == "gelsy" else (1,))


@pytest.mark.parametrize(("name", "call"), _ERROR_CASES, ids=[c[0] for c in _ERROR_CASES])
def test_errors_match_pytorch(name: str, call: object) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        call(torch)  # type: ignore[operator]
    with pytest.raises(Exception) as actual:
        call(autodiff)  # type: ignore[operator]
    # torch.linalg.LinAlgError is torch._C._LinAlgError: compare the builtin class.
    builtin = next(kind for kind in (TypeError, ValueError, IndexError, RuntimeError)
                   if isinstance(expected.value, kind))
    assert isinstance(actual.value, builtin)
    assert str(actual.value) == str(expected.value)


def test_values_and_gradients_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((4, 3))
    s = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    cases = [
        (lambda m, x: (lambda r: r.U @ r.Vh + r.S.sum())(m.linalg.svd(x, False)), a),
        (lambda m, x: (lambda r: r.Q.sum() + r.R.sum())(m.linalg.qr(x)), a),
        (lambda m, x: (lambda r: r.Q.sum() + r.R.sum())(m.linalg.qr(x.mT)), a),
        (lambda m, x: m.linalg.eig(x).eigenvectors.abs().sum() + m.linalg.eigvals(x).real, s),
        (lambda m, x: m.linalg.matrix_exp(x * 0.3), s),
        (lambda m, x: m.linalg.pinv(x), a),
        (lambda m, x: m.linalg.lstsq(x, x[:, :2]).solution, a),
        (lambda m, x: m.linalg.lu(x).U + m.linalg.lu(x).L.sum(), a),
        (lambda m, x: m.linalg.lu_factor(x.mT).LU, a),
        (lambda m, x: m.linalg.householder_product(x, x[0] * 0.5), a),
        (lambda m, x: m.ormqr(x, x[0] * 0.5, x[:, :2]), a),
        (lambda m, x: m.cholesky_solve(x, m.linalg.cholesky(x @ x.mT)), s),
        (lambda m, x: m.polar(x.exp(), x).imag, s),
    ]
    for index, (function, value) in enumerate(cases):
        ours = _t(value, requires_grad=True)
        theirs = torch.tensor(value, requires_grad=True)
        out, expected = function(autodiff, ours), function(torch, theirs)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-10,
                                   err_msg=str(index))
        (out ** 2).sum().backward()
        (expected ** 2).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-9,
                                   err_msg=str(index))


@pytest.mark.parametrize("hermitian", [False, True])
def test_complex_ldl_factor_and_solve(hermitian: bool, device: str) -> None:
    # complex-symmetric (sytrf, L D L^T) or Hermitian (hetrf, L D L^H) indefinite matrices
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 4, 4)) + 1j * rng.standard_normal((2, 4, 4))
    a = a + np.swapaxes(a.conj() if hermitian else a, -1, -2)
    b = rng.standard_normal((2, 4, 2)) + 1j * rng.standard_normal((2, 4, 2))
    ld, pivots, info = LA.ldl_factor_ex(autodiff.tensor(a, device=device), hermitian=hermitian)
    assert ld.dtype is autodiff.complex128 and pivots.dtype is autodiff.int32
    assert info.tolist() == [0, 0]
    x = LA.ldl_solve(ld, pivots, autodiff.tensor(b, device=device), hermitian=hermitian)
    np.testing.assert_allclose(x.cpu().numpy(), np.linalg.solve(a, b), atol=1e-12)
    torch = pytest.importorskip("torch")
    theirs = torch.linalg.ldl_factor(torch.tensor(a), hermitian=hermitian)
    np.testing.assert_allclose(ld.cpu().numpy(), theirs.LD.numpy(), atol=1e-12)
    assert pivots.cpu().tolist() == theirs.pivots.tolist()


def test_ldl_solve_refuses_mixed_dtypes_as_pytorch() -> None:
    a = np.array([[0.0, 2.0], [2.0, 1.0]])
    ld, pivots = LA.ldl_factor(autodiff.tensor(a.astype(np.complex128)))
    with pytest.raises(RuntimeError, match=r"^Expected b and A to have the same dtype, but found "
                                           r"b of type Double and A of type ComplexDouble "
                                           r"instead\.$"):
        LA.ldl_solve(ld, pivots, autodiff.tensor(np.ones(2)))  # before B's dims are checked
    ld, pivots = LA.ldl_factor(_t(a))
    with pytest.raises(RuntimeError, match=r"b of type Float and A of type Double"):
        LA.ldl_solve(ld, pivots, autodiff.ones(2, 1))
