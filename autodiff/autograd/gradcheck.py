"""`gradcheck` and `gradgradcheck`: analytic gradients against central differences.

Everything goes through Tensors and their backend (perturbations are backend ops, values reach
Python through `tolist`), so the checks run on every device. Use float64 inputs: in float32
the central differences are too coarse for the default tolerances.

Jacobians are laid out as PyTorch's gradcheck prints them: one row per input element, one
column per output element.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..creation import rand, tensor
from ..tensor import Tensor, _wrap
from .gradients import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

Matrix = list[list[float]]


class GradcheckError(RuntimeError):
    """What gradcheck raises when a gradient is wrong (a RuntimeError, as in PyTorch)."""


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_grad_dtypes: bool = False) -> bool:
    """Check the gradients of `func` w.r.t. every input that requires grad against central
    differences: |analytical - numerical| <= atol + rtol * |numerical| elementwise, for every
    (output, input) pair. Backward also runs twice and must agree within `nondet_tol`.

    Returns True, or raises GradcheckError naming the first pair that differs, with both
    Jacobians (returns False instead with raise_exception=False).
    """
    try:
        _check(func, _as_tuple(inputs), eps, atol, rtol, nondet_tol, check_grad_dtypes)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_grad_dtypes: bool = False) -> bool:
    """gradcheck of the gradient: the function (inputs, grad_outputs) -> autograd.grad(func(
    inputs), inputs, grad_outputs, create_graph=True), so second derivatives are checked
    against central differences of first derivatives. grad_outputs default to random values
    in [-1, 1) that require grad (so the check covers the backward's dependence on them too).
    """
    input_tuple = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*input_tuple))
        grad_output_tuple = tuple(
            (rand(tuple(out.shape), dtype=out.dtype, device=out.device) * 2 - 1)
            .requires_grad_() for out in outputs)
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
                     check_grad_dtypes=check_grad_dtypes)


# ----------------------------------------------------------------------------- the check
def _check(func: Callable[..., Any], inputs: tuple[Any, ...], eps: float, atol: float,
           rtol: float, nondet_tol: float, check_grad_dtypes: bool) -> None:
    wrt = [index for index, value in enumerate(inputs)
           if isinstance(value, Tensor) and value.requires_grad]
    if not wrt:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "them have requires_grad=True."
        )
    for index in wrt:
        if inputs[index].dtype.name != "float64":
            warnings.warn(
                f"Input #{index} requires gradient and is not a double precision floating "
                "point or complex. This check will likely fail if all the inputs are not of "
                "double precision floating point or complex. ",
                stacklevel=3,
            )
    tensors = [out for out in _as_tuple(func(*inputs)) if isinstance(out, Tensor)]
    # Outputs and inputs are numbered among those that take part, as PyTorch numbers them.
    positions = [position for position, out in enumerate(tensors) if out.requires_grad]
    numerical = [_numerical_jacobian(func, inputs, index, eps) for index in wrt]
    if not positions:
        for per_output in numerical:  # nothing needs grad: every derivative must be zero
            for matrix in per_output:
                if not _allclose(matrix, [[0.0] * len(row) for row in matrix], atol, 0.0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    outputs = tuple(tensors[position] for position in positions)
    analytical = _analytical_jacobian(outputs, inputs, wrt, check_grad_dtypes)
    repeated = _analytical_jacobian(outputs, inputs, wrt, check_grad_dtypes)
    for input_number, index in enumerate(wrt):
        for output_number, position in enumerate(positions):
            expected = numerical[input_number][position]
            actual = analytical[input_number][output_number]
            if not _allclose(actual, expected, atol, rtol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {output_number} with respect to input "
                    f"{input_number},\nnumerical:{_show(expected, inputs[index])}\n"
                    f"analytical:{_show(actual, inputs[index])}\n"
                )
            if not _allclose(repeated[input_number][output_number], actual, nondet_tol, 0.0):
                raise GradcheckError(
                    "Backward is not reentrant, i.e., running backward with same input and "
                    "grad_output multiple times gives different values, although analytical "
                    "gradient matches numerical gradient.The tolerance for nondeterminism was "
                    f"{nondet_tol}."
                )


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


def _numerical_jacobian(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
                        eps: float) -> list[Matrix]:
    """For each Tensor output: rows = elements of inputs[index], columns = output elements,
    by (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) in the input's dtype."""
    source = inputs[index]
    backend = source._backend
    flat = backend.reshape(source._data, (-1,))
    size = flat.shape[0]
    basis = backend.multiply(backend.eye(size, None, backend.dtype_name(flat)), eps) \
        if size else None
    columns_per_output: list[Matrix] | None = None
    for element in range(size):
        step = backend.getitem(basis, (element, ...))
        values = []
        for shifted in (backend.add(flat, step), backend.subtract(flat, step)):
            moved = _wrap(backend.reshape(shifted, source._data.shape), backend)
            moved.requires_grad_(source.requires_grad)
            args = list(inputs)
            args[index] = moved
            values.append([_flat(out) for out in _as_tuple(func(*args))
                           if isinstance(out, Tensor)])
        plus, minus = values
        rows = [[(high - low) / (2 * eps) for high, low in zip(up, down)]
                for up, down in zip(plus, minus)]
        if columns_per_output is None:
            columns_per_output = [[] for _ in rows]
        for output_number, row in enumerate(rows):
            columns_per_output[output_number].append(row)
    if columns_per_output is None:  # an input without elements
        columns_per_output = [[] for out in _as_tuple(func(*inputs))
                              if isinstance(out, Tensor)]
    return columns_per_output


def _analytical_jacobian(outputs: tuple[Tensor, ...], inputs: tuple[Any, ...],
                         wrt: Sequence[int], check_grad_dtypes: bool) -> list[list[Matrix]]:
    """[input][output] -> rows = input elements, columns = output elements, one backward
    pass per output element."""
    targets = tuple(inputs[index] for index in wrt)
    result: list[list[Matrix]] = [[] for _ in wrt]
    for out in outputs:
        size = out.numel()
        backend = out._backend
        columns: list[list[list[float]]] = [[] for _ in wrt]
        basis = backend.eye(size, None, backend.dtype_name(out._data)) if size else None
        for element in range(size):
            seed = _wrap(backend.reshape(backend.getitem(basis, (element, ...)), out._data.shape),
                         backend)
            grads = _grad((out,), targets, (seed,), retain_graph=True, allow_unused=True)
            for number, (grad, target) in enumerate(zip(grads, targets)):
                if grad is None:
                    columns[number].append([0.0] * target.numel())
                    continue
                if grad.shape != target.shape:
                    raise GradcheckError("Gradient has shape mismatch")
                if check_grad_dtypes and grad.dtype != target.dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                columns[number].append(_flat(grad))
        for number, target in enumerate(targets):
            # Transpose: one row per input element.
            result[number].append([[column[row] for column in columns[number]]
                                   for row in range(target.numel())])
    return result


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
