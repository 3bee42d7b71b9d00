"""Helpers several test modules share: pytest.raises for PyTorch's exact wording, and float64
leaves with their gradients."""

from __future__ import annotations

import re
from typing import Any

import pytest

import autodiff


def raises(error: type[BaseException], message: str) -> Any:
    """pytest.raises for exactly this message (PyTorch's wording, character for character)."""
    return pytest.raises(error, match=f"^{re.escape(message)}$")


def raises_starting(error: type[BaseException], message: str) -> Any:
    return pytest.raises(error, match=f"^{re.escape(message)}")


def raises_containing(error: type[BaseException], message: str) -> Any:
    return pytest.raises(error, match=re.escape(message))


def leaf(values: object, device: str = "cpu") -> autodiff.Tensor:
    """A float64 tensor that requires grad."""
    return autodiff.tensor(values, dtype=autodiff.float64, device=device, requires_grad=True)


def grad_of(function: object, values: object, device: str = "cpu") -> list[float]:
    """The gradient of function(x).sum() at x = values, as a list."""
    x = leaf(values, device)
    function(x).sum().backward()  # type: ignore[operator]
    assert x.grad is not None
    return x.grad.tolist()
