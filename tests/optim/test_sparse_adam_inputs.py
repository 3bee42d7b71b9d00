"""SparseAdam's refusals, as PyTorch's: dense gradients at step (before anything changes, in
any group), and sparse or complex parameters at construction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn, optim

try:
    import torch
except ImportError:
    torch = None

DENSE = "SparseAdam does not support dense gradients, please consider Adam instead"


def _libraries() -> list[Any]:
    return [autodiff] if torch is None else [autodiff, torch]


def test_a_dense_gradient_is_refused_before_any_update(device: str) -> None:
    table = nn.Parameter(autodiff.arange(12.0, device=device).reshape(4, 3))
    other = nn.Parameter(autodiff.ones(2, 3, device=device))
    optimizer = optim.SparseAdam([{"params": [table]}, {"params": [other], "lr": 0.5}])
    table.grad = autodiff.ones(4, 3, device=device).to_sparse(sparse_dim=1)
    optimizer.step()
    before = table.detach().clone()
    state = {key: value.clone() if isinstance(value, autodiff.Tensor) else value
             for key, value in optimizer.state[table].items()}
    versions = table._version, optimizer.state[table]["exp_avg"]._version
    # The first group's gradient is sparse; the second group's is dense.
    table.grad = autodiff.ones(4, 3, device=device).to_sparse(sparse_dim=1)
    other.grad = autodiff.ones(2, 3, device=device)
    with pytest.raises(RuntimeError, match=DENSE):
        optimizer.step()
    np.testing.assert_array_equal(table.detach().cpu().numpy(), before.cpu().numpy())
    assert optimizer.state[table]["step"] == state["step"] == 1
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(optimizer.state[table][key].cpu().numpy(),
                                      state[key].cpu().numpy())
    assert (table._version, optimizer.state[table]["exp_avg"]._version) == versions
    assert other not in optimizer.state
    np.testing.assert_array_equal(other.detach().cpu().numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("lib", _libraries(), ids=lambda lib: lib.__name__)
def test_a_dense_gradient_message_matches_torch(lib: Any) -> None:
    weight = lib.nn.Parameter(lib.zeros(3, 2))
    optimizer = lib.optim.SparseAdam([weight])
    weight.grad = lib.ones(3, 2)
    with pytest.raises(RuntimeError, match=DENSE):
        optimizer.step()
    assert not optimizer.state.get(weight)


@pytest.mark.parametrize("lib", _libraries(), ids=lambda lib: lib.__name__)
def test_sparse_and_complex_parameters_are_refused(lib: Any) -> None:
    dense = lib.nn.Parameter(lib.zeros(3, 2))
    sparse = lib.zeros(3, 2).to_sparse()
    with pytest.raises(ValueError, match=r"^Sparse params at indices \[\[1, 0\]\]: SparseAdam "
                       r"requires dense parameter tensors$"):
        lib.optim.SparseAdam([{"params": [dense]}, {"params": [sparse]}])
    complex_param = lib.nn.Parameter(lib.zeros(2, dtype=lib.complex64))
    with pytest.raises(ValueError, match=r"^Complex params at indices \[\[0, 1\]\]: SparseAdam "
                       r"does not support complex parameters$"):
        lib.optim.SparseAdam([dense, complex_param])
