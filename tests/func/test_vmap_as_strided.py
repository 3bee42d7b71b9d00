"""as_strided under the transforms: its tangent is laid out in memory as its primal is (PyTorch
gives a dual tensor's tangent the primal's layout), so jacfwd, vmap(jacfwd) and jvp read the
same positions the primal does, each example in memory of its own; and PyTorch's refusal of a
view that reaches memory outside the example's inside vmap. Each against jacrev, a loop of
unbatched calls and, where installed, torch.func."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.autograd.forward_ad as fwAD
from autodiff.func import jacfwd, jacrev, jvp, vmap
from tests.func.vmap_helpers import randn64, values

B = 3
# f(module, x): an as_strided view of x (or of a view of it), with its input's shape.
GEOMETRIES: dict[str, tuple[tuple[int, ...], Callable[[Any, Any], Any]]] = {
    "windows": ((3, 4), lambda L, x: x.as_strided((2, 2), (1, 2))),
    "overlapping_offset": ((6,), lambda L, x: L.as_strided(x, (3, 2), (1, 1), 1)),
    "of_a_view": ((3, 4), lambda L, x: x[1:].as_strided((2, 3), (4, 1))),
    "of_a_transpose": ((3, 4), lambda L, x: x.t().as_strided((3, 2), (1, 4), 1)),
    "gaps": ((8,), lambda L, x: x.as_strided((2, 2), (4, 2), 1)),
    "of_an_expand": ((3,), lambda L, x: x.unsqueeze(0).expand(2, 3).as_strided((2, 2), (0, 1),
                                                                              1)),
}


def _loss(module: Any, view: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    def loss(x: Any) -> Any:
        out = view(module, x)
        return (out * out).sum()

    return loss


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_jacfwd_equals_jacrev(name: str, device: str) -> None:
    shape, view = GEOMETRIES[name]
    x = randn64(*shape, device=device)
    forward = jacfwd(lambda a: view(autodiff, a))(x)
    reverse = jacrev(lambda a: view(autodiff, a))(x)
    np.testing.assert_allclose(values(forward), values(reverse), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_vmap_of_jacfwd_matches_the_loop_and_jacrev(name: str, device: str) -> None:
    shape, view = GEOMETRIES[name]
    x = randn64(B, *shape, device=device)
    batched = vmap(jacfwd(_loss(autodiff, view)))(x)
    looped = autodiff.stack([jacfwd(_loss(autodiff, view))(x[i].clone()) for i in range(B)])
    reverse = vmap(jacrev(_loss(autodiff, view)))(x)
    np.testing.assert_allclose(values(batched), values(looped), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values(batched), values(reverse), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_vmap_of_jacfwd_matches_torch_func(name: str) -> None:
    torch = pytest.importorskip("torch")
    shape, view = GEOMETRIES[name]
    x = randn64(B, *shape)
    ours = vmap(jacfwd(_loss(autodiff, view)))(x)
    theirs = torch.func.vmap(torch.func.jacfwd(_loss(torch, view)))(
        torch.tensor(values(x)))
    np.testing.assert_allclose(values(ours), theirs.numpy(), rtol=1e-12, atol=1e-12)
    ours_jac = vmap(jacfwd(lambda a: view(autodiff, a)))(x)
    theirs_jac = torch.func.vmap(torch.func.jacfwd(lambda a: view(torch, a)))(
        torch.tensor(values(x)))
    np.testing.assert_allclose(values(ours_jac), theirs_jac.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_jacrev_matches_torch_func(name: str) -> None:
    """The gradient of an input whose elements share memory (of_an_expand) is shared among
    them, as PyTorch's as_strided_backward divides it."""
    torch = pytest.importorskip("torch")
    shape, view = GEOMETRIES[name]
    x = randn64(*shape)
    ours = jacrev(lambda a: view(autodiff, a))(x)
    theirs = torch.func.jacrev(lambda a: view(torch, a))(torch.tensor(values(x)))
    np.testing.assert_allclose(values(ours), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_vmap_over_tangents_of_an_unbatched_primal(device: str) -> None:
    """vmap(jvp) with one primal for every example: the examples' tangents are the rows of
    the identity, each read at the primal's positions (the primal itself is shared, stride 0
    over the examples)."""
    x = randn64(6, device=device)
    rows = autodiff.eye(6, dtype=autodiff.float64, device=device)
    out = vmap(lambda t: jvp(lambda a: autodiff.as_strided(a, (3, 2), (1, 1), 1), (x,),
                             (t,))[1])(rows)
    expected = np.zeros((6, 3, 2))
    for i in range(3):
        for j in range(2):
            expected[1 + i + j, i, j] = 1.0
    np.testing.assert_array_equal(values(out), expected)


def test_forward_ad_tangent_takes_the_primal_layout() -> None:
    """A tangent of another layout than its primal's (a view into a larger memory) is read as
    if laid out as the primal is, zeros in the memory around it: PyTorch's values."""
    base = autodiff.arange(12.0, dtype=autodiff.float64)
    tangent = autodiff.arange(12.0, dtype=autodiff.float64)[::2]
    with fwAD.dual_level():
        dual = fwAD.make_dual(base[2:8], tangent)
        out = fwAD.unpack_dual(autodiff.as_strided(dual, (3, 2), (1, 1), 0))
    assert out.primal.tolist() == [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]
    assert out.tangent is not None
    assert out.tangent.tolist() == [[0.0, 0.0], [0.0, 0.0], [0.0, 2.0]]
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as torch_fwAD

    with torch_fwAD.dual_level():
        dual = torch_fwAD.make_dual(torch.arange(12.0).double()[2:8],
                                    torch.arange(12.0).double()[::2])
        theirs = torch_fwAD.unpack_dual(torch.as_strided(dual, (3, 2), (1, 1), 0))
    assert theirs.tangent.tolist() == out.tangent.tolist()


OUTSIDE = "can access memory outside of `tensor`"
REFUSED = {
    "offset_past_the_example": (
        lambda x: x.as_strided((2,), (1,), 5),
        "result = tensor.as_strided([2], [1], 5) can access memory outside of `tensor`. "
        "`result` can access some memory in range [5, 7], but `tensor` can only access some "
        "memory in range [0, 4]. This is not supported inside of vmap, please try to rewrite "
        "the `as_strided` call as a sequence of PyTorch view operations"),
    "size_past_the_example": (
        lambda x: x.as_strided((5,), (1,)),
        "result = tensor.as_strided([5], [1], 0) can access memory outside of `tensor`. "
        "`result` can access some memory in range [0, 5], but `tensor` can only access some "
        "memory in range [0, 4]. This is not supported inside of vmap, please try to rewrite "
        "the `as_strided` call as a sequence of PyTorch view operations"),
    "offset_before_a_view": (
        lambda x: x[1:].as_strided((2,), (1,), 0),
        "result = tensor.as_strided([2], [1], 0) can access memory outside of `tensor`. "
        "`result` can access some memory in range [0, 2], but `tensor` can only access some "
        "memory in range [1, 4]. This is not supported inside of vmap, please try to rewrite "
        "the `as_strided` call as a sequence of PyTorch view operations"),
    "empty_example": (
        lambda x: x[:0].as_strided((1,), (1,)),
        "result = tensor.as_strided([1], [1], 0) can access memory outside of `tensor`. "
        "`tensor` has no storage but the passed-in (size, stride, storage_offset) imply a "
        "result with some storage. This is not supported inside of vmap, please try to "
        "rewrite the `as_strided` call as a sequence of PyTorch view operations"),
    "lengths": (
        lambda x: x.as_strided((2,), (1, 1)),
        "Tensor.as_strided(size, stride, ...): size and stride must have the same length! "
        "Got size [2] and stride [1, 1]"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_vmap_refuses_views_outside_the_example(name: str) -> None:
    """PyTorch's messages (the CPU backend reports NumPy's layouts, as PyTorch's)."""
    function, message = REFUSED[name]
    x = autodiff.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError) as caught:
        vmap(function)(x)
    assert str(caught.value) == message
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.func.vmap(function)(torch.arange(12.0).reshape(3, 4))
    assert str(theirs.value) == message


def test_vmap_allows_views_within_the_example() -> None:
    """At the edges of the example's memory, and an empty view anywhere."""
    x = autodiff.arange(12.0).reshape(3, 4)
    assert vmap(lambda a: a.as_strided((2,), (1,), 2))(x).tolist() == [
        [2.0, 3.0], [6.0, 7.0], [10.0, 11.0]]
    assert tuple(vmap(lambda a: a.as_strided((0,), (1,), 9))(x).shape) == (3, 0)
