"""Strides of tensors without elements and of their views, as PyTorch computes them: a new
empty tensor has contiguous strides (each size counted as at least 1), and a view's strides
follow from its input's by the view's own rule, whatever the sizes (NumPy gives new empty
arrays zero strides, which its views would inherit). Also expand's size-1 dims, whose strides
NumPy zeroes. The expected strides are PyTorch 2.13's, checked against PyTorch where it is
installed."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff

# name -> (shape of a new empty tensor x, a view of x, PyTorch's strides of that view)
VIEWS: dict[str, tuple[tuple[int, ...], Any, tuple[int, ...]]] = {
    "slice": ((0, 3), lambda x: x[:, 1:], (3, 1)),
    "slice_step": ((0, 3, 4), lambda x: x[:, 1:, ::2], (12, 4, 2)),
    "slice_to_empty": ((3, 4), lambda x: x[1:1, ::2], (4, 2)),
    "slice_past_end": ((3, 4), lambda x: x[:, 4:], (4, 1)),
    "transpose": ((2, 0, 3), lambda x: x.transpose(0, 2), (1, 3, 3)),
    "t": ((0, 3), lambda x: x.t(), (1, 3)),
    "mT": ((2, 0, 3), lambda x: x.mT, (3, 1, 3)),
    "permute": ((2, 0, 3), lambda x: x.permute(1, 2, 0), (3, 1, 3)),
    "movedim": ((0, 3, 2), lambda x: x.movedim(0, 2), (2, 1, 6)),
    "expand": ((0, 3), lambda x: x.expand(2, 0, 3), (0, 3, 1)),
    "expand_size_1": ((0, 1), lambda x: x.expand(0, 3), (1, 0)),
    "expand_to_empty": ((1, 3), lambda x: x.expand(0, 3), (0, 1)),
    "narrow": ((0, 3), lambda x: x.narrow(1, 1, 2), (3, 1)),
    "select": ((0, 3), lambda x: x.select(1, 1), (3,)),
    "select_first": ((2, 0, 3), lambda x: x[1], (3, 1)),
    "index_ellipsis": ((0, 3), lambda x: x[..., 1], (3,)),
    "view": ((0, 3), lambda x: x.view(3, 0), (1, 1)),
    "view_flat": ((0, 3), lambda x: x.view(-1), (1,)),
    "view_of_transpose": ((0, 3), lambda x: x.t().view(0, 3), (3, 1)),
    "reshape": ((2, 0, 3), lambda x: x.reshape(0, 6), (6, 1)),
    "reshape_of_transpose": ((0, 3), lambda x: x.t().reshape(3, 0), (1, 3)),
    "flatten": ((0, 3), lambda x: x.flatten(), (1,)),
    "unflatten": ((0, 6), lambda x: x.unflatten(1, (2, 3)), (6, 3, 1)),
    "unsqueeze_0": ((0, 3), lambda x: x.unsqueeze(0), (0, 3, 1)),
    "unsqueeze_1": ((0, 3), lambda x: x.unsqueeze(1), (3, 3, 1)),
    "unsqueeze_last": ((0, 3), lambda x: x.unsqueeze(2), (3, 1, 1)),
    "unsqueeze_of_transpose": ((0, 3), lambda x: x.t().unsqueeze(0), (3, 1, 3)),
    "none_index": ((0, 3), lambda x: x[:, None], (3, 3, 1)),
    "squeeze": ((0, 1, 3), lambda x: x.squeeze(1), (3, 1)),
    "as_strided": ((0, 3), lambda x: x.as_strided((0, 2), (5, 7)), (5, 7)),
    "slice_of_as_strided": ((0, 3), lambda x: x.as_strided((0, 2), (5, 7))[:, 1:], (5, 7)),
    "as_strided_of_full": ((3, 4), lambda x: x.as_strided((2, 0), (1, 3)), (1, 3)),
    "diagonal": ((0, 3), lambda x: x.diagonal(), (4,)),
    "unfold": ((0, 5), lambda x: x.unfold(1, 2, 1), (5, 1, 1)),
    "split": ((0, 6), lambda x: x.split(2, dim=1)[1], (6, 1)),
    "chunk": ((0, 6), lambda x: x.chunk(3, dim=1)[2], (6, 1)),
    "unbind": ((0, 2, 3), lambda x: x.unbind(1)[1], (6, 1)),
    "contiguous_of_transpose": ((0, 3), lambda x: x.t().contiguous(), (1, 3)),
    "detach_of_transpose": ((0, 3), lambda x: x.t().detach(), (1, 3)),
    "transpose_of_detach": ((0, 3), lambda x: x.detach().t(), (1, 3)),
    "view_as": ((0, 3), lambda x: x.view_as(x), (3, 1)),
    "expand_keeps_size_1_dims": ((3, 1, 1), lambda x: x.expand(3, 1, 4), (1, 1, 0)),
    "expand_new_size_1_dims": ((2, 3), lambda x: x.expand(1, 1, 2, 3), (6, 6, 3, 1)),
    "expand_of_transpose": ((2, 1), lambda x: x.t().expand(5, 2), (0, 1)),
    "expand_0d": ((), lambda x: x.expand(1, 2), (0, 0)),
    "clone_of_transpose": ((0, 3), lambda x: x.t().clone(), (1, 3)),
    "clone_of_slice": ((0, 4), lambda x: x[:, ::2].clone(), (4, 2)),
    "clone_of_expand": ((0, 1), lambda x: x.expand(0, 3).clone(), (1, 0)),
    "chain": ((0, 3), lambda x: x.t().t()[:, 2:].unsqueeze(-1).expand(0, 1, 4), (3, 1, 0)),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_strides_are_pytorchs(device: str, name: str) -> None:
    shape, view, strides = VIEWS[name]
    x = autodiff.empty(shape, device=device)
    assert view(x).stride() == strides
    assert x.stride() == autodiff.empty(shape).stride()  # taking the view left x as it was


@pytest.mark.parametrize("name", list(VIEWS))
def test_expected_strides_are_torchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    shape, view, strides = VIEWS[name]
    assert view(torch.empty(shape)).stride() == strides


def test_empty_strided_keeps_the_strides_without_elements(device: str) -> None:
    tensor = autodiff.empty_strided((0, 3), (1, 5), device=device)
    assert tensor.stride() == (1, 5)
    assert tensor[:, 1:].stride() == (1, 5)
    assert tensor.t().stride() == (5, 1)


def test_empty_strided_follows_the_default_device(device: str) -> None:
    with autodiff.device(device):
        assert str(autodiff.empty_strided((2, 0), (1, 1)).device) == device


def test_views_of_empty_tensors_stay_views(device: str) -> None:
    x = autodiff.zeros(0, 3, device=device, requires_grad=True)
    view = x.t()[1:]
    assert view._base is x and view.stride() == (1, 3)
    view.sum().backward()
    assert x.grad is not None and tuple(x.grad.shape) == (0, 3)
