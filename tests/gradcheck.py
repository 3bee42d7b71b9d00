"""Numerical gradient checks in float64 by central differences, for the op table's tests.

Values move between host and device only through the public API (`tolist`, `autodiff.tensor`),
so the same check runs on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import autodiff


def numerical_jacobian(function: Callable[..., autodiff.Tensor], inputs: Sequence[autodiff.Tensor],
                       index: int, eps: float = 1e-6) -> np.ndarray:
    """d(output.flatten()) / d(inputs[index].flatten()) by central differences."""
    base = [np.array(t.detach().tolist(), dtype=np.float64).reshape(tuple(t.shape))
            for t in inputs]
    device = inputs[index].device

    def evaluate(values: np.ndarray) -> np.ndarray:
        args = [autodiff.tensor(b, dtype=autodiff.float64, device=t.device)
                for b, t in zip(base, inputs)]
        args[index] = autodiff.tensor(values, dtype=autodiff.float64, device=device)
        with autodiff.no_grad():
            out = function(*args)
        return np.array(out.tolist(), dtype=np.float64).reshape(-1)

    flat = base[index].reshape(-1)
    columns = []
    for position in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[position] += eps
        minus[position] -= eps
        columns.append((evaluate(plus.reshape(base[index].shape))
                        - evaluate(minus.reshape(base[index].shape))) / (2 * eps))
    out_size = evaluate(base[index]).size
    if not columns:
        return np.zeros((out_size, 0))
    return np.stack(columns, axis=1)


def analytic_jacobian(function: Callable[..., autodiff.Tensor], inputs: Sequence[autodiff.Tensor],
                      index: int) -> np.ndarray:
    """The same Jacobian from backward passes, one per output element."""
    leaves = [t.detach().requires_grad_(t.dtype.is_floating_point) for t in inputs]
    output = function(*leaves)
    out_size = output.numel()
    rows = []
    for position in range(out_size):
        seed = np.zeros(out_size)
        seed[position] = 1.0
        for leaf in leaves:
            leaf.grad = None
        output.backward(autodiff.tensor(seed.reshape(tuple(output.shape)), dtype=output.dtype,
                                        device=output.device), retain_graph=True)
        grad = leaves[index].grad
        size = leaves[index].numel()
        rows.append(np.zeros(size) if grad is None else np.array(grad.tolist()).reshape(-1))
    if not rows:
        return np.zeros((0, leaves[index].numel()))
    return np.stack(rows, axis=0)


def assert_gradients_match(function: Callable[..., autodiff.Tensor],
                           inputs: Sequence[autodiff.Tensor], atol: float = 1e-5,
                           rtol: float = 1e-3, eps: float = 1e-6) -> None:
    for index, tensor in enumerate(inputs):
        if not tensor.dtype.is_floating_point:
            continue
        numerical = numerical_jacobian(function, inputs, index, eps)
        analytic = analytic_jacobian(function, inputs, index)
        np.testing.assert_allclose(
            analytic, numerical, atol=atol, rtol=rtol,
            err_msg=f"gradient w.r.t. input {index} (shape {tuple(tensor.shape)}) differs",
        )
