"""`F.linear` on a vector input or with a vector weight against PyTorch itself (skipped when
torch is not installed): the whole graph (node names and `next_functions`, down to the
leaves), values, gradients, and PyTorch's errors with the tensors left untouched."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")


def _graph(node: Any) -> str:
    """The graph below `node` as nested node names (a leaf's AccumulateGrad as `Acc`)."""
    if node is None:
        return "None"
    name = node.name().replace("torch::autograd::", "")
    if name == "AccumulateGrad":
        return "Acc"
    return name + "(" + ", ".join(_graph(next_node) for next_node, _ in node.next_functions) + ")"


# (input shape, weight shape, bias shape or None, the input strided: every other element)
SHAPES = [
    ((3,), (4, 3), (4,), False),
    ((3,), (4, 3), None, False),
    ((3,), (4, 3), (1,), False),
    ((3,), (4, 3), (), False),
    ((3,), (4, 3), (4,), True),
    ((3,), (4, 3), None, True),
    ((3,), (3,), None, False),
    ((3,), (3,), (), False),
    ((2, 3), (3,), None, False),
]


def _inputs(library: Any, shapes: tuple[Any, ...]) -> tuple[Any, ...]:
    x_shape, w_shape, b_shape, strided = shapes
    rng = np.random.default_rng(0)

    def leaf(shape: tuple[int, ...]) -> Any:
        return library.tensor(rng.standard_normal(shape), requires_grad=True)

    x = leaf((*x_shape[:-1], 2 * x_shape[-1]) if strided else x_shape)
    w = leaf(w_shape)
    b = None if b_shape is None else leaf(b_shape)
    return x, (x[..., ::2] if strided else x), w, b


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_linear_graph_as_pytorch(shapes: tuple[Any, ...]) -> None:
    results = []
    for library in (torch, autodiff):
        x, given, w, b = _inputs(library, shapes)
        out = library.nn.functional.linear(given, w, b)
        out.backward(library.ones_like(out))
        grads = [leaf.grad.numpy() for leaf in (x, w, b) if leaf is not None]
        results.append((_graph(out.grad_fn), out.detach().numpy(), grads))
    (graph, value, grads), (expected_graph, expected_value, expected_grads) = results[1], results[0]
    assert graph == expected_graph
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    for grad, expected in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(grad, expected, rtol=1e-12)


def test_vector_linear_saves_as_pytorch() -> None:
    nodes = []
    for library in (torch, autodiff):
        _, x, w, b = _inputs(library, SHAPES[0])
        view = library.nn.functional.linear(x, w, b).grad_fn
        nodes.append(tuple(view._saved_self_sym_sizes))
    assert nodes[0] == nodes[1]


# (input shape, weight shape, bias shape): PyTorch refuses each.
BAD = [
    ((3,), (3,), (1,)),
    ((2, 3), (3,), (2,)),
    ((5, 2, 3), (3,), (1,)),
    ((3,), (4, 3), (2, 4)),
    ((3,), (4, 3), (5,)),
    ((4,), (4, 3), (4,)),
    ((4,), (4, 3), None),
]


@pytest.mark.parametrize("shapes", BAD, ids=str)
def test_linear_errors_as_pytorch(shapes: tuple[Any, ...]) -> None:
    errors = []
    for library in (torch, autodiff):
        x, _, w, b = _inputs(library, (*shapes, False))
        before = [t.detach().numpy().copy() for t in (x, w, b) if t is not None]
        with pytest.raises(Exception) as info:
            library.nn.functional.linear(x, w, b)
        errors.append((type(info.value), str(info.value)))
        after = [t.detach().numpy() for t in (x, w, b) if t is not None]
        for old, new in zip(before, after, strict=True):
            np.testing.assert_array_equal(old, new)
    assert errors[0] == errors[1]
