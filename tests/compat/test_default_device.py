"""The default device: `set_default_device` (per thread), `with torch.device(...)` blocks,
`get_default_device`, and which functions follow it (the factories, `tensor`, `as_tensor`, nn
layers' parameters) and which do not (`from_numpy`, the `_like` functions, `Tensor.new_*`,
`torch.Tensor(...)`), as in PyTorch. The strict test device stands in for a GPU."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autodiff
from tests.helpers import raises

OTHER = "strict:1"


@pytest.fixture
def other_device() -> autodiff.device:
    autodiff.set_default_device(OTHER)
    yield autodiff.device(OTHER)
    autodiff.set_default_device(None)


def test_factories_follow_the_default_device(other_device: autodiff.device) -> None:
    assert autodiff.get_default_device() == other_device
    made = {
        "zeros": autodiff.zeros(2), "ones": autodiff.ones(2), "empty": autodiff.empty(2),
        "full": autodiff.full((2,), 1.0), "eye": autodiff.eye(2), "arange": autodiff.arange(3),
        "linspace": autodiff.linspace(0, 1, 3), "rand": autodiff.rand(2),
        "randn": autodiff.randn(2), "randint": autodiff.randint(3, (2,)),
        "randperm": autodiff.randperm(3), "tensor": autodiff.tensor([1.0]),
        "as_tensor list": autodiff.as_tensor([1.0]),
        "as_tensor numpy": autodiff.as_tensor(np.ones(2)), "asarray": autodiff.asarray([1.0]),
        "Linear": autodiff.nn.Linear(2, 2).weight,
    }
    wrong = {name: str(t.device) for name, t in made.items() if t.device != other_device}
    assert not wrong


def test_what_does_not_follow_the_default_device(other_device: autodiff.device) -> None:
    cpu = autodiff.device("cpu")
    x = autodiff.ones(2, device="cpu")
    assert autodiff.from_numpy(np.ones(2)).device == cpu
    assert autodiff.zeros_like(x).device == cpu
    assert autodiff.Tensor(2).device == cpu  # the legacy default type stays on the CPU
    assert x.new(2).device == cpu
    assert autodiff.zeros(2, device="cpu").device == cpu


def test_tensor_of_a_tensor_goes_to_the_default_device(other_device: autodiff.device) -> None:
    x = autodiff.ones(2, device="cpu")
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        assert autodiff.tensor(x).device == other_device
    assert autodiff.as_tensor(x).device == other_device


def test_device_blocks_nest_and_restore() -> None:
    assert autodiff.get_default_device() == autodiff.device("cpu")
    with autodiff.device(OTHER) as entered:
        assert entered == autodiff.device(OTHER)
        assert autodiff.zeros(1).device == autodiff.device(OTHER)
        with autodiff.device("cpu"):
            assert autodiff.zeros(1).device == autodiff.device("cpu")
            assert autodiff.get_default_device() == autodiff.device("cpu")
        assert autodiff.get_default_device() == autodiff.device(OTHER)
    assert autodiff.zeros(1).device == autodiff.device("cpu")


def test_default_device_is_per_thread(other_device: autodiff.device) -> None:
    seen = []
    worker = threading.Thread(target=lambda: seen.append(autodiff.zeros(1).device))
    worker.start()
    worker.join()
    assert seen == [autodiff.device("cpu")]
    assert autodiff.zeros(1).device == other_device


def test_set_default_device_parses_its_argument() -> None:
    with raises(RuntimeError, "Expected one of cpu, cuda, strict device type at start of device "
            "string: foo"):
        autodiff.set_default_device("foo")
    autodiff.set_default_device(None)
    assert autodiff.get_default_device() == autodiff.device("cpu")


def test_get_default_device_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    assert repr(autodiff.get_default_device()) == repr(torch.get_default_device())
    with torch.device("cpu"), autodiff.device("cpu"):
        assert repr(autodiff.get_default_device()) == repr(torch.get_default_device())
