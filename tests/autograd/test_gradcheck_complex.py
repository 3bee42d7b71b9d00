"""gradcheck and gradgradcheck on complex functions, as PyTorch checks them.

Backward mode compares Wirtinger derivatives: a complex input is perturbed along its real and
its imaginary part, a function with complex outputs is checked through their imaginary parts,
then their real parts. Forward mode checks a function of complex inputs as functions of their
imaginary parts, then their real parts. Wrong derivatives are reported in PyTorch's words
("While considering the real part of complex outputs only, ..."), compared with PyTorch's own
messages where it is installed and with the words themselves where it is not.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

import autodiff
from autodiff import autograd
from tests.autograd._compare import error_of, same_as_torch

A = [[0.9 + 0.2j, -0.4 + 0.5j], [0.3 - 0.6j, 1.2 + 0.1j]]
B = [[0.5 - 0.1j, 0.2 + 0.7j], [-0.8 + 0.4j, 0.6 + 0.3j]]
V = [0.5 + 1.0j, -1.2 + 0.3j, 0.7 - 0.4j]
LA = autodiff.linalg

# name -> (function, inputs as ("c" complex | "r" real, values)); C -> C, C -> R, R -> C.
FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[tuple[str, Any], ...]]] = {
    "mul": (lambda a, b: a * b, (("c", V), ("c", V[::-1]))),
    "div": (lambda a, b: a / b, (("c", V), ("c", V[::-1]))),
    "add_real": (lambda a, b: a + b, (("c", V), ("r", [0.1, 0.2, 0.3]))),
    "abs": (lambda a: a.abs(), (("c", V),)),
    "angle": (lambda a: a.angle(), (("c", V),)),
    "conj": (lambda a: a.conj(), (("c", V),)),
    "exp": (lambda a: a.exp(), (("c", V),)),
    "log": (lambda a: a.log(), (("c", V),)),
    "sin": (lambda a: a.sin(), (("c", V),)),
    "cos": (lambda a: a.cos(), (("c", V),)),
    "tanh": (lambda a: a.tanh(), (("c", V),)),
    "sqrt": (lambda a: a.sqrt(), (("c", V),)),
    "real": (lambda a: a.real, (("c", V),)),
    "imag": (lambda a: a.imag, (("c", V),)),
    "sum": (lambda a: a.sum(), (("c", V),)),
    "mean": (lambda a: a.mean(), (("c", V),)),
    "prod": (lambda a: a.prod(), (("c", V),)),
    "abs_sum": (lambda a: (a * a).abs().sum(), (("c", V),)),
    "matmul": (lambda a, b: a @ b, (("c", A), ("c", B))),
    "linalg.det": (lambda a: LA.det(a), (("c", A),)),
    "linalg.inv": (lambda a: LA.inv(a), (("c", A),)),
    "linalg.solve": (lambda a, b: LA.solve(a, b), (("c", A), ("c", B))),
    "linalg.svdvals": (lambda a: LA.svdvals(a), (("c", A),)),
    "complex": (lambda a, b: autodiff.complex(a, b), (("r", [0.4, 1.3]), ("r", [-0.7, 0.2]))),
    "polar": (lambda a, b: autodiff.polar(a, b), (("r", [0.4, 1.3]), ("r", [-0.7, 0.2]))),
    "view_as_complex": (lambda a: autodiff.view_as_complex(a),
                        (("r", [[0.4, 1.3], [-0.7, 0.2]]),)),
    "view_as_real": (lambda a: autodiff.view_as_real(a), (("c", V),)),
}

# svdvals' forward-mode rule on complex inputs (the transposed backward) trips svd_backward's
# phase check, which PyTorch's svdvals does not: its forward mode is left out here.
NO_FORWARD_AD = {"linalg.svdvals"}


def _inputs(spec: tuple[tuple[str, Any], ...], device: str) -> tuple[autodiff.Tensor, ...]:
    return tuple(autodiff.tensor(values, device=device, requires_grad=True,
                                 dtype=autodiff.complex128 if kind == "c" else autodiff.float64)
                 for kind, values in spec)


@pytest.mark.parametrize("fast_mode", [False, True], ids=["slow", "fast"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_complex_functions_pass(name: str, fast_mode: bool, device: str) -> None:
    function, spec = FUNCTIONS[name]
    forward = name not in NO_FORWARD_AD
    assert autograd.gradcheck(function, _inputs(spec, device), fast_mode=fast_mode,
                              check_forward_ad=forward, check_batched_grad=True,
                              check_batched_forward_grad=forward)
    assert autograd.gradgradcheck(function, _inputs(spec, device), fast_mode=fast_mode,
                                  check_fwd_over_rev=forward)


@pytest.mark.parametrize("name", ["mul", "abs", "linalg.det", "polar", "view_as_complex"])
def test_complex_functions_pass_like_torch(name: str) -> None:
    function, spec = FUNCTIONS[name]

    def scenario(lib: Any) -> Any:
        def inputs() -> tuple[Any, ...]:
            return tuple(lib.tensor(values, requires_grad=True,
                                    dtype=lib.complex128 if kind == "c" else lib.float64)
                         for kind, values in spec)
        namespace = autodiff if lib is autodiff else lib
        call = _in_namespace(function, namespace)
        return [lib.autograd.gradcheck(call, inputs(), check_forward_ad=True),
                lib.autograd.gradcheck(call, inputs(), fast_mode=True, check_forward_ad=True),
                lib.autograd.gradgradcheck(call, inputs())]

    assert same_as_torch(scenario) == [True, True, True]


def _in_namespace(function: Callable[..., Any], lib: Any) -> Callable[..., Any]:
    """`function` with `autodiff` (and `LA`) in its globals swapped for `lib`."""
    names = dict(function.__globals__, autodiff=lib, LA=lib.linalg)
    return type(function)(function.__code__, names)


# ----------------------------------------------------------------------------- wrong derivatives
def _mul_without_conj(lib: Any) -> Any:
    """a * b whose backward forgets to conjugate (the forward is right)."""

    class MulNoConj(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any, b: Any) -> Any:
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            a, b = ctx.saved_tensors
            return grad * b, grad * a  # right: grad * b.conj(), grad * a.conj()

    return MulNoConj


def _abs_turned(lib: Any) -> Any:
    """|z| (complex to real) whose gradient is turned by 90 degrees."""

    class AbsTurned(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            ctx.save_for_backward(a)
            return a.abs()

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (a,) = ctx.saved_tensors
            return grad * a / a.abs() * 1j  # right: grad * a / |a|

    return AbsTurned


def _complex_doubling_real(lib: Any) -> Any:
    """(x, y) -> x + iy (real to complex) whose gradient for x is doubled."""

    class Complex(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, y: Any) -> Any:
            return lib.complex(x, y)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return grad.real * 2, grad.imag

    return Complex


def _wrong_jvp(lib: Any) -> Any:
    """A real function, 2x, whose forward-mode derivative says 3."""

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

    return WrongJvp


def _cube_first_order_only(lib: Any) -> Any:
    """z^3 with a right gradient computed from a detached input: its derivative is lost."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (a,) = ctx.saved_tensors
            return grad * (3 * a.detach() ** 2).conj()

    return Cube


def _wrong_derivatives(lib: Any) -> list[Any]:
    z = lib.tensor([0.5 + 1.0j, -1.2 + 0.3j], dtype=lib.complex128, requires_grad=True)
    w = lib.tensor([0.3 - 0.8j, 1.5 + 0.2j], dtype=lib.complex128, requires_grad=True)
    x = lib.tensor([0.4, 1.3], dtype=lib.float64, requires_grad=True)
    y = lib.tensor([-0.7, 0.2], dtype=lib.float64, requires_grad=True)
    grad_output = lib.tensor([0.3 - 0.2j, 0.7 + 0.1j], dtype=lib.complex128,
                             requires_grad=True)
    check, gradgrad = lib.autograd.gradcheck, lib.autograd.gradgradcheck
    mul, turned = _mul_without_conj(lib).apply, _abs_turned(lib).apply
    doubling, wrong_jvp = _complex_doubling_real(lib).apply, _wrong_jvp(lib).apply
    cube = _cube_first_order_only(lib).apply
    return [
        error_of(lambda: check(mul, (z, w))),                         # C -> C
        check(mul, (z, w), raise_exception=False),
        error_of(lambda: check(turned, (z,))),                        # C -> R
        check(turned, (z,), raise_exception=False),
        error_of(lambda: check(doubling, (x, y))),                    # R -> C
        check(doubling, (x, y), raise_exception=False),
        error_of(lambda: check(lambda a: wrong_jvp(a.imag), (z,), check_forward_ad=True,
                               check_backward_ad=False)),
        error_of(lambda: check(lambda a: wrong_jvp(a.real), (z,), check_forward_ad=True,
                               check_backward_ad=False)),
        check(lambda a: wrong_jvp(a.real), (z,), check_forward_ad=True,
              check_backward_ad=False, raise_exception=False),
        error_of(lambda: gradgrad(cube, (z,), (grad_output,))),
        gradgrad(cube, (z,), (grad_output,), raise_exception=False),
        check(mul, (z, w), atol=10.0),  # atol and rtol take part
        check(mul, (z, w), rtol=10.0),
    ]


def test_wrong_derivatives_reported_like_torch() -> None:
    same_as_torch(_wrong_derivatives)


def test_wrong_derivatives_reported_in_torchs_words() -> None:
    log = _wrong_derivatives(autodiff)
    assert log[0] == (
        "GradcheckError",
        "While considering the imaginary part of complex outputs only, Jacobian mismatch for "
        "output 0 with respect to input 0,\n"
        "numerical:tensor([[-0.8000+0.3000j,  0.0000+0.0000j],\n"
        "        [ 0.0000+0.0000j,  0.2000+1.5000j]], dtype=torch.complex128)\n"
        "analytical:tensor([[ 0.8000+0.3000j,  0.0000+0.0000j],\n"
        "        [ 0.0000+0.0000j, -0.2000+1.5000j]], dtype=torch.complex128)\n")
    assert log[2] == (
        "GradcheckError",
        "Jacobian mismatch for output 0 with respect to input 0,\n"
        "numerical:tensor([[ 0.4472+0.8944j,  0.0000+0.0000j],\n"
        "        [ 0.0000+0.0000j, -0.9701+0.2425j]], dtype=torch.complex128)\n"
        "analytical:tensor([[-0.8944+0.4472j,  0.0000+0.0000j],\n"
        "        [ 0.0000+0.0000j, -0.2425-0.9701j]], dtype=torch.complex128)\n")
    assert log[4] == (
        "GradcheckError",
        "While considering the real part of complex outputs only, Jacobian mismatch for output "
        "0 with respect to input 0,\n"
        "numerical:tensor([[1.0000, 0.0000],\n        [0.0000, 1.0000]], dtype=torch.float64)\n"
        "analytical:tensor([[2., 0.],\n        [0., 2.]], dtype=torch.float64)\n")
    assert log[6][1].startswith(
        "While considering the imaginary part of complex inputs only, Jacobian computed with "
        "forward mode mismatch for output 0 with respect to input 0,\n")
    assert log[7] == (
        "GradcheckError",
        "While considering the real part of complex inputs only, Jacobian computed with forward "
        "mode mismatch for output 0 with respect to input 0,\n"
        "numerical:tensor([[2.0000, 0.0000],\n        [0.0000, 2.0000]], dtype=torch.float64)\n"
        "analytical:tensor([[3., 0.],\n        [0., 3.]], dtype=torch.float64)\n")
    assert log[9][1].startswith("While considering the imaginary part of complex outputs only, "
                                "Jacobian mismatch for output 0 with respect to input 0,\n")
    assert [log[1], log[3], log[5], log[8], log[10], log[11], log[12]] == \
        [False, False, False, False, False, True, True]


def _fast_mode_reports(lib: Any) -> list[Any]:
    """Fast mode's quantities come from random vectors (other ones than PyTorch's): keep the
    words around them and the slow-mode Jacobians recomputed for the message."""
    z = lib.tensor([0.5 + 1.0j, -1.2 + 0.3j], dtype=lib.complex128, requires_grad=True)
    w = lib.tensor([0.3 - 0.8j, 1.5 + 0.2j], dtype=lib.complex128, requires_grad=True)
    x = lib.tensor([0.4, 1.3], dtype=lib.float64, requires_grad=True)
    y = lib.tensor([-0.7, 0.2], dtype=lib.float64, requires_grad=True)
    check = lib.autograd.gradcheck
    mul, turned = _mul_without_conj(lib).apply, _abs_turned(lib).apply
    doubling = _complex_doubling_real(lib).apply
    log = []
    for call in (lambda: check(mul, (z, w), fast_mode=True),
                 lambda: check(turned, (z,), fast_mode=True),
                 lambda: check(doubling, (x, y), fast_mode=True)):
        kind, message = error_of(call)
        head, slow = message.split("\nThe above quantities", 1)
        lines = head.split("\n")
        # The largest difference is compared as a number: its last digits are rounding.
        slow, difference = slow.split("The max per-element difference (slow mode) is: ")
        log.append([kind, lines[0], lines[1].split(":")[0], lines[2].split(":")[0], slow,
                    float(difference.rstrip(".\n"))])
    log.append(check(mul, (z, w), fast_mode=True, raise_exception=False))
    return log


def test_fast_mode_reports_like_torch() -> None:
    same_as_torch(_fast_mode_reports)


def test_fast_mode_reports_in_torchs_words() -> None:
    log = _fast_mode_reports(autodiff)
    assert log[0][:4] == ["GradcheckError", "While considering the imaginary part of complex "
                          "outputs only, Jacobian mismatch for output 0 with respect to input "
                          "0,", "numerical", "analytical"]
    assert log[0][4].endswith(
        "Numerical:\n tensor([[-0.8000+0.3000j,  0.0000+0.0000j],\n"
        "        [ 0.0000+0.0000j,  0.2000+1.5000j]], dtype=torch.complex128)\n"
        "Analytical:\ntensor([[ 0.8000+0.3000j,  0.0000+0.0000j],\n"
        "        [ 0.0000+0.0000j, -0.2000+1.5000j]], dtype=torch.complex128)\n\n")
    assert log[0][5] == pytest.approx(1.6)
    assert log[1][1] == "Jacobian mismatch for output 0 with respect to input 0,"
    assert log[2][1] == ("While considering the real part of complex outputs only, Jacobian "
                         "mismatch for output 0 with respect to input 0,")
    assert log[3] is False


# ----------------------------------------------------------------------------- other checks
class _Counter:
    calls = 0


def _other_checks(lib: Any) -> list[Any]:
    z = lib.tensor([0.5 + 1.0j, -1.2 + 0.3j], dtype=lib.complex128, requires_grad=True)
    r = lib.tensor([0.4, 1.3], dtype=lib.float64, requires_grad=True)
    counter = _Counter()

    class Noisy(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            return a * 2

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            counter.calls += 1  # a different gradient each pass
            return grad * 2 + grad * counter.calls * 1e-9j

    class Pair(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            ctx.set_materialize_grads(False)
            return a * 2, a * 1j

        @staticmethod
        def backward(ctx: Any, g1: Any, g2: Any) -> Any:
            if g1 is None and g2 is None:
                raise RuntimeError("no gradient at all")
            return (0 if g1 is None else g1 * 2) + (0 if g2 is None else g2 * -1j)

    check = lib.autograd.gradcheck
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the undefined-grad check's compatibility warning
        undefined = error_of(lambda: check(Pair.apply, (z,)))
    return [
        error_of(lambda: check(Noisy.apply, (z,))),
        check(Noisy.apply, (z,), nondet_tol=1e-6),
        undefined,
        check(Pair.apply, (z,), check_undefined_grad=False),
        check(lambda a: (a * a).abs(), (z,), masked=True),
        # An input given twice, and one captured: both see the perturbation, as in PyTorch.
        check(lambda a, b: lib.polar(a, b), (r, r)),
        check(lambda a: lib.polar(a, r), (r,)),
        check(lambda a: (a * 1j).exp(), (r,), check_forward_ad=True,
              check_batched_forward_grad=True),
        check(lambda a: a.exp(), (z,), check_forward_ad=True, check_batched_forward_grad=True),
        check(lambda a: a.exp(), (z,), check_batched_grad=True, fast_mode=True),
        error_of(lambda: check(lambda a: a * 2, (z.detach(),))),
        check(lambda a: (a.abs(), a.angle().detach()), (z,), fast_mode=True),
        error_of(lambda: check(lambda a: a.conj().detach(), (z,), fast_mode=True)),
        error_of(lambda: check(lambda a: a.conj().detach(), (z,))),
        error_of(lambda: check(lambda a: a * 2, (z.detach().expand(2, 2).requires_grad_(),))),
    ]


def test_other_checks_like_torch() -> None:
    same_as_torch(_other_checks)


def test_other_checks_in_torchs_words() -> None:
    log = _other_checks(autodiff)
    assert log[0][1].startswith("Backward is not reentrant, i.e., running backward with same "
                                "input and grad_output multiple times gives different values")
    assert log[1] is True
    assert log[2] == ("GradcheckError", 'Expected backward function to handle undefined '
                      'output grads. Please look at "Notes about undefined output gradients" '
                      'in "tools/autograd/derivatives.yaml"')
    assert log[3:10] == [True] * 7
    assert log[10][0] == "ValueError"
    assert log[12] == log[13] == ("GradcheckError",
                                  "Numerical gradient for function expected to be zero")
    assert log[14][1].startswith("The 0th input has a dimension with stride 0.")


def test_batched_grad_failure_reported_like_torch() -> None:
    """A backward vmap cannot run (it reads a value out with .item()): PyTorch's report, with
    vmap's own error in it."""
    def scenario(lib: Any) -> Any:
        class ItemBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, a: Any) -> Any:
                return a * 2

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return grad * 2 + 0 * grad.abs().sum().item()

        z = lib.tensor([0.5 + 1.0j, -1.2 + 0.3j], dtype=lib.complex128, requires_grad=True)
        kind, message = error_of(lambda: lib.autograd.gradcheck(ItemBackward.apply, (z,),
                                                                check_batched_grad=True))
        head, rest = message.split("\n\n", 1)
        return [kind, head.startswith("While computing batched gradients, got: "), rest,
                lib.autograd.gradcheck(ItemBackward.apply, (z,))]

    log = same_as_torch(scenario)
    assert log[0] == "GradcheckError" and log[1] is True


# ----------------------------------------------------------------------------- what it relies on
def test_isclose_compares_complex_values_whole(device: str) -> None:
    a = autodiff.tensor([1 + 1j, 2 + 0j, 3 - 1j], device=device)
    b = autodiff.tensor([1 + 2j, 2 + 1e-9j, 3 - 1j], device=device)
    assert autodiff.isclose(a, b).tolist() == [False, True, True]
    assert not autodiff.allclose(a, b)


def test_isclose_complex_like_torch() -> None:
    def scenario(lib: Any) -> Any:
        a = lib.tensor([1 + 1j, 2 + 0j, 3 - 1j, 1e-3j])
        b = lib.tensor([1 + 2j, 2 + 1e-9j, 3 - 1j, 0j])
        return [lib.isclose(a, b).tolist(), lib.allclose(a, b), lib.allclose(a, b, atol=2.0),
                lib.isclose(a, b, rtol=0, atol=1e-3).tolist()]

    same_as_torch(scenario)


def test_make_tensor_complex(device: str) -> None:
    made = autodiff.testing.make_tensor((3, 4), dtype=autodiff.complex128, device=device,
                                        low=-1, high=1, requires_grad=True, noncontiguous=True)
    assert made.dtype is autodiff.complex128 and made.requires_grad and made.is_leaf
    assert tuple(made.shape) == (3, 4) and not made.is_contiguous()
    parts = autodiff.view_as_real(made.detach().contiguous())
    assert bool((parts >= -1).all()) and bool((parts < 1).all())
    assert float(parts[..., 1].abs().sum()) > 0  # the imaginary parts are drawn too
