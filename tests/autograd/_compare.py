"""Run one scenario with PyTorch and with autodiff and compare what each records.

A scenario takes the library module (`torch` or `autodiff`) and returns a log: nested lists and
tuples of plain values, Tensors (compared by their values) and strings. Both runs must log the
same thing: the same events, in the same order, with the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import autodiff


def plain(value: Any) -> Any:
    """Tensors as ("tensor", nested lists of floats), containers recursively, the rest as is."""
    if hasattr(value, "tolist") and hasattr(value, "requires_grad"):
        return ("tensor", value.detach().tolist())
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def assert_same(actual: Any, expected: Any, path: str = "log") -> None:
    """Equal structure and values; floats within float32 rounding (NaN equals NaN)."""
    if isinstance(expected, float) and isinstance(actual, (float, int)):
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual} != {expected}"
        else:
            assert math.isclose(actual, expected, rel_tol=1e-5, abs_tol=1e-6), \
                f"{path}: {actual} != {expected}"
        return
    if isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected), \
            f"{path}: {actual!r} != {expected!r}"
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{path}[{index}]")
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), f"{path}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}[{key!r}]")
        return
    assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def same_as_torch(scenario: Callable[[Any], Any]) -> Any:
    """Assert that `scenario(autodiff)` logs what `scenario(torch)` logs; returns the log."""
    torch = pytest.importorskip("torch")
    expected = plain(scenario(torch))
    actual = plain(scenario(autodiff))
    assert_same(actual, expected)
    return actual


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """(exception type name, message) of what `call()` raises."""
    try:
        call()
    except Exception as error:  # the type is part of what is compared
        return type(error).__name__, str(error)
    raise AssertionError("expected an exception")
