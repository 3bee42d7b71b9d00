"""Tensor reprs (placeholder until PyTorch-identical formatting lands)."""

from __future__ import annotations

from typing import Any


def tensor_repr(tensor: Any) -> str:
    suffix = ""
    if tensor.grad_fn is not None:
        suffix = f", grad_fn=<{tensor.grad_fn.name()}>"
    elif tensor.requires_grad:
        suffix = ", requires_grad=True"
    return f"tensor({tensor.tolist()}{suffix})"
