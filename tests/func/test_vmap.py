"""vmap's API: in_dims/out_dims over nested pytrees, chunk_size, randomness, nesting, and
PyTorch's errors (bad dims, .item() and data-dependent control flow inside vmap, in-place ops
writing batched values into unbatched tensors, the loop fallback's performance warning)."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import autodiff
from autodiff.batching.dispatch import has_rule
from autodiff.func import vmap
from autodiff.ops.arithmetic import Mul
from autodiff.ops.scatter import ScatterLegacyReduce


def _t(*shape: int, seed: int = 0, device: str = "cpu") -> autodiff.Tensor:
    rng = np.random.default_rng(seed)
    return autodiff.tensor(rng.standard_normal(shape), dtype=autodiff.float64, device=device)


def _np(x: autodiff.Tensor) -> np.ndarray:
    return np.array(x.tolist()).reshape(tuple(x.shape))


def test_in_dims_out_dims_pytrees(device: str) -> None:
    x, y = _t(4, 3, device=device), _t(3, 4, seed=1, device=device)

    def f(inputs: dict, scale: float) -> tuple:
        a, b = inputs["a"], inputs["b"]
        return (a * b).sum() * scale, {"prod": a * b}

    out = vmap(f, in_dims=({"a": 0, "b": 1}, None), out_dims=(0, {"prod": 1}))(
        {"a": x, "b": y}, 2.0)
    expected = _np(x) * _np(y).T
    np.testing.assert_allclose(_np(out[0]), 2 * expected.sum(1))
    np.testing.assert_allclose(_np(out[1]["prod"]), expected.T)


def test_negative_in_dim_none_out_dim_and_named_tuple() -> None:
    point = collections.namedtuple("point", "x y")
    p = point(_t(3, 5), _t(3, 5, seed=1))
    out = vmap(lambda p: point(p.x + p.y, p.x), in_dims=(point(-1, -1),))(p)
    assert type(out) is point and tuple(out.x.shape) == (5, 3)
    const = _t(2)
    res = vmap(lambda x, c: (x.sum(), c), in_dims=(0, None), out_dims=(0, None))(_t(4, 2), const)
    assert res[1] is const
    unbatched = vmap(lambda x: const)(_t(4, 2))  # an unbatched output is repeated
    np.testing.assert_allclose(_np(unbatched), np.tile(_np(const), (4, 1)))


def test_chunk_size_matches() -> None:
    x = _t(7, 3)
    full = vmap(lambda x: x.softmax(0) * x.sum())(x)
    for chunk in (1, 3, 7, 10):
        np.testing.assert_allclose(_np(vmap(lambda x: x.softmax(0) * x.sum(),
                                            chunk_size=chunk)(x)), _np(full))
    with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
        vmap(lambda x: x, chunk_size=0)


def test_nested_vmap_mixed_dims() -> None:
    x, w = _t(2, 3, 4), _t(4, 5, seed=1)
    out = vmap(vmap(lambda r, w: r @ w, in_dims=(0, None)), in_dims=(0, None))(x, w)
    np.testing.assert_allclose(_np(out), _np(x) @ _np(w))
    outer = vmap(lambda a: vmap(lambda b: a * b)(_t(6, 4, seed=2)))(_t(3, 4, seed=3))
    assert tuple(outer.shape) == (3, 6, 4)


def test_errors_as_pytorch() -> None:
    x = _t(2, 3)
    with pytest.raises(ValueError, match=r"vmap: Expected all tensors to have the same size in "
                                         r"the mapped dimension, got sizes \[2, 3\] for the "
                                         r"mapped dimension"):
        vmap(lambda a, b: a + b)(x, _t(3))
    with pytest.raises(ValueError, match=r"Got in_dim=2 for some input, but that input is a "
                                         r"Tensor of dimensionality 2 so expected in_dim to "
                                         r"satisfy -2 <= in_dim < 2."):
        vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match=r"must only return Tensors, got type <class 'int'>. "
                                         r"Did you mean to set out_dims= to None for output\?"):
        vmap(lambda a: 3)(x)
    with pytest.raises(ValueError, match=r"Got in_dim=0 for an input but the input is of type "
                                         r"<class 'int'>. We cannot vmap over non-Tensor"):
        vmap(lambda a: a)(3)
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure of "
                                         "`inputs`"):
        vmap(lambda a: a, in_dims=(0,))(x, _t(3))
    with pytest.raises(RuntimeError, match=r"Only allowed values for randomness are 'error', "
                                           r"'different', or 'same'. Got bad"):
        vmap(lambda a: a, randomness="bad")
    with pytest.raises(RuntimeError, match=r"vmap: It looks like you're calling .item\(\) on a "
                                           r"Tensor"):
        vmap(lambda a: a.sum().item())(x)
    with pytest.raises(RuntimeError, match="data-dependent control flow"):
        vmap(lambda a: a if a.sum() > 0 else -a)(x)


def test_inplace_into_unbatched_refused_and_batched_inplace_works() -> None:
    x, y = _t(3), _t(2, 3, seed=1)
    before = _np(x).copy()
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        vmap(lambda a, b: a.add_(b), in_dims=(None, 0))(x, y)
    np.testing.assert_array_equal(_np(x), before)
    z = y.clone()
    out = vmap(lambda a, b: a.mul_(b), in_dims=(0, None))(z, x)
    np.testing.assert_allclose(_np(z), _np(y) * _np(x))
    np.testing.assert_allclose(_np(out), _np(y) * _np(x))


def test_randomness_modes() -> None:
    x = autodiff.ones(4, 1000, dtype=autodiff.float64)
    with pytest.raises(RuntimeError, match="vmap: called random operation while in "
                                           "randomness error mode"):
        vmap(lambda a: autodiff.nn.functional.dropout(a, 0.5))(x)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda a: a + autodiff.randn(1000, dtype=autodiff.float64))(x)
    same = vmap(lambda a: autodiff.nn.functional.dropout(a, 0.5), randomness="same")(x)
    assert all(np.array_equal(_np(same[0]), _np(same[i])) for i in range(4))
    different = vmap(lambda a: autodiff.nn.functional.dropout(a, 0.5),
                     randomness="different")(x)
    assert not np.array_equal(_np(different[0]), _np(different[1]))
    noise = vmap(lambda a: a + autodiff.randn(1000, dtype=autodiff.float64),
                 randomness="different")(x)
    assert not np.array_equal(_np(noise[0]), _np(noise[1]))
    shared = vmap(lambda a: a + autodiff.randn(1000, dtype=autodiff.float64),
                  randomness="same")(x)
    np.testing.assert_array_equal(_np(shared[0]), _np(shared[3]))


def test_fallback_warns_and_rules_are_registered() -> None:
    x = _t(3, 5)
    index = autodiff.tensor([0, 1, 2, 0, 1])
    assert has_rule(Mul) and not has_rule(ScatterLegacyReduce)
    with pytest.warns(UserWarning, match="There is a performance drop because we have not yet "
                                         "implemented the batching rule for "
                                         "ScatterLegacyReduce"):
        out = vmap(lambda a: a.scatter(0, index, a * 10, reduce="multiply"))(x)
    a = _np(x)
    expected = a.copy()
    expected[:, 0] *= 100 * a[:, 0] * a[:, 3]
    expected[:, 1] *= 100 * a[:, 1] * a[:, 4]
    expected[:, 2] *= 10 * a[:, 2]
    np.testing.assert_allclose(_np(out), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vmap(lambda a: (a * 2).sum())(x)  # batched by rules: no warning


def test_vmap_is_batching_not_a_loop() -> None:
    """One op call for the whole batch: the op's forward runs once."""
    calls = []
    original = Mul.forward

    def counting(ctx: object, a: object, b: object) -> object:
        calls.append(1)
        return original(ctx, a, b)

    Mul.forward = staticmethod(counting)  # type: ignore[method-assign]
    try:
        vmap(lambda a: a * a)(_t(50, 3))
    finally:
        Mul.forward = staticmethod(original)  # type: ignore[method-assign]
    assert len(calls) == 1


def test_against_torch_vmap() -> None:
    torch = pytest.importorskip("torch")
    x, w = _t(5, 4, 3), _t(3, 2, seed=1)

    def f(a: object, w: object) -> object:
        return (a @ w).softmax(-1).cumsum(0).transpose(0, 1)

    ours = vmap(f, in_dims=(1, None), out_dims=1)(x, w)
    theirs = torch.func.vmap(f, in_dims=(1, None), out_dims=1)(torch.tensor(_np(x)),
                                                              torch.tensor(_np(w)))
    np.testing.assert_allclose(_np(ours), theirs.numpy(), rtol=1e-12)


def test_unsqueeze_inside_vmap_is_a_view_of_each_example(device: str) -> None:
    # x.unsqueeze(0) of one example (a batch of one) takes a short path past the rule: it must
    # still be a view of the physical tensor, and differentiable, at any nesting
    x = autodiff.zeros(3, 2, 4, device=device)

    def write(row: autodiff.Tensor) -> autodiff.Tensor:
        view = row.unsqueeze(0).unsqueeze(-1)
        view.add_(1)
        return view

    out = vmap(vmap(write))(x)
    assert tuple(out.shape) == (3, 2, 1, 4, 1)
    assert bool((x == 1).all())
    w = autodiff.arange(8.0, device=device).reshape(2, 4).requires_grad_()
    y = vmap(lambda row: (row.unsqueeze(0) * row.unsqueeze(1)).sum())(w)
    assert y.grad_fn is not None
    y.sum().backward()
    expected = 2 * w.detach().sum(1, keepdim=True).expand(2, 4)
    assert bool((w.grad == expected).all())
