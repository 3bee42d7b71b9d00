"""saved_tensors' own unpacking of plain saved entries (inputs kept as saved, arrays forward
computed): the version check, the same values on every read, and hooks still seeing each one."""

from __future__ import annotations

import pytest

import autodiff
from autodiff.nn import functional as F


def _loss_inputs() -> tuple[autodiff.Tensor, autodiff.Tensor]:
    z = autodiff.randn(4, 3, requires_grad=True)
    return z, autodiff.tensor([0, 2, 1, 2])


def test_saved_input_modified_in_place_raises_at_backward() -> None:
    z, t = _loss_inputs()
    log_probs = F.log_softmax(z, 1)
    loss = F.nll_loss(log_probs, t)
    with autodiff.no_grad():
        log_probs.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    assert z.grad is None


def test_saved_entries_read_back_alike() -> None:
    z, t = _loss_inputs()
    log_probs = F.log_softmax(z, 1)
    loss = F.nll_loss(log_probs, t)
    node = loss.grad_fn
    first, second = node.saved_tensors, node.saved_tensors
    assert first[2] is log_probs and second[3] is t  # inputs: the Tensors themselves
    for a, b in zip(first[:2], second[:2]):  # arrays forward computed: the same values
        assert a.tolist() == b.tolist()
    assert node._saved_self is log_probs and node._saved_target is t
    loss.backward()
    assert z.grad is not None


def test_hooks_see_every_saved_tensor() -> None:
    z, t = _loss_inputs()
    packed, unpacked = [], []

    def pack(tensor: autodiff.Tensor) -> autodiff.Tensor:
        packed.append(tensor)
        return tensor

    def unpack(tensor: autodiff.Tensor) -> autodiff.Tensor:
        unpacked.append(tensor)
        return tensor

    log_probs = F.log_softmax(z, 1)
    with autodiff.autograd.graph.saved_tensors_hooks(pack, unpack):
        loss = F.nll_loss(log_probs, t)
    loss.backward()
    assert len(packed) == 4 and len(unpacked) == 4  # safe, scale, input, target (no weight)
    assert any(tensor is t for tensor in packed)
