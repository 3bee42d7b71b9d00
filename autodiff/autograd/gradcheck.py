"""`gradcheck` and `gradgradcheck`: analytic gradients against central differences, with
PyTorch's options, checks, order of checks and messages.

Everything goes through Tensors and their backend, so the checks run on every device. Use
float64 or complex128 inputs: in single precision the central differences are too coarse for
the default tolerances.

Complex numbers follow PyTorch's Wirtinger-calculus convention (see its complex autograd
notes). Backward mode assumes a real-valued loss, so a function with complex outputs is
checked as two real functions, the real parts of its complex outputs and then the imaginary
parts (the imaginary parts first, as PyTorch does); a complex input is perturbed along its real
and imaginary parts, whose derivatives make the conjugate Wirtinger derivative backward
returns. Forward mode instead splits each complex input into its real and imaginary part and
checks the function of each part, the other held at its value.

The comparisons themselves (slow: whole Jacobians; fast: v^T J u) are in gradcheck_modes, the
central differences in gradcheck_numerical, the derivatives from autodiff in
gradcheck_analytical, and what a backward owes besides values (zero gradients for zero
grad_outputs, undefined gradients, batched gradients) in gradcheck_contracts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes
from ..ops.complex import imag, real
from ..tensor import Tensor
from ..testing import make_tensor
from ..user_warnings import warn
from . import gradcheck_contracts as contracts
from .gradcheck_common import GradcheckError, as_tuple, differentiable_outputs
from .gradcheck_modes import Comparison, fast_gradcheck, slow_gradcheck
from .gradients import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients of `func` w.r.t. every floating or complex input that requires
    grad against central differences: |analytical - numerical| <= atol + rtol * |numerical|
    elementwise, for every (output, input) pair (or for v^T J u, with atol scaled by sum(u)
    sum(v), in `fast_mode`). For complex inputs the Wirtinger derivatives are compared; complex
    outputs are checked through their real and imaginary parts. Backward also runs twice and
    must agree within `nondet_tol`.

    Returns True, or raises GradcheckError naming the first pair that differs (returns False
    instead with raise_exception=False). `check_forward_ad` checks forward-mode AD too
    (`check_backward_ad=False`: only it); `check_batched_grad` and
    `check_batched_forward_grad` check vmap over the backward and forward-mode passes.
    `masked` concerns sparse inputs (autodiff has none); it also lets zero grad_outputs give
    gradients that are only close to zero.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError(
            "Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    try:
        _gradcheck(func, as_tuple(inputs), Comparison(eps, atol, rtol, nondet_tol,
                                                      check_grad_dtypes, bool(masked)),
                   check_undefined_grad=check_undefined_grad,
                   check_batched_grad=check_batched_grad,
                   check_batched_forward_grad=check_batched_forward_grad,
                   check_forward_ad=check_forward_ad, check_backward_ad=check_backward_ad,
                   fast_mode=fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """gradcheck of the gradient: the function (inputs, grad_outputs) -> autograd.grad(func(
    inputs), inputs, grad_outputs, create_graph=True), so second derivatives are checked
    against central differences of first derivatives. grad_outputs default to random values
    in [-1, 1) (real and imaginary parts for complex outputs) that require grad, so the check
    covers the backward's dependence on them too; non-contiguous ones with
    `gen_non_contig_grad_outputs`. `check_fwd_over_rev` checks the gradient's forward-mode
    derivative too (forward-over-reverse), `check_rev_over_rev` its backward (on by default).
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_rev_over_rev to be True")
    input_tuple = as_tuple(inputs)
    if grad_outputs is None:
        grad_output_tuple = tuple(
            make_tensor(tuple(out.shape), device=out.device, low=-1, high=1,
                        dtype=out.dtype if out.is_floating_point() or out.is_complex()
                        else dtypes.float64,
                        requires_grad=True, noncontiguous=gen_non_contig_grad_outputs)
            for out in differentiable_outputs(func(*input_tuple)))
    else:
        grad_output_tuple = as_tuple(grad_outputs)
    count = len(grad_output_tuple)
    # gradcheck detaches inputs for forward mode: remember which ones require grad.
    differentiable_inputs = {index for index, value in enumerate(input_tuple)
                             if isinstance(value, Tensor) and value.requires_grad}
    differentiable_grads = {index for index, value in enumerate(grad_output_tuple)
                            if value.requires_grad}

    def gradient_function(*args: Any) -> tuple[Tensor, ...]:
        input_args = tuple(value.requires_grad_() if index in differentiable_inputs else value
                           for index, value in enumerate(args[:-count]))
        outputs = differentiable_outputs(func(*input_args))
        grads = tuple(value.requires_grad_() if index in differentiable_grads else value
                      for index, value in enumerate(args[-count:]))
        wrt = tuple(value for index, value in enumerate(input_args)
                    if index in differentiable_inputs)
        result = _grad(outputs, wrt, grads, create_graph=True, allow_unused=True)
        return tuple(grad for grad in result if grad is not None)

    return gradcheck(gradient_function, input_tuple + grad_output_tuple, eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     masked=masked, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev)



# ----------------------------------------------------------------------------- the check
def _gradcheck(func: Callable[..., Any], inputs: tuple[Any, ...], settings: Comparison, *,
               check_undefined_grad: bool, check_batched_grad: bool,
               check_batched_forward_grad: bool, check_forward_ad: bool,
               check_backward_ad: bool, fast_mode: bool) -> None:
    _check_inputs(inputs)
    func_out = func(*inputs)
    outputs = differentiable_outputs(func_out)
    compare = fast_gradcheck if fast_mode else slow_gradcheck
    if check_backward_ad:
        _check_backward_real_imag(compare, func, func_out, inputs, outputs, settings)
    if check_forward_ad:
        _check_forward_real_imag(compare, func, func_out, inputs, outputs, settings,
                                 check_undefined_grad)
    if check_batched_forward_grad:
        contracts.check_batched_forward_grad(func, inputs)
    if not check_backward_ad:  # the rest needs backward
        return
    if check_batched_grad:
        for number, out in enumerate(outputs):
            contracts.check_batched_grad(inputs, out, number)
    contracts.check_backward_multiplies_by_grad_output(outputs, inputs, settings.masked)
    if check_undefined_grad:
        contracts.check_undefined_grad(func, outputs, inputs)


def _check_inputs(inputs: tuple[Any, ...]) -> None:
    """PyTorch's warning for each input that requires grad in less than double precision,
    its error for one that overlaps itself (a stride-0 dimension), and its error when none
    requires grad."""
    any_requires_grad = False
    for index, value in enumerate(inputs):
        if not (isinstance(value, Tensor) and value.requires_grad):
            continue
        if value.dtype not in (dtypes.float64, dtypes.complex128):
            warn(
                f"Input #{index} requires gradient and is not a double precision floating "
                "point or complex. This check will likely fail if all the inputs are not of "
                "double precision floating point or complex. ",
                stacklevel=4,
            )
        # (Only tensors with elements: autodiff reports stride 0 for some empty ones.)
        if value.numel() and not all(stride > 0 or size <= 1
                                     for stride, size in zip(value.stride(), value.shape)):
            raise RuntimeError(
                f"The {index}th input has a dimension with stride 0. gradcheck only supports "
                "inputs that are non-overlapping to be able to compute the numerical "
                "gradients correctly. You should call .contiguous on the input before "
                "passing it to gradcheck.")
        any_requires_grad = True
    if not any_requires_grad:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "them have requires_grad=True."
        )


def _check_backward_real_imag(compare: Callable[..., None], func: Callable[..., Any],
                              func_out: Any, inputs: tuple[Any, ...],
                              outputs: tuple[Tensor, ...], settings: Comparison) -> None:
    """Backward assumes a real loss: complex outputs are checked through their imaginary
    parts, then their real parts (complex inputs need nothing special here)."""
    if not any(isinstance(out, Tensor) and out.is_complex() for out in as_tuple(func_out)):
        compare(func, func_out, inputs, outputs, settings)
        return
    complex_indices = [number for number, out in enumerate(outputs) if out.is_complex()]
    for part, test_imag in ((imag, True), (real, False)):
        part_func = _complex_outputs_through(func, part)
        part_out = part_func(*inputs)
        compare(part_func, part_out, inputs, differentiable_outputs(part_out), settings,
                complex_indices=complex_indices, test_imag=test_imag)


def _check_forward_real_imag(compare: Callable[..., None], func: Callable[..., Any],
                             func_out: Any, inputs: tuple[Any, ...],
                             outputs: tuple[Tensor, ...], settings: Comparison,
                             check_undefined_grad: bool) -> None:
    """Forward mode takes real tangents: a complex input is checked as two real inputs, its
    imaginary part, then its real part, the other part held at its value."""
    complex_indices = [index for index, value in enumerate(inputs)
                       if isinstance(value, Tensor) and value.is_complex()]
    if not complex_indices:
        compare(func, func_out, inputs, outputs, settings, use_forward_ad=True)
        if check_undefined_grad:
            contracts.check_undefined_tangent(func, outputs, inputs)
        return
    checked = []
    for part, test_imag in ((imag, True), (real, False)):
        part_func = _complex_inputs_through(func, complex_indices, inputs, test_imag)
        part_inputs = tuple(part(value) if index in complex_indices else value
                            for index, value in enumerate(inputs))
        part_out = part_func(*part_inputs)
        compare(part_func, part_out, part_inputs, differentiable_outputs(part_out), settings,
                complex_indices=complex_indices, test_imag=test_imag, use_forward_ad=True)
        checked.append((part_func, part_out, part_inputs))
    if check_undefined_grad:
        for part_func, part_out, part_inputs in checked:
            contracts.check_undefined_tangent(part_func, as_tuple(part_out), part_inputs)


def _complex_outputs_through(func: Callable[..., Any],
                             part: Callable[[Tensor], Tensor]) -> Callable[..., Any]:
    """func with `part` (real or imag) applied to each complex output."""
    def part_of_outputs(*args: Any) -> tuple[Any, ...]:
        return tuple(part(out) if isinstance(out, Tensor) and out.is_complex() else out
                     for out in as_tuple(func(*args)))
    return part_of_outputs


def _complex_inputs_through(func: Callable[..., Any], complex_indices: list[int],
                            inputs: tuple[Any, ...], test_imag: bool) -> Callable[..., Any]:
    """func of real values standing for one part of each complex input; the other part is
    the input's own (not zero, so func always sees the values it was given)."""
    def of_parts(*args: Any) -> tuple[Any, ...]:
        values = list(args)
        for index in complex_indices:
            original = inputs[index]
            values[index] = (real(original) + values[index] * 1j if test_imag
                             else values[index] + imag(original) * 1j)
        return as_tuple(func(*values))
    return of_parts
