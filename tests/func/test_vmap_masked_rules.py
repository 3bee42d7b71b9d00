"""Batching rules of masked_fill with a tensor value (in place too) and masked_scatter (in
place too) beyond the op table's samples: each of input, mask, value or source batched alone
or together, masks of lower rank, gradients through them, and the errors; against a loop of
unbatched calls and, where installed, torch.func. PyTorch 2.13's vmap runs these once per
example with its performance warning; they batch here, with the same values.

And the histograms, which stay a loop: as PyTorch 2.13's for histogram (with its warning);
PyTorch 2.13 refuses histogramdd under vmap, where the loop here gives each example's."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.func import grad, vmap
from tests.func.vmap_helpers import no_fallback, randn64, values

B = 3


def _loop(function: Callable[..., Any], args: list[Any], in_dims: tuple[int | None, ...],
          ) -> autodiff.Tensor:
    return autodiff.stack([function(*[arg[i] if dim is not None else arg
                                      for arg, dim in zip(args, in_dims)]) for i in range(B)])


def _in_dims(count: int) -> list[tuple[int | None, ...]]:
    """Every way of batching `count` arguments (at least one batched)."""
    return [dims for dims in itertools.product((0, None), repeat=count)
            if any(dim is not None for dim in dims)]


def _mask(*shape: int, seed: int, device: str) -> autodiff.Tensor:
    return randn64(*shape, seed=seed, device=device) > 0


# ----------------------------------------------------------------------------- masked_fill
@pytest.mark.parametrize("in_dims", _in_dims(3))
@pytest.mark.parametrize("in_place", [False, True])
def test_masked_fill_with_a_tensor_value(in_dims: tuple[int | None, ...], in_place: bool,
                                         device: str) -> None:
    def fill(a: autodiff.Tensor, mask: autodiff.Tensor,
             value: autodiff.Tensor) -> autodiff.Tensor:
        return (a * 1).masked_fill_(mask, value) if in_place else a.masked_fill(mask, value)

    args = [randn64(B, 4, 5, device=device) if in_dims[0] is not None else
            randn64(4, 5, device=device),
            _mask(*((B,) if in_dims[1] is not None else ()), 5, seed=1, device=device),
            randn64(*((B,) if in_dims[2] is not None else ()), seed=2, device=device)]
    if in_place and in_dims[0] is None:
        with pytest.raises(RuntimeError, match="`self` not being vmapped over"):
            vmap(fill, in_dims=in_dims)(*args)
        return
    with no_fallback():
        out = vmap(fill, in_dims=in_dims)(*args)
    np.testing.assert_array_equal(values(out), values(_loop(fill, args, in_dims)))


def test_masked_fill_value_gradient_per_example(device: str) -> None:
    a = randn64(B, 4, device=device)
    mask = _mask(B, 4, seed=1, device=device)
    value = randn64(B, seed=2, device=device)

    def loss(v: autodiff.Tensor, x: autodiff.Tensor, m: autodiff.Tensor) -> autodiff.Tensor:
        return ((x * 1).masked_fill_(m, v) ** 2).sum()

    with no_fallback():
        out = vmap(grad(loss))(value, a, mask)
    np.testing.assert_allclose(values(out), [values(grad(loss)(value[i], a[i], mask[i]))
                                             for i in range(B)])
    np.testing.assert_allclose(values(out), 2 * values(value) * values(mask).sum(1))


def test_masked_fill_in_place_into_a_shared_tensor_is_refused() -> None:
    """PyTorch's messages: a tensor value (its fallback's) and a number (its in-place rule's)."""
    x = randn64(4, 5)
    masks = _mask(B, 4, 5, seed=1, device="cpu")
    messages = [
        "vmap: aten::masked_fill_(self, *extra_args) is not possible because there exists a "
        "Tensor `other` in extra_args that has more elements than `self`. This happened due "
        "to `other` being vmapped over but `self` not being vmapped over at level 1. Please "
        "try to use out-of-place operators instead of aten::masked_fill_. If said operator "
        "is being called inside the PyTorch framework, please file a bug report instead.",
        "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a "
        "Tensor `other` in extra_args that has more elements than `self`. This happened due "
        "to `other` being vmapped over but `self` not being vmapped over in a vmap. Please "
        "try to use out-of-place operators instead of inplace arithmetic. If said operator is "
        "being called inside the PyTorch framework, please file a bug report instead."]
    cases = [(lambda L, x, m: x.clone().masked_fill_(m, L.tensor(1.0, dtype=L.float64)),
              messages[0]),
             (lambda L, x, m: x.clone().masked_fill_(m, 1.0), messages[1])]
    for function, message in cases:
        with pytest.raises(RuntimeError) as caught:
            vmap(lambda m, f=function: f(autodiff, x, m))(masks)
        assert str(caught.value) == message
    torch = pytest.importorskip("torch")
    tx, tmasks = torch.tensor(values(x)), torch.tensor(values(masks))
    for function, message in cases:
        with pytest.raises(RuntimeError) as theirs, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.func.vmap(lambda m, f=function: f(torch, tx, m))(tmasks)
        assert str(theirs.value) == message


# ----------------------------------------------------------------------------- masked_scatter
SCATTER_SHAPES = {
    "same_shapes": ((3, 4), (3, 4), (3, 5)),
    "mask_of_lower_rank": ((3, 4), (4,), (12,)),
    "input_of_lower_rank": ((4,), (3, 4), (2, 7)),
}


@pytest.mark.parametrize("in_dims", _in_dims(3))
@pytest.mark.parametrize("name", sorted(SCATTER_SHAPES))
@pytest.mark.parametrize("in_place", [False, True])
def test_masked_scatter(in_dims: tuple[int | None, ...], name: str, in_place: bool,
                        device: str) -> None:
    input_shape, mask_shape, source_shape = SCATTER_SHAPES[name]
    if in_place and name == "input_of_lower_rank":
        return  # in place, the mask must broadcast to the input

    def scatter(a: autodiff.Tensor, mask: autodiff.Tensor,
                source: autodiff.Tensor) -> autodiff.Tensor:
        return (a * 1).masked_scatter_(mask, source) if in_place else \
            a.masked_scatter(mask, source)

    batch = [(B,) if dim is not None else () for dim in in_dims]
    args = [randn64(*batch[0], *input_shape, device=device),
            _mask(*batch[1], *mask_shape, seed=1, device=device),
            randn64(*batch[2], *source_shape, seed=2, device=device)]
    if in_place and in_dims[0] is None:
        with pytest.raises(RuntimeError, match=r"vmap: aten::masked_scatter_\(self, \*extra_args"
                                               r"\) is not possible .* at level 1\."):
            vmap(scatter, in_dims=in_dims)(*args)
        return
    with no_fallback():
        out = vmap(scatter, in_dims=in_dims)(*args)
    np.testing.assert_array_equal(values(out), values(_loop(scatter, args, in_dims)))


def test_masked_scatter_gradients_per_example(device: str) -> None:
    a = randn64(B, 3, 4, device=device)
    mask = _mask(B, 3, 4, seed=1, device=device)
    source = randn64(B, 13, seed=2, device=device)

    def loss(s: autodiff.Tensor, x: autodiff.Tensor, m: autodiff.Tensor) -> autodiff.Tensor:
        return (x.masked_scatter(m, s) ** 3).sum()

    for argnums in (0, 1):
        function = grad(loss, argnums=argnums)
        with no_fallback():
            out = vmap(function)(source, a, mask)
        np.testing.assert_allclose(
            values(out), values(autodiff.stack([function(source[i], a[i], mask[i])
                                                for i in range(B)])), rtol=1e-12)


def test_masked_scatter_source_too_short_for_one_example(device: str) -> None:
    a = randn64(B, 4, device=device)
    mask = autodiff.tensor([[True, False, False, False], [True, True, True, False],
                            [False, False, False, False]], device=device)
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in "
                                           "mask"):
        vmap(lambda x, m: x.masked_scatter(m, autodiff.zeros(2, dtype=autodiff.float64,
                                                             device=device)))(a, mask)
    out = vmap(lambda x, m: x.masked_scatter(m, autodiff.zeros(3, dtype=autodiff.float64,
                                                               device=device)))(a, mask)
    np.testing.assert_array_equal(values(out), np.where(values(mask), 0.0, values(a)))


def test_masked_scatter_matches_torch_func() -> None:
    torch = pytest.importorskip("torch")
    a, source = randn64(B, 3, 4), randn64(B, 12, seed=2)
    mask = _mask(B, 4, seed=1, device="cpu")
    ours = vmap(lambda x, m, s: x.masked_scatter(m, s))(a, mask, source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.func.vmap(lambda x, m, s: x.masked_scatter(m, s))(
            torch.tensor(values(a)), torch.tensor(values(mask)), torch.tensor(values(source)))
    np.testing.assert_array_equal(values(ours), theirs.numpy())


# ----------------------------------------------------------------------------- histograms
def _warnings(function: Callable[[], Any]) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = function()
    return out, [str(w.message) for w in caught if "performance drop" in str(w.message)]


def test_histogram_loops_with_the_performance_warning_as_pytorch() -> None:
    x, weight = randn64(B, 4, 5), randn64(B, 4, 5, seed=1).abs()
    out, slow = _warnings(lambda: vmap(
        lambda a, w: autodiff.histogram(a, 4, weight=w, density=True))(x, weight))
    assert slow
    for i in range(B):
        expected = autodiff.histogram(x[i], 4, weight=weight[i], density=True)
        np.testing.assert_array_equal(values(out.hist[i]), values(expected.hist))
        np.testing.assert_array_equal(values(out.bin_edges[i]), values(expected.bin_edges))
    torch = pytest.importorskip("torch")
    theirs, their_slow = _warnings(lambda: torch.func.vmap(
        lambda a, w: torch.histogram(a, 4, weight=w, density=True))(
        torch.tensor(values(x)), torch.tensor(values(weight))))
    assert their_slow
    np.testing.assert_allclose(values(out.hist), theirs.hist.numpy(), rtol=1e-12)


def test_histogramdd_loops_where_pytorch_refuses() -> None:
    """PyTorch 2.13's vmap has neither a rule nor a fallback for histogramdd; the loop here
    gives each example's histogram (with the performance warning)."""
    x = randn64(B, 12, 2)
    out, slow = _warnings(lambda: vmap(lambda a: autodiff.histogramdd(a, [3, 2]))(x))
    assert slow
    for i in range(B):
        np.testing.assert_array_equal(values(out.hist[i]),
                                      values(autodiff.histogramdd(x[i], [3, 2]).hist))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=r"Batching rule not implemented for "
                                           r"aten::histogramdd\. We could not generate a "
                                           r"fallback\."):
        torch.func.vmap(lambda a: torch.histogramdd(a, [3, 2]))(torch.tensor(values(x)))
