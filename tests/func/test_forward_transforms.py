"""autodiff.func's forward-mode transforms (jvp, jacfwd, linearize) and hessian as
jacfwd(jacrev), composed with vmap and grad; against torch.func where PyTorch is installed."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff.func import grad, hessian, jacfwd, jacrev, jvp, linearize, vmap


def _t(*shape: int, seed: int = 0, device: str = "cpu") -> autodiff.Tensor:
    rng = np.random.default_rng(seed)
    return autodiff.tensor(rng.standard_normal(shape), dtype=autodiff.float64, device=device)


def _np(x: autodiff.Tensor) -> np.ndarray:
    return np.array(x.tolist()).reshape(tuple(x.shape))


def f(x: autodiff.Tensor) -> autodiff.Tensor:
    return (x.sin() * x).sum()


def test_jvp_and_errors(device: str) -> None:
    x, t = _t(5, device=device), _t(5, seed=1, device=device)
    out, tangent = jvp(lambda x: x.sin() * x, (x,), (t,))
    np.testing.assert_allclose(_np(tangent), (np.cos(_np(x)) * _np(x) + np.sin(_np(x))) * _np(t))
    np.testing.assert_allclose(_np(out), np.sin(_np(x)) * _np(x))
    _, tangent, aux = jvp(lambda x: (x.exp(), x.sum()), (x,), (t,), has_aux=True)
    np.testing.assert_allclose(_np(tangent), np.exp(_np(x)) * _np(t))
    assert aux.item() == pytest.approx(float(_np(x).sum()))
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(lambda x: x, x, (t,))
    with pytest.raises(RuntimeError, match="Expected primals and tangents to have the same "
                                           "python structure"):
        jvp(lambda x: x, (x,), (t, t))


def test_jvp_of_grad_and_vmap_of_jvp() -> None:
    x, t = _t(5), _t(5, seed=1)
    _, hvp = jvp(grad(f), (x,), (t,))
    second = -np.sin(_np(x)) * _np(x) + 2 * np.cos(_np(x))
    np.testing.assert_allclose(_np(hvp), second * _np(t))
    xs, ts = _t(3, 5, seed=2), _t(3, 5, seed=3)
    batched = vmap(lambda x, t: jvp(lambda x: x.exp() * x.sum(), (x,), (t,))[1])(xs, ts)
    looped = autodiff.stack([jvp(lambda x: x.exp() * x.sum(), (xs[i],), (ts[i],))[1]
                             for i in range(3)])
    np.testing.assert_allclose(_np(batched), _np(looped), rtol=1e-12)


def test_jacfwd_matches_jacrev() -> None:
    w, x = _t(3, 4), _t(4, seed=1)

    def h(w: autodiff.Tensor, x: autodiff.Tensor) -> autodiff.Tensor:
        return (w @ x).tanh()

    for forward, reverse in zip(jacfwd(h, argnums=(0, 1))(w, x),
                                jacrev(h, argnums=(0, 1))(w, x)):
        np.testing.assert_allclose(_np(forward), _np(reverse), rtol=1e-12, atol=1e-14)
    jac, aux = jacfwd(lambda x: (x.sin(), x.cos()), has_aux=True)(x)
    np.testing.assert_allclose(_np(jac), np.diag(np.cos(_np(x))))
    np.testing.assert_allclose(_np(aux), np.cos(_np(x)))


def test_linearize() -> None:
    x, t = _t(4), _t(4, seed=1)
    out, jvp_fn = linearize(lambda x: x.sin(), x)
    np.testing.assert_allclose(_np(out), np.sin(_np(x)))
    np.testing.assert_allclose(_np(jvp_fn(t)), np.cos(_np(x)) * _np(t))


def test_hessian_is_forward_over_reverse() -> None:
    x = _t(5)
    np.testing.assert_allclose(_np(hessian(f)(x)),
                               np.diag(-np.sin(_np(x)) * _np(x) + 2 * np.cos(_np(x))))
    w = _t(3, 5, seed=1)

    def g(w: autodiff.Tensor) -> autodiff.Tensor:
        return (w @ x).tanh().pow(2).sum()

    np.testing.assert_allclose(_np(hessian(g)(w)), _np(jacrev(jacrev(g))(w)), rtol=1e-10,
                               atol=1e-12)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(_np(x))
    theirs = torch.func.hessian(lambda w: (w @ tx).tanh().pow(2).sum())(torch.tensor(_np(w)))
    np.testing.assert_allclose(_np(hessian(g)(w)), theirs.numpy(), rtol=1e-10, atol=1e-12)
