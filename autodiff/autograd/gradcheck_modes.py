"""gradcheck's two ways of comparing derivatives, for functions with real outputs.

Slow mode compares whole Jacobians. Fast mode compares v^T J u for a random vector u per input
and v per output (numerically: a directional difference along u; analytically: one backward
pass with grad_output v, or in forward mode one dual pass along u, compared as J u), and on a
mismatch recomputes the slow Jacobians for the message. A complex input's u has a real and an
imaginary part (ur, ui): v^T J u = ur . Re(v^T J) + i ui . Im(v^T J).

Callers hand complex outputs (backward) or complex inputs (forward mode) over as their real
and imaginary parts, one at a time; `complex_indices` and `test_imag` only word the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import dtypes
from ..creation import rand
from ..generator import Generator
from ..tensor import Tensor
from .gradcheck_analytical import backward_jacobian, backward_jacobians, forward_jacobians
from .gradcheck_common import GradcheckError, as_tuple, is_float_or_complex
from .gradcheck_numerical import Direction, numerical_jacobians, numerical_jvps

_FAST_FAIL_SLOW_OK = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode!

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck:

If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `fast_mode=False` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_fast_mode=False`
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_fast_mode=False`
""".strip()


class Comparison:
    """What one slow or fast comparison needs besides the function and its inputs."""

    def __init__(self, eps: float, atol: float, rtol: float, nondet_tol: float,
                 check_grad_dtypes: bool, masked: bool) -> None:
        self.eps = eps
        self.atol = atol
        self.rtol = rtol
        self.nondet_tol = nondet_tol
        self.check_grad_dtypes = check_grad_dtypes
        self.masked = masked


def slow_gradcheck(func: Callable[..., Any], func_out: Any, inputs: tuple[Any, ...],
                   outputs: tuple[Tensor, ...], settings: Comparison, *,
                   use_forward_ad: bool = False, complex_indices: Sequence[int] = (),
                   test_imag: bool = False) -> None:
    """Whole Jacobians: numerical against backward (or forward) mode, every pair."""
    if not outputs:
        check_no_differentiable_outputs(func, inputs, settings.eps, use_forward_ad)
        return
    float_outs = [out for out in as_tuple(func_out) if is_float_or_complex(out)]
    per_input = numerical_jacobians(func, inputs, settings.eps, use_forward_ad)
    # numerical[i][j]: output i (among those that require grad), input j.
    numerical = [[jacobians[number] for jacobians in per_input]
                 for number, out in enumerate(float_outs) if out.requires_grad]
    rtol, atol = settings.rtol, settings.atol
    if use_forward_ad:
        analytical_forward = forward_jacobians(func, inputs, settings.check_grad_dtypes)
        for i, per_output in enumerate(numerical):
            for j, expected in enumerate(per_output):
                actual = analytical_forward[j][i]
                if not allclose_promoted(actual, expected, rtol, atol):
                    raise GradcheckError(notallclose_message(
                        actual, expected, i, j, complex_indices, test_imag, is_forward_ad=True))
        return
    for i, out in enumerate(outputs):
        analytical = backward_jacobians(inputs, out, settings.nondet_tol,
                                        settings.check_grad_dtypes)
        for j, (actual, expected) in enumerate(zip(analytical, numerical[i])):
            if not allclose_promoted(actual, expected, rtol, atol):
                raise GradcheckError(notallclose_message(actual, expected, i, j,
                                                         complex_indices, test_imag))


def fast_gradcheck(func: Callable[..., Any], func_out: Any, inputs: tuple[Any, ...],
                   outputs: tuple[Tensor, ...], settings: Comparison, *,
                   use_forward_ad: bool = False, complex_indices: Sequence[int] = (),
                   test_imag: bool = False) -> None:
    """v^T J u (backward) or J u (forward mode), numerical against analytical."""
    wrt = [index for index, value in enumerate(inputs)
           if isinstance(value, Tensor) and value.requires_grad]
    all_v, all_u = make_vectors([inputs[index] for index in wrt], outputs,
                                use_forward_ad=use_forward_ad)
    float_outs = [out for out in as_tuple(func_out) if is_float_or_complex(out)]
    numerical: list[list[Tensor]] = []
    for index, u in zip(wrt, all_u):
        all_ju = numerical_jvps(func, inputs, index, u, settings.eps, use_forward_ad)
        if all_v is None:
            numerical.append(all_ju)
        else:  # each v goes with the J u of its output (those that require grad)
            graded = [ju for ju, out in zip(all_ju, float_outs) if out.requires_grad]
            numerical.append([(v * ju).sum() for v, ju in zip(all_v, graded)])
    if use_forward_ad:
        analytical = forward_jacobians(func, inputs, settings.check_grad_dtypes,
                                       all_u=all_u)  # type: ignore[arg-type]
    else:
        if not outputs:
            check_no_differentiable_outputs_fast(func, inputs, wrt, all_u, settings.eps,
                                                 settings.nondet_tol)
        analytical = _analytical_vju(inputs, outputs, settings, all_v or [], all_u)
    for i, per_input in enumerate(numerical):
        for j, expected in enumerate(per_input):
            actual = analytical[i][j] if use_forward_ad else analytical[j][i]
            atol = adjusted_atol(settings.atol, all_u[i], all_v[j] if all_v else None)
            if not allclose_promoted(actual, expected, settings.rtol, atol):
                report = _slow_mode_report(func, inputs, outputs, wrt[i], i, j, settings,
                                           use_forward_ad)
                raise GradcheckError(notallclose_message(
                    actual, expected, j, i, complex_indices, test_imag, use_forward_ad)
                    + report)


def _analytical_vju(inputs: tuple[Any, ...], outputs: tuple[Tensor, ...],
                    settings: Comparison, all_v: list[Tensor],
                    all_u: list[Direction]) -> list[list[Tensor]]:
    result = []
    for out, v in zip(outputs, all_v):
        all_vj = backward_jacobians(inputs, out, settings.nondet_tol,
                                    settings.check_grad_dtypes, v=v)
        scalars = []
        for vj, u in zip(all_vj, all_u):
            row = vj.T.squeeze(0)
            if isinstance(u, tuple):  # C -> R
                scalars.append(row.real.dot(u[0]) + 1j * row.imag.dot(u[1]))
            else:
                scalars.append(row.dot(u))
        result.append(scalars)
    return result


def _slow_mode_report(func: Callable[..., Any], inputs: tuple[Any, ...],
                      outputs: tuple[Tensor, ...], index: int, input_number: int,
                      output_number: int, settings: Comparison, is_forward_ad: bool) -> str:
    """Fast mode's mismatch, recomputed with whole Jacobians for the message."""
    numerical = numerical_jacobians(func, inputs, settings.eps,
                                    is_forward_ad)[input_number][output_number]
    if is_forward_ad:
        def only_one(value: Tensor) -> Any:
            args = list(inputs)
            args[index] = value
            return as_tuple(func(*args))[output_number]

        analytical = forward_jacobians(only_one, (inputs[index],))[0][0]
    else:
        analytical = backward_jacobian(inputs, outputs[output_number], input_number)
    difference = (numerical - analytical).abs().max()
    message = (
        "\nThe above quantities relating the numerical and analytical jacobians are computed \n"
        "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more "
        "background \nabout fast mode. Below, we recompute numerical and analytical jacobians "
        "in slow mode:\n\n"
        f"Numerical:\n {numerical}\n"
        f"Analytical:\n{analytical}\n\n"
        f"The max per-element difference (slow mode) is: {difference}.\n"
    )
    if allclose_promoted(analytical, numerical, settings.rtol, settings.atol):
        message += _FAST_FAIL_SLOW_OK
    return message


def notallclose_message(analytical: Tensor, numerical: Tensor, output_number: int,
                        input_number: int, complex_indices: Sequence[int],
                        test_imag: bool = False, is_forward_ad: bool = False) -> str:
    """PyTorch's words: complex outputs (backward) and complex inputs (forward mode) name the
    part they were checked through."""
    out_is_complex = not is_forward_ad and output_number in complex_indices
    inp_is_complex = is_forward_ad and input_number in complex_indices
    part = "imaginary" if test_imag else "real"
    element = "inputs" if is_forward_ad else "outputs"
    prefix = (f"While considering the {part} part of complex {element} only, "
              if out_is_complex or inp_is_complex else "")
    mode = "computed with forward mode " if is_forward_ad else ""
    return (prefix + f"Jacobian {mode}mismatch for output {output_number:d} with respect to "
            f"input {input_number:d},\nnumerical:{numerical}\nanalytical:{analytical}\n")


def allclose_promoted(a: Tensor, b: Tensor, rtol: float, atol: float) -> bool:
    promoted = dtypes.promote_types(a.dtype, b.dtype)
    return bool(a.to(promoted).allclose(b.to(promoted).to(a.device), rtol, atol))


def adjusted_atol(atol: float, u: Direction, v: Tensor | None) -> float:
    """atol for v^T J u: each element's atol summed with weights u_i v_j, i.e. scaled by
    sum(u) sum(v) (sum(ur) + sum(ui) for a complex input)."""
    sum_v = 1.0 if v is None else float(v.sum())
    if isinstance(u, tuple):
        return atol * (float(u[0].sum()) + float(u[1].sum())) * sum_v
    return atol * float(u.sum()) * sum_v


def make_vectors(inputs: list[Tensor], outputs: tuple[Tensor, ...], *,
                 use_forward_ad: bool) -> tuple[list[Tensor] | None, list[Direction]]:
    """Random unit vectors from a generator of their own (the user's random numbers stay
    untouched): a real u per input ((ur, ui) for a complex one), a v per output (none for
    forward mode)."""
    generator = Generator()
    all_u: list[Direction] = []
    for value in inputs:
        ur = _unit_vector(value, generator, real=True)
        all_u.append((ur, _unit_vector(value, generator, real=True)) if value.is_complex()
                     else ur)
    all_v = None if use_forward_ad else [_unit_vector(out, generator) for out in outputs]
    return all_v, all_u


def _unit_vector(like: Tensor, generator: Generator, real: bool = False) -> Tensor:
    """Uniform [0, 1) float32 draws in `like`'s dtype (its real dtype with `real`) and device,
    scaled to unit norm."""
    dtype = like.dtype.to_real() if real else like.dtype
    values = rand(like.numel(), generator=generator).to(dtype=dtype, device=like.device)
    return values / values.norm()


def check_no_differentiable_outputs(func: Callable[..., Any], inputs: tuple[Any, ...],
                                    eps: float, is_forward_ad: bool) -> None:
    """Without outputs that require grad, every numerical derivative must be zero."""
    for jacobians in numerical_jacobians(func, inputs, eps, is_forward_ad):
        for jacobian in jacobians:
            if bool((jacobian != 0).sum() > 0):
                raise GradcheckError("Numerical gradient for function expected to be zero")


def check_no_differentiable_outputs_fast(func: Callable[..., Any], inputs: tuple[Any, ...],
                                         wrt: list[int], all_u: list[Direction], eps: float,
                                         nondet_tol: float) -> None:
    for index, u in zip(wrt, all_u):
        for jvp in numerical_jvps(func, inputs, index, u, eps):
            if jvp.numel() and bool(jvp.abs().max() > nondet_tol):
                raise GradcheckError("Numerical gradient for function expected to be zero")
