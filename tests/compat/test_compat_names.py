"""Names older or rarer programs call: the deprecated torch.range (end included, float by
default), empty_permuted, torch.index_put/index_put_, is_distributed, to_dlpack, and the Tensor
methods resize_/resize_as_ (in place, values kept in row-major order) with the deprecated
out-of-place resize/resize_as, is_set_to, as_subclass and name. Asserted outcomes run
everywhere; with torch installed every case also runs through PyTorch and the outcomes
(values, dtypes, warnings, errors) are compared."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

import autodiff
from tests.helpers import raises

_RANGE = ("torch.range is deprecated and will be removed in a future release because its "
          "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
          "which produces values in [start, end).")
_RESIZE_NUMEL = ("requested resize to {} ({} elements in total), but the given tensor has a size "
                 "of 2 (2 elements). autograd's resize can only change the shape of a given "
                 "tensor, while preserving the number of elements. ")


def _outcome(lib: Any, call: Callable[[Any], Any]) -> Any:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call(lib)
    except Exception as error:
        return type(error).__name__, str(error)
    if isinstance(result, lib.Tensor):
        result = (str(result.dtype).split(".")[-1], tuple(result.shape), result.requires_grad,
                  result.tolist())
    messages = [str(warning.message) for warning in caught]
    return (result, messages) if messages else result


def _range_into_out(t: Any) -> Any:
    out = t.zeros(2)
    return t.range(0, 3, out=out) is out, out.tolist()


def _layout(t: Any, size: Any, order: Any) -> Any:
    x = t.empty_permuted(size, order)
    return tuple(x.shape), x.stride(), str(x.dtype)


def _put_in_place(t: Any) -> Any:
    x = t.zeros(3)
    return t.index_put_(x, (t.tensor([1]),), t.tensor(2.0)) is x, x.tolist()


def _set_to(t: Any) -> Any:
    a = t.ones(3)
    return (a.is_set_to(a[:]), a.is_set_to(a), a.is_set_to(a.view(3)), a.is_set_to(a.view(1, 3)),
            a.is_set_to(a.clone()), a.is_set_to(a[1:]))


def _subclass(t: Any) -> Any:
    class Sub(t.Tensor):
        pass

    x = t.ones(2, requires_grad=True)
    y = x.as_subclass(Sub)
    z = (x * 2).as_subclass(Sub)
    (y * 3).sum().backward()
    return (type(y).__name__, isinstance(y, Sub), y.grad_fn.name(), y._base is x, y.is_leaf,
            z.grad_fn.name(), type(z).__name__, x.grad.tolist())


def _subclass_aliases(t: Any) -> Any:
    class Sub(t.Tensor):
        pass

    x = t.ones(2)
    x.as_subclass(Sub).add_(1)
    return x.tolist(), x._version


def _resized(t: Any, call: Callable[[Any], Any]) -> Any:
    x = t.arange(6.0)
    returned = call(x)
    kept = x.reshape(-1)[:6].tolist() if x.numel() >= 6 else x.tolist()
    return returned is x, tuple(x.shape), kept, x._version


def _out_of_place(t: Any, call: Callable[[Any], Any], data: Any) -> Any:
    x = data.requires_grad_()
    y = call(x)
    y.sum().backward()
    return y.grad_fn.name(), y._base is x, tuple(y.shape), x.grad.reshape(-1).tolist()


CASES: dict[str, tuple[Callable[[Any], Any], Any]] = {
    # torch.range
    "range": (lambda t: t.range(1, 4), (("float32", (4,), False, [1.0, 2.0, 3.0, 4.0]),
                                        [_RANGE])),
    "range with a float step": (lambda t: t.range(0, 1, 0.5),
                                (("float32", (3,), False, [0.0, 0.5, 1.0]), [_RANGE])),
    "range, 11 steps of 0.1": (lambda t: tuple(t.range(0, 1, 0.1).shape), ((11,), [_RANGE])),
    "range down": (lambda t: t.range(5, 1, -2), (("float32", (3,), False, [5.0, 3.0, 1.0]),
                                                 [_RANGE])),
    "range int32": (lambda t: t.range(1, 3, dtype=t.int32),
                    (("int32", (3,), False, [1, 2, 3]), [_RANGE])),
    "range to a fraction": (lambda t: t.range(0, 2.5),
                            (("float32", (3,), False, [0.0, 1.0, 2.0]), [_RANGE])),
    "range from a tensor": (lambda t: t.range(t.tensor(1), 3),
                            (("float32", (3,), False, [1.0, 2.0, 3.0]), [_RANGE])),
    "range into out": (_range_into_out, ((True, [0.0, 1.0, 2.0, 3.0]), [_RANGE])),
    "range requires_grad": (lambda t: t.range(0, 1, requires_grad=True),
                            (("float32", (2,), True, [0.0, 1.0]), [_RANGE])),
    "range bool": (lambda t: t.range(0, 3, dtype=t.bool),
                   ("NotImplementedError", "\"range_cpu\" not implemented for 'Bool'")),
    "range to inf": (lambda t: t.range(0, float("inf")),
                     ("RuntimeError", "unsupported range: 0 -> inf")),
    "range('a', 2)": (lambda t: t.range("a", 2),
                      ("TypeError", "range(): argument 'start' (position 1) must be Number, not "
                                    "str")),
    "range(2)": (lambda t: t.range(2),
                 ("TypeError", 'range() missing 1 required positional arguments: "end"')),
    "range step 0": (lambda t: t.range(0, 1, 0), ("RuntimeError", "step must be nonzero")),
    "range backwards": (lambda t: t.range(1, 0),
                        ("RuntimeError", "upper bound and lower bound inconsistent with step "
                                         "sign")),
    # empty_permuted
    "empty_permuted": (lambda t: _layout(t, (2, 3, 4), (0, 2, 1)),
                       ((2, 3, 4), (12, 1, 3), "torch.float32")),
    "empty_permuted transposed": (lambda t: _layout(t, (2, 3), (1, 0))[:2], ((2, 3), (1, 2))),
    "empty_permuted lengths": (
        lambda t: t.empty_permuted((2, 3), (0,)),
        ("RuntimeError", "Number of dimensions in size does not match the length of the "
                         "physical_layout; i.e. len(size) = 2 is not equal to "
                         "len(physical_layout) = 1")),
    "empty_permuted duplicate": (lambda t: t.empty_permuted((2, 3), (0, 0)),
                                 ("RuntimeError", "Duplicate dim not allowed")),
    "empty_permuted out of range": (
        lambda t: t.empty_permuted((2, 3), (0, 2)),
        ("RuntimeError", "Dimension out of range (expected to be between 0 and 1, but got 2 at "
                         "index 1).  NB: negative dims not currently supported; file an issue if "
                         "you want it.")),
    "empty_permuted negative": (
        lambda t: t.empty_permuted((2, -3), (1, 0)),
        ("RuntimeError", "Trying to create tensor with negative dimension -3: [-3, 2]")),
    "empty_permuted int requires_grad": (
        lambda t: t.empty_permuted((2, 3), (1, 0), dtype=t.int64, requires_grad=True),
        ("RuntimeError", "Only Tensors of floating point and complex dtype can require "
                         "gradients")),
    # torch-level index_put, is_distributed, dlpack
    "index_put": (lambda t: t.index_put(t.zeros(3), (t.tensor([0]),), t.tensor(1.0)),
                  ("float32", (3,), False, [1.0, 0.0, 0.0])),
    "index_put accumulate": (
        lambda t: t.index_put(t.zeros(3), [t.tensor([0, 0, 2])], t.tensor(1.0),
                              accumulate=True),
        ("float32", (3,), False, [2.0, 0.0, 1.0])),
    "index_put_": (_put_in_place, (True, [0.0, 2.0, 0.0])),
    "index_put(1, ...)": (
        lambda t: t.index_put(1, (t.tensor([0]),), t.tensor(1.0)),
        ("TypeError", "index_put(): argument 'input' (position 1) must be Tensor, not int")),
    "index_put_(..., 1.0)": (
        lambda t: t.index_put_(t.zeros(3), (t.tensor([0]),), 1.0),
        ("TypeError", "index_put_(): argument 'values' (position 3) must be Tensor, not float")),
    "is_distributed": (lambda t: t.is_distributed(t.ones(2)), False),
    "is_distributed(1)": (
        lambda t: t.is_distributed(1),
        ("TypeError", "is_distributed(): argument 'input' (position 1) must be Tensor, not int")),
    "to_dlpack round trip": (lambda t: t.from_dlpack(t.to_dlpack(t.arange(3.0))),
                             ("float32", (3,), False, [0.0, 1.0, 2.0])),
    # Tensor methods
    "is_set_to": (_set_to, (True, True, True, False, False, False)),
    "is_set_to(3)": (lambda t: t.ones(3).is_set_to(3),
                     ("TypeError", "is_set_to(): argument 'tensor' (position 1) must be Tensor, "
                                   "not int")),
    "name": (lambda t: t.ones(2).name, None),
    "as_subclass": (_subclass, ("Sub", True, "AliasBackward0", True, False, "AliasBackward0",
                                "Sub", [3.0, 3.0])),
    "as_subclass aliases": (_subclass_aliases, ([2.0, 2.0], 1)),
    "as_subclass(int)": (
        lambda t: t.ones(2).as_subclass(int),
        ("TypeError", "Creating a Tensor subclass from a class that does not inherit from Tensor "
                      "is not possible. Make sure your class inherits from Tensor.")),
    "resize_ smaller": (lambda t: _resized(t, lambda x: x.resize_(2, 2)),
                        (True, (2, 2), [[0.0, 1.0], [2.0, 3.0]], 1)),
    "resize_ larger": (lambda t: _resized(t, lambda x: x.resize_(8)),
                       (True, (8,), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 1)),
    "resize_ same shape": (lambda t: _resized(t, lambda x: x.resize_(6)),
                           (True, (6,), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 0)),
    "resize_ tuple": (lambda t: _resized(t, lambda x: x.resize_((3, 2))),
                      (True, (3, 2), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 1)),
    "resize_ to nothing": (lambda t: _resized(t, lambda x: x.resize_(0)), (True, (0,), [], 1)),
    "resize_ to 0-d": (lambda t: _resized(t, lambda x: x.resize_(())), (True, (), 0.0, 1)),
    "resize_ negative": (lambda t: t.ones(2).resize_(-2, 3),
                         ("RuntimeError", "numel: integer multiplication overflow")),
    "resize_('a')": (lambda t: t.ones(2).resize_("a"),
                     ("TypeError", "resize_(): argument 'size' (position 1) must be tuple of "
                                   "ints, not str")),
    "resize_ requires grad": (lambda t: t.ones(2, requires_grad=True).resize_(2),
                              ("RuntimeError", "cannot resize variables that require grad")),
    "resize_ non-leaf": (lambda t: (t.ones(2, requires_grad=True) * 2).resize_(3),
                         ("RuntimeError", "cannot resize variables that require grad")),
    "resize_ channels_last": (lambda t: t.ones(2).resize_(2, memory_format=t.channels_last),
                              ("RuntimeError", "required rank 4 tensor to use channels_last "
                                               "format")),
    "resize_as_": (lambda t: _resized(t, lambda x: x.resize_as_(t.ones(3, 1))),
                   (True, (3, 1), [[0.0], [1.0], [2.0]], 1)),
    "torch.resize_as_": (lambda t: _resized(t, lambda x: t.resize_as_(x, t.ones(4))),
                         (True, (4,), [0.0, 1.0, 2.0, 3.0], 1)),
    "torch.resize_as_(1, x)": (
        lambda t: t.resize_as_(1, t.ones(2)),
        ("TypeError", "resize_as_(): argument 'input' (position 1) must be Tensor, not int")),
    "resize": (lambda t: _out_of_place(t, lambda x: x.resize(3, 2), t.ones(2, 3)),
               (("ResizeBackward", True, (3, 2), [1.0] * 6), ["non-inplace resize is deprecated"])),
    "resize of a transpose": (
        lambda t: _out_of_place(t, lambda x: x.t().resize(6), t.ones(2, 3)),
        (("ResizeBackward", False, (6,), [1.0] * 6), ["non-inplace resize is deprecated"])),
    "resize_as": (lambda t: _out_of_place(t, lambda x: x.resize_as(t.ones(6)), t.ones(2, 3)),
                  (("ResizeBackward", True, (6,), [1.0] * 6),
                   ["non-inplace resize_as is deprecated"])),
    "resize to more elements": (lambda t: t.ones(2).resize(3),
                                ("RuntimeError", _RESIZE_NUMEL.format("3", 3))),
    "resize_as to fewer": (lambda t: t.ones(2).resize_as(t.ones(1, 1)),
                           ("RuntimeError", _RESIZE_NUMEL.format("1x1", 1))),
}


@pytest.mark.parametrize(("label", "call", "expected"),
                         [(label, *case) for label, case in CASES.items()], ids=list(CASES))
def test_compat_name(label: str, call: Callable[[Any], Any], expected: Any) -> None:
    assert _outcome(autodiff, call) == expected


@pytest.mark.parametrize(("label", "call"), [(label, case[0]) for label, case in CASES.items()],
                         ids=list(CASES))
def test_compat_name_matches_pytorch(label: str, call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    assert _outcome(autodiff, call) == _outcome(torch, call)


def test_resize_on_every_device(device: str) -> None:
    x = autodiff.arange(6.0, device=device)
    x.resize_(2, 2)
    assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]] and x._version == 1
    x.resize_(7)
    assert x.shape == (7,) and x[:4].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert autodiff.empty_permuted((2, 3), (1, 0), device=device).shape == (2, 3)
    assert x.is_set_to(x[:]) and not x.is_set_to(x.clone())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert autodiff.range(0, 2, device=device).tolist() == [0.0, 1.0, 2.0]


def test_resize_of_a_view_gives_it_memory_of_its_own() -> None:
    """(PyTorch resizes the shared storage, so there a view that fits keeps aliasing its
    base; here the resized view is a tensor of its own.)"""
    base = autodiff.arange(6.0)
    view = base[1:4]
    view.resize_(2)
    assert view.tolist() == [1.0, 2.0] and view._base is None
    view.fill_(0.0)
    assert base.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_resize_under_no_grad_still_refuses_a_tensor_that_requires_grad() -> None:
    leaf = autodiff.ones(2, requires_grad=True)
    with autodiff.no_grad(), raises(RuntimeError, "cannot resize variables that require grad"):
        leaf.resize_(3)
