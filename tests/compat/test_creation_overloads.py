"""Every overload of the creation functions, with PyTorch's argument errors, dtype inference
and keywords (layout, pin_memory, memory_format), as PyTorch 2.13 answers them. Each case is
asserted here; with torch installed the same call is run through PyTorch and the outcomes
compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.helpers import raises_containing

# (label, call, expected): expected is (dtype, shape[, values]) for a result, or
# (exception type name, message) for a refusal. Random results are checked by dtype and shape.
CASES: list[tuple[str, Callable[[Any], Any], tuple[Any, ...]]] = [
    ("randint(9, size=(1,))", lambda t: t.randint(9, size=(1,)), ("int64", (1,))),
    ("randint(9, (2,))", lambda t: t.randint(9, (2,)), ("int64", (2,))),
    ("randint(3, 9, (2,))", lambda t: t.randint(3, 9, (2,)), ("int64", (2,))),
    ("randint(3, 9, size=(2,))", lambda t: t.randint(3, 9, size=(2,)), ("int64", (2,))),
    ("randint(low=, high=, size=)", lambda t: t.randint(low=3, high=9, size=(2,)),
     ("int64", (2,))),
    ("randint(high=, size=)", lambda t: t.randint(high=9, size=(2,)), ("int64", (2,))),
    ("randint(dtype=float32)", lambda t: t.randint(3, 9, (2,), dtype=t.float32),
     ("float32", (2,))),
    ("randint(9, 2)", lambda t: t.randint(9, 2),
     ("TypeError", "randint(): argument 'size' (position 2) must be tuple of ints, not int")),
    ("randint(9, size=2)", lambda t: t.randint(9, size=2),
     ("TypeError", "randint(): argument 'size' must be tuple of ints, not int")),
    ("randint(2.5, (2,))", lambda t: t.randint(2.5, (2,)),
     ("TypeError", "randint(): argument 'high' (position 1) must be int, not float")),
    ("randint(5, 3, (2,))", lambda t: t.randint(5, 3, (2,)),
     ("RuntimeError", "random_ expects 'from' to be less than 'to', but got from=5 >= to=3")),
    ("randint(0, (2,))", lambda t: t.randint(0, (2,)),
     ("RuntimeError", "random_ expects 'from' to be less than 'to', but got from=0 >= to=0")),
    ("randint(-1, 256, uint8)", lambda t: t.randint(-1, 256, (2,), dtype=t.uint8),
     ("RuntimeError", "from is out of bounds for unsigned char")),
    ("randint(0, 300, uint8)", lambda t: t.randint(0, 300, (2,), dtype=t.uint8),
     ("RuntimeError", "to - 1 is out of bounds for unsigned char")),
    ("randint(0, 2, bool)", lambda t: t.randint(0, 2, (2,), dtype=t.bool), ("bool", (2,))),
    ("randint(9, Size)", lambda t: t.randint(9, t.Size([2])), ("int64", (2,))),
    ("randint(requires_grad) int", lambda t: t.randint(9, (2,), requires_grad=True),
     ("RuntimeError", "Only Tensors of floating point and complex dtype can require gradients")),
    ("randint(requires_grad) float", lambda t: t.randint(9, (2,), dtype=t.float32,
                                                          requires_grad=True), ("float32", (2,))),
    ("randint(pin_memory=False)", lambda t: t.randint(9, (2,), pin_memory=False),
     ("int64", (2,))),
    ("randint(layout=strided)", lambda t: t.randint(9, (2,), layout=t.strided), ("int64", (2,))),
    ("zeros(2, 3)", lambda t: t.zeros(2, 3), ("float32", (2, 3), [[0.0] * 3] * 2)),
    ("zeros((2, 3))", lambda t: t.zeros((2, 3)), ("float32", (2, 3), [[0.0] * 3] * 2)),
    ("zeros([2, 3])", lambda t: t.zeros([2, 3]), ("float32", (2, 3), [[0.0] * 3] * 2)),
    ("zeros(size=(2, 3))", lambda t: t.zeros(size=(2, 3)), ("float32", (2, 3), [[0.0] * 3] * 2)),
    ("zeros(size=2)", lambda t: t.zeros(size=2),
     ("TypeError", "zeros(): argument 'size' must be tuple of ints, not int")),
    ("zeros()", lambda t: t.zeros(),
     ("TypeError", 'zeros() missing 1 required positional arguments: "size"')),
    ("zeros(())", lambda t: t.zeros(()), ("float32", (), 0.0)),
    ("zeros(2.0)", lambda t: t.zeros(2.0),
     ("TypeError", "zeros(): argument 'size' (position 1) must be tuple of ints, not float")),
    ("zeros((2, 3.0))", lambda t: t.zeros((2, 3.0)),
     ("TypeError", "zeros(): argument 'size' failed to unpack the object at pos 2 with error "
                   '"type must be tuple of ints,but got float"')),
    ("zeros(2, (3,))", lambda t: t.zeros(2, (3,)),
     ("TypeError", "zeros(): argument 'size' failed to unpack the object at pos 2 with error "
                   '"type must be tuple of ints,but got tuple"')),
    ("zeros(tensor(2))", lambda t: t.zeros(t.tensor(2)), ("float32", (2,), [0.0, 0.0])),
    ("zeros(np.int64(2), 1)", lambda t: t.zeros(np.int64(2), 1), ("float32", (2, 1),
                                                                   [[0.0], [0.0]])),
    ("zeros(-1)", lambda t: t.zeros(-1),
     ("RuntimeError", "zeros: Dimension size must be non-negative.")),
    ("ones(2, -1)", lambda t: t.ones(2, -1),
     ("RuntimeError", "Trying to create tensor with negative dimension -1: [2, -1]")),
    ("zeros(layout=strided)", lambda t: t.zeros(2, layout=t.strided), ("float32", (2,),
                                                                       [0.0, 0.0])),
    ("zeros(memory_format=)", lambda t: t.zeros(2, memory_format=t.contiguous_format),
     ("TypeError", "zeros() got an unexpected keyword argument 'memory_format'")),
    ("zeros(names=None)", lambda t: t.zeros(2, names=None),
     ("TypeError", "zeros() got an unexpected keyword argument 'names'")),
    ("empty(memory_format=contiguous)", lambda t: t.empty(2, memory_format=t.contiguous_format),
     ("float32", (2,))),
    ("empty(memory_format=channels_last) rank 1",
     lambda t: t.empty(2, memory_format=t.channels_last),
     ("RuntimeError", "required rank 4 tensor to use channels_last format")),
    ("empty(memory_format=channels_last)", lambda t: t.empty(1, 2, 3, 4,
                                                             memory_format=t.channels_last),
     ("float32", (1, 2, 3, 4))),
    ("empty(size=)", lambda t: t.empty(size=(2, 3)), ("float32", (2, 3))),
    ("ones(dtype=int)", lambda t: t.ones(2, dtype=int), ("int64", (2,), [1, 1])),
    ("ones(dtype=float)", lambda t: t.ones(2, dtype=float), ("float64", (2,), [1.0, 1.0])),
    ("ones(dtype=bool)", lambda t: t.ones(2, dtype=bool), ("bool", (2,), [True, True])),
    ("ones(dtype='float32')", lambda t: t.ones(2, dtype="float32"),
     ("TypeError", "ones(): argument 'dtype' must be torch.dtype, not str")),
    ("ones(long, requires_grad)", lambda t: t.ones(2, dtype=t.long, requires_grad=True),
     ("RuntimeError", "Only Tensors of floating point and complex dtype can require gradients")),
    ("full((2,), 3)", lambda t: t.full((2,), 3), ("int64", (2,), [3, 3])),
    ("full((2,), 3.)", lambda t: t.full((2,), 3.0), ("float32", (2,), [3.0, 3.0])),
    ("full((2,), True)", lambda t: t.full((2,), True), ("bool", (2,), [True, True])),
    ("full(2, 3)", lambda t: t.full(2, 3),
     ("TypeError", "full(): argument 'size' (position 1) must be tuple of ints, not int")),
    ("full([2], 3)", lambda t: t.full([2], 3), ("int64", (2,), [3, 3])),
    ("full(size=, fill_value=)", lambda t: t.full(size=(2,), fill_value=3),
     ("int64", (2,), [3, 3])),
    ("full(tensor(3.))", lambda t: t.full((2,), t.tensor(3.0)), ("float32", (2,), [3.0, 3.0])),
    ("full(tensor([3.]))", lambda t: t.full((2,), t.tensor([3.0])),
     ("TypeError", "full(): argument 'fill_value' (position 2) must be Number, not Tensor")),
    ("full('a')", lambda t: t.full((2,), "a"),
     ("TypeError", "full(): argument 'fill_value' (position 2) must be Number, not str")),
    ("full(3, bool)", lambda t: t.full((2,), 3, dtype=t.bool), ("bool", (2,), [True, True])),
    ("full(300, uint8)", lambda t: t.full((2,), 300, dtype=t.uint8),
     ("RuntimeError", "value cannot be converted to type uint8_t without overflow")),
    ("full(1e300, float32)", lambda t: t.full((2,), 1e300, dtype=t.float32),
     ("RuntimeError", "value cannot be converted to type float without overflow")),
    ("full(2.5, long)", lambda t: t.full((2,), 2.5, dtype=t.long), ("int64", (2,), [2, 2])),
    ("arange(5)", lambda t: t.arange(5), ("int64", (5,), [0, 1, 2, 3, 4])),
    ("arange(5.)", lambda t: t.arange(5.0), ("float32", (5,), [0.0, 1.0, 2.0, 3.0, 4.0])),
    ("arange(1, 5, 2)", lambda t: t.arange(1, 5, 2), ("int64", (2,), [1, 3])),
    ("arange(1, 5, 0.5)", lambda t: t.arange(1, 2, 0.5), ("float32", (2,), [1.0, 1.5])),
    ("arange(start=, end=)", lambda t: t.arange(start=1, end=3), ("int64", (2,), [1, 2])),
    ("arange(end=)", lambda t: t.arange(end=3), ("int64", (3,), [0, 1, 2])),
    ("arange(5, 1)", lambda t: t.arange(5, 1),
     ("RuntimeError", "upper bound and lower bound inconsistent with step sign")),
    ("arange(5, 1, -1)", lambda t: t.arange(5, 1, -1), ("int64", (4,), [5, 4, 3, 2])),
    ("arange(0, 5, 0)", lambda t: t.arange(0, 5, 0), ("RuntimeError", "step must be nonzero")),
    ("arange(tensor(3))", lambda t: t.arange(t.tensor(3)), ("int64", (3,), [0, 1, 2])),
    ("arange(tensor(3.))", lambda t: t.arange(t.tensor(3.0)), ("float32", (3,),
                                                              [0.0, 1.0, 2.0])),
    ("arange(2.5, long)", lambda t: t.arange(2.5, dtype=t.long), ("int64", (2,), [0, 1])),
    ("arange(5, bool)", lambda t: t.arange(5, dtype=t.bool),
     ("NotImplementedError", "\"arange_cpu\" not implemented for 'Bool'")),
    ("arange(inf)", lambda t: t.arange(float("inf")),
     ("RuntimeError", "unsupported range: 0 -> inf")),
    ("arange(nan)", lambda t: t.arange(float("nan")),
     ("RuntimeError", "unsupported range: 0 -> nan")),
    ("arange('a')", lambda t: t.arange("a"),
     ("TypeError", "arange(): argument 'end' (position 1) must be Number, not str")),
    ("arange(5, requires_grad)", lambda t: t.arange(5, requires_grad=True),
     ("RuntimeError", "Only Tensors of floating point and complex dtype can require gradients")),
    ("randperm(4, dtype=float32)", lambda t: t.randperm(4, dtype=t.float32),
     ("float32", (4,))),
    ("randperm(-1)", lambda t: t.randperm(-1),
     ("RuntimeError", "Trying to create tensor with negative dimension -1: [-1]")),
    ("randperm(4, bool)", lambda t: t.randperm(4, dtype=t.bool),
     ("NotImplementedError", "\"randperm\" not implemented for 'Bool'")),
    ("randperm(300, uint8)", lambda t: t.randperm(300, dtype=t.uint8),
     ("RuntimeError", "value cannot be converted to type uint8_t without overflow")),
    ("randperm(4.)", lambda t: t.randperm(4.0),
     ("TypeError", "randperm(): argument 'n' (position 1) must be int, not float")),
    ("eye(2, 3)", lambda t: t.eye(2, 3), ("float32", (2, 3),
                                         [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])),
    ("eye(2, m=3)", lambda t: t.eye(2, m=3), ("float32", (2, 3),
                                             [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])),
    ("eye(n=2)", lambda t: t.eye(n=2), ("float32", (2, 2), [[1.0, 0.0], [0.0, 1.0]])),
    ("eye(-1)", lambda t: t.eye(-1), ("RuntimeError", "n must be greater or equal to 0, got -1")),
    ("eye(2, -1)", lambda t: t.eye(2, -1),
     ("RuntimeError", "m must be greater or equal to 0, got -1")),
    ("eye(2, long)", lambda t: t.eye(2, dtype=t.long), ("int64", (2, 2), [[1, 0], [0, 1]])),
    ("eye(2.)", lambda t: t.eye(2.0),
     ("TypeError", "eye(): argument 'n' (position 1) must be int, not float")),
    ("rand(2, 3)", lambda t: t.rand(2, 3), ("float32", (2, 3))),
    ("rand((2, 3))", lambda t: t.rand((2, 3)), ("float32", (2, 3))),
    ("rand(size=(2,))", lambda t: t.rand(size=(2,)), ("float32", (2,))),
    ("rand(long)", lambda t: t.rand(2, dtype=t.long),
     ("NotImplementedError", "\"check_uniform_bounds\" not implemented for 'Long'")),
    ("randn(long)", lambda t: t.randn(2, dtype=t.long),
     ("NotImplementedError", "\"normal_kernel_cpu\" not implemented for 'Long'")),
    ("randn(float64)", lambda t: t.randn(2, 3, dtype=t.float64), ("float64", (2, 3))),
    ("rand_like(long)", lambda t: t.rand_like(t.ones(2, dtype=t.long)),
     ("NotImplementedError", "\"check_uniform_bounds\" not implemented for 'Long'")),
    ("tensor(1.5)", lambda t: t.tensor(1.5), ("float32", (), 1.5)),
    ("tensor([1, 2.5])", lambda t: t.tensor([1, 2.5]), ("float32", (2,), [1.0, 2.5])),
    ("tensor(range(3))", lambda t: t.tensor(range(3)), ("int64", (3,), [0, 1, 2])),
    ("tensor([[1],[2,3]])", lambda t: t.tensor([[1], [2, 3]]),
     ("ValueError", "expected sequence of length 1 at dim 1 (got 2)")),
    ("tensor([[1,2],[3]])", lambda t: t.tensor([[1, 2], [3]]),
     ("ValueError", "expected sequence of length 2 at dim 1 (got 1)")),
    ("tensor([[1],2])", lambda t: t.tensor([[1], 2]), ("TypeError", "not a sequence")),
    ("tensor([1,[2]])", lambda t: t.tensor([1, [2]]),
     ("TypeError", "'list' object cannot be interpreted as an integer")),
    ("tensor('a')", lambda t: t.tensor("a"), ("TypeError", "new(): invalid data type 'str'")),
    ("tensor(['a'])", lambda t: t.tensor(["a"]), ("ValueError", "too many dimensions 'str'")),
    ("tensor([1, 'a'])", lambda t: t.tensor([1, "a"]),
     ("TypeError", "new(): invalid data type 'str'")),
    ("tensor(None)", lambda t: t.tensor(None),
     ("RuntimeError", "Could not infer dtype of NoneType")),
    ("tensor(object())", lambda t: t.tensor(object()),
     ("RuntimeError", "Could not infer dtype of object")),
    ("tensor(2**63)", lambda t: t.tensor(2**63),
     ("ValueError", "Overflow when unpacking long long")),
    ("tensor(dtype='float64')", lambda t: t.tensor([1.5], dtype="float64"),
     ("TypeError", "tensor(): argument 'dtype' must be torch.dtype, not str")),
    ("tensor(dtype=float)", lambda t: t.tensor([1], dtype=float), ("float64", (1,), [1.0])),
    ("tensor([tensor, tensor])", lambda t: t.tensor([t.tensor([1.0, 2]), t.tensor([3.0, 4])]),
     ("ValueError", "only one element tensors can be converted to Python scalars")),
    ("tensor([tensor(1.), 2])", lambda t: t.tensor([t.tensor(1.0), 2]),
     ("float32", (2,), [1.0, 2.0])),
    ("tensor(300, uint8)", lambda t: t.tensor(300, dtype=t.uint8),
     ("RuntimeError", "value cannot be converted to type uint8 without overflow")),
    ("tensor(pin_memory=False)", lambda t: t.tensor([1], pin_memory=False), ("int64", (1,), [1])),
    ("zeros_like(memory_format=preserve)",
     lambda t: t.zeros_like(t.ones(2), memory_format=t.preserve_format), ("float32", (2,),
                                                                          [0.0, 0.0])),
    ("zeros_like(layout=strided)", lambda t: t.zeros_like(t.ones(2), layout=t.strided),
     ("float32", (2,), [0.0, 0.0])),
    ("ones_like(dtype=long)", lambda t: t.ones_like(t.ones(2), dtype=t.long),
     ("int64", (2,), [1, 1])),
    ("full_like(x, 3)", lambda t: t.full_like(t.ones(2), 3), ("float32", (2,), [3.0, 3.0])),
    ("full_like(long, 2.5)", lambda t: t.full_like(t.ones(2, dtype=t.long), 2.5),
     ("int64", (2,), [2, 2])),
    ("empty_like(requires_grad)", lambda t: t.empty_like(t.ones(2), requires_grad=True),
     ("float32", (2,))),
]
RAISED = {"TypeError", "RuntimeError", "ValueError", "NotImplementedError"}


def _outcome(lib: Any, call: Callable[[Any], Any]) -> tuple[Any, ...]:
    try:
        result = call(lib)
    except Exception as error:
        return type(error).__name__, str(error).splitlines()[0]
    return str(result.dtype).removeprefix("torch."), tuple(result.shape), result


@pytest.mark.parametrize(("label", "call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_creation_overload(label: str, call: Callable[[Any], Any],
                           expected: tuple[Any, ...]) -> None:
    outcome = _outcome(autodiff, call)
    if expected[0] in RAISED:
        assert outcome == expected
        return
    assert outcome[:2] == expected[:2], outcome[:2]
    if len(expected) == 3:
        assert outcome[2].tolist() == expected[2]


@pytest.mark.parametrize(("label", "call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_creation_overload_matches_pytorch(label: str, call: Callable[[Any], Any],
                                           expected: tuple[Any, ...]) -> None:
    torch = pytest.importorskip("torch")
    theirs = _outcome(torch, call)
    assert theirs[:2] == expected[:2]
    if len(expected) == 3:
        assert theirs[2].tolist() == expected[2]


def test_invalid_combinations_list_pytorchs_overloads() -> None:
    with pytest.raises(TypeError) as raised:
        autodiff.randint(9)
    message = str(raised.value)
    assert message.startswith("randint() received an invalid combination of arguments - got "
                              "(int), but expected one of:\n * (int high, tuple of ints size, *, "
                              "torch.Generator generator, Tensor out = None, torch.dtype dtype "
                              "= None, torch.layout layout = None, torch.device device = None, "
                              "bool pin_memory = False, bool requires_grad = False)\n")
    assert message.count("\n * ") == 4
    with pytest.raises(TypeError, match=r"^rand\(\) received an invalid combination of "
                                        r"arguments - got \(\), but expected one of:"):
        autodiff.rand()
    with pytest.raises(TypeError, match=r"- got \(int, tuple, foo=int\), but"):
        autodiff.randint(9, (2,), foo=1)


def test_invalid_combinations_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for call in (lambda t: t.randint(9), lambda t: t.rand(), lambda t: t.randint(9, (2,), foo=1),
                 lambda t: t.randperm(2, foo=1), lambda t: t.rand(2, foo=1)):
        assert _outcome(autodiff, call) == _outcome(torch, call)
        with pytest.raises(TypeError) as ours:
            call(autodiff)
        with pytest.raises(TypeError) as theirs:
            call(torch)
        assert str(ours.value) == str(theirs.value)


def test_generators_are_taken_by_every_random_factory() -> None:
    generator = autodiff.Generator().manual_seed(3)
    first = [autodiff.randint(0, 100, (4,), generator=generator).tolist(),
             autodiff.randperm(5, generator=generator).tolist(),
             autodiff.rand(2, generator=generator).tolist()]
    generator.manual_seed(3)
    again = [autodiff.randint(100, size=(4,), generator=generator).tolist(),
             autodiff.randperm(5, generator=generator).tolist(),
             autodiff.rand(2, generator=generator).tolist()]
    assert first == again
    assert sorted(first[1]) == [0, 1, 2, 3, 4]


def test_randint_in_a_float_dtype_draws_integers() -> None:
    values = autodiff.randint(3, 9, (100,), dtype=autodiff.float64)
    assert values.dtype is autodiff.float64
    assert all(v.is_integer() and 3 <= v < 9 for v in values.tolist())


def test_channels_last_lays_channels_innermost() -> None:
    x = autodiff.empty(2, 3, 4, 5, memory_format=autodiff.channels_last)
    assert x.shape == (2, 3, 4, 5)
    assert x.numpy().strides == (3 * 4 * 5 * 4, 4, 5 * 3 * 4, 3 * 4)  # (N, H, W, C) in memory
    x.fill_(1.5)
    assert (x + 1).tolist() == autodiff.full((2, 3, 4, 5), 2.5).tolist()


def test_layouts_and_memory_formats_print_as_pytorch() -> None:
    assert repr(autodiff.strided) == "torch.strided"
    assert repr(autodiff.channels_last) == "torch.channels_last"
    assert isinstance(autodiff.contiguous_format, autodiff.memory_format)
    assert isinstance(autodiff.strided, autodiff.layout)
    with raises_containing(TypeError, "argument 'layout' must be torch.layout, not str"):
        autodiff.zeros(2, layout="strided")


def test_pin_memory_without_cuda_is_refused_as_pytorch() -> None:
    if autodiff.cuda.is_available():
        pytest.skip("pinned memory is available here (tested in test_pinned_memory_on_cuda)")
    message = ("pin_memory=True requires a CUDA or other accelerator backend; no pinned memory "
               "allocator is available on this system.")
    for call in (lambda: autodiff.zeros(2, pin_memory=True),
                 lambda: autodiff.empty(2, pin_memory=True),
                 lambda: autodiff.tensor([1.0], pin_memory=True)):
        with pytest.raises(RuntimeError) as raised:
            call()
        assert str(raised.value) == message


def test_pinned_memory_on_cuda() -> None:
    if not autodiff.cuda.is_available():
        pytest.skip("needs CUDA")
    x = autodiff.zeros(3, pin_memory=True)
    assert x.device.type == "cpu" and x.is_pinned() and not autodiff.zeros(3).is_pinned()
