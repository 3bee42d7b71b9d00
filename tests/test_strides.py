"""Memory layout: stride(), storage_offset(), is_contiguous(), contiguous(), as_strided,
as_strided_scatter, empty_strided, data_ptr, against PyTorch for the views that reach them.

On the CPU (NumPy arrays carry their strides) every view reports PyTorch's layout and
as_strided is a view. The strict test backend reports the layout of the arrays it wraps; its
as_strided copies (the array API has no strided views)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import compare_outputs, same_error

# name -> a view (or result) of x = arange(24).reshape(2, 3, 4)
VIEWS: dict[str, Any] = {
    "itself": lambda x: x,
    "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "slice": lambda x: x[:, 1:, ::2],
    "select": lambda x: x[1, :, 2],
    "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "unfold": lambda x: x.unfold(2, 2, 1),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "view": lambda x: x.view(6, 4),
    "split": lambda x: x.split(1, 2)[1],
    "elementwise_of_transpose": lambda x: x.transpose(0, 2) * 2,
    "as_strided": lambda x: x.as_strided((3, 2), (2, 5), 3),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_layout_is_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    ours = VIEWS[name](autodiff.arange(24.0).reshape(2, 3, 4))
    theirs = VIEWS[name](torch.arange(24.0).reshape(2, 3, 4))
    assert ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.tolist() == theirs.tolist()
    for dim in range(-ours.ndim, ours.ndim):
        assert ours.stride(dim) == theirs.stride(dim)


def test_strict_reports_the_layout_of_its_views() -> None:
    x = autodiff.arange(12.0, device="strict:1").reshape(3, 4)
    assert x.t().stride() == (1, 4) and not x.t().is_contiguous()
    assert x[1:, 1:].storage_offset() == 5


def test_contiguous_copies_only_when_needed(device: str) -> None:
    x = autodiff.arange(12.0, device=device).reshape(3, 4)
    assert x.contiguous() is x
    transposed = x.t()
    copy = transposed.contiguous()
    assert copy is not transposed and copy.is_contiguous() and copy.stride() == (3, 1)
    assert copy.tolist() == transposed.tolist()
    assert autodiff.zeros(2, 1, device=device).t().is_contiguous()
    assert autodiff.zeros(3, 0, device=device).t().is_contiguous()


def test_contiguous_records_a_clone_and_passes_the_gradient(device: str) -> None:
    x = autodiff.ones(3, 4, device=device, requires_grad=True)
    y = x.t().contiguous()
    assert y.grad_fn.name() == "CloneBackward0"
    (y * 2).sum().backward()
    assert x.grad.tolist() == [[2.0] * 4] * 3


def test_as_strided_is_a_view_on_the_cpu() -> None:
    x = autodiff.zeros(6)
    window = x.as_strided((2,), (3,), 1)
    window.fill_(1.0)
    assert x.tolist() == [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert window.data_ptr() == x.data_ptr() + x.element_size()


def test_as_strided_gradient_adds_overlapping_elements(device: str) -> None:
    x = autodiff.arange(6.0, device=device, requires_grad=True)
    out = x.as_strided((3, 2), (1, 1))
    assert out.tolist() == [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]
    out.backward(autodiff.ones(3, 2, device=device))
    assert x.grad.tolist() == [1.0, 2.0, 2.0, 1.0, 0.0, 0.0]


def test_empty_strided_layout() -> None:
    tensor = autodiff.empty_strided((2, 3), (1, 2))
    assert tensor.shape == (2, 3) and tensor.stride() == (1, 2) and not tensor.is_contiguous()
    assert autodiff.zeros(1).new_empty_strided((2, 2), (2, 1)).stride() == (2, 1)


def test_memory_format_must_be_a_memory_format() -> None:
    with pytest.raises(TypeError, match=r"contiguous\(\): argument 'memory_format' must be "
                       r"torch\.memory_format, not str"):
        autodiff.zeros(2, 2).contiguous(memory_format="channels_last")


PARITY: dict[str, tuple[Any, list[np.ndarray]]] = {
    "as_strided": (lambda x: x.as_strided((3, 2), (1, 1), 1), [np.arange(8.0)]),
    "as_strided_of_view": (lambda x: x[1:].as_strided((2, 2), (1, 2)),
                           [np.arange(12.0).reshape(3, 4)]),
    "contiguous": (lambda x: x.t().contiguous(), [np.arange(12.0).reshape(3, 4)]),
    "as_strided_": (lambda x: (x * 1).as_strided_((3, 2), (1, 1), 1), [np.arange(8.0)]),
    "as_strided_of_view_": (lambda x: (x * 1)[1:].as_strided_((2, 2), (1, 2)),
                            [np.arange(12.0).reshape(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_matches_pytorch(name: str, device: str) -> None:
    torch = pytest.importorskip("torch")
    function, inputs = PARITY[name]
    compare_outputs(torch, function, function, inputs, device=device)


def test_as_strided_scatter_values_and_gradients(device: str) -> None:
    x = autodiff.arange(6.0, device=device).reshape(2, 3).requires_grad_()
    src = autodiff.ones(2, 2, device=device, requires_grad=True)
    out = x.as_strided_scatter(src, (2, 2), (1, 3))
    assert out.tolist() == [[1.0, 1.0, 2.0], [1.0, 1.0, 5.0]]
    assert out.grad_fn.name() == "AsStridedScatterBackward0"
    out.backward(autodiff.arange(6.0, device=device).reshape(2, 3))
    # x reaches the output only at the positions src does not cover. PyTorch 2.13 gives the
    # complement ([[0, 1, 0], [3, 4, 0]]; its own gradcheck fails on it): we give the right one.
    assert x.grad.tolist() == [[0.0, 0.0, 2.0], [0.0, 0.0, 5.0]]
    assert src.grad.tolist() == [[0.0, 3.0], [1.0, 4.0]]


ERRORS: dict[str, Any] = {
    "out_of_bounds": lambda L: L.zeros(3, 4).as_strided((5, 5), (4, 1)),
    "negative_offset": lambda L: L.zeros(3).as_strided((2,), (1,), -1),
    "lengths": lambda L: L.zeros(3).as_strided((2,), (1, 2)),
    "negative_size": lambda L: L.zeros(3).as_strided((2, -1), (1, 2)),
    "negative_stride": lambda L: L.zeros(3).as_strided((2, 2), (-1, 1)),
    "scatter_size": lambda L: L.as_strided_scatter(L.zeros(6), L.ones(3, 2), (2, 2), (1, 2)),
    "stride_dim": lambda L: L.zeros(3, 4).stride(2),
    "as_strided_ out_of_bounds": lambda L: L.arange(4.0).as_strided_((5,), (1,)),
    "as_strided_ negative_offset": lambda L: L.ones(3).as_strided_((2,), (1,), -1),
    "as_strided_ lengths": lambda L: L.ones(3).as_strided_((2,), (1, 1)),
    "as_strided_ negative_stride": lambda L: L.ones(3).as_strided_((2,), (-1,)),
    "as_strided_ of a leaf": lambda L: L.ones(3, requires_grad=True).as_strided_((2,), (1,)),
    "torch.as_strided_(float)": lambda L: L.as_strided_(0.5, (1,), (1,)),
}


def test_as_strided_in_place_takes_the_view(device: str) -> None:
    x = autodiff.arange(6.0, device=device)
    assert x.as_strided_((2, 2), (1, 2), 1) is x
    assert x.tolist() == [[1.0, 3.0], [2.0, 4.0]] and x._version == 1
    a = autodiff.arange(6.0, device=device, requires_grad=True)
    b = a * 1
    view = b[1:]
    assert view.as_strided_((2,), (2,)) is view and view._base is b
    assert view.grad_fn.name() == "AsStridedBackward1"
    view.sum().backward()
    assert view.tolist() == [1.0, 3.0] and a.grad.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: ERRORS[name](autodiff), lambda: ERRORS[name](torch))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4), (3, 0)])
@pytest.mark.parametrize("factory", ["empty", "zeros", "ones", "randn"])
def test_empty_factory_strides_are_contiguous(shape: tuple[int, ...], factory: str) -> None:
    # NumPy gives a new empty array zero strides; PyTorch's factories give contiguous ones.
    # (A size-0 dimension counts as size 1 in the strides of those after it, as in PyTorch.)
    expected = tuple(int(np.prod([max(size, 1) for size in shape[i + 1:]]))
                     for i in range(len(shape)))
    assert getattr(autodiff, factory)(*shape).stride() == expected
