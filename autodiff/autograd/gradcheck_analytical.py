"""The derivatives gradcheck compares with central differences, from autodiff itself.

Backward mode: one backward pass per output element (a Jacobian row per pass, stored as a
column: rows are input elements, as in the numerical Jacobian), or one pass with grad_output v
in fast mode; every pass runs twice and the two must agree within nondet_tol. Forward mode: one
dual pass per input element (or one along u in fast mode), the other inputs' tangents zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..creation import zeros, zeros_like
from ..ops.joining import stack
from ..tensor import Tensor
from . import forward_ad
from .gradcheck_common import GradcheckError, as_tuple, differentiable_inputs, is_float_or_complex
from .gradients import grad as _grad

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


def backward_jacobians(inputs: tuple[Any, ...], output: Tensor, nondet_tol: float,
                       check_grad_dtypes: bool, v: Tensor | None = None) -> tuple[Tensor, ...]:
    """Per input requiring grad: its Jacobian with `output` (input numel x output numel), or
    with v given, the single column v^T J (input numel x 1)."""
    targets = differentiable_inputs(inputs)
    first = _vjps(targets, output, v)
    second = _vjps(targets, output, v)
    columns = 1 if v is not None else output.numel()
    jacobians, sizes_ok, types_ok = _stack_and_check(first, targets, columns)
    repeated, _, _ = _stack_and_check(second, targets, columns)
    reentrant = all(a.numel() == 0 or not bool((a - b).abs().max() > nondet_tol)
                    for a, b in zip(jacobians, repeated))
    # PyTorch unpacks the two flags of its stacking step in swapped order, so a gradient of
    # the wrong shape is reported as a dtype mismatch (with check_grad_dtypes only) and one
    # of the wrong dtype as a wrong size; the same conditions give the same errors here.
    if not sizes_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not types_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and "
            "grad_output multiple times gives different values, although analytical "
            "gradient matches numerical gradient.The tolerance for nondeterminism was "
            f"{nondet_tol}." + _NONDETERMINISM_NOTE
        )
    return jacobians


def backward_jacobian(inputs: tuple[Any, ...], output: Tensor, number: int) -> Tensor:
    """One input's Jacobian, without the dtype, size and reentrancy checks."""
    return backward_jacobians(inputs, output, math.inf, False)[number]


def _vjps(targets: list[Tensor], output: Tensor,
          v: Tensor | None) -> list[list[Tensor | None]]:
    """Per target, the gradients for each grad_output: the basis vectors, or v."""
    if v is not None:
        seeds = [v.reshape(output.shape)]
    else:
        seeds = []
        for element in range(output.numel()):
            seed = zeros_like(output).reshape(-1)
            seed[element] = 1
            seeds.append(seed.reshape(output.shape))
    per_target: list[list[Tensor | None]] = [[] for _ in targets]
    for seed in seeds:
        grads = _grad((output,), tuple(targets), (seed,), retain_graph=True, allow_unused=True)
        for column, grad in zip(per_target, grads):
            column.append(None if grad is None else grad.detach().clone())
    return per_target


def _stack_and_check(per_target: list[list[Tensor | None]], targets: list[Tensor],
                     columns: int) -> tuple[tuple[Tensor, ...], bool, bool]:
    sizes_ok = types_ok = True
    jacobians = []
    for target, grads in zip(targets, per_target):
        stacked = []
        for grad in grads:
            if grad is None:
                stacked.append(zeros(target.numel(), dtype=target.dtype, device=target.device))
                continue
            if grad.shape != target.shape:
                sizes_ok = False
            elif grad.dtype != target.dtype:
                types_ok = False
            if grad.numel() != target.numel():
                raise AssertionError(f"Expected out_jacobian column to have {grad.numel()} "
                                     f"elements, but got {target.numel()}")
            if grad.is_complex() and not target.is_complex():
                grad = grad.real
            stacked.append(grad.reshape(-1).to(target.dtype))
        if stacked:
            jacobians.append(stack(stacked, dim=1))
        else:
            jacobians.append(zeros((target.numel(), columns), dtype=target.dtype,
                                   device=target.device))
    return tuple(jacobians), sizes_ok, types_ok


def forward_jacobians(func: Callable[..., Any], inputs: tuple[Any, ...],
                      check_grad_dtypes: bool = False,
                      all_u: Sequence[Tensor] | None = None) -> list[list[Tensor]]:
    """Per input requiring grad, per floating or complex output: the Jacobian from forward
    mode (input numel x output numel), or with all_u given, J u (output numel)."""
    targets = [index for index, value in enumerate(inputs)
               if isinstance(value, Tensor) and value.requires_grad]
    if any(inputs[index].is_complex() for index in targets):
        raise ValueError(
            "Expected inputs to be non-complex for _get_analytical_jacobian_forward_ad.")
    result = []
    for number, index in enumerate(targets):
        source = inputs[index]
        if all_u:
            tangents = [all_u[number].reshape(source.shape)]
        else:
            tangents = []
            for element in range(source.numel()):
                tangent = zeros(source.numel(), dtype=source.dtype, device=source.device)
                tangent[element] = 1
                tangents.append(tangent.reshape(source.shape))
        rows = [_tangents_out(func, inputs, targets, index, tangent, check_grad_dtypes)
                for tangent in tangents]
        if all_u:
            result.append(rows[0])
            continue
        if not rows:  # an input without elements
            outs = [out for out in as_tuple(func(*inputs)) if is_float_or_complex(out)]
            result.append([zeros((0, out.numel()), dtype=out.dtype, device=out.device)
                           for out in outs])
            continue
        result.append([stack(list(column)) for column in zip(*rows)])
    return result


def _tangents_out(func: Callable[..., Any], inputs: tuple[Any, ...], targets: list[int],
                  index: int, tangent: Tensor, check_grad_dtypes: bool) -> list[Tensor]:
    """The output tangents (flattened, in the outputs' dtypes; zeros where undefined) when
    inputs[index] moves along `tangent` and the other inputs that require grad stay put."""
    with forward_ad.dual_level():
        args = list(inputs)
        for position in targets:
            source = inputs[position].detach()
            args[position] = forward_ad.make_dual(
                source, tangent if position == index else zeros_like(source))
        flats = []
        for out in as_tuple(func(*args)):
            if not is_float_or_complex(out):
                continue
            primal, tangent_out = forward_ad.unpack_dual(out)
            if check_grad_dtypes and tangent_out is not None \
                    and primal.is_complex() != tangent_out.is_complex():
                raise GradcheckError("Forward AD gradient has dtype mismatch.")
            if tangent_out is None:
                flats.append(zeros(primal.numel(), dtype=primal.dtype, device=primal.device))
            else:
                if tangent_out.is_complex() and not primal.is_complex():
                    tangent_out = tangent_out.real
                flats.append(tangent_out.detach().reshape(-1).to(primal.dtype))
    return flats

