"""gradcheck and gradgradcheck: they pass correct gradients, catch wrong first and second
derivatives, and report like PyTorch (same message, same Jacobians, same numbering)."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff
from autodiff import autograd
from tests.autograd._compare import error_of, same_as_torch


def _wrong_backward(lib: Any, factor: float) -> Any:
    """x * x whose backward is off by `factor` (the forward is right)."""

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return grad * x * factor

    return Square


def _first_order_only(lib: Any) -> Any:
    """Right gradient, but computed from a detached input: its own derivative is lost."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return grad * 3 * x.detach() ** 2

    return Cube


def test_passes_correct_gradients(device: str) -> None:
    x = autodiff.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    y = autodiff.tensor([0.5, 1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    assert autograd.gradcheck(lambda a, b: (a * b).sin() + a.exp() / b, (x, y))
    assert autograd.gradgradcheck(lambda a, b: (a * b).sin() + a.exp() / b, (x, y))
    assert autograd.gradcheck(lambda a: (a.sigmoid(), a.sum() * 2), (x,))
    assert autograd.gradcheck(lambda a: autodiff.matmul(a, a), x)


def test_catches_a_wrong_gradient_with_torchs_report() -> None:
    def scenario(lib: Any) -> Any:
        square = _wrong_backward(lib, 3.0)
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([1.0, 2.0], dtype=lib.float64)
        return [
            error_of(lambda: lib.autograd.gradcheck(square.apply, (x,))),
            lib.autograd.gradcheck(square.apply, (x,), raise_exception=False),
            # y needs no grad: the pair is still called "input 0", as PyTorch numbers it.
            error_of(lambda: lib.autograd.gradcheck(lambda a, b: square.apply(b * a), (y, x))),
            lib.autograd.gradcheck(lambda a: square.apply(a), (x,), atol=10.0),
        ]

    log = same_as_torch(scenario)
    assert log[0] == ("GradcheckError",
                      "Jacobian mismatch for output 0 with respect to input 0,\n"
                      "numerical:tensor([[2.0000, 0.0000],\n        [0.0000, 4.0000]], "
                      "dtype=torch.float64)\n"
                      "analytical:tensor([[3., 0.],\n        [0., 6.]], dtype=torch.float64)\n")


def test_gradgradcheck_catches_a_wrong_second_derivative(device: str) -> None:
    cube = _first_order_only(autodiff)
    x = autodiff.tensor([0.5, -1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    assert autograd.gradcheck(cube.apply, (x,))
    with pytest.raises(autograd.GradcheckError, match="Jacobian mismatch for output 0 with "
                                                      "respect to input 0"):
        autograd.gradgradcheck(cube.apply, (x,))
    assert not autograd.gradgradcheck(cube.apply, (x,), raise_exception=False)
    assert issubclass(autograd.GradcheckError, RuntimeError)


def test_gradgradcheck_with_given_grad_outputs(device: str) -> None:
    x = autodiff.tensor([0.5, -1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    v = autodiff.tensor([1.0, -2.0], dtype=autodiff.float64, device=device, requires_grad=True)
    assert autograd.gradgradcheck(lambda a: a.sin() * a, (x,), (v,))


def test_catches_a_nondeterministic_backward(device: str) -> None:
    calls = []

    class Drifting(autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: autodiff.Tensor) -> autodiff.Tensor:
            return x * 2

        @staticmethod
        def backward(ctx: Any, grad: autodiff.Tensor) -> autodiff.Tensor:
            calls.append(1)
            return grad * (2 + 1e-7 * len(calls))  # within atol, never the same twice

    x = autodiff.tensor([1.0], dtype=autodiff.float64, device=device, requires_grad=True)
    with pytest.raises(autograd.GradcheckError, match="Backward is not reentrant"):
        autograd.gradcheck(Drifting.apply, (x,))
    assert autograd.gradcheck(Drifting.apply, (x,), nondet_tol=1e-5)


def test_argument_checks_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        x32 = lib.tensor([1.0, 2.0], requires_grad=True)
        plain = lib.tensor([1.0, 2.0], dtype=lib.float64)
        with pytest.warns(UserWarning) as warned:
            passed = lib.autograd.gradcheck(lambda a: a * 2, (x32,), eps=1e-2, atol=1e-2)
        return [error_of(lambda: lib.autograd.gradcheck(lambda a: a * 2, (plain,))),
                passed, [str(w.message) for w in warned]]

    same_as_torch(scenario)


def test_outputs_that_need_no_grad() -> None:
    """A function of its inputs whose outputs do not require grad must not depend on them."""
    x = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64, requires_grad=True)
    assert autograd.gradcheck(lambda a: (a * 0).detach(), (x,))
    with pytest.raises(autograd.GradcheckError, match="expected to be zero"):
        autograd.gradcheck(lambda a: (a * 3).detach(), (x,))
