"""The factorizations of autodiff.linalg on complex matrices: values against NumPy/SciPy,
gradients checked numerically in complex128 (each op applied to complex(re, im) of float64
parts, its result read back with view_as_real, so the numerical Jacobian of the parts checks
the complex backward under PyTorch's convention), and the gradients of a real loss against
PyTorch's where it is installed. Device-generic: every case runs on every device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.linalg

import autodiff
import autodiff.linalg as LA
from autodiff.autograd import gradcheck


def _eye(a: Any, lib: Any) -> Any:
    return lib.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _hpd(a: Any, lib: Any) -> Any:
    """A Hermitian positive-definite matrix from any square one."""
    return a @ a.mH + 3 * _eye(a, lib)


def _factor(a: Any, lib: Any, upper: bool) -> Any:
    """A Cholesky factor (real positive diagonal) built from any square matrix."""
    strict = a.triu(1) if upper else a.tril(-1)
    return strict + lib.diag_embed(a.diagonal(0, -2, -1).abs() + 2).to(a.dtype)


def _parts(z: np.ndarray) -> np.ndarray:
    return np.stack([z.real, z.imag], -1) if np.iscomplexobj(z) else z


def _np_hpd(a: np.ndarray) -> np.ndarray:
    return a @ a.conj().T + 3 * np.eye(a.shape[-1])


def _np_lu_solve(a: np.ndarray, b: np.ndarray, trans: int) -> np.ndarray:
    return scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b, trans=trans)


# name: (op on tensors of library `lib`, NumPy reference or None, input shapes)
CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any] | None, list[tuple[int, ...]]]] = {
    "svdvals": (lambda lib, a: lib.linalg.svdvals(a),
                lambda a: np.linalg.svd(a, compute_uv=False), [(3, 2)]),
    "svd_gauge_invariant": (lambda lib, a: (lambda r: r.U @ r.Vh)(lib.linalg.svd(a, False)),
                            lambda a: (lambda u, s, vh: u @ vh)(*np.linalg.svd(a, False)),
                            [(2, 3)]),
    "svd_singular_values_of_tall": (lambda lib, a: lib.linalg.svd(a).S,
                                    lambda a: np.linalg.svd(a, compute_uv=False), [(3, 2)]),
    "torch.svd": (lambda lib, a: (lambda r: r.U @ r.V.mH)(lib.svd(a)),
                  lambda a: (lambda u, s, vh: u @ vh)(*np.linalg.svd(a, False)), [(3, 2)]),
    "pinv": (lambda lib, a: lib.linalg.pinv(a), np.linalg.pinv, [(3, 2)]),
    "pinv_hermitian": (lambda lib, a: lib.linalg.pinv(a + a.mH, hermitian=True),
                       lambda a: np.linalg.pinv(a + a.conj().T), [(3, 3)]),
    "eigh_values": (lambda lib, a: lib.linalg.eigh(a + a.mH).eigenvalues,
                    lambda a: np.linalg.eigvalsh(a + a.conj().T), [(3, 3)]),
    # eigh reads one triangle, but its gradient is that of the Hermitian function of the whole
    # matrix (as PyTorch's): Hermitian inputs keep the numerical Jacobian the same
    "eigh_projection": (lambda lib, a: (lambda r: (r.eigenvectors * r.eigenvalues.unsqueeze(-2))
                                        @ r.eigenvectors.mH)(lib.linalg.eigh(a + a.mH, UPLO="U")),
                        lambda a: a + a.conj().T, [(3, 3)]),
    "eigvalsh_upper": (lambda lib, a: lib.linalg.eigvalsh(a + a.mH, UPLO="U"),
                       lambda a: np.linalg.eigvalsh(a + a.conj().T, UPLO="U"), [(3, 3)]),
    "eigvals": (lambda lib, a: lib.linalg.eigvals(_hpd(a, lib)),
                lambda a: np.sort_complex(np.linalg.eigvals(_np_hpd(a))), [(3, 3)]),
    "qr": (lambda lib, a: (lambda r: r.Q @ r.R.triu())(lib.linalg.qr(a)), lambda a: a, [(3, 2)]),
    "qr_q": (lambda lib, a: lib.linalg.qr(a).Q, lambda a: np.linalg.qr(a)[0], [(3, 2)]),
    "qr_r_wide": (lambda lib, a: lib.linalg.qr(a).R, lambda a: np.linalg.qr(a)[1], [(2, 3)]),
    "householder_product": (lambda lib, a, tau: lib.linalg.householder_product(a, tau), None,
                            [(3, 2), (2,)]),
    "ormqr_adjoint_right": (lambda lib, a, tau, c: lib.ormqr(a, tau, c, left=False,
                                                             transpose=True), None,
                            [(3, 2), (2,), (2, 3)]),
    "lu_factor": (lambda lib, a: lib.linalg.lu_factor(a).LU,
                  lambda a: scipy.linalg.lu_factor(a)[0], [(3, 3)]),
    "lu_l_tall": (lambda lib, a: lib.linalg.lu(a).L, lambda a: scipy.linalg.lu(a)[1], [(3, 2)]),
    "lu_u_wide": (lambda lib, a: lib.linalg.lu(a).U, lambda a: scipy.linalg.lu(a)[2], [(2, 3)]),
    "lu_solve_adjoint": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b,
                                                               adjoint=True),
                         lambda a, b: _np_lu_solve(a, b, 2), [(3, 3), (3, 2)]),
    "lu_solve_right": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b.mT,
                                                             left=False),
                       lambda a, b: np.linalg.solve(a.T, b).T, [(3, 3), (3, 2)]),
    "cholesky": (lambda lib, a: lib.linalg.cholesky(_hpd(a, lib)),
                 lambda a: np.linalg.cholesky(_np_hpd(a)), [(3, 3)]),
    "cholesky_upper": (lambda lib, a: lib.linalg.cholesky(_hpd(a, lib), upper=True),
                       lambda a: np.linalg.cholesky(_np_hpd(a)).conj().T, [(3, 3)]),
    "cholesky_ex": (lambda lib, a: lib.linalg.cholesky_ex(_hpd(a, lib)).L,
                    lambda a: np.linalg.cholesky(_np_hpd(a)), [(3, 3)]),
    "torch.cholesky_upper": (lambda lib, a: lib.cholesky(_hpd(a, lib), upper=True),
                             lambda a: np.linalg.cholesky(_np_hpd(a)).conj().T, [(3, 3)]),
    "cholesky_solve": (lambda lib, a, b: lib.cholesky_solve(b, _factor(a, lib, False)), None,
                       [(3, 3), (3, 2)]),
    "cholesky_inverse_upper": (lambda lib, a: lib.cholesky_inverse(_factor(a, lib, True),
                                                                   upper=True), None, [(3, 3)]),
    "solve_triangular": (lambda lib, a, b: lib.linalg.solve_triangular(
        a + 3 * _eye(a, lib), b, upper=True),
                         lambda a, b: scipy.linalg.solve_triangular(a + 3 * np.eye(3), b),
                         [(3, 3), (3, 2)]),
    "triangular_solve_transpose": (lambda lib, a, b: lib.triangular_solve(
        b, a + 3 * _eye(a, lib), transpose=True).solution,
                                   lambda a, b: scipy.linalg.solve_triangular(
                                       a + 3 * np.eye(3), b, trans=1), [(3, 3), (3, 2)]),
    "lstsq": (lambda lib, a, b: lib.linalg.lstsq(a, b).solution,
              lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], [(3, 2), (3, 1)]),
    "lstsq_gelsd": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd").solution,
                    lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], [(3, 2), (3, 1)]),
    "det": (lambda lib, a: lib.linalg.det(a), np.linalg.det, [(2, 3, 3)]),
    "torch.det": (lambda lib, a: lib.det(a), np.linalg.det, [(3, 3)]),
    "slogdet_sign": (lambda lib, a: lib.linalg.slogdet(a).sign,
                     lambda a: np.linalg.slogdet(a)[0], [(2, 3, 3)]),
    "slogdet_logabsdet": (lambda lib, a: lib.linalg.slogdet(a).logabsdet,
                          lambda a: np.linalg.slogdet(a)[1], [(2, 3, 3)]),
    "torch.logdet": (lambda lib, a: lib.logdet(a), lambda a: np.log(np.linalg.det(a)),
                     [(2, 3, 3)]),
    "cross": (lambda lib, a, b: lib.linalg.cross(a, b), np.cross, [(2, 3), (1, 3)]),
    "cross_dim0": (lambda lib, a, b: lib.linalg.cross(a, b, dim=0),
                   lambda a, b: np.cross(a, b, axis=0), [(3, 2), (3, 2)]),
    "torch.cross": (lambda lib, a, b: lib.cross(a, b, dim=1),
                    lambda a, b: np.cross(a, b, axis=1), [(2, 3), (2, 3)]),
    "matrix_exp": (lambda lib, a: lib.linalg.matrix_exp(a), scipy.linalg.expm, [(3, 3)]),
    "matrix_norm_nuc": (lambda lib, a: lib.linalg.matrix_norm(a, "nuc"),
                        lambda a: np.linalg.norm(a, "nuc"), [(3, 3)]),
    "vector_norm_3": (lambda lib, a: lib.linalg.vector_norm(a, 3),
                      lambda a: np.sum(np.abs(a) ** 3) ** (1 / 3), [(2, 3)]),
    "frobenius_norm": (lambda lib, a: lib.frobenius_norm(a, (0, 1)),
                       lambda a: np.linalg.norm(a), [(2, 3)]),
}
# gradgradcheck-free: first-order checks only where the op's backward is not itself smooth in
# these samples (none today); eigvals is sorted in the reference only.
SORTED = {"eigvals"}


def _complex_inputs(shapes: list[tuple[int, ...]], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) + 1j * rng.standard_normal(shape) for shape in shapes]


def _real_parts_op(op: Callable[..., Any]) -> Callable[..., Any]:
    """op on complex(re, im) of each pair of float64 inputs, its result as real numbers."""

    def run(*parts: autodiff.Tensor) -> autodiff.Tensor:
        zs = [autodiff.complex(parts[2 * i], parts[2 * i + 1]) for i in range(len(parts) // 2)]
        out = op(autodiff, *zs)
        return autodiff.view_as_real(out) if out.dtype.is_complex else out

    return run


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_values(name: str, device: str) -> None:
    op, reference, shapes = CASES[name]
    arrays = _complex_inputs(shapes)
    out = op(autodiff, *[autodiff.tensor(a, dtype=autodiff.complex128, device=device)
                         for a in arrays])
    assert str(out.device) == device
    if reference is None:
        return
    got = np.asarray(out.cpu().numpy())
    expected = np.asarray(reference(*arrays))
    if name in SORTED:
        got = np.sort_complex(got)
    np.testing.assert_allclose(got, expected, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_gradcheck(name: str, device: str) -> None:
    op, _, shapes = CASES[name]
    parts = [autodiff.tensor(part, dtype=autodiff.float64, device=device, requires_grad=True)
             for a in _complex_inputs(shapes) for part in (a.real, a.imag)]
    assert gradcheck(_real_parts_op(op), tuple(parts), eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_gradients_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    op, _, shapes = CASES[name]
    arrays = _complex_inputs(shapes, seed=1)
    grads, nodes = [], []
    for lib in (torch, autodiff):
        inputs = [lib.tensor(a, dtype=lib.complex128, requires_grad=True) for a in arrays]
        out = op(lib, *inputs)
        nodes.append(out.grad_fn.name())
        loss = (out.abs() ** 2).sum() if out.dtype.is_complex else (out * out).sum()
        grads.append([np.asarray(g.tolist()) for g in lib.autograd.grad(loss, inputs)])
    assert nodes[1] == nodes[0]
    for ours, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, theirs, atol=1e-8, rtol=1e-8)


def test_complex_phase_dependent_losses_raise() -> None:
    a = autodiff.tensor(_complex_inputs([(3, 3)])[0], requires_grad=True)
    u = LA.svd(a).U
    with pytest.raises(RuntimeError, match=r"svd_backward: The singular vectors in the complex "
                                           r"case are specified up to multiplication by e\^\{i "
                                           r"phi\}"):
        u[0, 0].real.backward()
    v = LA.eigh(a + a.mH).eigenvectors
    with pytest.raises(RuntimeError, match=r"linalg_eigh_backward: The eigenvectors in the "
                                           r"complex case are specified up to multiplication"):
        v[0, 0].imag.backward()


def test_geqrf_refuses_complex_autograd_as_pytorch() -> None:
    a = autodiff.tensor(_complex_inputs([(3, 2)])[0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"geqrf does not support automatic differentiation "
                                           r"for outputs with complex dtype\."):
        autodiff.geqrf(a)
    with autodiff.no_grad():
        qr, tau = autodiff.geqrf(a)
    assert qr.dtype is autodiff.complex128 and tau.dtype is autodiff.complex128


def test_complex_cholesky_failure_names_the_minor() -> None:
    a = np.eye(3, dtype=np.complex128)
    a[1, 1] = -1
    with pytest.raises(autodiff.linalg.LinAlgError,
                       match=r"the leading minor of order 2 is not positive-definite"):
        LA.cholesky(autodiff.tensor(a))


# A real loss that reads both the phase and the modulus of a complex result (|out|^2 alone is
# blind to the sign of slogdet).
def _phase_loss(out: Any) -> Any:
    if not out.dtype.is_complex:
        return (out * out).sum() + out.sum()
    return (out.abs() ** 2).sum() + (1.3 * out.real - 0.7 * out.imag).sum()


@pytest.mark.parametrize("name", ["det", "torch.det", "slogdet_sign", "slogdet_logabsdet",
                                  "torch.logdet"])
def test_complex_determinants_phase_gradients_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    op, _, shapes = CASES[name]
    arrays = _complex_inputs(shapes, seed=2)
    values, grads, nodes = [], [], []
    for lib in (torch, autodiff):
        a = lib.tensor(arrays[0], dtype=lib.complex128, requires_grad=True)
        out = op(lib, a)
        values.append((str(out.dtype).rsplit(".", 1)[-1], np.asarray(out.tolist())))
        nodes.append(out.grad_fn.name())
        _phase_loss(out).backward()
        grads.append(np.asarray(a.grad.tolist()))
    assert nodes[1] == nodes[0]
    assert values[1][0] == values[0][0]
    np.testing.assert_allclose(values[1][1], values[0][1], atol=1e-12, rtol=1e-12)
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-10, rtol=1e-10)


def test_complex_slogdet_returns_unit_sign_and_real_logabsdet(device: str) -> None:
    a = _complex_inputs([(3, 3)], seed=3)[0]
    sign, logabsdet = LA.slogdet(autodiff.tensor(a, device=device))
    assert sign.dtype is autodiff.complex128 and logabsdet.dtype is autodiff.float64
    np.testing.assert_allclose(abs(sign.item()), 1.0, rtol=1e-14)
    np.testing.assert_allclose(sign.item() * np.exp(logabsdet.item()), np.linalg.det(a),
                               rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"linalg\.det: Expected a floating point or complex "
                                           r"tensor as input\. Got Long"):
        LA.det(autodiff.ones(2, 2, dtype=autodiff.int64, device=device))


def test_complex_det_gradient_of_a_singular_matrix_is_the_conjugate_cofactor_matrix(
        device: str) -> None:
    # rank 2 of 3: det is 0, its gradient conj(adj(A)^T) is not (every 2x2 minor is nonzero)
    rng = np.random.default_rng(4)
    b = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    a = b @ (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3)))
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                           for j in range(3)] for i in range(3)])
    t = autodiff.tensor(a, device=device, requires_grad=True)
    LA.det(t).real.backward()
    np.testing.assert_allclose(t.grad.cpu().numpy(), cofactors.conj(), atol=1e-10)


def test_complex_cofactor_svd_formulas_match_the_inverse_route(device: str) -> None:
    # The SVD formulas (Cofactors, CofactorsBackward) against the recorded det(A) A^{-T} route
    # they replace: same first and second derivatives at a complex matrix where both apply.
    from autodiff.ops.decompositions import Cofactors
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))
    w = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))
    results = []
    for route in ("svd", "inverse"):
        t = autodiff.tensor(a, device=device, requires_grad=True)
        c = Cofactors.apply(t) if route == "svd" else LA.det(t)[..., None, None] * LA.inv(t).mT
        loss = (c * autodiff.tensor(w, device=device)).real.sum()
        results.append((c.detach().cpu().numpy(),
                        autodiff.autograd.grad(loss, t)[0].cpu().numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], atol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-10)


@pytest.mark.parametrize("name", ["cross", "cross_dim0", "torch.cross"])
def test_complex_cross_phase_gradients_match_pytorch(name: str) -> None:
    # PyTorch's linalg_cross backward: grad_a = cross(conj(b), grad), grad_b = cross(grad, conj(a))
    torch = pytest.importorskip("torch")
    op, _, shapes = CASES[name]
    arrays = _complex_inputs(shapes, seed=6)
    grads, nodes = [], []
    for lib in (torch, autodiff):
        inputs = [lib.tensor(a, dtype=lib.complex128, requires_grad=True) for a in arrays]
        out = op(lib, *inputs)
        nodes.append(out.grad_fn.name())
        _phase_loss(out).backward()
        grads.append([np.asarray(t.grad.tolist()) for t in inputs])
    assert nodes[1] == nodes[0] == "LinalgCrossBackward0"
    for ours, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, theirs, atol=1e-12, rtol=1e-12)


DETERMINANTS = ["det", "torch.det", "slogdet_sign", "slogdet_logabsdet", "torch.logdet"]


@pytest.mark.parametrize("name", DETERMINANTS)
def test_complex_determinants_gradgradcheck(name: str, device: str) -> None:
    op, _, shapes = CASES[name]
    parts = [autodiff.tensor(part, dtype=autodiff.float64, device=device, requires_grad=True)
             for a in _complex_inputs(shapes, seed=8) for part in (a.real, a.imag)]
    assert autodiff.autograd.gradgradcheck(_real_parts_op(op), tuple(parts), eps=1e-6,
                                           atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", DETERMINANTS)
def test_complex_determinants_forward_ad_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as torch_fwad

    import autodiff.autograd.forward_ad as fwad
    op, _, shapes = CASES[name]
    a, tangent = _complex_inputs([shapes[0], shapes[0]], seed=9)
    with torch_fwad.dual_level():
        out = op(torch, torch_fwad.make_dual(torch.tensor(a), torch.tensor(tangent)))
        theirs = torch_fwad.unpack_dual(out).tangent.numpy()
    with fwad.dual_level():
        out = op(autodiff, fwad.make_dual(autodiff.tensor(a), autodiff.tensor(tangent)))
        ours = fwad.unpack_dual(out).tangent.numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12, rtol=1e-12)


def test_complex_cross_forward_ad_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as torch_fwad

    import autodiff.autograd.forward_ad as fwad
    a, b, ta, tb = _complex_inputs([(2, 3)] * 4, seed=10)
    with torch_fwad.dual_level():
        out = torch.linalg.cross(torch_fwad.make_dual(torch.tensor(a), torch.tensor(ta)),
                                 torch_fwad.make_dual(torch.tensor(b), torch.tensor(tb)))
        theirs = torch_fwad.unpack_dual(out).tangent.numpy()
    with fwad.dual_level():
        out = LA.cross(fwad.make_dual(autodiff.tensor(a), autodiff.tensor(ta)),
                       fwad.make_dual(autodiff.tensor(b), autodiff.tensor(tb)))
        ours = fwad.unpack_dual(out).tangent.numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12, rtol=1e-12)
