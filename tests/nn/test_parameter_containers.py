"""ParameterList, ParameterDict and nn.Buffer: registration, reprs, state dicts and errors, as
PyTorch's."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest

import autodiff
from autodiff import nn


def _torch() -> Any:
    return pytest.importorskip("torch")


def test_parameter_list_registers_and_wraps(device: str) -> None:
    plist = nn.ParameterList([nn.Parameter(autodiff.ones(2, 3)), autodiff.zeros(4), "note"])
    assert len(plist) == 3
    assert isinstance(plist[1], nn.Parameter) and plist[2] == "note"
    assert [name for name, _ in plist.named_parameters()] == ["0", "1"]
    plist.append(autodiff.ones(1)).extend([autodiff.ones(2)])
    plist += [nn.Linear(2, 2)]
    assert [name for name, _ in plist.named_parameters()][-2:] == ["5.weight", "5.bias"]
    assert len(plist[1:4]) == 3 and plist[-1] is plist[5]
    plist[0] = autodiff.full((2,), 7.0)
    assert plist[0].tolist() == [7.0, 7.0] and isinstance(plist[0], nn.Parameter)
    plist.to(device)
    assert plist[1].device == autodiff.device(device)
    with pytest.raises(IndexError, match="index 9 is out of range"):
        plist[9]
    with pytest.raises(TypeError, match=r"ParameterList\.extend should be called with an "
                                        r"iterable, but got Tensor"):
        plist.extend(autodiff.ones(2))
    with pytest.raises(RuntimeError, match=r"ParameterList should not be called\."):
        plist()
    assert all(not key.isdigit() for key in dir(plist))


def test_parameter_dict_is_an_ordered_mapping() -> None:
    pdict = nn.ParameterDict({"b": autodiff.ones(2), "a": nn.Parameter(autodiff.zeros(3))})
    assert list(pdict) == ["a", "b"]  # a plain dict is taken in sorted order, as PyTorch
    pdict.update(OrderedDict([("z", autodiff.ones(1)), ("c", 3)]))
    assert list(pdict.keys()) == ["a", "b", "z", "c"] and pdict["c"] == 3
    assert [name for name, _ in pdict.named_parameters()] == ["a", "b", "z"]
    assert "z" in pdict and pdict.get("nothing", 5) == 5 and len(pdict) == 4
    assert pdict.pop("z").tolist() == [1.0] and "z" not in pdict
    key, value = pdict.popitem()
    assert key == "c" and value == 3
    assert pdict.setdefault("d", autodiff.ones(2)).shape == (2,)
    merged = pdict | nn.ParameterDict({"e": autodiff.ones(1)})
    assert list(merged) == ["a", "b", "d", "e"] and list(pdict) == ["a", "b", "d"]
    assert list(reversed(pdict)) == ["d", "b", "a"]
    assert list(pdict.fromkeys(["x", "y"], autodiff.ones(1))) == ["x", "y"]
    copy = pdict.copy()
    assert copy["a"] is pdict["a"]
    del pdict["a"]
    pdict.clear()
    assert len(pdict) == 0
    with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key"):
        pdict[1] = autodiff.ones(1)
    with pytest.raises(ValueError, match="#0 has length 3; 2 is required"):
        pdict.update([("a", 1, 2)])
    with pytest.raises(RuntimeError, match=r"ParameterDict should not be called\."):
        pdict(1)


def test_buffer_marks_a_tensor_for_registration() -> None:
    module = nn.Module()
    data = autodiff.ones(2)
    module.running = nn.Buffer(data)
    module.scratch = nn.Buffer(autodiff.zeros(1), persistent=False)
    assert [name for name, _ in module.named_buffers()] == ["running", "scratch"]
    assert list(module.state_dict()) == ["running"]
    assert isinstance(module.running, nn.Buffer) and not isinstance(data * 1, nn.Buffer)
    assert type(module.running) is autodiff.Tensor  # a flagged tensor, as PyTorch's
    module.running = autodiff.full((2,), 3.0)  # an existing buffer takes a plain tensor
    assert module.running.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'running'"):
        module.running = 5
    module.weight = nn.Parameter(autodiff.ones(1))
    with pytest.raises(TypeError, match=r"cannot assign 'torch\.FloatTensor' as parameter "):
        module.weight = nn.Buffer(autodiff.ones(1))
    module.plain = 1
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        module.plain = nn.Buffer(autodiff.ones(1))
    grad = nn.Buffer(autodiff.ones(1, requires_grad=True))
    assert grad.requires_grad and grad.grad_fn is None


def test_container_reprs_and_state_dicts_as_pytorch() -> None:
    torch = _torch()

    def build(N: Any, lib: Any) -> list[Any]:
        return [
            N.ParameterList([N.Parameter(lib.ones(3, 4)), lib.ones(2), "x", N.Linear(2, 2)]),
            N.ParameterDict({"b": lib.ones(2), "a": N.Parameter(lib.zeros(3, dtype=lib.float64)),
                             "c": 3}),
            N.ParameterList(),
        ]

    for ours, theirs in zip(build(nn, autodiff), build(torch.nn, torch)):
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({key: autodiff.tensor(value.numpy())
                              for key, value in theirs.state_dict().items()})
