"""Nested forward-mode AD: `func.jvp` inside `func.jvp` (each call its own dual level), so
jvp of jvp, jacfwd of jacfwd and forward-over-forward Hessians are exact higher derivatives,
composed with vmap either way; and the public `forward_ad` API, which opens one level at a time
as PyTorch's does."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import autograd
from autodiff.autograd import forward_ad as fwAD
from autodiff.func import grad, hessian, jacfwd, jacrev, jvp, vmap


def _randn(*shape: int, seed: int = 0, device: str = "cpu") -> autodiff.Tensor:
    rng = np.random.default_rng(seed)
    return autodiff.tensor(rng.standard_normal(shape), dtype=autodiff.float64, device=device)


def _close(got: autodiff.Tensor, expected: autodiff.Tensor, tol: float = 1e-10) -> None:
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().cpu().numpy(),
                               rtol=tol, atol=tol)


def test_jvp_of_jvp_is_the_second_derivative(device: str) -> None:
    x, t, s = (_randn(4, 3, seed=seed, device=device) for seed in range(3))

    def inner(a: autodiff.Tensor) -> autodiff.Tensor:
        return jvp(autodiff.sin, (a,), (t,))[1]

    value, second = jvp(inner, (x,), (s,))
    _close(value, x.cos() * t)
    _close(second, -x.sin() * t * s)


def test_third_order_jvp(device: str) -> None:
    x, t, s, r = (_randn(5, seed=seed, device=device) for seed in range(4))

    def first(a: autodiff.Tensor) -> autodiff.Tensor:
        return jvp(autodiff.exp, (a,), (t,))[1] * a

    def second(a: autodiff.Tensor) -> autodiff.Tensor:
        return jvp(first, (a,), (s,))[1]

    # first(a) = exp(a) t a; second(a) = exp(a) t s (a + 1); third = exp(a) t s r (a + 2)
    _close(second(x), x.exp() * t * s * (x + 1))
    _close(jvp(second, (x,), (r,))[1], x.exp() * t * s * r * (x + 2))


def test_no_perturbation_confusion() -> None:
    """d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x: the inner derivative must not see the outer
    tangent of x (Siskind and Pearlmutter's example)."""
    x = autodiff.tensor(3.0, dtype=autodiff.float64)
    one = autodiff.tensor(1.0, dtype=autodiff.float64)

    def outer(a: autodiff.Tensor) -> autodiff.Tensor:
        return a * jvp(lambda y: a * y, (one,), (one,))[1]

    assert float(jvp(outer, (x,), (one,))[1]) == pytest.approx(6.0)


def _mlp(x: autodiff.Tensor) -> autodiff.Tensor:
    w1 = _randn(6, 5, seed=10)
    w2 = _randn(3, 6, seed=11)
    hidden = autodiff.nn.functional.gelu(x @ w1.T + 0.1)
    return autodiff.softmax(hidden.tanh() @ w2.T, dim=-1).log().sum() + (x * x.exp()).sum()


@pytest.mark.parametrize("name", ["mlp", "inplace", "reductions", "indexing"])
def test_jacfwd_of_jacfwd_matches_the_reverse_hessians(name: str) -> None:
    def inplace(x: autodiff.Tensor) -> autodiff.Tensor:
        y = x.clone()
        y.mul_(x).add_(x.sin())
        y[1:3] *= x[0]
        return y.pow(2).sum()

    functions = {
        "mlp": _mlp,
        "inplace": inplace,
        "reductions": lambda x: x.logsumexp(0) * x.norm() + x.prod() + x.var(),
        "indexing": lambda x: (x[[0, 2, 2]] * x.flip(0)[:3]).sum() + x.cumsum(0).max(),
    }
    f = functions[name]
    x = _randn(5, seed=4)
    expected = autograd.functional.hessian(f, x)  # one double backward per row, no vmap
    _close(jacfwd(jacfwd(f))(x), expected, 1e-9)
    # Mixed with reverse mode, through vmap's batching rules (the in-place and the indexing
    # cases fail there today: in-place ops under vmap(grad), index's batched backward).
    if name in ("mlp", "reductions"):
        _close(hessian(f)(x), expected, 1e-9)
        _close(jacfwd(jacrev(f))(x), expected, 1e-9)
        _close(jacrev(jacfwd(f))(x), expected, 1e-9)


def test_forward_over_forward_hessian_of_several_inputs() -> None:
    def f(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
        return (a.sin() @ b).tanh().sum()

    a, b = _randn(3, 4, seed=1), _randn(4, 2, seed=2)
    got = jacfwd(jacfwd(f, argnums=(0, 1)), argnums=(0, 1))(a, b)
    expected = jacrev(jacrev(f, argnums=(0, 1)), argnums=(0, 1))(a, b)
    for row_got, row_expected in zip(got, expected):
        for block_got, block_expected in zip(row_got, row_expected):
            _close(block_got, block_expected, 1e-9)


def test_vmap_of_nested_jvp_and_nested_jvp_of_vmap(device: str) -> None:
    x, t, s = (_randn(4, 3, seed=seed, device=device) for seed in range(3))

    def second(a: autodiff.Tensor, u: autodiff.Tensor, v: autodiff.Tensor) -> autodiff.Tensor:
        return jvp(lambda b: jvp(autodiff.tanh, (b,), (u,))[1], (a,), (v,))[1]

    y = x.tanh()
    expected = -2 * y * (1 - y * y) * t * s
    _close(vmap(second)(x, t, s), expected)
    _close(jvp(lambda b: jvp(vmap(autodiff.tanh), (b,), (t,))[1], (x,), (s,))[1], expected)
    _close(jvp(vmap(lambda b: jvp(autodiff.tanh, (b,), (t[0],))[1]), (x,), (s,))[1],
           -2 * y * (1 - y * y) * t[0] * s)


def test_batched_forward_over_forward_hessian() -> None:
    w = _randn(4, 3, seed=7)

    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        return (w @ x).tanh().sum()

    xs = _randn(5, 3, seed=8)
    got = vmap(jacfwd(jacfwd(f)))(xs)
    for index in range(5):
        _close(got[index], jacrev(jacrev(f))(xs[index]), 1e-10)


def test_hessian_vector_products_every_way() -> None:
    x, v = _randn(6, seed=1), _randn(6, seed=2)

    def f(a: autodiff.Tensor) -> autodiff.Tensor:
        return (a.sin() * a.roll(1)).sum()

    expected = hessian(f)(x) @ v
    _close(jvp(grad(f), (x,), (v,))[1], expected)  # forward over reverse
    _close(jvp(lambda a: jvp(f, (a,), (v,))[1], (x,), (v,))[1], v @ expected)  # fwd over fwd
    _close(grad(lambda a: jvp(f, (a,), (v,))[1])(x), expected)  # reverse over forward


def test_nested_jvp_through_a_custom_function_jvp() -> None:
    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_forward(x)
            return x ** 3

        @staticmethod
        def jvp(ctx, t):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return 3 * x * x * t

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            raise AssertionError("not used")

    x, t, s = _randn(4, seed=1), _randn(4, seed=2), _randn(4, seed=3)
    second = jvp(lambda a: jvp(Cube.apply, (a,), (t,))[1], (x,), (s,))[1]
    _close(second, 6 * x * t * s)


def test_tangents_of_an_inner_level_go_when_it_closes() -> None:
    x, t = _randn(3, seed=1), _randn(3, seed=2)
    kept = []

    def inner(a: autodiff.Tensor) -> autodiff.Tensor:
        out = jvp(lambda b: (kept.append(b.exp()), kept[-1])[1], (a,), (t,))[0]
        return out

    with fwAD.dual_level():
        dual = fwAD.make_dual(x, t)
        out = inner(dual)
        # the inner level's tangent is gone, the outer one's is there
        assert kept[0]._fw_grads is not None and list(kept[0]._fw_grads) == [0]
        _close(fwAD.unpack_dual(out).tangent, x.exp() * t)
    assert kept[0]._fw_grads is None and out._fw_grads is None


# ----------------------------------------------------------------------------- public API
def test_public_levels_do_not_nest_as_in_pytorch() -> None:
    x, t = _randn(3, seed=1), _randn(3, seed=2)

    def opens_a_level(a: autodiff.Tensor) -> autodiff.Tensor:
        with fwAD.dual_level():
            return a

    with pytest.raises(RuntimeError, match=r"^Nested forward mode AD is not supported at the "
                                           r"moment$"):
        jvp(opens_a_level, (x,), (t,))
    assert fwAD.enter_dual_level() == 0  # the failed jvp closed its level
    fwAD.exit_dual_level()


def test_func_jvp_inside_a_public_level() -> None:
    """A deliberate difference: PyTorch refuses func.jvp inside forward_ad.dual_level (its jvp
    enters the one level forward_ad has); here it opens the next level and both hold."""
    x, t, s = _randn(3, seed=1), _randn(3, seed=2), _randn(3, seed=3)
    with fwAD.dual_level() as level:
        dual = fwAD.make_dual(x, s, level=level)
        inner = jvp(autodiff.sin, (dual,), (t,))[1]
        primal, tangent = fwAD.unpack_dual(inner, level=level)
    _close(primal, x.cos() * t)
    _close(tangent, -x.sin() * t * s)


def test_explicit_levels_and_their_errors() -> None:
    x, t = _randn(3, seed=1), _randn(3, seed=2)
    with fwAD.dual_level() as level:
        with pytest.raises(RuntimeError, match=r"^Invalid level given to _make_dual$"):
            fwAD.make_dual(x, t, level=level + 1)
        with pytest.raises(RuntimeError, match=r"^Trying to create a dual Tensor for forward AD "
                                               r"but no level exists"):
            fwAD.make_dual(x, t, level=-2)
        dual = fwAD.make_dual(x, t, level=level)
        unpacked = fwAD.unpack_dual(dual, level=level + 1)  # no such level: no tangent
        assert unpacked.primal is dual and unpacked.tangent is None
        assert fwAD.unpack_dual(dual, level=level).tangent is t
        with pytest.raises(RuntimeError, match=r"^Trying to exit a forward AD level that was "
                                               r"not the last one that was created"):
            fwAD.exit_dual_level(level=level + 1)


def test_against_torch_func() -> None:
    torch = pytest.importorskip("torch")
    x, t, s = _randn(5, seed=1), _randn(5, seed=2), _randn(5, seed=3)

    def ours(a: autodiff.Tensor) -> autodiff.Tensor:
        return jvp(lambda b: (b.sigmoid() * b.sin()).cumsum(0), (a,), (t,))[1]

    def theirs(a):  # type: ignore[no-untyped-def]
        return torch.func.jvp(lambda b: (b.sigmoid() * b.sin()).cumsum(0), (a,),
                              (torch.from_numpy(t.numpy()),))[1]

    got = jvp(ours, (x,), (s,))
    expected = torch.func.jvp(theirs, (torch.from_numpy(x.numpy()),),
                              (torch.from_numpy(s.numpy()),))
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    def g(a):  # type: ignore[no-untyped-def]
        return (a[[0, 2, 2]] * a.flip(0)[:3]).sum() + a.sin().cumsum(0).max()

    np.testing.assert_allclose(
        jacfwd(jacfwd(g))(x).numpy(),
        torch.func.jacfwd(torch.func.jacfwd(g))(torch.from_numpy(x.numpy())).numpy(),
        rtol=1e-10, atol=1e-10)


def test_jvp_returns_an_output_twice_and_an_input_as_is() -> None:
    x, t = _randn(3, seed=1), _randn(3, seed=2)
    primals, tangents = jvp(lambda a: (a.sin(), a.sin(), a), (x,), (t,))
    out = primals[0]
    twice = jvp(lambda a: (lambda y: (y, y))(a.sin()), (x,), (t,))[1]
    for tangent in (*tangents[:2], *twice):
        _close(tangent, x.cos() * t)
    _close(tangents[2], t)
    _close(primals[2], x)
    assert out._fw_grads is None and primals[2]._fw_grads is None
