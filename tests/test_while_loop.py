"""torch.while_loop, eager: values, int and nested carries, PyTorch's argument checks, the
output node and gradients (which, unlike PyTorch 2.13's, are right to second order and for
tensors the functions close over: checked against the unrolled loop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff


def _count_to(limit: int) -> Any:
    return lambda i, x: i < limit


def _double(i: Any, x: Any) -> tuple[Any, Any]:
    return i + 1, x * 2


def test_runs_the_body_while_the_condition_holds(device: str) -> None:
    start = (autodiff.tensor(0, device=device), autodiff.ones(2, device=device))
    i, x = autodiff.while_loop(_count_to(3), _double, start)
    assert i.item() == 3 and x.tolist() == [8.0, 8.0] and x.device == start[1].device
    result = autodiff.while_loop(_count_to(3), _double, list(start))
    assert type(result) is tuple and result[1].tolist() == [8.0, 8.0]


def test_no_iteration_returns_copies_of_the_carried_inputs() -> None:
    start = (autodiff.tensor(0), autodiff.ones(2))
    i, x = autodiff.while_loop(_count_to(0), _double, start)
    assert i.item() == 0 and x.tolist() == [1.0, 1.0]
    assert x is not start[1] and x.data_ptr() != start[1].data_ptr()


def test_int_and_nested_carries() -> None:
    count, x = autodiff.while_loop(lambda n, x: 2 * n < x.shape[0] + 4,
                                   lambda n, x: (n + 1, x + n), (0, autodiff.zeros(2)))
    assert count == 3 and x.tolist() == [3.0, 3.0]
    (state,) = autodiff.while_loop(lambda s: s["i"] < 3, lambda s: ({"i": s["i"] + 1},),
                                   ({"i": autodiff.tensor(0)},))
    assert list(state) == ["i"] and state["i"].item() == 3
    # a Python bool condition is taken too
    assert autodiff.while_loop(lambda n: n < 2, lambda n: (n + 1,), (0,)) == (2,)


ERRORS = [
    ("not_callable", lambda L: L.while_loop(1, lambda i: (i,), (L.tensor(0),)),
     RuntimeError, "Expect cond_fn and body_fn to be callable."),
    ("carried_leaf", lambda L: L.while_loop(_count_to(3), _double, (L.tensor(0), "a")),
     AssertionError, "[tensor(0), 'a'] can only be of (<class 'torch.Tensor'>, <class 'int'>, "
                     "<class 'torch.SymInt'>) but got (<class 'torch.Tensor'>, <class 'str'>)"),
    ("shape", lambda L: L.while_loop(_count_to(3), lambda i, x: (i + 1, L.cat([x, x])),
                                     (L.tensor(0), L.ones(2))),
     RuntimeError, "Expected body_fn_output and carried_inputs to have same metadata but found:\n"
                   "pair[1] differ in 'shape: torch.Size([4]) vs torch.Size([2])', where lhs is "
                   "FakeTensor(..., size=(4,)) and rhs is FakeTensor(..., size=(2,))"),
    ("dtype", lambda L: L.while_loop(_count_to(3), lambda i, x: (i + 1, x.double()),
                                     (L.tensor(0), L.ones(2))),
     RuntimeError, "Expected body_fn_output and carried_inputs to have same metadata but found:\n"
                   "pair[1] differ in 'dtype: torch.float64 vs torch.float32', where lhs is "
                   "FakeTensor(..., size=(2,), dtype=torch.float64) and rhs is "
                   "FakeTensor(..., size=(2,))"),
]


@pytest.mark.parametrize(("call", "kind", "message"), [case[1:] for case in ERRORS],
                         ids=[case[0] for case in ERRORS])
def test_argument_errors(call: Any, kind: type, message: str) -> None:
    with pytest.raises(kind) as error:
        call(autodiff)
    assert str(error.value) == message


@pytest.mark.parametrize(("call", "kind", "message"), [case[1:] for case in ERRORS],
                         ids=[case[0] for case in ERRORS])
def test_argument_errors_as_pytorch(call: Any, kind: type, message: str) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(kind) as error:
        call(torch)
    # (PyTorch's tracing adds where in its own code the loop was traced)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("condition", [
    lambda i: (i < 3).float(), lambda i: (i < 3).reshape(1), lambda i: 1,
])
def test_the_condition_must_be_a_boolean_scalar(condition: Any) -> None:
    # PyTorch's eager kernel's words (its tracing, which runs first, says it differently)
    with pytest.raises(RuntimeError, match=r"^cond_fn must return a boolean scalar tensor or a "
                                           r"boolean but got "):
        autodiff.while_loop(condition, lambda i: (i + 1,), (autodiff.tensor(0),))


def test_body_must_return_as_many_values_in_a_tuple() -> None:
    start = (autodiff.tensor(0),)
    with pytest.raises(AssertionError, match=r"^body_fn should return the same number of "
                                             r"elements as carried_inputs, got 2 vs 1$"):
        autodiff.while_loop(lambda i: i < 3, lambda i: (i + 1, i), start)
    with pytest.raises(AssertionError, match=r"^body_fn should return a tuple but got "
                                             r"<class 'torch.Tensor'>$"):
        autodiff.while_loop(lambda i: i < 3, lambda i: i + 1, start)


def _unrolled(x: Any, times: int) -> Any:
    for _ in range(times):
        x = x * x.sin()
    return x


def test_gradients_to_second_order_match_the_unrolled_loop() -> None:
    x = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64, requires_grad=True)
    i, y = autodiff.while_loop(_count_to(3), lambda i, x: (i + 1, x * x.sin()),
                               (autodiff.tensor(0), x))
    assert y.grad_fn.name() == "WhileLoopAutogradOpBackward" and i.grad_fn is None
    (grad,) = autodiff.autograd.grad(y.sum(), x, create_graph=True)
    (second,) = autodiff.autograd.grad(grad.sum(), x)
    twin = x.detach().requires_grad_()
    (expected,) = autodiff.autograd.grad(_unrolled(twin, 3).sum(), twin, create_graph=True)
    (expected_second,) = autodiff.autograd.grad(expected.sum(), twin)
    np.testing.assert_allclose(grad.tolist(), expected.tolist(), rtol=1e-12)
    np.testing.assert_allclose(second.tolist(), expected_second.tolist(), rtol=1e-12)
    assert autodiff.autograd.gradcheck(
        lambda x: autodiff.while_loop(_count_to(2), lambda i, x: (i + 1, x * x.sin()),
                                      (autodiff.tensor(0), x))[1], (x,))
    assert autodiff.autograd.gradgradcheck(
        lambda x: autodiff.while_loop(_count_to(2), lambda i, x: (i + 1, x * x.sin()),
                                      (autodiff.tensor(0), x))[1], (x,))


def test_a_tensor_the_body_closes_over_gets_its_gradient() -> None:
    # PyTorch 2.13 gives 8 here (one iteration's share); the unrolled loop's 24 is right.
    w = autodiff.tensor(2.0, requires_grad=True)
    _, y = autodiff.while_loop(_count_to(3), lambda i, x: (i + 1, x * w),
                               (autodiff.tensor(0), autodiff.ones(2)))
    y.sum().backward()
    assert w.grad.item() == 24.0


def test_values_node_and_first_derivatives_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    results = []
    for library in (autodiff, torch):
        x = library.tensor([1.0, 2.0, -0.5], dtype=library.float64, requires_grad=True)
        i, y = library.while_loop(_count_to(3), lambda i, x: (i + 1, x * x.sin() + 1),
                                  (library.tensor(0), x))
        (grad,) = library.autograd.grad((y * y).sum(), x)
        results.append((i.item(), i.grad_fn, y.grad_fn.name(), y.tolist(), grad.tolist()))
    assert results[0][:3] == results[1][:3]
    np.testing.assert_allclose(results[0][3:], results[1][3:], rtol=1e-12)
