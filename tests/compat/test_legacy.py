"""PyTorch's legacy tensor types and constructors: torch.Tensor(...), torch.FloatTensor & co.,
Tensor.new(...), isinstance checks against the types, set_default_tensor_type, and the default
dtype seen by every factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.helpers import raises, raises_starting

CASES: list[tuple[str, Callable[[Any], Any], tuple[Any, ...]]] = [
    ("Tensor(2, 3)", lambda t: t.Tensor(2, 3), ("float32", (2, 3))),
    ("Tensor([1, 2])", lambda t: t.Tensor([1, 2]), ("float32", (2,), [1.0, 2.0])),
    ("Tensor()", lambda t: t.Tensor(), ("float32", (0,), [])),
    ("Tensor(size=(2,))", lambda t: t.Tensor(size=(2,)), ("float32", (2,))),
    ("Tensor((2, 3)) is data", lambda t: t.Tensor((2, 3)), ("float32", (2,), [2.0, 3.0])),
    ("Tensor(Size) is a size", lambda t: t.Tensor(t.Size([2, 3])), ("float32", (2, 3))),
    ("Tensor(1, 5)", lambda t: t.Tensor(1, 5), ("float32", (1, 5))),
    ("Tensor(range(3))", lambda t: t.Tensor(range(3)), ("float32", (3,), [0.0, 1.0, 2.0])),
    ("Tensor(np.arange(3))", lambda t: t.Tensor(np.arange(3)), ("float32", (3,),
                                                               [0.0, 1.0, 2.0])),
    ("Tensor(np.int64(3))", lambda t: t.Tensor(np.int64(3)), ("float32", (3,))),
    ("Tensor(long tensor) keeps its dtype", lambda t: t.Tensor(t.ones(2, dtype=t.long)),
     ("int64", (2,), [1, 1])),
    ("Tensor(tensor(3))", lambda t: t.Tensor(t.tensor(3)), ("int64", (), 3)),
    ("Tensor(device=cpu)", lambda t: t.Tensor([1, 2], device="cpu"), ("float32", (2,),
                                                                     [1.0, 2.0])),
    ("Tensor(2.5)", lambda t: t.Tensor(2.5),
     ("TypeError", "new(): data must be a sequence (got float)")),
    ("Tensor(True)", lambda t: t.Tensor(True),
     ("TypeError", "new(): data must be a sequence (got bool)")),
    ("Tensor(None)", lambda t: t.Tensor(None),
     ("TypeError", "new(): data must be a sequence (got NoneType)")),
    ("Tensor('a')", lambda t: t.Tensor("a"), ("TypeError", "new(): invalid data type 'str'")),
    ("Tensor(2, 'a')", lambda t: t.Tensor(2, "a"),
     ("TypeError", "new(): argument 'size' failed to unpack the object at pos 2 with error "
                   '"type must be tuple of ints,but got str"')),
    ("Tensor(2, dtype=)", lambda t: t.Tensor(2, dtype=t.float64),
     ("TypeError", "new() received an invalid combination of arguments - got (int, "
                   "dtype=torch.dtype), but expected one of:")),
    ("Tensor(2, requires_grad=)", lambda t: t.Tensor(2, requires_grad=True),
     ("TypeError", "new() received an invalid combination of arguments - got (int, "
                   "requires_grad=bool), but expected one of:")),
    ("Tensor(size=2)", lambda t: t.Tensor(size=2),
     ("TypeError", "new() received an invalid combination of arguments - got (size=int, ), but "
                   "expected one of:")),
    ("Tensor([1],[2])", lambda t: t.Tensor([1], [2]),
     ("TypeError", "new() received an invalid combination of arguments - got (list, list), but "
                   "expected one of:")),
    ("Tensor(x, device=)", lambda t: t.Tensor(t.ones(2), device="cpu"),
     ("RuntimeError", "Legacy tensor constructor of the form torch.Tensor(tensor, device=device) "
                      "is not supported.  Use torch.tensor(...) or torch.as_tensor(...) "
                      "instead.")),
    ("LongTensor([1.7, 2])", lambda t: t.LongTensor([1.7, 2]), ("int64", (2,), [1, 2])),
    ("LongTensor(2, 2)", lambda t: t.LongTensor(2, 2), ("int64", (2, 2))),
    ("BoolTensor([1, 0])", lambda t: t.BoolTensor([1, 0]), ("bool", (2,), [True, False])),
    ("ByteTensor([300])", lambda t: t.ByteTensor([1, 0, 300]),
     ("RuntimeError", "value cannot be converted to type uint8 without overflow")),
    ("FloatTensor ragged", lambda t: t.FloatTensor([[1, 2], [3]]),
     ("ValueError", "expected sequence of length 2 at dim 1 (got 1)")),
    ("IntTensor(-1)", lambda t: t.IntTensor(-1),
     ("RuntimeError", "Trying to create tensor with negative dimension -1: [-1]")),
    ("FloatTensor(long tensor)", lambda t: t.FloatTensor(t.ones(2, dtype=t.long)),
     ("TypeError", "expected TensorOptions(dtype=float, device=cpu, layout=Strided, "
                   "requires_grad=false (default), pinned_memory=false (default), "
                   "memory_format=(nullopt)) (got TensorOptions(dtype=long int, device=cpu, "
                   "layout=Strided, requires_grad=false (default), pinned_memory=false "
                   "(default), memory_format=(nullopt)))")),
    ("FloatTensor(float tensor)", lambda t: t.FloatTensor(t.ones(2)), ("float32", (2,),
                                                                      [1.0, 1.0])),
    ("HalfTensor([1.5])", lambda t: t.HalfTensor([1.5]), ("float16", (1,), [1.5])),
    ("DoubleTensor([1])", lambda t: t.DoubleTensor([1]), ("float64", (1,), [1.0])),
    ("ShortTensor([1])", lambda t: t.ShortTensor([1]), ("int16", (1,), [1])),
    ("CharTensor([-1])", lambda t: t.CharTensor([-1]), ("int8", (1,), [-1])),
    ("IntTensor([1])", lambda t: t.IntTensor([1]), ("int32", (1,), [1])),
    ("x.new(3)", lambda t: t.ones(2).new(3), ("float32", (3,))),
    ("long.new([1.5])", lambda t: t.ones(2, dtype=t.long).new([1.5]), ("int64", (1,), [1])),
    ("x.new()", lambda t: t.ones(2).new(), ("float32", (0,), [])),
    ("x.new(2, 3)", lambda t: t.ones(2).new(2, 3), ("float32", (2, 3))),
    ("x.new(size=)", lambda t: t.ones(2).new(size=(2,)), ("float32", (2,))),
    ("x.new(long)", lambda t: t.ones(2).new(t.ones(2, dtype=t.long)),
     ("TypeError", "expected TensorOptions(dtype=float, device=cpu, layout=Strided, "
                   "requires_grad=false (default), pinned_memory=false (default), "
                   "memory_format=(nullopt)) (got TensorOptions(dtype=long int, device=cpu, "
                   "layout=Strided, requires_grad=false (default), pinned_memory=false "
                   "(default), memory_format=(nullopt)))")),
    ("x.new(dtype=)", lambda t: t.ones(2).new([1, 2], dtype=t.long),
     ("TypeError", "new() received an invalid combination of arguments - got (list, "
                   "dtype=torch.dtype), but expected one of:")),
]
RAISED = {"TypeError", "RuntimeError", "ValueError"}


def _outcome(lib: Any, call: Callable[[Any], Any]) -> tuple[Any, ...]:
    try:
        result = call(lib)
    except Exception as error:
        return type(error).__name__, str(error).splitlines()[0]
    return str(result.dtype).removeprefix("torch."), tuple(result.shape), result


@pytest.mark.parametrize(("label", "call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_legacy_constructor(label: str, call: Callable[[Any], Any],
                            expected: tuple[Any, ...]) -> None:
    outcome = _outcome(autodiff, call)
    if expected[0] in RAISED:
        assert outcome == expected
        return
    assert outcome[:2] == expected[:2]
    assert isinstance(outcome[2], autodiff.Tensor)
    if len(expected) == 3:
        assert outcome[2].tolist() == expected[2]


@pytest.mark.parametrize(("label", "call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_legacy_constructor_matches_pytorch(label: str, call: Callable[[Any], Any],
                                            expected: tuple[Any, ...]) -> None:
    torch = pytest.importorskip("torch")
    theirs = _outcome(torch, call)
    assert theirs[:2] == expected[:2]
    if len(expected) == 3:
        assert theirs[2].tolist() == expected[2]


def test_tensor_of_a_tensor_is_an_alias(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    y = autodiff.Tensor(x)
    assert y is not x and y._base is x and y.requires_grad
    assert y.grad_fn.name() == "AliasBackward0"
    z = autodiff.ones(2, device=device)
    alias = autodiff.Tensor(z)  # torch.Tensor takes a tensor of any type; FloatTensor its own
    alias[0] = 5.0
    assert z.tolist() == [5.0, 1.0]


def test_isinstance_against_the_legacy_types() -> None:
    x, long = autodiff.ones(2), autodiff.ones(2, dtype=autodiff.long)
    assert isinstance(x, autodiff.FloatTensor) and isinstance(x, autodiff.Tensor)
    assert not isinstance(long, autodiff.FloatTensor) and isinstance(long, autodiff.LongTensor)
    assert isinstance(autodiff.nn.Parameter(autodiff.ones(2)), autodiff.FloatTensor)
    assert not isinstance(x, autodiff.cuda.FloatTensor)
    assert not isinstance(x.numpy(), autodiff.FloatTensor)
    assert not issubclass(autodiff.FloatTensor, autodiff.Tensor)
    assert type(autodiff.FloatTensor(2)) is autodiff.Tensor


def test_legacy_types_describe_themselves() -> None:
    assert repr(autodiff.FloatTensor) == "<class 'torch.FloatTensor'>"
    assert repr(autodiff.cuda.LongTensor) == "<class 'torch.cuda.LongTensor'>"
    assert autodiff.FloatTensor.dtype is autodiff.float32
    assert autodiff.ByteTensor.dtype is autodiff.uint8
    assert not autodiff.FloatTensor.is_cuda and autodiff.cuda.FloatTensor.is_cuda
    assert autodiff.FloatTensor.__name__ == "FloatTensor"


def test_cuda_types_make_cuda_tensors_or_say_why_not() -> None:
    if autodiff.cuda.is_available():
        x = autodiff.cuda.FloatTensor(2, 3)
        assert x.is_cuda and x.dtype is autodiff.float32
        assert autodiff.cuda.LongTensor([1, 2]).tolist() == [1, 2]
        return
    with pytest.raises(TypeError, match=r"^type torch\.cuda\.FloatTensor not available\. "):
        autodiff.cuda.FloatTensor(2)


def test_subclasses_construct_through_the_legacy_constructor() -> None:
    class Mine(autodiff.Tensor):
        pass

    made = Mine([1.0, 2.0])
    assert type(made) is Mine and made.tolist() == [1.0, 2.0]
    assert (made * 2).tolist() == [2.0, 4.0]


def test_set_default_tensor_type() -> None:
    try:
        with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
            autodiff.set_default_tensor_type(autodiff.DoubleTensor)
        assert autodiff.get_default_dtype() is autodiff.float64
        assert autodiff.zeros(1).dtype is autodiff.float64
        assert autodiff.Tensor(1).dtype is autodiff.float64
        autodiff.set_default_tensor_type("torch.FloatTensor")
        assert autodiff.zeros(1).dtype is autodiff.float32
        with raises(TypeError, "only floating-point types are supported as the default type"):
            autodiff.set_default_tensor_type(autodiff.LongTensor)
        with raises(AttributeError, "module 'torch' has no attribute 'Foo'"):
            autodiff.set_default_tensor_type("torch.Foo")
        with raises_starting(TypeError, "invalid type object: only floating-point types"):
            autodiff.set_default_tensor_type(autodiff.float64)
    finally:
        autodiff.set_default_dtype(autodiff.float32)


def test_default_dtype_is_honoured_everywhere() -> None:
    try:
        autodiff.set_default_dtype(autodiff.float64)
        made = [autodiff.Tensor(2), autodiff.Tensor([1]), autodiff.tensor([1.5]),
                autodiff.arange(0.5, 2), autodiff.full((1,), 2.0), autodiff.zeros(1),
                autodiff.rand(1), autodiff.eye(2), autodiff.linspace(0, 1, 3),
                autodiff.nn.Linear(2, 2).weight, autodiff.empty(1)]
        assert all(t.dtype is autodiff.float64 for t in made)
        assert isinstance(autodiff.ones(1), autodiff.DoubleTensor)
        assert autodiff.randint(3, (1,)).dtype is autodiff.int64
        assert autodiff.ones(1, dtype=float).dtype is autodiff.float64
        autodiff.set_default_dtype(autodiff.float16)
        assert autodiff.tensor(1.5).dtype is autodiff.float16
        assert autodiff.rand(1).dtype is autodiff.float16
    finally:
        autodiff.set_default_dtype(autodiff.float32)
    with raises(TypeError, "only floating-point types are supported as the default type"):
        autodiff.set_default_dtype(autodiff.int64)
    with raises_starting(TypeError, "invalid dtype object: only floating-point types"):
        autodiff.set_default_dtype("float32")
