"""Bilinear, RMSNorm, EmbeddingBag, Unflatten, the distances' modules and Embedding's max_norm
and sparse options against PyTorch (values, gradients, node names, errors, reprs, state dicts),
and what holds without PyTorch (initialisation ranges, the values of sparse=True's gradient)."""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F
from tests.compare import compare, same_error

RNG = np.random.default_rng(11)


def _torch() -> Any:
    return pytest.importorskip("torch")


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


# ----------------------------------------------------------------------------- bilinear
@pytest.mark.parametrize(("shape1", "shape2"), [((3, 4), (3, 5)), ((4,), (5,)),
                                                ((2, 3, 4), (2, 3, 5)), ((0, 4), (0, 5))])
def test_bilinear_matches_torch(shape1: Any, shape2: Any) -> None:
    torch = _torch()
    weight, bias = randn(6, 4, 5), randn(6)
    compare(torch, F.bilinear, torch.nn.functional.bilinear,
            [randn(*shape1), randn(*shape2), weight, bias], second_order=True)
    compare(torch, F.bilinear, torch.nn.functional.bilinear,
            [randn(*shape1), randn(*shape2), weight], second_order=True)


BILINEAR_ERRORS: dict[str, Any] = {
    "batch": lambda F, t: F.bilinear(t.ones(3, 4), t.ones(2, 5), t.ones(6, 4, 5)),
    "dims": lambda F, t: F.bilinear(t.ones(3, 1, 4), t.ones(3, 5), t.ones(6, 4, 5)),
    "input1": lambda F, t: F.bilinear(t.ones(3, 4), t.ones(3, 5), t.ones(6, 3, 5)),
    "input2": lambda F, t: F.bilinear(t.ones(3, 4), t.ones(3, 5), t.ones(6, 4, 3)),
    "bias": lambda F, t: F.bilinear(t.ones(3, 4), t.ones(3, 5), t.ones(6, 4, 5), t.ones(3)),
    "dtype": lambda F, t: F.bilinear(t.ones(3, 4, dtype=t.float64), t.ones(3, 5),
                                     t.ones(6, 4, 5)),
    "dtype with bias": lambda F, t: F.bilinear(t.ones(3, 4, dtype=t.int64),
                                               t.ones(3, 5, dtype=t.int64),
                                               t.ones(6, 4, 5, dtype=t.int64), t.ones(6)),
}


@pytest.mark.parametrize("case", sorted(BILINEAR_ERRORS))
def test_bilinear_errors_match_torch(case: str) -> None:
    torch = _torch()
    call = BILINEAR_ERRORS[case]
    same_error(lambda: call(F, autodiff), lambda: call(torch.nn.functional, torch))


def test_bilinear_module(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.Bilinear(20, 3, 4).to(device)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    bound = 1 / np.sqrt(20)
    for parameter in layer.parameters():  # U(-1/sqrt(in1), 1/sqrt(in1)), as PyTorch
        values = parameter.detach().cpu().numpy()
        assert values.min() >= -bound and values.max() <= bound
    assert layer.weight.shape == (4, 20, 3)
    out = layer(autodiff.ones(5, 20, device=device), autodiff.ones(5, 3, device=device))
    assert out.shape == (5, 4) and out.grad_fn.name() == "AddBackward0"
    out.sum().backward()
    assert layer.weight.grad.shape == (4, 20, 3)
    no_bias = nn.Bilinear(2, 3, 4, bias=False)
    assert no_bias.bias is None and repr(no_bias) == (
        "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=False)")
    with pytest.raises(ValueError, match=r"in1_features must be > 0, but got \(in1_features=0\)"):
        nn.Bilinear(0, 3, 4)


# ----------------------------------------------------------------------------- rms_norm
@pytest.mark.parametrize(("shape", "normalized"), [((3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                                   ((5,), (5,))])
def test_rms_norm_matches_torch(shape: Any, normalized: Any) -> None:
    torch = _torch()
    compare(torch, lambda x: F.rms_norm(x, normalized),
            lambda x: torch.nn.functional.rms_norm(x, normalized), [randn(*shape)],
            second_order=True)
    compare(torch, lambda x, w: F.rms_norm(x, list(normalized), w, eps=1e-2),
            lambda x, w: torch.nn.functional.rms_norm(x, list(normalized), w, eps=1e-2),
            [randn(*shape), randn(*normalized)], second_order=True)
    for dtype in ("float32", "float16"):  # eps defaults to the compute dtype's epsilon
        x = randn(*shape) * 1e-4
        ours = F.rms_norm(autodiff.tensor(x, dtype=getattr(autodiff, dtype)), normalized)
        theirs = torch.nn.functional.rms_norm(torch.tensor(x, dtype=getattr(torch, dtype)),
                                              normalized)
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=1e-3)


RMS_NORM_ERRORS: dict[str, Any] = {
    "int shape": lambda F, t: F.rms_norm(t.ones(3, 4), 4),
    "shape": lambda F, t: F.rms_norm(t.ones(3, 4), (5,)),
    "shape 2-D": lambda F, t: F.rms_norm(t.ones(2, 3, 4), (3, 5)),
    "too long": lambda F, t: F.rms_norm(t.ones(3, 4), (3, 4, 5)),
    "empty": lambda F, t: F.rms_norm(t.ones(3, 4), ()),
    "weight": lambda F, t: F.rms_norm(t.ones(3, 4), (4,), t.ones(3)),
    "integers": lambda F, t: F.rms_norm(t.ones(3, 4, dtype=t.int64), (4,)),
}


@pytest.mark.parametrize("case", sorted(RMS_NORM_ERRORS))
def test_rms_norm_errors_match_torch(case: str) -> None:
    torch = _torch()
    call = RMS_NORM_ERRORS[case]
    same_error(lambda: call(F, autodiff), lambda: call(torch.nn.functional, torch))


def test_rms_norm_module(device: str) -> None:
    layer = nn.RMSNorm([2, 3], eps=1e-6).to(device)
    assert layer.weight.tolist() == [[1.0] * 3] * 2
    x = autodiff.tensor(randn(4, 2, 3), device=device)
    data = x.cpu().numpy()
    expected = data / np.sqrt((data ** 2).mean((1, 2), keepdims=True) + 1e-6)
    np.testing.assert_allclose(layer(x).detach().cpu().numpy(), expected, rtol=1e-5)
    assert nn.RMSNorm(3, elementwise_affine=False).weight is None


# ----------------------------------------------------------------------------- embedding_bag
BAG_INDICES = [1, 2, 4, 4, 3, 0]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode: str) -> None:
    torch = _torch()
    weight = randn(5, 3)
    for padding, last, by_freq in itertools.product([None, 4, -1, 0], [False, True],
                                                    [False, True]):
        if mode == "max" and by_freq:
            continue
        offsets = [0, 2, 2, 5, 6] if last else [0, 2, 2, 5]

        def run(functional: Any, library: Any, p: Any = padding, o: Any = offsets,
                i: bool = last, s: bool = by_freq) -> Any:
            return lambda w: functional.embedding_bag(
                library.tensor(BAG_INDICES), w, library.tensor(o), mode=mode, padding_idx=p,
                include_last_offset=i, scale_grad_by_freq=s)

        compare(torch, run(F, autodiff), run(torch.nn.functional, torch), [weight])
    compare(torch, lambda w: F.embedding_bag(autodiff.tensor([[1, 2, 0], [4, 4, 3]]), w,
                                             mode=mode),
            lambda w: torch.nn.functional.embedding_bag(torch.tensor([[1, 2, 0], [4, 4, 3]]), w,
                                                        mode=mode), [weight])


def test_embedding_bag_per_sample_weights_and_ties_match_torch() -> None:
    torch = _torch()
    weight, per_sample = randn(5, 3), RNG.random(6)
    for padding, offsets, last in [(None, [0, 2, 2, 5], False), (4, [0, 2, 2, 5], False),
                                   (None, [0, 2, 4], True)]:
        def run(functional: Any, library: Any, p: Any = padding, o: Any = offsets,
                i: bool = last) -> Any:
            return lambda w, s: functional.embedding_bag(
                library.tensor(BAG_INDICES), w, library.tensor(o), mode="sum",
                per_sample_weights=s, padding_idx=p, include_last_offset=i)

        compare(torch, run(F, autodiff), run(torch.nn.functional, torch), [weight, per_sample])
    ties = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # the first maximum takes the grad
    compare(torch, lambda w: F.embedding_bag(autodiff.tensor([0, 1, 2]), w, autodiff.tensor([0]),
                                             mode="max"),
            lambda w: torch.nn.functional.embedding_bag(torch.tensor([0, 1, 2]), w,
                                                        torch.tensor([0]), mode="max"), [ties])
    empty = autodiff.tensor([], dtype=autodiff.int64)
    out = F.embedding_bag(empty, autodiff.tensor(weight), autodiff.tensor([0, 0]))
    assert out.tolist() == [[0.0] * 3] * 2


EMBEDDING_BAG_ERRORS: dict[str, Any] = {
    "first offset": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w, t.tensor([1, 2])),
    "last offset": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w, t.tensor([0, 7])),
    "index too big": lambda F, t, w: F.embedding_bag(t.tensor([1, 9]), w, t.tensor([0])),
    "negative index": lambda F, t, w: F.embedding_bag(t.tensor([1, -1]), w, t.tensor([0])),
    "float indices": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES).float(), w,
                                                     t.tensor([0])),
    "float offsets": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w,
                                                     t.tensor([0.0, 2.0])),
    "integer weight": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w.long(),
                                                      t.tensor([0])),
    "max with weights": lambda F, t, w: F.embedding_bag(
        t.tensor(BAG_INDICES), w, t.tensor([0]), mode="max", per_sample_weights=t.ones(6)),
    "mean with weights": lambda F, t, w: F.embedding_bag(
        t.tensor(BAG_INDICES), w, t.tensor([0]), per_sample_weights=t.ones(6)),
    "mode": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w, t.tensor([0]), mode="x"),
    "no offsets": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w),
    "1-D weight": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w[0], t.tensor([0])),
    "weights shape": lambda F, t, w: F.embedding_bag(
        t.tensor(BAG_INDICES), w, t.tensor([0]), mode="sum", per_sample_weights=t.ones(3)),
    "padding": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w, t.tensor([0]),
                                               padding_idx=5),
    "negative padding": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w,
                                                        t.tensor([0]), padding_idx=-6),
    "2-D offsets": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w,
                                                   t.tensor([[0, 2]])),
    "3-D input": lambda F, t, w: F.embedding_bag(t.tensor([[[1, 2]]]), w),
    "max by frequency": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w, t.tensor([0]),
                                                        mode="max", scale_grad_by_freq=True),
    "max sparse": lambda F, t, w: F.embedding_bag(t.tensor(BAG_INDICES), w, t.tensor([0]),
                                                  mode="max", sparse=True),
}


@pytest.mark.parametrize("case", sorted(EMBEDDING_BAG_ERRORS))
def test_embedding_bag_errors_match_torch(case: str) -> None:
    torch = _torch()
    call = EMBEDDING_BAG_ERRORS[case]
    weight = randn(5, 3)
    same_error(lambda: call(F, autodiff, autodiff.tensor(weight)),
               lambda: call(torch.nn.functional, torch, torch.tensor(weight)))


def test_embedding_bag_2d_input_takes_no_offsets() -> None:
    with pytest.raises(ValueError, match=re.escape(
            "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
            "fixed length sequences. However, found offsets of type "
            "<class 'autodiff.tensor.Tensor'>")):
        F.embedding_bag(autodiff.tensor([[1, 2], [3, 4]]), autodiff.ones(5, 3),
                        autodiff.tensor([0]))


def test_embedding_bag_refuses_decreasing_offsets() -> None:
    """PyTorch returns unspecified values for them."""
    with pytest.raises(RuntimeError, match="offsets have to be non-decreasing"):
        F.embedding_bag(autodiff.tensor(BAG_INDICES), autodiff.ones(5, 3),
                        autodiff.tensor([0, 3, 2]))


def test_embedding_bag_module_and_state_dict_as_pytorch() -> None:
    torch = _torch()
    for build in (lambda n: n.EmbeddingBag(10, 3),
                  lambda n: n.EmbeddingBag(10, 3, max_norm=1.0, norm_type=1.0, mode="max",
                                           padding_idx=2, include_last_offset=True),
                  lambda n: n.EmbeddingBag(10, 3, scale_grad_by_freq=True, mode="sum",
                                           padding_idx=-1, sparse=True)):
        ours, theirs = build(nn), build(torch.nn)
        assert repr(ours) == repr(theirs)
        ours.load_state_dict({k: autodiff.tensor(v.numpy())
                              for k, v in theirs.state_dict().items()})
        indices, offsets = [1, 2, 4, 4, 3, 0, 9], [0, 2, 2, 5]
        last = theirs.include_last_offset
        used = [*offsets, 7] if last else offsets
        expected = theirs(torch.tensor(indices), torch.tensor(used))
        got = ours(autodiff.tensor(indices), autodiff.tensor(used))
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-6)


def test_embedding_bag_module_options(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.EmbeddingBag(6, 2, mode="sum", padding_idx=1).to(device)
    assert layer.weight[1].tolist() == [0.0, 0.0]
    out = layer(autodiff.tensor([[0, 1, 5], [2, 2, 1]], device=device))
    out.sum().backward()
    counts = [1, 0, 2, 0, 0, 1]  # the padding row gets nothing
    np.testing.assert_allclose(layer.weight.grad.cpu().numpy(),
                               np.repeat(np.array(counts, dtype=float)[:, None], 2, 1))
    pretrained = nn.EmbeddingBag.from_pretrained(autodiff.eye(3, device=device), mode="max")
    assert not pretrained.weight.requires_grad
    assert pretrained(autodiff.tensor([[0, 2]], device=device)).tolist() == [[1.0, 0.0, 1.0]]
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        nn.EmbeddingBag(3, 2, padding_idx=3)


# ----------------------------------------------------------------------------- embedding
def test_embedding_sparse_gradient_holds_the_dense_gradient(device: str) -> None:
    weight = autodiff.tensor(randn(5, 3), device=device, requires_grad=True)
    indices = autodiff.tensor([[0, 2, 2], [4, 1, 0]], device=device)
    F.embedding(indices, weight, sparse=True).sum().backward()
    assert weight.grad.layout is autodiff.sparse_coo
    sparse_grad = weight.grad.to_dense().cpu().numpy()
    weight.grad = None
    F.embedding(indices, weight).sum().backward()
    np.testing.assert_array_equal(sparse_grad, weight.grad.cpu().numpy())
    layer = nn.Embedding(5, 3, sparse=True).to(device)
    layer(indices).sum().backward()
    assert layer.weight.grad.shape == (5, 3) and repr(layer) == "Embedding(5, 3, sparse=True)"


def test_embedding_max_norm_module_renormalises_the_looked_up_rows_as_pytorch() -> None:
    torch = _torch()
    weight = randn(6, 3) * 3
    ours = nn.Embedding(6, 3, max_norm=1.5, norm_type=1.0)
    theirs = torch.nn.Embedding(6, 3, max_norm=1.5, norm_type=1.0)
    ours.load_state_dict({"weight": autodiff.tensor(weight)})
    theirs.load_state_dict({"weight": torch.tensor(weight)})
    indices = [[0, 2, 2], [5, 1, 0]]
    versions = ours.weight._version, theirs.weight._version
    out, expected = ours(autodiff.tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-6)  # rows 0, 1, 2, 5 changed in place; 3, 4 as they were
    assert ours.weight._version - versions[0] == theirs.weight._version - versions[1] == 1
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


# ----------------------------------------------------------------------------- small modules
def test_unflatten_as_pytorch() -> None:
    torch = _torch()
    for build in (lambda n, t: n.Unflatten(1, (2, 5)), lambda n, t: n.Unflatten(-1, [2, -1]),
                  lambda n, t: n.Unflatten(1, t.Size([5, 2]))):
        ours, theirs = build(nn, autodiff), build(torch.nn, torch)
        assert repr(ours) == repr(theirs)
        x = randn(3, 10)
        compare(torch, ours, theirs, [x])
    for call in (lambda n, t: n.Unflatten(1, 5), lambda n, t: n.Unflatten(1, (2, 2.5))):
        same_error(lambda c=call: c(nn, autodiff), lambda c=call: c(torch.nn, torch))


def test_identity_and_distance_modules_in_a_sequential(device: str) -> None:
    model = nn.Sequential(nn.Identity(3, unused=True), nn.Unflatten(1, (2, 3)))
    assert model(autodiff.ones(4, 6, device=device)).shape == (4, 2, 3)
    x, y = autodiff.ones(2, 3, device=device), autodiff.zeros(2, 3, device=device)
    np.testing.assert_allclose(nn.PairwiseDistance(p=1.0, eps=0.0)(x, y).cpu().numpy(), [3, 3])
    np.testing.assert_allclose(nn.CosineSimilarity(dim=1)(x, x).cpu().numpy(), [1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(nn.PairwiseDistance()) == "PairwiseDistance()"
