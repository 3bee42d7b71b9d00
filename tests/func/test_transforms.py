"""autodiff.func's reverse-mode transforms (grad, grad_and_value, vjp, jacrev, hessian), their
compositions with each other and with vmap, and PyTorch's errors; against torch.func where
PyTorch is installed, else against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff.func import grad, grad_and_value, hessian, jacrev, vjp, vmap


def _t(*shape: int, seed: int = 0, device: str = "cpu") -> autodiff.Tensor:
    rng = np.random.default_rng(seed)
    return autodiff.tensor(rng.standard_normal(shape), dtype=autodiff.float64, device=device)


def _np(x: autodiff.Tensor) -> np.ndarray:
    return np.array(x.tolist()).reshape(tuple(x.shape))


def f(x: autodiff.Tensor) -> autodiff.Tensor:
    return (x.sin() * x).sum()


def df(x: np.ndarray) -> np.ndarray:
    return np.cos(x) * x + np.sin(x)


def d2f(x: np.ndarray) -> np.ndarray:
    return -np.sin(x) * x + 2 * np.cos(x)


def test_grad_closed_form(device: str) -> None:
    x = _t(5, device=device)
    g = grad(f)(x)
    np.testing.assert_allclose(_np(g), df(_np(x)))
    assert not g.requires_grad and g.device == x.device


def test_grad_and_value_argnums_has_aux() -> None:
    x, y = _t(3), _t(3, seed=1)

    def h(a: autodiff.Tensor, b: autodiff.Tensor) -> tuple[autodiff.Tensor, dict]:
        out = (a * b * b).sum()
        return out, {"out": out, "b": b}

    (ga, gb), (value, aux) = grad_and_value(h, argnums=(0, 1), has_aux=True)(x, y)
    np.testing.assert_allclose(_np(ga), _np(y) ** 2)
    np.testing.assert_allclose(_np(gb), 2 * _np(x) * _np(y))
    assert value.item() == pytest.approx(float((_np(x) * _np(y) ** 2).sum()))
    assert set(aux) == {"out", "b"}
    g, aux_only = grad(h, argnums=1, has_aux=True)(x, y)
    np.testing.assert_allclose(_np(g), 2 * _np(x) * _np(y))
    assert isinstance(aux_only, dict)


def test_grad_pytree_input_and_unused() -> None:
    params = {"w": _t(3), "b": _t(1, seed=1), "unused": _t(2, seed=2)}
    x = _t(3, seed=3)
    g = grad(lambda p, x: ((p["w"] * x).sum() + p["b"].sum()) ** 2)(params, x)
    s = float((_np(params["w"]) * _np(x)).sum() + _np(params["b"]).sum())
    np.testing.assert_allclose(_np(g["w"]), 2 * s * _np(x))
    np.testing.assert_allclose(_np(g["b"]), [2 * s])
    np.testing.assert_array_equal(_np(g["unused"]), [0.0, 0.0])


def test_grad_modes() -> None:
    x = _t(4)
    with autodiff.no_grad():  # an enclosing no_grad does not stop grad
        np.testing.assert_allclose(_np(grad(f)(x)), df(_np(x)))

    def inner_no_grad(x: autodiff.Tensor) -> autodiff.Tensor:
        with autodiff.no_grad():
            c = x * 2
        return (c * x).sum()

    np.testing.assert_allclose(_np(grad(inner_no_grad)(x)), 2 * _np(x))


def test_grad_errors() -> None:
    x = _t(2, 3)
    with pytest.raises(RuntimeError, match=r"^grad_and_value\(f\)\(\*args\): Expected f\(\*args\) "
                       r"to return a scalar Tensor, got tensor with 2 dims. Maybe you wanted to "
                       r"use the vjp or jacrev APIs instead\?$"):
        grad(lambda x: x)(x)
    with pytest.raises(RuntimeError, match=r"Expected f\(\*args\) to return a Tensor, got "
                                           r"<class 'int'>"):
        grad(lambda x: 3)(x)
    with pytest.raises(RuntimeError, match=r"^Got argnum=2, but only 1 positional inputs$"):
        grad(lambda x: x.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match=r"output of function f should be a tuple: \(output, "
                                           r"aux\) if has_aux is True"):
        grad(lambda x: x.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="Expected tensors, got unsupported type"):
        grad(lambda x, n: x.sum() * n, argnums=1)(x, 3)


def test_grad_of_grad_and_closed_over_parameter() -> None:
    x = _t(5)
    second = grad(lambda x: grad(f)(x).sum())(x)
    np.testing.assert_allclose(_np(second), d2f(_np(x)))
    # A closed-over tensor that needs grad stays differentiable through grad's result.
    w = _t(5, seed=1).requires_grad_()
    g = grad(lambda x: (x * w).pow(2).sum())(x)  # 2 x w^2
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(_np(w.grad), 4 * _np(x) * _np(w.detach()))


def test_vmap_of_grad_per_example(device: str) -> None:
    w, xs = _t(5, device=device), _t(4, 5, seed=1, device=device)

    def loss(w: autodiff.Tensor, x: autodiff.Tensor) -> autodiff.Tensor:
        return (x * w).sum().tanh()

    batched = vmap(grad(loss), in_dims=(None, 0))(w, xs)
    looped = autodiff.stack([grad(loss)(w, xs[i]) for i in range(4)])
    np.testing.assert_allclose(_np(batched), _np(looped), rtol=1e-12)
    both = vmap(grad(loss, argnums=(0, 1)), in_dims=(None, 0))(w, xs)
    np.testing.assert_allclose(_np(both[1]), _np(autodiff.stack(
        [grad(loss, argnums=1)(w, xs[i]) for i in range(4)])), rtol=1e-12)


def test_grad_of_vmap_and_vmap_of_vmap() -> None:
    xs = _t(3, 4, 5)
    g = grad(lambda x: vmap(f)(x).sum())(xs)
    np.testing.assert_allclose(_np(g), df(_np(xs)))
    out = vmap(vmap(f))(xs)
    np.testing.assert_allclose(_np(out), (np.sin(_np(xs)) * _np(xs)).sum(-1))
    per = vmap(vmap(grad(f)))(xs)
    np.testing.assert_allclose(_np(per), df(_np(xs)))


def test_vjp() -> None:
    x = _t(4)
    out, vjp_fn = vjp(lambda x: x.exp() * 2, x)
    v = _t(4, seed=1)
    (g,) = vjp_fn(v)
    np.testing.assert_allclose(_np(g), 2 * np.exp(_np(x)) * _np(v))
    np.testing.assert_allclose(_np(out), 2 * np.exp(_np(x)))
    out, vjp_fn, aux = vjp(lambda x: (x.sin(), x.cos()), x, has_aux=True)
    np.testing.assert_allclose(_np(vjp_fn(v)[0]), np.cos(_np(x)) * _np(v))
    np.testing.assert_allclose(_np(aux), np.cos(_np(x)))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        vjp_fn(_t(3))


def test_jacrev_against_loop_and_chunks() -> None:
    w, x = _t(3, 4), _t(4, seed=1)

    def h(w: autodiff.Tensor, x: autodiff.Tensor) -> autodiff.Tensor:
        return (w @ x).tanh()

    jw, jx = jacrev(h, argnums=(0, 1))(w, x)
    t = np.tanh(_np(w) @ _np(x))
    np.testing.assert_allclose(_np(jx), (1 - t**2)[:, None] * _np(w))
    expected_w = np.einsum("i,ij,k->ijk", 1 - t**2, np.eye(3), _np(x))
    np.testing.assert_allclose(_np(jw), expected_w)
    for chunk in (1, 2, 5):
        np.testing.assert_allclose(_np(jacrev(h, argnums=1, chunk_size=chunk)(w, x)), _np(jx))
    jac, aux = jacrev(lambda x: (x.sin(), x.sum()), has_aux=True)(x)
    np.testing.assert_allclose(_np(jac), np.diag(np.cos(_np(x))))
    assert aux.item() == pytest.approx(float(_np(x).sum()))
    with pytest.raises(ValueError, match="chunk_size"):
        jacrev(h, chunk_size=0)


def test_jacrev_of_jacrev_and_hessian() -> None:
    x = _t(5)
    np.testing.assert_allclose(_np(hessian(f)(x)), np.diag(d2f(_np(x))))
    third = jacrev(jacrev(jacrev(f)))(x)
    expected = np.zeros((5, 5, 5))
    for i in range(5):
        expected[i, i, i] = -np.cos(_np(x)[i]) * _np(x)[i] - 3 * np.sin(_np(x)[i])
    np.testing.assert_allclose(_np(third), expected, atol=1e-12)
    per = vmap(hessian(f))(_t(3, 5, seed=2))
    assert tuple(per.shape) == (3, 5, 5)


def test_against_torch_func() -> None:
    torch = pytest.importorskip("torch")
    w, x, y = _t(3, 4), _t(6, 4, seed=1), autodiff.tensor([0, 2, 1, 1, 0, 2])

    def loss(w: autodiff.Tensor, x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
        return F.cross_entropy(F.linear(x, w).unsqueeze(0), y.unsqueeze(0))

    def torch_loss(w: object, x: object, y: object) -> object:
        tf = torch.nn.functional
        return tf.cross_entropy(tf.linear(x, w).unsqueeze(0), y.unsqueeze(0))

    ours = vmap(grad(loss), in_dims=(None, 0, 0))(w, x, y)
    tw, tx, ty = (torch.tensor(_np(a)) for a in (w, x, y))
    theirs = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))(tw, tx, ty)
    np.testing.assert_allclose(_np(ours), theirs.numpy(), rtol=1e-10)
    ours_h = hessian(lambda w: loss(w, x[0], y[0]))(w)
    theirs_h = torch.func.hessian(lambda w: torch_loss(w, tx[0], ty[0]))(tw)
    np.testing.assert_allclose(_np(ours_h), theirs_h.numpy(), rtol=1e-9, atol=1e-12)
