"""Embedding(sparse=True) and EmbeddingBag(sparse=True) against PyTorch: the weight's sparse COO
gradient (indices, values, shape, coalesced flag, layout), its accumulation over backward
passes, and optimizer steps with it (SGD, Adagrad, SparseAdam; the others' refusals)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")

WEIGHT = np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32)
BAG_SCALE = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def _embedding(lib: Any, indices: list[Any], **options: Any) -> Callable[[Any], Any]:
    def loss(weight: Any) -> Any:
        rows = lib.nn.functional.embedding(lib.tensor(indices), weight, sparse=True, **options)
        return (rows * rows).sum()
    return loss


def _bag(lib: Any, **options: Any) -> Callable[[Any], Any]:
    def loss(weight: Any) -> Any:
        bags = lib.nn.functional.embedding_bag(lib.tensor([1, 3, 1, 0, 5]), weight,
                                               lib.tensor([0, 2]), sparse=True, **options)
        return (bags * lib.tensor(BAG_SCALE)).sum()
    return loss


GRADIENTS = {
    "embedding": lambda lib: [_embedding(lib, [[1, 3], [1, 0]])],
    "embedding_padding": lambda lib: [_embedding(lib, [[1, 3], [1, 0]], padding_idx=1)],
    "embedding_int32": lambda lib: [
        lambda w: lib.nn.functional.embedding(lib.tensor([4, 2], dtype=lib.int32), w,
                                              sparse=True).sum()],
    "embedding_twice": lambda lib: [_embedding(lib, [1, 3]), _embedding(lib, [2, 3, 2])],
    "bag_mean": lambda lib: [_bag(lib)],
    "bag_sum_padding": lambda lib: [_bag(lib, mode="sum", padding_idx=3)],
    "bag_per_sample_weights": lambda lib: [
        _bag(lib, mode="sum", per_sample_weights=lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))],
    "bag_then_embedding": lambda lib: [_bag(lib), _embedding(lib, [5, 5])],
}


def _grad(lib: Any, losses: list[Any]) -> Any:
    weight = lib.tensor(WEIGHT, requires_grad=True)
    for loss in losses:
        loss(weight).backward()
    return weight.grad


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", sorted(GRADIENTS))
def test_sparse_weight_gradient_matches_torch(case: str) -> None:
    ours = _grad(autodiff, GRADIENTS[case](autodiff))
    theirs = _grad(torch, GRADIENTS[case](torch))
    assert ours.layout is autodiff.sparse_coo and theirs.layout is torch.sparse_coo
    assert ours.is_coalesced() == theirs.is_coalesced()
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours._indices().dtype is autodiff.int64
    np.testing.assert_allclose(ours.to_dense().numpy(), theirs.to_dense().numpy(), rtol=1e-6)
    if len(GRADIENTS[case](torch)) > 1:
        # Accumulated: the same sum, but autodiff's sparse add keeps both entry lists where
        # PyTorch's merges lists whose values are contiguous, a walk that sums only the
        # equal indices it meets in step.
        return
    assert ours._indices().tolist() == theirs._indices().tolist()
    np.testing.assert_allclose(ours._values().numpy(), theirs._values().numpy(), rtol=1e-6)


def test_embedding_bag_module_gives_a_sparse_gradient() -> None:
    layer = autodiff.nn.EmbeddingBag(6, 3, sparse=True)
    layer(autodiff.tensor([[1, 2], [2, 4]])).sum().backward()
    assert layer.weight.grad.is_sparse and layer.weight.grad._indices().tolist() == [[1, 2, 2, 4]]


def test_sparse_gradient_after_a_dense_one_is_added_into_it() -> None:
    results = []
    for lib in (autodiff, torch):
        weight = lib.tensor(WEIGHT, requires_grad=True)
        (weight * 2).sum().backward()
        _embedding(lib, [1, 1, 4])(weight).backward()
        results.append((weight.grad.layout is lib.strided, weight.grad.detach().numpy()))
    assert results[0][0] and results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_scale_grad_by_freq_with_sparse_gradients_is_refused(lib_name: str) -> None:
    lib = autodiff if lib_name == "autodiff" else torch
    weight = lib.tensor(WEIGHT, requires_grad=True)
    message = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
    for loss in (_embedding(lib, [1, 1], scale_grad_by_freq=True),
                 _bag(lib, scale_grad_by_freq=True)):
        with pytest.raises(RuntimeError, match=message):
            loss(weight).backward()
        assert weight.grad is None


# ----------------------------------------------------------------------------- optimizers
STEPS = ([1, 3, 1], [2, 3], [0, 5, 5, 1])

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, maximize=True)),
    ("SparseAdam", dict(lr=0.1)),
    ("SparseAdam", dict(lr=0.1, betas=(0.3, 0.8), maximize=True)),
]


def _steps(lib: Any, name: str, options: dict[str, Any]) -> tuple[Any, Any]:
    weight = lib.nn.Parameter(lib.tensor(WEIGHT))
    optimizer = getattr(lib.optim, name)([weight], **options)
    for indices in STEPS:
        optimizer.zero_grad()
        _embedding(lib, indices)(weight).backward()
        assert weight.grad.is_sparse
        optimizer.step()
    return weight, optimizer.state[weight]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("name", "options"), OPTIMIZERS, ids=repr)
def test_step_with_sparse_gradients_matches_torch(name: str, options: dict[str, Any]) -> None:
    ours, our_state = _steps(autodiff, name, options)
    theirs, their_state = _steps(torch, name, options)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    for key, value in their_state.items():
        if isinstance(value, torch.Tensor) and value.dim():
            mine = our_state[key]
            assert mine.is_sparse == value.is_sparse, key
            np.testing.assert_allclose(mine.to_dense().numpy() if mine.is_sparse
                                       else mine.numpy(), value.to_dense().numpy(),
                                       rtol=1e-5, atol=1e-6)


REFUSALS = [
    ("SGD", dict(lr=0.1, weight_decay=0.1),
     "add(sparse, dense) is not supported. Use add(dense, sparse) instead."),
    ("Adagrad", dict(weight_decay=0.1),
     "weight_decay option is not compatible with sparse gradients"),
    ("SGD", dict(lr=0.1, fused=True), "`_fused_sgd` does not support sparse gradients"),
    ("Adagrad", dict(fused=True), "`fused` does not support sparse grad or complex param"),
    ("Adam", dict(), "Adam does not support sparse gradients, please consider SparseAdam "
     "instead"),
    ("AdamW", dict(), "Adam does not support sparse gradients, please consider SparseAdam "
     "instead"),
    *((name, dict(), f"{name} does not support sparse gradients") for name in (
        "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor",
        "Muon")),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("name", "options", "message"), REFUSALS, ids=repr)
def test_refusal_of_sparse_gradients_matches_torch(name: str, options: dict[str, Any],
                                                   message: str) -> None:
    for lib in (autodiff, torch):
        weight = lib.nn.Parameter(lib.tensor(WEIGHT))
        optimizer = getattr(lib.optim, name)([weight], **options)
        _embedding(lib, [1, 3])(weight).backward()
        with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
            optimizer.step()
        if lib is autodiff:  # (PyTorch counts Adagrad's step before refusing)
            np.testing.assert_array_equal(weight.detach().numpy(), WEIGHT)
