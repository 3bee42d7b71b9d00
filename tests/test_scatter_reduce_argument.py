"""scatter's `reduce=` ("add", "multiply"): scatter_reduce with include_self under its older
spelling, with PyTorch's deprecation warning for a Tensor src, its error for other reductions,
and its refusal to differentiate (the node is NotImplemented)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff


def _inputs(device: str) -> tuple[autodiff.Tensor, autodiff.Tensor, autodiff.Tensor]:
    x = autodiff.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    index = autodiff.tensor([[0, 0, 2], [1, 1, 1]], device=device)
    src = autodiff.tensor([[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]], device=device)
    return x, index, src


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_tensor_src_reduces_into_input(device: str, reduce: str) -> None:
    x, index, src = _inputs(device)
    expected = x.cpu().numpy().copy()
    for row in range(2):
        for column in range(3):
            target = int(index.cpu().numpy()[row, column])
            value = src.cpu().numpy()[row, column]
            if reduce == "add":
                expected[row, target] += value
            else:
                expected[row, target] *= value
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src "
                                         "is deprecated"):
        result = autodiff.scatter(x, 1, index, src, reduce=reduce)
    np.testing.assert_array_equal(result.cpu().numpy(), expected)
    in_place = x.clone()
    with pytest.warns(UserWarning):
        assert in_place.scatter_(1, index, src, reduce=reduce) is in_place
    np.testing.assert_array_equal(in_place.cpu().numpy(), expected)


def test_number_src(device: str) -> None:
    x, index, _ = _inputs(device)
    result = x.scatter(1, index, 5.0, reduce="add")
    np.testing.assert_array_equal(result.cpu().numpy(), [[11.0, 2.0, 8.0], [4.0, 20.0, 6.0]])
    result = x.scatter(1, index, 2.0, reduce="multiply")
    np.testing.assert_array_equal(result.cpu().numpy(), [[4.0, 2.0, 6.0], [4.0, 40.0, 6.0]])


def test_other_reductions_and_gradients_refused(device: str) -> None:
    x, index, src = _inputs(device)
    with pytest.raises(RuntimeError, match=r"^reduce argument must be either add or multiply\.$"):
        x.scatter(1, index, 1.0, reduce="max")
    leaf = x.clone().requires_grad_()
    with pytest.warns(UserWarning):
        result = leaf.scatter(1, index, src, reduce="add")
    assert result.grad_fn.name() == "NotImplemented"
    with pytest.raises(RuntimeError, match=r"^derivative for aten::scatter is not implemented$"):
        result.sum().backward()
    assert leaf.grad is None


def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x, index, src = _inputs("cpu")
    for reduce in ("add", "multiply"):
        with pytest.warns(UserWarning):
            ours = autodiff.scatter(x, 1, index, src, reduce=reduce)
        with warnings.catch_warnings():  # PyTorch warns once per process
            warnings.simplefilter("ignore")
            theirs = torch.scatter(torch.tensor(x.numpy()), 1, torch.tensor(index.numpy()),
                                   torch.tensor(src.numpy()), reduce=reduce)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
