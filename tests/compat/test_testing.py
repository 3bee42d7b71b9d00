"""`torch.testing`: assert_close (PyTorch's pairs of inputs, default tolerances per dtype, its
attribute checks and messages) and make_tensor (ranges, dtypes, exclude_zero, noncontiguous,
and its argument errors). Asserted outcomes run everywhere; with torch installed each case also
runs through PyTorch and the outcomes (and complete messages) are compared."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import autodiff


def _close(lib: Any, actual: Any, expected: Any, **options: Any) -> None:
    lib.testing.assert_close(actual, expected, **options)


# label -> (call, expected: "ok" or (exception type, the message's first line))
ASSERT_CLOSE: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "within float32 tolerance": (
        lambda t: _close(t, t.tensor([1.0, 2.0]), t.tensor([1.0, 2.0 + 1e-7])), "ok"),
    "float32 apart": (
        lambda t: _close(t, t.tensor([1.0, 2.0]), t.tensor([1.0, 2.5])),
        ("AssertionError", "Tensor-likes are not close!")),
    "float64 tolerance is 1e-7": (
        lambda t: _close(t, t.tensor([1.0], dtype=t.float64),
                         t.tensor([1.0 + 1e-6], dtype=t.float64)),
        ("AssertionError", "Tensor-likes are not close!")),
    "integers compare exactly": (
        lambda t: _close(t, t.tensor([1, 2]), t.tensor([1, 3])),
        ("AssertionError", "Tensor-likes are not equal!")),
    "bools": (
        lambda t: _close(t, t.tensor([True, False]), t.tensor([True, True])),
        ("AssertionError", "Tensor-likes are not equal!")),
    "dtype checked": (
        lambda t: _close(t, t.tensor([1.0]), t.tensor([1.0], dtype=t.float64)),
        ("AssertionError", "The values for attribute 'dtype' do not match: torch.float32 != "
                           "torch.float64.")),
    "check_dtype=False": (
        lambda t: _close(t, t.tensor([1.0]), t.tensor([1.0], dtype=t.float64),
                         check_dtype=False), "ok"),
    "shape": (
        lambda t: _close(t, t.tensor([1.0]), t.tensor([1.0, 2.0])),
        ("AssertionError", "The values for attribute 'shape' do not match: torch.Size([1]) != "
                           "torch.Size([2]).")),
    "nan is not nan": (
        lambda t: _close(t, t.tensor([math.nan]), t.tensor([math.nan])),
        ("AssertionError", "Tensor-likes are not close!")),
    "equal_nan": (
        lambda t: _close(t, t.tensor([math.nan]), t.tensor([math.nan]), equal_nan=True), "ok"),
    "inf": (lambda t: _close(t, t.tensor([math.inf]), t.tensor([math.inf])), "ok"),
    "python floats": (lambda t: _close(t, 1.0, 1.0 + 1e-9), "ok"),
    "python floats apart": (
        lambda t: _close(t, 1.0, 1.1), ("AssertionError", "Scalars are not close!")),
    "python ints": (lambda t: _close(t, 1, 2), ("AssertionError", "Scalars are not equal!")),
    "sequences": (lambda t: _close(t, [t.tensor(1.0), 2.0], [t.tensor(1.0), 2.0]), "ok"),
    "sequence item": (
        lambda t: _close(t, [t.tensor(1.0), 2.0], [t.tensor(1.0), 3.0]),
        ("AssertionError", "Scalars are not close!")),
    "sequence lengths": (
        lambda t: _close(t, [1.0, 2.0], [1.0]),
        ("AssertionError", "The length of the sequences mismatch: 2 != 1")),
    "mapping item": (
        lambda t: _close(t, {"a": t.tensor(1.0)}, {"a": t.tensor(2.0)}),
        ("AssertionError", "Scalars are not close!")),
    "mapping keys": (
        lambda t: _close(t, {"a": t.tensor(1.0)}, {"b": t.tensor(1.0)}),
        ("AssertionError", "The keys of the mappings do not match:")),
    "tensor and number": (
        lambda t: _close(t, t.tensor(1.0), 1.0),
        ("TypeError", "No comparison pair was able to handle inputs of type <class "
                      "'TENSOR'> and <class 'float'>.")),
    "rtol without atol": (
        lambda t: _close(t, t.tensor([1.0]), t.tensor([1.0]), rtol=1e-3),
        ("ValueError", "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                       "atol.")),
    "given tolerances": (
        lambda t: _close(t, t.tensor([1.0]), t.tensor([1.05]), rtol=0.1, atol=0), "ok"),
    "msg": (lambda t: _close(t, t.tensor([1.0]), t.tensor([2.0]), msg="custom"),
            ("AssertionError", "custom")),
    "msg callable": (
        lambda t: _close(t, t.tensor([1.0]), t.tensor([2.0]), msg=lambda text: text.upper()),
        ("AssertionError", "TENSOR-LIKES ARE NOT CLOSE!")),
    "requires_grad not compared": (
        lambda t: _close(t, t.tensor([1.0], requires_grad=True), t.tensor([1.0])), "ok"),
    "empty": (lambda t: _close(t, t.tensor([]), t.tensor([])), "ok"),
    "float16 tolerance": (
        lambda t: _close(t, t.tensor([1.0], dtype=t.float16),
                         t.tensor([1.0005], dtype=t.float16)), "ok"),
    "complex64 tolerance": (
        lambda t: _close(t, t.tensor([50 + 50j, 1 + 1j]), t.tensor([50 + 50.00005j, 1 + 1j])),
        "ok"),
    "complex128 tolerance": (
        lambda t: _close(t, t.tensor([1 + 1j], dtype=t.complex128),
                         t.tensor([1 + 1.0000001j], dtype=t.complex128)), "ok"),
    "bfloat16 tolerance": (
        lambda t: _close(t, t.tensor([1.0], dtype=t.bfloat16),
                         t.tensor([1.0078125], dtype=t.bfloat16)), "ok"),
    "complex message": (
        lambda t: _close(t, t.tensor([50 + 50j, 1 + 1j]), t.tensor([50 + 50.5j, 1 + 1j])),
        ("AssertionError", "Tensor-likes are not close!")),
    "check_stride": (
        lambda t: _close(t, t.ones(2, 3).t(), t.ones(3, 2), check_stride=True),
        ("AssertionError", "The values for attribute 'stride()' do not match: (1, 3) != (2, 1).")),
}


def _outcome(lib: Any, call: Callable[[Any], Any], *, whole: bool = False) -> Any:
    try:
        call(lib)
    except Exception as error:
        message = str(error).replace(f"{lib.Tensor.__module__}.Tensor", "TENSOR")
        return type(error).__name__, message if whole else message.splitlines()[0]
    return "ok"


@pytest.mark.parametrize(("label", "call", "expected"),
                         [(label, *case) for label, case in ASSERT_CLOSE.items()],
                         ids=list(ASSERT_CLOSE))
def test_assert_close(label: str, call: Callable[[Any], Any], expected: Any) -> None:
    assert _outcome(autodiff, call) == expected


@pytest.mark.parametrize(("label", "call"), [(label, case[0]) for label, case in
                                             ASSERT_CLOSE.items()], ids=list(ASSERT_CLOSE))
def test_assert_close_matches_pytorch(label: str, call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    assert _outcome(autodiff, call, whole=True) == _outcome(torch, call, whole=True)


def test_assert_close_message_details() -> None:
    with pytest.raises(AssertionError) as raised:
        autodiff.testing.assert_close(autodiff.tensor([1.0, 2.0, 3.0], dtype=autodiff.float64),
                                      autodiff.tensor([1.0, 2.5, 3.5], dtype=autodiff.float64))
    assert str(raised.value) == (
        "Tensor-likes are not close!\n\nMismatched elements: 2 / 3 (66.7%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-07 allowed)\n"
        "Greatest relative difference: 0.2 at index (1,) (up to 1e-07 allowed)")


def test_make_tensor(device: str) -> None:
    make = autodiff.testing.make_tensor
    x = make((2, 3), dtype=autodiff.float32, device=device)
    assert (x.dtype, x.shape, x.device) == (autodiff.float32, (2, 3), autodiff.device(device))
    assert make(2, 3, dtype=autodiff.int64, device=device).shape == (2, 3)
    drawn = make((200,), dtype=autodiff.float64, device=device, low=2, high=5)
    assert bool((drawn >= 2).all()) and bool((drawn < 5).all())
    integers = make((200,), dtype=autodiff.int32, device=device, low=-3, high=4)
    assert bool((integers >= -3).all()) and bool((integers < 4).all())
    assert bool((make((500,), dtype=autodiff.int64, device=device, low=-1, high=2,
                      exclude_zero=True) != 0).all())
    assert not make((3, 4), dtype=autodiff.float32, device=device,
                    noncontiguous=True).is_contiguous()
    assert make((2,), dtype=autodiff.float32, device=device, requires_grad=True).requires_grad
    assert make((4,), dtype=autodiff.bool, device=device).dtype is autodiff.bool


MAKE_ERRORS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "low >= high": (
        lambda t: t.testing.make_tensor((2,), dtype=t.float32, device="cpu", low=5, high=2),
        ("ValueError", "`low` must be less than `high`, but got 5 >= 2")),
    "nan bound": (
        lambda t: t.testing.make_tensor((2,), dtype=t.float32, device="cpu", low=math.nan),
        ("ValueError", "`low` and `high` cannot be NaN, but got low=nan and high=9")),
    "integers do not require grad": (
        lambda t: t.testing.make_tensor((2,), dtype=t.int64, device="cpu",
                                        requires_grad=True),
        ("ValueError", "`requires_grad=True` is not supported for boolean and integral dtypes, "
                       "but got dtype=torch.int64")),
    "dtype is required": (
        lambda t: t.testing.make_tensor((2,), device="cpu"),
        ("TypeError", "make_tensor() missing 1 required keyword-only argument: 'dtype'")),
}


@pytest.mark.parametrize(("label", "call", "expected"),
                         [(label, *case) for label, case in MAKE_ERRORS.items()],
                         ids=list(MAKE_ERRORS))
def test_make_tensor_errors(label: str, call: Callable[[Any], Any], expected: Any) -> None:
    assert _outcome(autodiff, call) == expected
    torch = pytest.importorskip("torch")
    assert _outcome(torch, call) == expected
