"""parameters_to_vector / vector_to_parameters: all parameters as one flat vector and back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...ops.joining import cat
from ...tensor import Tensor
from ..modules.module import typename


def _check_param_device(param: Tensor, device: Any) -> Any:
    if device is None:
        return param.device
    if param.device != device:
        raise TypeError(
            "Found two parameters on different devices, this is currently not supported.")
    return device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated into one vector (differentiable: a
    CatBackward0 node over views of them)."""
    device = None
    pieces = []
    for param in parameters:
        device = _check_param_device(param, device)
        pieces.append(param.view(-1))
    return cat(pieces)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's data the next slice of `vec` (viewed to its shape): afterwards
    they share `vec`'s memory."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count
