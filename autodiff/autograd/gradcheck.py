"""`gradcheck` and `gradgradcheck`: analytic gradients against central differences, with
PyTorch's options, checks, order of checks and messages.

Everything goes through Tensors and their backend (perturbations are backend ops, values reach
Python through `tolist`), so the checks run on every device. Use float64 inputs: in float32
the central differences are too coarse for the default tolerances.

Slow mode compares whole Jacobians, laid out as PyTorch prints them: one row per input element,
one column per output element. Fast mode compares v^T J u for a random vector u per input and v
per output (numerically: a directional difference along u; analytically: one backward pass
with grad_output v), and on a mismatch recomputes the slow Jacobians for the message.

With `check_forward_ad`, the Jacobian from forward-mode AD (one dual pass per input element,
or one per input along u in fast mode) is compared with the same central differences, and a
tangent left undefined must act as a zero one.

Then, as PyTorch does, backward must give zero gradients for zero grad_outputs, and (with
`check_undefined_grad`) must cope with an output whose gradient is undefined (None here).
Options that need vmap, which autodiff does not have yet, are refused.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .. import dtypes
from ..creation import rand, tensor, zeros_like
from ..function import Function
from ..generator import Generator
from ..tensor import Tensor, _wrap
from . import forward_ad
from .gradients import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

Matrix = list[list[float]]


class GradcheckError(RuntimeError):
    """What gradcheck raises when a gradient is wrong (a RuntimeError, as in PyTorch)."""


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients of `func` w.r.t. every input that requires grad against central
    differences: |analytical - numerical| <= atol + rtol * |numerical| elementwise, for every
    (output, input) pair (or for v^T J u, with atol scaled by sum(u) sum(v), in `fast_mode`).
    Backward also runs twice and must agree within `nondet_tol`.

    Returns True, or raises GradcheckError naming the first pair that differs (returns False
    instead with raise_exception=False). `masked` concerns sparse inputs, which autodiff does
    not have. `check_forward_ad` checks forward-mode AD too (`check_backward_ad=False`: only
    it). check_batched_grad and check_batched_forward_grad need vmap, which autodiff does not
    have: True is refused with a RuntimeError.
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
    _refuse("gradcheck", check_batched_grad=check_batched_grad,
            check_batched_forward_grad=check_batched_forward_grad)
    try:
        _check(func, _as_tuple(inputs), eps, atol, rtol, nondet_tol, check_undefined_grad,
               check_grad_dtypes, fast_mode, check_forward_ad, check_backward_ad)
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
    in [-1, 1) that require grad (so the check covers the backward's dependence on them too);
    non-contiguous ones with `gen_non_contig_grad_outputs`. `check_fwd_over_rev` checks the
    gradient's forward-mode derivative too (forward-over-reverse), `check_rev_over_rev` its
    backward (on by default).
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
    _refuse("gradgradcheck", check_batched_grad=check_batched_grad)
    input_tuple = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*input_tuple))
        grad_output_tuple = tuple(_random_grad_output(out, gen_non_contig_grad_outputs)
                                  for out in outputs)
    else:
        grad_output_tuple = _as_tuple(grad_outputs)
    count = len(grad_output_tuple)
    differentiable_inputs = {index for index, value in enumerate(input_tuple)
                             if isinstance(value, Tensor) and value.requires_grad}
    differentiable_grads = {index for index, value in enumerate(grad_output_tuple)
                            if value.requires_grad}

    def gradient_function(*args: Any) -> tuple[Tensor, ...]:
        input_args = tuple(value.requires_grad_() if index in differentiable_inputs else value
                           for index, value in enumerate(args[:-count]))
        outputs = _differentiable_outputs(func(*input_args))
        grads = tuple(value.requires_grad_() if index in differentiable_grads else value
                      for index, value in enumerate(args[-count:]))
        wrt = tuple(value for index, value in enumerate(input_args)
                    if index in differentiable_inputs)
        result = _grad(outputs, wrt, grads, create_graph=True, allow_unused=True)
        return tuple(grad for grad in result if grad is not None)

    return gradcheck(gradient_function, input_tuple + grad_output_tuple, eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, fast_mode=fast_mode, masked=masked,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev)


def _refuse(function: str, **options: bool) -> None:
    for option, value in options.items():
        if value:
            raise RuntimeError(f"{function}({option}=True) is not supported: it needs vmap, "
                               "which autodiff does not have")


def _random_grad_output(out: Tensor, non_contiguous: bool) -> Tensor:
    """Uniform on [-1, 1) like `out`, requiring grad; optionally a strided (non-contiguous)
    view of a larger buffer, as PyTorch's make_tensor(noncontiguous=True) makes it."""
    dtype = out.dtype if out.dtype.is_floating_point else dtypes.float64
    shape = tuple(out.shape)
    values = rand(shape, dtype=dtype, device=out.device) * 2 - 1
    if non_contiguous and values.numel() > 1:
        buffer = rand((*shape, 2), dtype=dtype, device=out.device)
        buffer[..., 0] = values
        values = buffer[..., 0]  # every other element of the buffer
    return values.detach().requires_grad_()


# ----------------------------------------------------------------------------- the check
def _check(func: Callable[..., Any], inputs: tuple[Any, ...], eps: float, atol: float,
           rtol: float, nondet_tol: float, check_undefined_grad: bool,
           check_grad_dtypes: bool, fast_mode: bool, check_forward_ad: bool = False,
           check_backward_ad: bool = True) -> None:
    wrt = _check_inputs(inputs)
    func_out = func(*inputs)
    tensors = [out for out in _as_tuple(func_out) if isinstance(out, Tensor)]
    # Outputs and inputs are numbered among those that take part, as PyTorch numbers them.
    positions = [position for position, out in enumerate(tensors) if out.requires_grad]
    outputs = tuple(tensors[position] for position in positions)
    if check_backward_ad:
        if fast_mode:
            _fast_check(func, inputs, wrt, outputs, positions, eps, atol, rtol, nondet_tol,
                        check_grad_dtypes)
        else:
            _slow_check(func, inputs, wrt, outputs, positions, eps, atol, rtol, nondet_tol,
                        check_grad_dtypes)
    if check_forward_ad:
        _forward_check(func, inputs, wrt, outputs, positions, eps, atol, rtol, fast_mode)
        if check_undefined_grad:
            _check_undefined_tangent(func, inputs, wrt)
    if not check_backward_ad:  # the rest needs backward
        return
    _check_backward_multiplies_by_grad_output(outputs, inputs, wrt)
    if check_undefined_grad:
        _check_undefined_grad(func, outputs, inputs, wrt)


def _check_inputs(inputs: tuple[Any, ...]) -> list[int]:
    """The positions of the inputs that require grad; PyTorch's warning for each that is not
    float64, and its error when there are none."""
    wrt = [index for index, value in enumerate(inputs)
           if isinstance(value, Tensor) and value.requires_grad]
    for index in wrt:
        if inputs[index].dtype.name != "float64":
            warnings.warn(
                f"Input #{index} requires gradient and is not a double precision floating "
                "point or complex. This check will likely fail if all the inputs are not of "
                "double precision floating point or complex. ",
                stacklevel=4,
            )
    if not wrt:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "them have requires_grad=True."
        )
    return wrt


def _slow_check(func: Callable[..., Any], inputs: tuple[Any, ...], wrt: list[int],
                outputs: tuple[Tensor, ...], positions: list[int], eps: float, atol: float,
                rtol: float, nondet_tol: float, check_grad_dtypes: bool) -> None:
    numerical = [_numerical_jacobian(func, inputs, index, eps) for index in wrt]
    if not outputs:  # nothing needs grad: every derivative must be zero
        for per_output in numerical:
            for matrix in per_output:
                if not _allclose(matrix, [[0.0] * len(row) for row in matrix], 0.0, 0.0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    for output_number, (out, position) in enumerate(zip(outputs, positions)):
        analytical = _analytical_rows(out, inputs, wrt, nondet_tol, check_grad_dtypes,
                                      basis=None)
        for input_number, index in enumerate(wrt):
            expected = numerical[input_number][position]
            actual = analytical[input_number]
            if not _allclose(actual, expected, atol, rtol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {output_number} with respect to input "
                    f"{input_number},\nnumerical:{_show(expected, inputs[index])}\n"
                    f"analytical:{_show(actual, inputs[index])}\n"
                )


def _fast_check(func: Callable[..., Any], inputs: tuple[Any, ...], wrt: list[int],
                outputs: tuple[Tensor, ...], positions: list[int], eps: float, atol: float,
                rtol: float, nondet_tol: float, check_grad_dtypes: bool) -> None:
    generator = Generator()  # its own, so the user's random numbers are not disturbed
    all_u = [_unit_vector(inputs[index], generator) for index in wrt]
    all_v = [_unit_vector(out, generator) for out in outputs]
    if not outputs:
        for index, u in zip(wrt, all_u):
            for jvp in _numerical_jvp(func, inputs, index, u, eps):
                if jvp and max(abs(value) for value in jvp) > nondet_tol:
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    # numerical[i][j] = v_j . (J_ji u_i), by a directional difference along u_i.
    numerical = []
    for index, u in zip(wrt, all_u):
        jvps = _numerical_jvp(func, inputs, index, u, eps)
        numerical.append([_dot(v, jvps[position]) for v, position in zip(all_v, positions)])
    for output_number, (out, v) in enumerate(zip(outputs, all_v)):
        rows = _analytical_rows(out, inputs, wrt, nondet_tol, check_grad_dtypes, basis=v)
        for input_number, u in enumerate(all_u):
            actual = _dot([row[0] for row in rows[input_number]], u)  # v^T J, one column
            expected = numerical[input_number][output_number]
            scaled_atol = atol * math.fsum(u) * math.fsum(v)
            if not abs(actual - expected) <= scaled_atol + rtol * abs(expected):
                raise GradcheckError(
                    f"Jacobian mismatch for output {output_number} with respect to input "
                    f"{input_number},\nnumerical:{expected!r}\nanalytical:{actual!r}\n"
                    + _slow_report(func, inputs, wrt[input_number], out, positions[
                        output_number], eps, atol, rtol)
                )


def _forward_check(func: Callable[..., Any], inputs: tuple[Any, ...], wrt: list[int],
                   outputs: tuple[Tensor, ...], positions: list[int], eps: float, atol: float,
                   rtol: float, fast_mode: bool) -> None:
    """Forward-mode AD against central differences: whole Jacobians (slow mode) or J u for
    one random unit vector u per input (fast mode)."""
    if not outputs:
        for index in wrt:
            for matrix in _numerical_jacobian(func, inputs, index, eps):
                if any(value != 0 for row in matrix for value in row):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    generator = Generator()
    for input_number, index in enumerate(wrt):
        if fast_mode:
            u = _unit_vector(inputs[index], generator)
            numerical = [[row] for row in _numerical_jvp(func, inputs, index, u, eps)]
            analytical = [[row] for row in _forward_jvps(func, inputs, wrt, index, [u])[0]]
        else:
            numerical = _numerical_jacobian(func, inputs, index, eps)
            basis = [[1.0 if k == element else 0.0 for k in range(inputs[index].numel())]
                     for element in range(inputs[index].numel())]
            by_output = _forward_jvps(func, inputs, wrt, index, basis)
            analytical = by_output
        for output_number, position in enumerate(positions):
            actual, expected = analytical[position], numerical[position]
            if not _allclose(actual, expected, atol, rtol):
                raise GradcheckError(
                    "Jacobian computed with forward mode mismatch for output "
                    f"{output_number} with respect to input {input_number},\n"
                    f"numerical:{_show(expected, inputs[index])}\n"
                    f"analytical:{_show(actual, inputs[index])}\n"
                )


def _forward_jvps(func: Callable[..., Any], inputs: tuple[Any, ...], wrt: list[int],
                  index: int, directions: list[list[float]]) -> list[Matrix]:
    """For each Tensor output, one row per direction: J u for u given on inputs[index] (the
    other inputs' tangents zero), by one forward pass on dual tensors each."""
    rows: list[Matrix] | None = None
    for direction in directions:
        with forward_ad.dual_level():
            args = list(inputs)
            for position in wrt:
                source = inputs[position].detach()
                if position == index:
                    tangent = tensor(direction, dtype=source.dtype,
                                     device=source.device).reshape(source.shape)
                else:
                    tangent = zeros_like(source)
                args[position] = forward_ad.make_dual(source, tangent)
            outs = [out for out in _as_tuple(func(*args)) if isinstance(out, Tensor)]
            flats = []
            for out in outs:
                unpacked = forward_ad.unpack_dual(out)
                flats.append(_flat(unpacked.tangent) if unpacked.tangent is not None
                             else [0.0] * unpacked.primal.numel())
        if rows is None:
            rows = [[] for _ in outs]
        for matrix, flat in zip(rows, flats):
            matrix.append(flat)
    return rows or []


def _check_undefined_tangent(func: Callable[..., Any], inputs: tuple[Any, ...],
                             wrt: list[int]) -> None:
    """An input without a tangent must act as one with a zero tangent (PyTorch's
    _test_undefined_forward_mode)."""
    generator = Generator()
    with forward_ad.dual_level():
        duals = list(inputs)
        for position in wrt:
            source = inputs[position].detach()
            u = tensor(_unit_vector(source, generator), dtype=source.dtype,
                       device=source.device).reshape(source.shape)
            duals[position] = forward_ad.make_dual(source, u)
        for position in wrt:
            kept = duals[position]
            source = inputs[position].detach()
            duals[position] = forward_ad.make_dual(source, zeros_like(source))
            with_zero = [out for out in _as_tuple(func(*duals)) if isinstance(out, Tensor)
                         and out.dtype.is_floating_point]
            duals[position] = source
            without = [out for out in _as_tuple(func(*duals)) if isinstance(out, Tensor)
                       and out.dtype.is_floating_point]
            duals[position] = kept
            for number, (first, second) in enumerate(zip(with_zero, without)):
                zero_tangent = forward_ad.unpack_dual(first).tangent
                no_tangent = forward_ad.unpack_dual(second).tangent
                if zero_tangent is not None and no_tangent is not None and not _allclose(
                        [_flat(zero_tangent)], [_flat(no_tangent)], 1e-8, 1e-5):
                    raise GradcheckError(
                        f"Mismatch in tangent values for output with index: {number} when "
                        f"input: {inputs[position]} has an undefined tangent value.  Got: "
                        f"{zero_tangent} but expected: {no_tangent}"
                    )


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


def _slow_report(func: Callable[..., Any], inputs: tuple[Any, ...], index: int, out: Tensor,
                 position: int, eps: float, atol: float, rtol: float) -> str:
    """Fast mode's mismatch, recomputed in slow mode for the message (PyTorch's wording)."""
    numerical = _numerical_jacobian(func, inputs, index, eps)[position]
    analytical = _analytical_rows(out, inputs, [index], math.inf, False, basis=None)[0]
    difference = max((abs(a - n) for row_a, row_n in zip(analytical, numerical)
                      for a, n in zip(row_a, row_n)), default=0.0)
    message = (
        "\nThe above quantities relating the numerical and analytical jacobians are computed \n"
        "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more "
        "background \nabout fast mode. Below, we recompute numerical and analytical jacobians "
        "in slow mode:\n\n"
        f"Numerical:\n {_show(numerical, inputs[index])}\n"
        f"Analytical:\n{_show(analytical, inputs[index])}\n\n"
        f"The max per-element difference (slow mode) is: {difference!r}.\n"
    )
    if _allclose(analytical, numerical, atol, rtol):
        message += _FAST_FAIL_SLOW_OK
    return message


_NONDETERMINISM_NOTE = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""


def _analytical_rows(out: Tensor, inputs: tuple[Any, ...], wrt: Sequence[int],
                     nondet_tol: float, check_grad_dtypes: bool, basis: Any) -> list[Matrix]:
    """Per input: rows = input elements, columns = output elements, one backward pass per
    output element (`basis` None), or one column, the vector-Jacobian product with `basis`.
    Computed twice: the two must agree within nondet_tol (PyTorch's "reentrant" check)."""
    first = _vector_jacobian_products(out, inputs, wrt, check_grad_dtypes, basis)
    second = _vector_jacobian_products(out, inputs, wrt, check_grad_dtypes, basis)
    for matrix_a, matrix_b in zip(first, second):
        if any(abs(a - b) > nondet_tol for row_a, row_b in zip(matrix_a, matrix_b)
               for a, b in zip(row_a, row_b)):
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and "
                "grad_output multiple times gives different values, although analytical "
                "gradient matches numerical gradient.The tolerance for nondeterminism was "
                f"{nondet_tol}." + _NONDETERMINISM_NOTE
            )
    return first


def _vector_jacobian_products(out: Tensor, inputs: tuple[Any, ...], wrt: Sequence[int],
                              check_grad_dtypes: bool, basis: Any) -> list[Matrix]:
    targets = tuple(inputs[index] for index in wrt)
    backend = out._backend
    if basis is None:
        size = out.numel()
        eye = backend.eye(size, None, backend.dtype_name(out._data)) if size else None
        seeds = [backend.getitem(eye, (element, ...)) for element in range(size)]
    else:
        seeds = [backend.asarray(basis, dtype=backend.dtype_name(out._data))]
    columns: list[list[list[float]]] = [[] for _ in wrt]
    for seed in seeds:
        grad_output = _wrap(backend.reshape(seed, out._data.shape), backend)
        grads = _grad((out,), targets, (grad_output,), retain_graph=True, allow_unused=True)
        for number, (grad, target) in enumerate(zip(grads, targets)):
            if grad is None:
                columns[number].append([0.0] * target.numel())
                continue
            if grad.shape != target.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            if check_grad_dtypes and grad.dtype != target.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            columns[number].append(_flat(grad))
    # Transpose: one row per input element.
    return [[[column[row] for column in columns[number]] for row in range(target.numel())]
            for number, target in enumerate(targets)]


def _check_backward_multiplies_by_grad_output(outputs: tuple[Tensor, ...],
                                              inputs: tuple[Any, ...], wrt: list[int]) -> None:
    """Zero grad_outputs must give zero gradients of the inputs' dtype, device and size."""
    if not outputs:
        return
    targets = tuple(inputs[index] for index in wrt)
    grads = _grad(outputs, targets, tuple(zeros_like(out) for out in outputs),
                  allow_unused=True)
    for grad, target in zip(grads, targets):
        if grad is None:
            continue
        if any(value != 0 for value in _flat(grad)):
            raise GradcheckError("backward not multiplied by grad_output")
        if grad.dtype != target.dtype:
            raise GradcheckError("grad is incorrect type")
        if grad.device != target.device:
            raise GradcheckError("grad is incorrect device")
        if grad.shape != target.shape:
            raise GradcheckError("grad is incorrect size")


class _UndefinedGrad(Function):
    """A copy of its input whose backward passes no gradient (None, PyTorch's undefined
    gradient) to the node that made it."""

    node_name = "UndefinedGradBackward"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.asarray(a, copy=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> None:
        return None


_UNDEFINED_NOTES = 'Please look at "Notes about undefined output gradients" in ' \
                   '"tools/autograd/derivatives.yaml"'


def _check_undefined_grad(func: Callable[..., Any], outputs: tuple[Tensor, ...],
                          inputs: tuple[Any, ...], wrt: list[int]) -> None:
    """Every backward must cope with outputs whose gradient is undefined: all of them at once,
    and, for several outputs, each one in turn; the inputs' gradients must then be undefined
    or zero."""
    targets = tuple(inputs[index] for index in wrt)
    cases = [tuple(_UndefinedGrad.apply(out) for out in _differentiable_outputs(
        func(*inputs)))]
    if len(cases[0]) > 1:
        for undefined in range(len(outputs)):
            fresh = _differentiable_outputs(func(*inputs))
            cases.append(tuple(_UndefinedGrad.apply(out) if number == undefined else out
                               for number, out in enumerate(fresh)))
    for case in cases:
        try:
            grads = _grad(case, targets, tuple(zeros_like(out) for out in case),
                          allow_unused=True)
        except RuntimeError as error:
            _warn_undefined_grad_check()
            raise GradcheckError("Expected backward function to handle undefined output "
                                 f"grads. {_UNDEFINED_NOTES}") from error
        for grad in grads:
            if grad is not None and any(value != 0 for value in _flat(grad)):
                _warn_undefined_grad_check()
                raise GradcheckError("Expected all input grads to be undefined or zero when "
                                     "all output grads are undefined or zero. "
                                     f"{_UNDEFINED_NOTES}")


def _warn_undefined_grad_check() -> None:
    warnings.warn(
        "Backwards compatibility: New undefined gradient support checking feature is enabled "
        "by default, but it may break existing callers of this function. If this is true for "
        'you, you can call this function with "check_undefined_grad=False" to disable the '
        "feature", stacklevel=4)


# ----------------------------------------------------------------------------- numerics
def _as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    return (value,)


def _differentiable_outputs(value: Any) -> tuple[Tensor, ...]:
    return tuple(out for out in _as_tuple(value) if isinstance(out, Tensor) and out.requires_grad)


def _flat(value: Tensor) -> list[float]:
    return [float(item) for item in value.detach().reshape(-1).tolist()]


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b))


def _unit_vector(like: Tensor, generator: Generator) -> list[float]:
    """PyTorch's fast-mode vector: uniform [0, 1) float32 draws, in `like`'s dtype, scaled to
    unit norm."""
    values = rand(like.numel(), generator=generator).to(like.dtype)
    return _flat(values / values.norm())


def _perturbed(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
               step: Any) -> list[list[float]]:
    """The Tensor outputs of func with inputs[index] + step (a backend array), flattened."""
    source = inputs[index]
    backend = source._backend
    moved = _wrap(backend.add(source._data, step), backend)
    moved.requires_grad_(source.requires_grad)
    args = list(inputs)
    args[index] = moved
    return [_flat(out) for out in _as_tuple(func(*args)) if isinstance(out, Tensor)]


def _central_difference(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
                        step: Any, eps: float) -> list[list[float]]:
    backend = inputs[index]._backend
    plus = _perturbed(func, inputs, index, step)
    minus = _perturbed(func, inputs, index, backend.negative(step))
    return [[(high - low) / (2 * eps) for high, low in zip(up, down)]
            for up, down in zip(plus, minus)]


def _numerical_jvp(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
                   u: list[float], eps: float) -> list[list[float]]:
    """For each Tensor output, J u by (f(x + eps u) - f(x - eps u)) / (2 eps)."""
    source = inputs[index]
    backend = source._backend
    step = backend.reshape(backend.asarray([value * eps for value in u],
                                           dtype=backend.dtype_name(source._data)),
                           source._data.shape)
    return _central_difference(func, inputs, index, step, eps)


def _numerical_jacobian(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
                        eps: float) -> list[Matrix]:
    """For each Tensor output: rows = elements of inputs[index], columns = output elements,
    by (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) in the input's dtype."""
    source = inputs[index]
    backend = source._backend
    shape = source._data.shape
    size = source.numel()
    basis = backend.multiply(backend.eye(size, None, backend.dtype_name(source._data)), eps) \
        if size else None
    columns_per_output: list[Matrix] | None = None
    for element in range(size):
        step = backend.reshape(backend.getitem(basis, (element, ...)), shape)
        rows = _central_difference(func, inputs, index, step, eps)
        if columns_per_output is None:
            columns_per_output = [[] for _ in rows]
        for output_number, row in enumerate(rows):
            columns_per_output[output_number].append(row)
    if columns_per_output is None:  # an input without elements
        columns_per_output = [[] for out in _as_tuple(func(*inputs))
                              if isinstance(out, Tensor)]
    return columns_per_output


def _allclose(actual: Matrix, expected: Matrix, atol: float, rtol: float) -> bool:
    for row_a, row_e in zip(actual, expected):
        for a, e in zip(row_a, row_e):
            if not abs(a - e) <= atol + rtol * abs(e):  # `not <=`: a NaN fails
                return False
    return True


def _show(matrix: Matrix, reference: Tensor) -> str:
    if not matrix or not matrix[0]:
        return repr(tensor([], dtype=reference.dtype).reshape(len(matrix), 0))
    return repr(tensor(matrix, dtype=reference.dtype))
