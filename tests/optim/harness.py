"""Runs an optimizer several steps on a small problem, in autodiff, in a NumPy reference and in
torch.optim, and compares the trajectories.

A problem has two parameters whose gradients depend on the parameters (so an error in one step
changes every later gradient), in two parameter groups: the second group has its own lr. The
first group also holds a parameter that never gets a gradient, which must stay untouched and
have no state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn

STEPS = 6
SECOND_GROUP_LR = 0.05


@dataclass
class Problem:
    initial: tuple[np.ndarray, np.ndarray]
    gradient: Callable[[int, int, np.ndarray], np.ndarray]  # (parameter, step, value) -> g
    row_sparse: bool = False  # in torch, gradients as sparse rows (what an Embedding gives)


_RNG = np.random.default_rng(1234)
# A quadratic bowl 0.5 θᵀAθ - bᵀθ, and a matrix pulled towards a target.
_A = _RNG.standard_normal((5, 5))
_A = _A @ _A.T / 5 + np.eye(5)
_B = _RNG.standard_normal(5)
_W_TARGET = _RNG.standard_normal((2, 3))


def _quadratic(index: int, step: int, value: np.ndarray) -> np.ndarray:
    return _A @ value - _B if index == 0 else 3.0 * (value - _W_TARGET)


QUADRATIC = Problem((_RNG.standard_normal(5), _RNG.standard_normal((2, 3))), _quadratic)

# Two matrices (Muon and Adafactor's factored moments): a wide one and a tall one.
_TARGETS = (_RNG.standard_normal((3, 5)), _RNG.standard_normal((4, 2)))


def _matrices(index: int, step: int, value: np.ndarray) -> np.ndarray:
    return 2.0 * (value - _TARGETS[index]) + 0.1 * value**3


MATRICES = Problem((_RNG.standard_normal((3, 5)), _RNG.standard_normal((4, 2))), _matrices)

# Embedding-like tables whose gradient touches a few rows per step (SparseAdam's lazy rows).
_ROWS = [[0, 2], [2, 5], [1], [0, 5, 3], [4], [2, 3]]


def _rows(index: int, step: int, value: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(value)
    for row in _ROWS[(step + index) % len(_ROWS)]:
        grad[row] = value[row] - 0.5 * (row + 1) + 0.3 * index
    return grad


ROWS = Problem((_RNG.standard_normal((6, 3)), _RNG.standard_normal((6, 2))), _rows,
               row_sparse=True)


def host(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64)


def run_autodiff(make: Callable[[list[dict[str, Any]]], Any], device: str = "cpu",
                 dtype: Any = autodiff.float64, steps: int = STEPS,
                 problem: Problem = QUADRATIC) -> list[tuple[np.ndarray, np.ndarray]]:
    first, second = (nn.Parameter(autodiff.tensor(value, dtype=dtype, device=device))
                     for value in problem.initial)
    frozen = nn.Parameter(autodiff.ones(*problem.initial[0].shape, dtype=dtype, device=device))
    optimizer = make([{"params": [first, frozen]},
                      {"params": [second], "lr": SECOND_GROUP_LR}])
    history = []
    for step in range(steps):
        for index, param in enumerate((first, second)):
            grad = autodiff.tensor(problem.gradient(index, step, host(param)), dtype=dtype,
                                   device=device)
            param.grad = grad.to_sparse(sparse_dim=1) if problem.row_sparse else grad
        optimizer.step()
        history.append((host(first), host(second)))
    assert np.all(host(frozen) == 1)
    # No state for it (Adagrad makes its state up front, as PyTorch's: it never stepped).
    frozen_state = optimizer.state.get(frozen)
    assert not frozen_state or float(frozen_state["step"]) == 0
    return history


def run_reference(make_rule: Callable[[float | None], Any], steps: int = STEPS,
                  problem: Problem = QUADRATIC) -> list[tuple[np.ndarray, np.ndarray]]:
    """make_rule(lr) gives a reference rule; lr None is the optimizer's own lr."""
    rules = [make_rule(None), make_rule(SECOND_GROUP_LR)]
    values = [value.copy() for value in problem.initial]
    history = []
    for step in range(steps):
        values = [rule.step(value, problem.gradient(index, step, value))
                  for index, (rule, value) in enumerate(zip(rules, values))]
        history.append((values[0].copy(), values[1].copy()))
    return history


def run_torch(make: Callable[[Any, list[dict[str, Any]]], Any], steps: int = STEPS,
              problem: Problem = QUADRATIC) -> list[tuple[np.ndarray, np.ndarray]]:
    """The same run in torch.optim (float64); make(torch.optim, groups)."""
    torch = pytest.importorskip("torch")
    first, second = (torch.nn.Parameter(torch.tensor(value)) for value in problem.initial)
    frozen = torch.nn.Parameter(torch.ones(problem.initial[0].shape, dtype=torch.float64))
    optimizer = make(torch.optim, [{"params": [first, frozen]},
                                   {"params": [second], "lr": SECOND_GROUP_LR}])
    history = []
    for step in range(steps):
        for index, param in enumerate((first, second)):
            grad = torch.tensor(problem.gradient(index, step, param.detach().numpy()))
            param.grad = grad.to_sparse(sparse_dim=1) if problem.row_sparse else grad
        optimizer.step()
        history.append((first.detach().numpy().copy(), second.detach().numpy().copy()))
    return history


def assert_same(ours: Any, reference: Any, rtol: float) -> None:
    assert len(ours) == len(reference)
    for step, ((first, second), (first_ref, second_ref)) in enumerate(zip(ours, reference), 1):
        np.testing.assert_allclose(first, first_ref, rtol=rtol, atol=rtol,
                                   err_msg=f"first parameter after step {step}")
        np.testing.assert_allclose(second, second_ref, rtol=rtol, atol=rtol,
                                   err_msg=f"second parameter after step {step}")
