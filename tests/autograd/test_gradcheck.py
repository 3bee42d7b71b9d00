"""gradcheck and gradgradcheck: they pass correct gradients, catch wrong first and second
derivatives, and report like PyTorch (same message, same Jacobians, same numbering)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
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


# ----------------------------------------------------------------------------- fast mode
def test_fast_mode_passes_correct_gradients(device: str) -> None:
    x = autodiff.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    y = autodiff.tensor([0.5, 1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    assert autograd.gradcheck(lambda a, b: ((a * b).sin(), a.exp() / b), (x, y), fast_mode=True)
    assert autograd.gradgradcheck(lambda a, b: (a * b).sin() + a.exp() / b, (x, y),
                                  fast_mode=True)
    assert autograd.gradcheck(lambda a: (a * 0).detach(), (x,), fast_mode=True)


def test_fast_mode_reports_like_torch() -> None:
    """The fast-mode quantities come from random vectors (other ones than PyTorch's); the
    message around them, and the slow-mode Jacobians it recomputes, are PyTorch's."""
    def scenario(lib: Any) -> Any:
        square = _wrong_backward(lib, 3.0)
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        kind, message = error_of(lambda: lib.autograd.gradcheck(square.apply, (x,),
                                                                fast_mode=True))
        head, slow = message.split("\nThe above quantities", 1)
        numbers = head.split("\n")
        return [kind, numbers[0], numbers[1].split(":")[0], numbers[2].split(":")[0], slow,
                lib.autograd.gradcheck(square.apply, (x,), fast_mode=True, atol=10.0),
                error_of(lambda: lib.autograd.gradcheck(lambda a: (a * 3).detach(), (x,),
                                                        fast_mode=True))]

    log = same_as_torch(scenario)
    assert log[1] == "Jacobian mismatch for output 0 with respect to input 0,"
    assert "Numerical:\n tensor([[2.0000, 0.0000]," in log[4]


# ----------------------------------------------------------------------------- backward's contract
def _two_outputs(lib: Any, backward: Callable[[Any, Any, Any], Any]) -> Any:
    """x -> (2x, 3x) whose backward is `backward(lib, g1, g2)`, grads not materialized."""

    class Pair(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx: Any, g1: Any, g2: Any) -> Any:
            return backward(lib, g1, g2)

    return Pair


# Each handles one undefined gradient (gradcheck differentiates one output at a time) but
# fails a check of its own.
def _refuse_undefined(lib: Any, g1: Any, g2: Any) -> Any:
    if g1 is None and g2 is None:
        raise RuntimeError("no gradient at all")
    return (0 if g1 is None else g1 * 2) + (0 if g2 is None else g2 * 3)


def _invent_when_undefined(lib: Any, g1: Any, g2: Any) -> Any:
    if g1 is None and g2 is None:
        return lib.ones(2, dtype=lib.float64)  # a gradient out of nothing
    return (0 if g1 is None else g1 * 2) + (0 if g2 is None else g2 * 3)


def _offset(lib: Any, g1: Any, g2: Any) -> Any:
    # Within atol, but not zero for zero grad_outputs.
    return (0 if g1 is None else g1 * 2) + (0 if g2 is None else g2 * 3) + 1e-9


@pytest.mark.parametrize(("backward", "message"), [
    (_refuse_undefined, "Expected backward function to handle undefined output grads."),
    (_invent_when_undefined, "Expected all input grads to be undefined or zero when all "
                             "output grads are undefined or zero."),
    (_offset, "backward not multiplied by grad_output")])
def test_backward_contract_checks_match_torch(backward: Callable[[Any, Any, Any], Any],
                                              message: str) -> None:
    def scenario(lib: Any) -> Any:
        pair = _two_outputs(lib, backward)
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            failure = error_of(lambda: lib.autograd.gradcheck(pair.apply, (x,)))
        relaxed = (lib.autograd.gradcheck(pair.apply, (x,), check_undefined_grad=False)
                   if backward is not _offset else None)
        return [failure, [str(w.message) for w in warned], relaxed]

    log = same_as_torch(scenario)
    assert log[0][0] == "GradcheckError" and log[0][1].startswith(message)


# ----------------------------------------------------------------------------- options
def test_option_checks_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        check, gradgrad = lib.autograd.gradcheck, lib.autograd.gradgradcheck
        return [error_of(lambda: check(lambda a: a * 2, (x,), check_backward_ad=False)),
                error_of(lambda: check(lambda a: a * 2, (x,), check_batched_forward_grad=True)),
                error_of(lambda: gradgrad(lambda a: a * 2, (x,), check_rev_over_rev=False)),
                error_of(lambda: gradgrad(lambda a: a * 2, (x,), check_rev_over_rev=False,
                                          check_fwd_over_rev=True)),
                check(lambda a: a.sin(), (x,), masked=True),
                gradgrad(lambda a: (a * a).sin(), (x,), gen_non_contig_grad_outputs=True)]

    same_as_torch(scenario)


def test_batched_grad_checks_match_torch() -> None:
    """check_batched_grad and check_batched_forward_grad: vmap over the backward (and over
    forward-mode passes) must give what one pass per grad_output (tangent) gives."""
    def scenario(lib: Any) -> Any:
        x = lib.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        check, gradgrad = lib.autograd.gradcheck, lib.autograd.gradgradcheck
        return [
            check(lambda a, b: (a * b).sin() + a.exp() / b, (x, y), check_batched_grad=True),
            check(lambda a, b: ((a @ b).tanh(), a.sum(0)), (x, y), check_batched_grad=True,
                  fast_mode=True),
            check(lambda a: a.sigmoid(), (x,), check_forward_ad=True,
                  check_batched_forward_grad=True),
            gradgrad(lambda a, b: (a * b).sin(), (x, y), check_batched_grad=True),
        ]

    same_as_torch(scenario)


def test_forward_ad_checks_match_torch() -> None:
    """check_forward_ad compares forward-mode Jacobians (slow and fast mode) with central
    differences, with PyTorch's message; check_fwd_over_rev checks forward-over-reverse."""
    def scenario(lib: Any) -> Any:
        class WrongJvp(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, a: Any) -> Any:
                return a * 2

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return grad * 2

            @staticmethod
            def jvp(ctx: Any, tangent: Any) -> Any:
                return tangent * 3

        x = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([[0.2, 0.4], [0.6, -0.8]], dtype=lib.float64, requires_grad=True)
        check, gradgrad = lib.autograd.gradcheck, lib.autograd.gradgradcheck
        return [
            check(lambda a, b: (a.exp() * b).sum(0), (x, y), check_forward_ad=True),
            check(lambda a, b: (a @ b).tanh(), (x, y), check_forward_ad=True, fast_mode=True),
            check(lambda a: a.sin(), (x,), check_forward_ad=True, check_backward_ad=False),
            gradgrad(lambda a, b: (a.exp() * b).sum(), (x, y), check_fwd_over_rev=True),
            error_of(lambda: check(WrongJvp.apply, (x,), check_forward_ad=True)),
            check(WrongJvp.apply, (x,), check_forward_ad=True, raise_exception=False),
        ]

    same_as_torch(scenario)
