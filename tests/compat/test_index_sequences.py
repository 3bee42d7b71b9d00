"""Indexing with Python sequences where PyTorch takes an index tensor: a `range`, a list of ints
or bools, NumPy integers in a list, and a range beside other indices; reading and writing,
on every device. Asserted values run everywhere; with torch installed they are also compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff


def _matrix(lib: Any, device: str) -> Any:
    return lib.arange(10.0, device=device).reshape(2, 5)


def _assigned(lib: Any, device: str) -> Any:
    x = lib.arange(4.0, device=device)
    x[range(2)] = 5.0
    return x


CASES: dict[str, tuple[Callable[[Any, str], Any], Any]] = {
    "range": (lambda t, d: t.arange(10.0, device=d)[range(3)], [0.0, 1.0, 2.0]),
    "range with a step": (lambda t, d: t.arange(10.0, device=d)[range(1, 8, 3)],
                          [1.0, 4.0, 7.0]),
    "negative range": (lambda t, d: t.arange(4.0, device=d)[range(-2, 0)], [2.0, 3.0]),
    "empty range": (lambda t, d: t.arange(10.0, device=d)[range(0)], []),
    "range in a second dim": (lambda t, d: _matrix(t, d)[:, range(2)],
                              [[0.0, 1.0], [5.0, 6.0]]),
    "range beside a list": (lambda t, d: _matrix(t, d)[range(2), [0, 1]], [0.0, 6.0]),
    "range out of bounds": (lambda t, d: t.arange(4.0, device=d)[range(3, 6)],
                            ("IndexError", "index 4 is out of bounds for dimension 0 with size 4")),
    "assignment through a range": (_assigned, [5.0, 5.0, 2.0, 3.0]),
    "list of bools": (lambda t, d: t.arange(3.0, device=d)[[True, False, True]], [0.0, 2.0]),
    "list of NumPy integers": (lambda t, d: t.arange(4.0, device=d)[[np.int64(1), 2]],
                               [1.0, 2.0]),
    "tuple of lists": (lambda t, d: _matrix(t, d)[([0, 1], [2, 3])], [2.0, 8.0]),
    "list and int": (lambda t, d: _matrix(t, d)[[0, 1], 2], [2.0, 7.0]),
}


def _outcome(lib: Any, call: Callable[[Any, str], Any], device: str) -> Any:
    try:
        return call(lib, device).tolist()
    except Exception as error:
        return type(error).__name__, str(error)


@pytest.mark.parametrize(("label", "call", "expected"),
                         [(label, *case) for label, case in CASES.items()], ids=list(CASES))
def test_sequence_indices(device: str, label: str, call: Callable[[Any, str], Any],
                          expected: Any) -> None:
    assert _outcome(autodiff, call, device) == expected


@pytest.mark.parametrize(("label", "call"), [(label, case[0]) for label, case in CASES.items()],
                         ids=list(CASES))
def test_sequence_indices_match_pytorch(label: str, call: Callable[[Any, str], Any]) -> None:
    torch = pytest.importorskip("torch")
    assert _outcome(autodiff, call, "cpu") == _outcome(torch, call, "cpu")


def test_gradient_through_a_range_index(device: str) -> None:
    x = autodiff.arange(5.0, device=device, requires_grad=True)
    x[range(1, 4, 2)].sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]


# Where PyTorch takes only an index tensor, a list is refused by its argument parser, naming
# the position as the call was written (a method's positions skip self).
REFUSED: dict[str, tuple[Callable[[Any], Any], str]] = {
    "Tensor.take": (lambda t: t.ones(2).take([0]), "take(): argument 'index' (position 1)"),
    "torch.take": (lambda t: t.take(t.ones(2), [0]), "take(): argument 'index' (position 2)"),
    "Tensor.gather": (lambda t: t.ones(2).gather(0, [0]),
                      "gather(): argument 'index' (position 2)"),
    "torch.gather": (lambda t: t.gather(t.ones(2), 0, [0]),
                     "gather(): argument 'index' (position 3)"),
    "Tensor.index_select": (lambda t: t.ones(2).index_select(0, [0]),
                            "index_select(): argument 'index' (position 2)"),
    "torch.index_select": (lambda t: t.index_select(t.ones(2), 0, [0]),
                           "index_select(): argument 'index' (position 3)"),
    "Tensor.index_add": (lambda t: t.ones(2).index_add(0, [0], t.ones(1)),
                         "index_add(): argument 'index' (position 2)"),
    "torch.index_add": (lambda t: t.index_add(t.ones(2), 0, [0], t.ones(1)),
                        "index_add(): argument 'index' (position 3)"),
    "index_add source": (lambda t: t.ones(2).index_add(0, t.tensor([0]), [1.0]),
                         "index_add(): argument 'source' (position 3)"),
    "Tensor.index_add_": (lambda t: t.ones(2).index_add_(0, [0], t.ones(1)),
                          "index_add_(): argument 'index' (position 2)"),
}


@pytest.mark.parametrize(("label", "call", "start"),
                         [(label, *case) for label, case in REFUSED.items()], ids=list(REFUSED))
def test_index_tensor_arguments_refuse_lists(label: str, call: Callable[[Any], Any],
                                             start: str) -> None:
    expected = ("TypeError", f"{start} must be Tensor, not list")
    assert _outcome(autodiff, lambda t, device: call(t), "cpu") == expected
    torch = pytest.importorskip("torch")
    assert _outcome(torch, lambda t, device: call(t), "cpu") == expected
