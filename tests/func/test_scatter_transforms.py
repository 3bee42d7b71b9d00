"""Transforms stacked over ops whose backward writes into a buffer (scatter-add into zeros, an
index_put, a masked or indexed copy): jacrev(jacrev(f)), jacfwd(jacrev(f)) and vmap(grad(f))
against eager autodiff one example (one Hessian row) at a time, for every such op-table entry;
and the repro of mixed batch rows against torch.func where PyTorch is installed.

Under vmap such a backward sees a batched gradient and an unbatched buffer of zeros; a write
of every example into the one buffer would mix the rows, so these compositions catch it."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.func import grad, jacfwd, jacrev, vmap
from tests.op_db import OP_DB, OpInfo, Sample

# Families whose backward scatters or writes into zeros (or gathers, in a double backward).
_FAMILIES = ("getitem", "setitem", "index_", "scatter", "gather", "take", "put", "masked_",
             "embedding", "unfold", "F.fold", "narrow_copy", "select_scatter", "diagonal_scatter",
             "F.max_unpool", "F.max_pool", "F.adaptive_max_pool", "kthvalue", "topk", "sort",
             "median", "mode", "cummax", "cummin", "max_dim", "min_dim", "amax", "amin")
# Their forward outputs depend on values in a data-dependent shape; vmap refuses them.
_DYNAMIC = ("getitem_mask", "getitem_random_mask", "setitem_mask", "masked_select", "unique")
ENTRIES = [info for info in OP_DB
           if info.name.startswith(_FAMILIES) and not info.name.startswith(_DYNAMIC)
           and info.differentiable and info.gradgrad is True]
CASES = [pytest.param(info, index, id=f"{info.name}-{index}")
         for info in ENTRIES for index, sample in enumerate(info.samples)
         if 0 < int(np.prod(sample.shapes[0])) <= 300]


def _inputs(info: OpInfo, sample: Sample, device: str, seed: int) -> list[autodiff.Tensor]:
    rng = np.random.default_rng(seed)
    low, high = info.domain
    return [autodiff.tensor(rng.uniform(low, high, size=shape), dtype=autodiff.float64,
                            device=device) for shape in sample.shapes]


Loss = Callable[[autodiff.Tensor], autodiff.Tensor]


def _loss(info: OpInfo, inputs: list[autodiff.Tensor], weight_seed: int) -> Loss:
    """A scalar function of the first input, nonlinear (so its Hessian passes through the
    op's backward), the other inputs held fixed."""
    def loss(x: autodiff.Tensor) -> autodiff.Tensor:
        out = info.op(x, *inputs[1:])
        if isinstance(out, tuple):
            out = out[0]
        rng = np.random.default_rng(weight_seed)
        weight = autodiff.tensor(rng.uniform(0.5, 1.5, size=tuple(out.shape)),
                                 dtype=out.dtype, device=str(out.device))
        return (out * out * out * weight).sum()

    return loss


def _eager_hessian(loss: Loss, x: autodiff.Tensor) -> np.ndarray:
    """One row per element of x: the gradient of <grad f, e_i>, by the tape, eagerly."""
    x = x.detach().requires_grad_(True)
    (gradient,) = autodiff.autograd.grad(loss(x), x, create_graph=True)
    flat = gradient.reshape(-1)
    if not flat.requires_grad:  # the gradient does not depend on x (the op overwrote it)
        return np.zeros((flat.shape[0], flat.shape[0]))
    rows = []
    for index in range(flat.shape[0]):
        (row,) = autodiff.autograd.grad(flat[index], x, retain_graph=True, allow_unused=True,
                                        materialize_grads=True)
        rows.append(np.array(row.tolist()).reshape(-1))
    return np.array(rows)


def _eager_grad(loss: Loss, x: autodiff.Tensor) -> np.ndarray:
    x = x.detach().requires_grad_(True)
    (gradient,) = autodiff.autograd.grad(loss(x), x, allow_unused=True, materialize_grads=True)
    return np.array(gradient.tolist()).reshape(tuple(x.shape))


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.array(tensor.tolist()).reshape(tuple(tensor.shape))


@pytest.mark.parametrize(("info", "index"), CASES)
def test_second_order_transforms_match_eager(info: OpInfo, index: int, device: str) -> None:
    sample = info.samples[index]
    inputs = _inputs(info, sample, device, seed=index)
    loss = _loss(info, inputs, weight_seed=7)
    x = inputs[0]
    expected = _eager_hessian(loss, x)
    size = expected.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ops without a batching rule loop: still exact
        reverse = _numpy(jacrev(jacrev(loss))(x)).reshape(size, size)
        forward = _numpy(jacfwd(jacrev(loss))(x)).reshape(size, size)
    np.testing.assert_allclose(reverse, expected, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(forward, expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(("info", "index"), CASES)
def test_per_example_gradients_match_eager(info: OpInfo, index: int, device: str) -> None:
    sample = info.samples[index]
    inputs = _inputs(info, sample, device, seed=index)
    loss = _loss(info, inputs, weight_seed=7)
    rng = np.random.default_rng(3)
    low, high = info.domain
    batch = autodiff.tensor(rng.uniform(low, high, size=(3, *sample.shapes[0])),
                            dtype=autodiff.float64, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batched = _numpy(vmap(grad(loss))(batch))
    expected = np.stack([_eager_grad(loss, batch[i]) for i in range(3)])
    np.testing.assert_allclose(batched, expected, rtol=1e-9, atol=1e-10)


def test_hessian_of_integer_array_index_matches_torch_func() -> None:
    torch = pytest.importorskip("torch")
    values = np.array([1.0, 2.0, 3.0])

    def loss(x: Any) -> Any:
        return (x[[0, 2]] ** 3).sum()

    expected = torch.func.jacrev(torch.func.jacrev(loss))(torch.tensor(values)).numpy()
    np.testing.assert_allclose(_numpy(jacrev(jacrev(loss))(autodiff.tensor(values))), expected)
    np.testing.assert_allclose(_numpy(jacfwd(jacrev(loss))(autodiff.tensor(values))), expected)
    batch = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    np.testing.assert_allclose(_numpy(vmap(grad(loss))(autodiff.tensor(batch))),
                               torch.func.vmap(torch.func.grad(loss))(torch.tensor(batch)))


@pytest.mark.parametrize("name", ["index_add", "index_copy", "scatter", "scatter_add",
                                  "gather", "take", "index_put", "masked_scatter"])
def test_scatter_family_hessians_match_torch_func(name: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = rng.uniform(-1, 1, size=(4, 3))
    source = rng.uniform(-1, 1, size=(2, 3))

    def loss_of(lib: Any) -> Callable[[Any], Any]:
        index = lib.tensor([2, 0])
        mask = lib.tensor([[True, False, True], [False, True, False], [True, True, False],
                           [False, False, True]])
        src = lib.tensor(source)

        def loss(x: Any) -> Any:
            if name == "index_add":
                out = x.index_add(0, index, x[1:3] * src)
            elif name == "index_copy":
                out = x.index_copy(0, index, x[1:3] * src)
            elif name == "scatter":
                out = x.scatter(0, lib.tensor([[3, 0, 1], [1, 2, 3]]), x[:2] * src)
            elif name == "scatter_add":
                out = x.scatter_add(0, lib.tensor([[3, 0, 3], [3, 2, 0]]), x[:2] * src)
            elif name == "gather":
                out = x.gather(0, lib.tensor([[3, 0, 1], [3, 3, 0]]))
            elif name == "take":
                out = x.take(lib.tensor([[11, 0], [0, 5]]))
            elif name == "index_put":
                out = x.index_put((index, lib.tensor([1, 1])), x[0, :2] * x[3, 2],
                                  accumulate=True)
            else:
                out = x.masked_scatter(mask, x.flip(0) * 2)
            return (out * out * out).sum()

        return loss

    ours, theirs = loss_of(autodiff), loss_of(torch)
    x = values
    expected = torch.func.jacrev(torch.func.jacrev(theirs))(torch.tensor(x)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reverse = _numpy(jacrev(jacrev(ours))(autodiff.tensor(x)))
        forward = _numpy(jacfwd(jacrev(ours))(autodiff.tensor(x)))
        batch = rng.uniform(-1, 1, size=(3, 4, 3))
        per_example = _numpy(vmap(grad(ours))(autodiff.tensor(batch)))
    np.testing.assert_allclose(reverse, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(forward, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        per_example, torch.func.vmap(torch.func.grad(theirs))(torch.tensor(batch)).numpy(),
        rtol=1e-10, atol=1e-12)


def test_fallback_refuses_in_place_writes_into_an_unbatched_tensor() -> None:
    """An in-place op with no rule for the case, looped over examples into one shared tensor,
    would leave the last example's values: PyTorch's error instead, and the tensor untouched."""
    target = autodiff.zeros(4, dtype=autodiff.float64)
    mask = autodiff.tensor([True, False, True, False])
    values = autodiff.tensor([[1.0], [2.0], [3.0]], dtype=autodiff.float64)

    def write(value: autodiff.Tensor) -> autodiff.Tensor:
        return target.masked_fill_(mask, value[0])

    with pytest.raises(RuntimeError, match=r"vmap: aten::masked_fill_\(self, \*extra_args\) "
                                           "is not possible .* not being vmapped over at "
                                           "level 1"):
        vmap(write)(values)
    assert target.tolist() == [0.0, 0.0, 0.0, 0.0]

    def put(value: autodiff.Tensor) -> autodiff.Tensor:
        return target.index_put_((autodiff.tensor([1, 3]),), value, accumulate=True)

    with pytest.raises(RuntimeError, match=r"vmap: index_put_\(self, \*extra_args\) is not "):
        vmap(put)(values)
    assert target.tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_hessian_batches_its_backward(reduction: str, weighted: bool,
                                                    device: str) -> None:
    """nll_loss's backward (a scatter of each target's gradient) batches under the Hessian's
    vmap, an ignored target included: no loop, and the eager Hessian row by row."""
    rng = np.random.default_rng(0)
    target = autodiff.tensor([1, 3, 0, 2, -100], device=device)
    weight = autodiff.tensor(rng.uniform(0.5, 2, 4), device=device) if weighted else None

    def loss(x: autodiff.Tensor) -> autodiff.Tensor:
        out = autodiff.nn.functional.cross_entropy(x * x, target, weight=weight,
                                                   reduction=reduction)
        return out.sum() if reduction == "none" else out

    x = autodiff.tensor(rng.standard_normal((5, 4)), device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the loop fallback's performance warning fails here
        reverse = _numpy(jacrev(jacrev(loss))(x)).reshape(20, 20)
        forward = _numpy(autodiff.func.hessian(loss)(x)).reshape(20, 20)
        per_example = _numpy(vmap(grad(loss))(autodiff.stack([x, 2 * x])))
    expected = _eager_hessian(loss, x)
    np.testing.assert_allclose(reverse, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(forward, expected, rtol=1e-10, atol=1e-12)
    eager = np.stack([_eager_grad(loss, x), _eager_grad(loss, 2 * x)])
    np.testing.assert_allclose(per_example, eager, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("batched", ["values", "indices", "both"])
def test_index_put_batches_indices_and_values(accumulate: bool, batched: str,
                                              device: str) -> None:
    """index_put out of place on an unbatched tensor: each example gets its own copy with its
    own values at its own positions (one op, no loop), as the per-example loop gives."""
    rng = np.random.default_rng(0)
    values = autodiff.tensor(rng.standard_normal((4, 2)), device=device)
    indices = autodiff.tensor([[0, 2], [1, 1], [2, 0], [0, -1]], device=device)
    base = autodiff.tensor([1.0, 2.0, 3.0], dtype=autodiff.float64, device=device)

    def put(value: autodiff.Tensor, index: autodiff.Tensor) -> autodiff.Tensor:
        return base.index_put((index,), value, accumulate=accumulate)

    in_dims = {"values": (0, None), "indices": (None, 0), "both": (0, 0)}[batched]
    args = (values if in_dims[0] == 0 else values[1], indices if in_dims[1] == 0 else indices[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = vmap(put, in_dims=in_dims)(*args)
    expected = [put(args[0][i] if in_dims[0] == 0 else args[0],
                    args[1][i] if in_dims[1] == 0 else args[1]) for i in range(4)]
    np.testing.assert_allclose(_numpy(out), np.stack([_numpy(e) for e in expected]))
    assert base.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match=r"vmap: index_put_\(self, \*extra_args\)"):
        vmap(lambda v, i: base.index_put_((i,), v, accumulate=accumulate),
             in_dims=in_dims)(*args)
    assert base.tolist() == [1.0, 2.0, 3.0]
