"""torch.embedding_bag: ATen's signature (weight first, an integer mode) and its four results:
the bags (nn.functional.embedding_bag's, with its gradient), offset2bag, bag_size and
max_indices as ATen's CPU kernel fills them, and its argument errors; compared with PyTorch's
where installed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff


def _cases(t: Any) -> dict[str, Callable[[], Any]]:
    w = t.arange(12.0).reshape(4, 3)
    i = t.tensor([0, 2, 1, 3, 1])
    o = t.tensor([0, 2, 2])
    return {
        "sum": lambda: t.embedding_bag(w, i, o, False, 0),
        "sum double": lambda: t.embedding_bag(w.double(), i, o, False, 0),
        "sum padding -1": lambda: t.embedding_bag(w, i, o, False, 0, False, None, False, -1),
        "mean padding": lambda: t.embedding_bag(w, i, o, False, 1, False, None, False, 1),
        "max padding": lambda: t.embedding_bag(w, i, o, False, 2, False, None, False, 1),
        "max last offset": lambda: t.embedding_bag(w, i, t.tensor([0, 2, 5]), False, 2, False,
                                                   None, True),
        "mean int32": lambda: t.embedding_bag(w, i.int(), o.int(), False, 1),
        "max scale_grad_by_freq": lambda: t.embedding_bag(w, i, o, True, 2),
        "per_sample_weights": lambda: t.embedding_bag(w, i, o, False, 0, False, t.arange(5.0)),
        "mode str": lambda: t.embedding_bag(w, i, o, False, "sum"),
        "mode 3": lambda: t.embedding_bag(w, i, o, False, 3),
        "offsets None": lambda: t.embedding_bag(w, i, None),
        "per_sample_weights with mean": lambda: t.embedding_bag(w, i, o, False, 1, False,
                                                               t.ones(5)),
        "weight list": lambda: t.embedding_bag([1.0], i, o),
    }


EXPECTED: dict[str, Any] = {
    "sum": ([[6, 8, 10], [0, 0, 0], [15, 18, 21]], [], [0, 0, 0], [0, 0, 0]),
    "sum double": ([[6, 8, 10], [0, 0, 0], [15, 18, 21]], [0, 0, 2, 2, 2], [0, 0, 0],
                   [0, 0, 0]),
    "mean padding": ([[3, 4, 5], [0, 0, 0], [9, 10, 11]], [0, 0, 2, 2, 2], [2, 0, 1],
                     [2, 0, 1]),
    "max padding": ([[6, 7, 8], [0, 0, 0], [9, 10, 11]], [0, 0, 2, 2, 2], [2, 0, 1],
                    [[2, 2, 2], [0, 0, 0], [3, 3, 3]]),
    "mode str": ("TypeError", "embedding_bag(): argument 'mode' (position 5) must be int, not "
                              "str"),
    "mode 3": ("RuntimeError", "`mode` must be sum, mean, or max."),
    "offsets None": ("TypeError", "embedding_bag(): argument 'offsets' (position 3) must be "
                                  "Tensor, not NoneType"),
    "per_sample_weights with mean": ("RuntimeError", "embedding_bag: per_sample_weights only "
                                                     "supported with mode='sum'"),
}


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        results = call()
    except Exception as error:
        return type(error).__name__, str(error)
    assert len(results) == 4
    return tuple((np.array(r.tolist()), str(r.dtype).split(".")[-1],
                  r.grad_fn.name() if r.grad_fn is not None else None) for r in results)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_results(name: str) -> None:
    got = _outcome(_cases(autodiff)[name])
    expected = EXPECTED[name]
    if isinstance(expected[0], str):
        assert got == expected
        return
    for (values, _, _), want in zip(got, expected):
        np.testing.assert_allclose(values, np.array(want, dtype=float).reshape(values.shape))


@pytest.mark.parametrize("name", sorted(_cases(autodiff)))
def test_matches_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _outcome(_cases(autodiff)[name]), _outcome(_cases(torch)[name])
    if isinstance(theirs[0], str):
        assert ours == theirs
        return
    for (values, dtype, node), (want, want_dtype, want_node) in zip(ours, theirs):
        assert (dtype, values.shape, node) == (want_dtype, want.shape, want_node)
        np.testing.assert_allclose(values, want, rtol=1e-6)


def test_gradient_is_the_bags(device: str) -> None:
    weight = autodiff.arange(12.0, device=device).reshape(4, 3).requires_grad_()
    indices = autodiff.tensor([0, 2, 1, 3, 1], device=device)
    offsets = autodiff.tensor([0, 2, 2], device=device)
    output, offset2bag, bag_size, max_indices = autodiff.embedding_bag(
        weight, indices, offsets, False, 1)
    assert output.grad_fn.name() == "EmbeddingBagBackward0"
    assert not (offset2bag.requires_grad or bag_size.requires_grad or max_indices.requires_grad)
    output.sum().backward()
    np.testing.assert_allclose(weight.grad.tolist(),
                               [[0.5] * 3, [2 / 3] * 3, [0.5] * 3, [1 / 3] * 3], rtol=1e-6)
    assert offset2bag.device == weight.device
