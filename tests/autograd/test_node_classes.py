"""A node's class is named as PyTorch's node class, so that graph walkers that read
`type(grad_fn).__name__` (torchviz's make_dot) see PyTorch's names: `MulBackward0`,
`AccumulateGrad`, and `<Name>Backward` for a custom Function (its `_backward_cls`)."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff

try:
    import torch
except ImportError:
    torch = None


def _libraries() -> list[Any]:
    return [autodiff] if torch is None else [autodiff, torch]


def _class_names(root: Any) -> list[str]:
    """Every node's class name, depth first, as torchviz walks the graph."""
    names, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node).__name__)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return names


def _square(lib: Any) -> Any:
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    return Square


@pytest.mark.parametrize("lib", _libraries(), ids=lambda lib: lib.__name__)
def test_graph_walk_sees_pytorchs_class_names(lib: Any) -> None:
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, 0.25, 2.0], requires_grad=True)
    square = _square(lib)
    loss = (square.apply(x * w).relu() + x[1:].sum()).mean()
    assert _class_names(loss.grad_fn) == [
        "MeanBackward0", "AddBackward0", "SumBackward0", "SliceBackward0", "AccumulateGrad",
        "ReluBackward0", "SquareBackward", "MulBackward0", "AccumulateGrad"]


def test_a_nodes_class_name_is_its_name(device: str) -> None:
    x = autodiff.ones(2, 3, device=device, requires_grad=True)
    for out in (x * 2, x.sum(1), x.t(), x[0], x.exp().log_softmax(1)):
        assert type(out.grad_fn).__name__ == out.grad_fn.name()
        assert type(out.grad_fn).__qualname__ == out.grad_fn.name()
    (accumulate, _), = (x * 2).grad_fn.next_functions[:1]
    assert type(accumulate).__name__ == "AccumulateGrad"
    assert accumulate.name() == "torch::autograd::AccumulateGrad"


def test_a_custom_functions_node_class(device: str) -> None:
    square = _square(autodiff)
    x = autodiff.ones(2, device=device, requires_grad=True)
    node = square.apply(x).grad_fn
    assert type(node) is square._backward_cls
    assert type(node).__name__ == type(node).__qualname__ == node.name() == "SquareBackward"
    assert square.__name__ == "Square"
    assert square._backward_cls._backward_cls is square._backward_cls
    assert isinstance(node, autodiff.autograd.graph.Node)
    (grad,) = autodiff.autograd.grad(square.apply(x).sum(), x)
    assert grad.tolist() == [2.0, 2.0]

    class Cube(square):  # a subclass gets a node class of its own
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x * x * x

    assert type(Cube.apply(x).grad_fn).__name__ == "CubeBackward"


@pytest.mark.parametrize("lib", _libraries(), ids=lambda lib: lib.__name__)
def test_the_view_error_names_the_function_class(lib: Any) -> None:
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return grad

    out = Identity.apply(lib.ones(2, requires_grad=True).clone())
    with pytest.raises(RuntimeError, match=r"^Output 0 of Identity is a view"):
        out.mul_(2)
