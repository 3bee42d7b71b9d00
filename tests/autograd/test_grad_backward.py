"""autograd.grad and autograd.backward: values against analytic derivatives, which `.grad`
fields they touch, non-leaf and unused inputs, pruning, errors (against PyTorch)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import autograd
from tests.autograd._compare import error_of, same_as_torch
from tests.helpers import leaf


def _close(tensor: autodiff.Tensor, expected: list[float], tol: float = 1e-12) -> None:
    actual = [float(v) for v in tensor.reshape(-1).tolist()]
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert math.isclose(a, e, rel_tol=tol, abs_tol=tol), (actual, expected)


def test_grad_returns_gradients_and_touches_no_grad(device: str) -> None:
    x = leaf([0.5, -1.0, 2.0], device)
    w = leaf([1.5, 0.25, -0.75], device)
    y = (x * w).sin().sum()
    gx, gw = autograd.grad(y, [x, w])
    xs, ws = [0.5, -1.0, 2.0], [1.5, 0.25, -0.75]
    _close(gx, [math.cos(a * b) * b for a, b in zip(xs, ws)])
    _close(gw, [math.cos(a * b) * a for a, b in zip(xs, ws)])
    assert x.grad is None and w.grad is None
    assert gx.grad_fn is None and not gx.requires_grad  # no create_graph: plain values


def test_grad_of_one_input_leaves_the_other_alone(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    w = leaf([3.0, 4.0], device)
    w.grad = autodiff.tensor([10.0, 10.0], dtype=autodiff.float64, device=device)
    (gx,) = autograd.grad((x * w).sum(), x)
    _close(gx, [3.0, 4.0])
    _close(w.grad, [10.0, 10.0])
    assert x.grad is None


def test_grad_with_respect_to_nonleaf(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    h = x * 2
    y = (h ** 3).sum()
    (gh,) = autograd.grad(y, h, retain_graph=True)
    _close(gh, [3 * 2.0 ** 2, 3 * 4.0 ** 2])  # 3 h^2
    gh2, gx = autograd.grad(y, [h, x])
    _close(gh2, [12.0, 48.0])
    _close(gx, [24.0, 96.0])  # 3 h^2 * 2
    assert x.grad is None


def test_grad_of_output_with_respect_to_itself(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    (g,) = autograd.grad(y, y)
    _close(g, [1.0])


def test_same_input_twice(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    g1, g2 = autograd.grad((x * x).sum(), [x, x])
    _close(g1, [2.0, 4.0])
    _close(g2, [2.0, 4.0])


def test_unused_input(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    z = leaf([5.0], device)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"^The differentiated Tensor at index 1 appears to "
                                           r"not have been used in the graph\. Set allow_unused"):
        autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    _close(gx, [2.0, 4.0])
    assert gz is None
    gx, gz = autograd.grad(y, [x, z], materialize_grads=True, retain_graph=True)
    _close(gz, [0.0])
    assert gz.device == z.device and gz.dtype == z.dtype
    with pytest.raises(ValueError, match="allow_unused to be True"):
        autograd.grad(y, [x, z], allow_unused=False, materialize_grads=True)


def test_grad_with_grad_outputs_and_several_outputs(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    a, b = x * 3, x * x
    v = autodiff.tensor([1.0, -1.0], dtype=autodiff.float64, device=device)
    u = autodiff.tensor([0.5, 2.0], dtype=autodiff.float64, device=device)
    (g,) = autograd.grad([a, b], x, [v, u])
    _close(g, [3 * 1.0 + 2 * 1.0 * 0.5, 3 * -1.0 + 2 * 2.0 * 2.0])


def test_create_graph_gives_differentiable_gradients(device: str) -> None:
    x = leaf([0.3, 1.1], device)
    y = (x ** 4).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (h,) = autograd.grad(g.sum(), x)
    _close(h, [12 * 0.3 ** 2, 12 * 1.1 ** 2])


def test_backward_inputs_accumulate_only_there(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    w = leaf([3.0, 4.0], device)
    y = (x * w).sum()
    y.backward(inputs=[w], retain_graph=True)
    _close(w.grad, [1.0, 2.0])
    assert x.grad is None
    autograd.backward(y, inputs=w)
    _close(w.grad, [2.0, 4.0])
    assert x.grad is None


def test_backward_accumulates_and_frees_the_graph(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    _close(x.grad, [2 * (math.exp(v) + v * math.exp(v)) for v in (1.0, 2.0)])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_a_0d_leaf_reached_twice_accumulates_over_passes(device: str) -> None:
    # The two paths' sum of a 0-d gradient may be an immutable scalar array type: `.grad`
    # must still be an array later passes add into.
    x = autodiff.tensor(1.5, dtype=autodiff.float64, device=device, requires_grad=True)
    y = x * x + x.exp()
    once = 2 * 1.5 + math.exp(1.5)
    for passes in (1, 2, 3):
        y.backward(retain_graph=True)
        _close(x.grad, [passes * once])


def test_backward_several_roots_with_grad_tensors(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    a, b = x * 2, (x * x).sum()
    autograd.backward([a, b], [autodiff.tensor([1.0, 3.0], dtype=autodiff.float64,
                                               device=device), None])
    _close(x.grad, [2 * 1.0 + 2 * 1.0, 2 * 3.0 + 2 * 2.0])


def test_failed_backward_leaves_grad_as_it_was(device: str) -> None:
    x = leaf([1.0, 2.0], device)
    w = leaf([3.0, 4.0], device)
    w.grad = autodiff.tensor([1.0, 1.0], dtype=autodiff.float64, device=device)
    y = (x * w).sum() + (w * 2).sum()

    def fail(grad: autodiff.Tensor) -> None:
        raise ValueError("stop")

    (x * 1).register_hook(fail)  # unrelated
    h = x * w
    h.register_hook(fail)
    y = y + h.sum()
    with pytest.raises(ValueError, match="stop"):
        y.backward()
    _close(w.grad, [1.0, 1.0])
    assert x.grad is None


def test_pruning_skips_branches_that_lead_to_no_input(device: str) -> None:
    calls = []

    class Record(autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: autodiff.Tensor) -> autodiff.Tensor:
            return a * 1

        @staticmethod
        def backward(ctx: Any, grad: autodiff.Tensor) -> autodiff.Tensor:
            calls.append("called")
            return grad

    x = leaf([1.0, 2.0], device)
    w = leaf([3.0, 4.0], device)
    y = (x * 2).sum() + Record.apply(w).sum()
    (g,) = autograd.grad(y, x)
    _close(g, [2.0, 2.0])
    assert calls == []


def test_pruned_backward_asks_only_for_needed_inputs() -> None:
    """Post-hooks see None for the inputs nobody asked for, as in PyTorch."""

    def scenario(lib: Any) -> Any:
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        h.grad_fn.register_hook(lambda grad_inputs, grad_outputs: log.append(list(grad_inputs)))
        y = h.sum()
        log.append(lib.autograd.grad(y, x, retain_graph=True))
        log.append(lib.autograd.grad(y, [w, x], retain_graph=True))
        y.backward(inputs=[w])
        log.append((x.grad, w.grad))
        return log

    same_as_torch(scenario)


def test_backward_inputs_non_leaf_retains_its_grad() -> None:
    def scenario(lib: Any) -> Any:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = (h * h).sum()
        y.backward(inputs=[h], retain_graph=True)
        first = (h.grad, h.retains_grad, x.grad)
        y.backward(inputs=[h])
        return first, h.grad

    same_as_torch(scenario)


def test_grad_argument_errors_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        plain = lib.tensor([1.0, 2.0])
        y = x * 2
        return [
            error_of(lambda: lib.autograd.grad(y, x)),  # non-scalar, no grad_outputs
            error_of(lambda: lib.autograd.grad(y, plain, lib.ones(2))),
            error_of(lambda: lib.autograd.grad(y, x, lib.ones(3))),
            error_of(lambda: lib.autograd.grad(plain * 2, x, lib.ones(2))),
            error_of(lambda: y.backward(lib.ones(2), inputs=[])),
            error_of(lambda: lib.autograd.backward(y, lib.ones(2), inputs=[plain])),
            error_of(lambda: (plain * 2).sum().backward()),
        ]

    same_as_torch(scenario)


def test_backward_with_create_graph_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import autodiff.autograd.gradients as package

    monkeypatch.setattr(package, "_warned", [])
    x = autodiff.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="create a reference cycle"):
        (x * x).sum().backward(create_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * x).sum().backward(create_graph=True)  # PyTorch's TORCH_WARN_ONCE: not again


def test_grad_options_pytorch_deprecates_or_refuses() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        (grad,) = autograd.grad((x * x).sum(), [x], only_inputs=False)
    assert grad.tolist() == [2.0, 4.0]


def test_grad_is_grads_batched() -> None:
    """A batch of grad_outputs along dim 0: one backward pass under vmap, as PyTorch's."""
    x = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
    unused = autodiff.tensor([1.0], requires_grad=True)
    y = x.sin() * x.sum()
    vectors = autodiff.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 1.0]])
    (batched, none) = autograd.grad(y, [x, unused], vectors, is_grads_batched=True,
                                    allow_unused=True)
    assert none is None
    for row, vector in zip(batched.tolist(), vectors):
        (expected,) = autograd.grad(y, [x], vector, retain_graph=True)
        np.testing.assert_allclose(row, expected.tolist(), rtol=1e-6)
    torch = pytest.importorskip("torch")
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (theirs,) = torch.autograd.grad(tx.sin() * tx.sum(), [tx], torch.tensor(vectors.tolist()),
                                    is_grads_batched=True)
    np.testing.assert_allclose(batched.tolist(), theirs.tolist(), rtol=1e-6)
