"""The device rule for index tensors, PyTorch's, in one place (`ops/indexing.index_on_device`).

strict:0 and strict:1 stand for two GPUs. Advanced indexing (`x[i]`, `x[i] = v`, `index_put_`)
takes an index on the CPU (moved to the data's device) or on the data's own device; every
other op that takes indices (gather, index_select, scatter, take_along_dim, masked_fill,
embedding, ...) takes them only on the data's device. Each refusal has PyTorch's message (those
of its CUDA kernels, with the device names of the devices at hand) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import autodiff
import autodiff.nn.functional as F

DATA = "strict:1"


def _data() -> autodiff.Tensor:
    return autodiff.arange(12.0, device=DATA).reshape(3, 4)


def _index(values: Any, device: str) -> autodiff.Tensor:
    return autodiff.tensor(values, dtype=autodiff.int64, device=device)


def _same_device_message(method: str, index_device: str, data_device: str = DATA) -> str:
    key = (data_device if data_device != "cpu" else index_device).split(":")[0].upper()
    return (f"Expected all tensors to be on the same device, but got index is on {index_device}, "
            f"different from other tensors on {data_device} (when checking argument in method "
            f"wrapper_{key}_{method})")


# Each op with a fresh input, given the index on `device`; and its message when refused.
SAME_DEVICE_ONLY: dict[str, tuple[Callable[[autodiff.Tensor, str], Any], Callable[[str], str]]] = {
    "index_select": (lambda x, d: x.index_select(0, _index([2, 0], d)),
                     lambda d: _same_device_message("_index_select", d)),
    "gather": (lambda x, d: x.gather(1, _index([[0], [1], [3]], d)),
               lambda d: _same_device_message("gather", d)),
    "scatter": (lambda x, d: x.scatter(0, _index([[1, 0]], d), autodiff.ones(1, 2, device=DATA)),
                lambda d: _same_device_message("scatter_src", d)),
    "scatter_value": (lambda x, d: x.scatter(0, _index([[1, 0]], d), 5.0),
                      lambda d: _same_device_message("scatter_value", d)),
    "scatter_add": (lambda x, d: x.scatter_add(0, _index([[1, 0]], d),
                                               autodiff.ones(1, 2, device=DATA)),
                    lambda d: _same_device_message("scatter_add", d)),
    "index_add": (lambda x, d: x.index_add(0, _index([1], d), autodiff.ones(1, 4, device=DATA)),
                  lambda d: _same_device_message("index_add", d)),
    "take_along_dim": (lambda x, d: autodiff.take_along_dim(x, _index([[0], [1], [2]], d), 1),
                       lambda d: f"Expected tensor to have {DATA} Device, but got tensor with {d} "
                                 "Device (while checking arguments for torch.take_along_dim():)"),
    "take_along_dim_flat": (lambda x, d: autodiff.take_along_dim(x, _index([5, 0], d)),
                            lambda d: f"Expected tensor to have {DATA} Device, but got tensor "
                                      f"with {d} Device (while checking arguments for "
                                      "torch.take_along_dim():)"),
    "masked_fill": (lambda x, d: x.masked_fill(autodiff.ones(3, 4, dtype=autodiff.bool,
                                                             device=d), 0.0),
                    lambda d: "expected self and mask to be on the same device, but got mask on "
                              f"{d} and self on {DATA}"),
    "embedding": (lambda x, d: F.embedding(_index([2, 0], d), x),
                  lambda d: _same_device_message("_index_select", d)),
}
IN_PLACE: dict[str, Callable[[autodiff.Tensor, str], Any]] = {
    "scatter_": lambda x, d: x.scatter_(0, _index([[1, 0]], d), 5.0),
    "scatter_add_": lambda x, d: x.scatter_add_(0, _index([[1, 0]], d),
                                                autodiff.ones(1, 2, device=DATA)),
    "index_add_": lambda x, d: x.index_add_(0, _index([1], d), autodiff.ones(1, 4, device=DATA)),
    "masked_fill_": lambda x, d: x.masked_fill_(autodiff.ones(3, 4, dtype=autodiff.bool,
                                                              device=d), 0.0),
    "setitem": lambda x, d: x.__setitem__(_index([2, 0], d), 1.0),
    "setitem_mask": lambda x, d: x.__setitem__(autodiff.ones(3, 4, dtype=autodiff.bool,
                                                             device=d), 1.0),
    "index_put_": lambda x, d: x.index_put_((_index([0, 1], d),), autodiff.ones(4, device=DATA)),
}


@pytest.mark.parametrize("name", SAME_DEVICE_ONLY)
@pytest.mark.parametrize("index_device", ["cpu", "strict:0"])
def test_ops_that_want_the_data_device_refuse_others(name: str, index_device: str) -> None:
    op, message = SAME_DEVICE_ONLY[name]
    with pytest.raises(RuntimeError) as raised:
        op(_data(), index_device)
    assert str(raised.value) == message(index_device)
    same = op(_data(), DATA)  # on the data's device: fine, and the result stays there
    assert same.device == autodiff.device(DATA)


def test_an_index_of_another_device_for_cpu_data_names_the_other_kernel() -> None:
    data = autodiff.zeros(3, 4)
    with pytest.raises(RuntimeError) as raised:
        data.index_select(0, _index([1], "strict:1"))
    assert str(raised.value) == _same_device_message("_index_select", "strict:1", "cpu")
    with pytest.raises(RuntimeError, match=r"^indices should be either on cpu or on the same "
                                           r"device as the indexed tensor \(cpu\)$"):
        data[_index([1], "strict:1")]


def test_advanced_indexing_takes_cpu_indices_on_any_device() -> None:
    x = _data()
    cpu_index = _index([2, 0, 2], "cpu")
    out = x[cpu_index]
    assert out.device == autodiff.device(DATA)
    assert out.tolist() == x[_index([2, 0, 2], DATA)].tolist()
    assert x[:, cpu_index[:2]].tolist() == [[2.0, 0.0], [6.0, 4.0], [10.0, 8.0]]
    mask = autodiff.tensor([True, False, True])
    assert x[mask].tolist() == [[0.0, 1.0, 2.0, 3.0], [8.0, 9.0, 10.0, 11.0]]
    y = _data()
    y[cpu_index[:2]] = -1.0
    y.index_put_((_index([1], "cpu"),), autodiff.zeros(4, device=DATA), accumulate=True)
    assert y.tolist()[0] == [-1.0] * 4 and y.tolist()[2] == [-1.0] * 4
    assert y.device == autodiff.device(DATA)
    # A 0-d index is read as a number, whatever its device (as in PyTorch).
    assert x[_index(1, "strict:0")].tolist() == [4.0, 5.0, 6.0, 7.0]
    leaf = autodiff.ones(3, device=DATA, requires_grad=True)
    (leaf[cpu_index] * 2).sum().backward()
    assert leaf.grad.tolist() == [2.0, 0.0, 4.0] and leaf.grad.device == leaf.device


@pytest.mark.parametrize("key", [lambda: _index([1, 0], "strict:0"),
                                 lambda: autodiff.ones(3, dtype=autodiff.bool, device="strict:0"),
                                 lambda: (slice(None), _index([1], "strict:0"))])
def test_advanced_indexing_refuses_an_index_on_another_device(key: Callable[[], Any]) -> None:
    message = (r"^indices should be either on cpu or on the same device as the indexed tensor "
               r"\(strict:1\)$")
    with pytest.raises(RuntimeError, match=message):
        _data()[key()]


@pytest.mark.parametrize("name", IN_PLACE)
def test_refused_in_place_ops_change_nothing(name: str) -> None:
    x = _data()
    x.requires_grad_()
    y = x * 1
    version = y._version
    with pytest.raises(RuntimeError):
        IN_PLACE[name](y, "strict:0")
    assert y.tolist() == _data().tolist() and y._version == version
    assert y.grad_fn.name() == "MulBackward0"
