"""Central differences for gradcheck.

Each derivative is (f(x + v) - f(x - v)) / (2 eps) for a perturbation v of norm eps: along one
input element at a time (a Jacobian column) or along a direction u (a JVP, fast mode). A
complex input z = x + iy is perturbed along x and along iy separately; the two real
derivatives combine into the conjugate Wirtinger derivative ds/dx + i ds/dy, which is what
backward computes for a real output s (see PyTorch's complex autograd notes). Jacobians are laid
out as PyTorch lays them out: one row per input element, one column per output element.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ..creation import eye, zeros
from ..ops.joining import stack
from ..tensor import Tensor
from .gradcheck_common import as_tuple, is_float_or_complex

Direction = Tensor | tuple[Tensor, Tensor]  # a real input's u, or a complex input's (ur, ui)


def numerical_jacobians(func: Callable[..., Any], inputs: tuple[Any, ...], eps: float,
                        is_forward_ad: bool = False) -> list[tuple[Tensor, ...]]:
    """For each input that requires grad, one Jacobian per floating or complex output."""
    if not is_forward_ad and any(isinstance(out, Tensor) and out.is_complex()
                                 for out in as_tuple(func(*inputs))):
        raise ValueError("Expected output to be non-complex. get_numerical_jacobian no longer "
                         "supports functions that return complex outputs.")
    return [_jacobians_wrt(func, inputs, index, eps, is_forward_ad)
            for index, value in enumerate(inputs)
            if isinstance(value, Tensor) and value.requires_grad]


def numerical_jvps(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
                   u: Direction, eps: float, is_forward_ad: bool = False) -> list[Tensor]:
    """For each floating or complex output, J u (flattened) along `u` given on inputs[index]."""
    source = inputs[index]
    if isinstance(u, tuple):
        real_step = u[0].reshape(source.shape) * eps
        imag_step = u[1].reshape(source.shape) * eps
    else:
        real_step = imag_step = u.reshape(source.shape) * eps
    return _derivatives(func, inputs, index, real_step, imag_step, eps, None, is_forward_ad)


def _jacobians_wrt(func: Callable[..., Any], inputs: tuple[Any, ...], index: int, eps: float,
                   is_forward_ad: bool) -> tuple[Tensor, ...]:
    """Column k: the derivatives along input element k. The Jacobian has the input's dtype
    when the input is complex (conjugate Wirtinger derivatives), else the output's."""
    source = inputs[index]
    if source.numel() == 0:
        outputs = [out for out in as_tuple(func(*inputs)) if is_float_or_complex(out)]
        return tuple(zeros((0, out.numel()), device=out.device,
                           dtype=source.dtype if source.is_complex() else out.dtype)
                     for out in outputs)
    basis = eye(source.numel(), dtype=source.dtype, device=source.device)
    columns: list[list[Tensor]] = []
    for element, where in enumerate(itertools.product(*(range(n) for n in source.shape))):
        step = basis[element].reshape(source.shape) * eps
        derivatives = _derivatives(func, inputs, index, step, step, eps, where, is_forward_ad)
        if not columns:
            columns = [[] for _ in derivatives]
        for per_output, column in zip(columns, derivatives):
            per_output.append(column)
    return tuple(stack(per_output).to(source.dtype if source.is_complex()
                                      else per_output[0].dtype)
                 for per_output in columns)


def _derivatives(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
                 real_step: Tensor, imag_step: Tensor, eps: float, where: Any,
                 is_forward_ad: bool) -> list[Tensor]:
    ds_dx = _central_difference(func, inputs, index, real_step, eps, where)
    if not inputs[index].is_complex():  # R -> R (or R -> C for forward AD)
        if not is_forward_ad and any(value.is_complex() for value in ds_dx):
            raise AssertionError("Expected ds_dx to be real-valued, not complex.")
        return ds_dx
    ds_dy = _central_difference(func, inputs, index, imag_step * 1j, eps, where)
    result = []
    for along_x, along_y in zip(ds_dx, ds_dy):
        if along_x.is_complex():
            raise AssertionError("Expected ds_dx to be real-valued, not complex")
        result.append(along_x + along_y * 1j)  # the conjugate Wirtinger derivative
    return result


def _central_difference(func: Callable[..., Any], inputs: tuple[Any, ...], index: int,
                        step: Tensor, eps: float, where: Any) -> list[Tensor]:
    """(f(x + step) - f(x - step)) / (2 eps) for each floating or complex output. As in
    PyTorch, func gets the input tensor itself, its values moved (through `.data`, which
    autograd's in-place checks do not see): a function that holds x by other means, or is
    given x twice, sees the move too. x gets its values back afterwards, whatever happens."""
    source = inputs[index]
    original = source.data
    try:
        source.data = original - step
        below = _float_outputs(func, inputs)
        source.data = original + step
        above = _float_outputs(func, inputs)
    finally:
        source.data = original
    result = []
    for low, high in zip(below, above):
        _check_same_dtype_and_shape(low, high, eps, where)
        result.append(((high - low) / (2 * eps)).reshape(-1))
    return result


def _float_outputs(func: Callable[..., Any], inputs: tuple[Any, ...]) -> list[Tensor]:
    """Copies of func's floating and complex outputs, detached."""
    return [out.detach().clone() for out in as_tuple(func(*inputs)) if is_float_or_complex(out)]


def _check_same_dtype_and_shape(low: Tensor, high: Tensor, eps: float, where: Any) -> None:
    on_index = f"on index {where} " if where is not None else ""
    if low.shape != high.shape:
        raise AssertionError(
            "Expected `func` to return outputs with the same shape when inputs are perturbed "
            f"{on_index}by {eps}, but got: shapes {low.shape} and {high.shape}.")
    if low.dtype != high.dtype:
        raise AssertionError(
            "Expected `func` to return outputs with the same dtype when inputs are perturbed "
            f"{on_index}by {eps}, but got: dtypes {low.dtype} and {high.dtype}.")
