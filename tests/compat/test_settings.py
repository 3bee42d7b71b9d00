"""torch-level switches: deterministic algorithms (and the debug mode spelling of them), the
float32 matmul precision, and the CPU thread count: values, argument errors and warnings,
compared with PyTorch where installed. Every test restores the settings it changes."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import autodiff


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    threads = autodiff.get_num_threads()
    yield
    autodiff.use_deterministic_algorithms(False)
    autodiff.set_float32_matmul_precision("highest")
    autodiff.set_num_threads(threads)


def _outcome(lib: Any, call: Callable[[Any], Any]) -> Any:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call(lib)
    except Exception as error:
        return type(error).__name__, str(error)
    # (PyTorch's C++ warnings end with where they were raised in its sources.)
    messages = [str(warning.message).split(" (Triggered internally")[0] for warning in caught]
    return (result, messages) if messages else result


def _deterministic(t: Any, mode: bool, warn_only: bool) -> Any:
    try:
        t.use_deterministic_algorithms(mode, warn_only=warn_only)
        return (t.are_deterministic_algorithms_enabled(),
                t.is_deterministic_algorithms_warn_only_enabled(),
                t.get_deterministic_debug_mode())
    finally:
        t.use_deterministic_algorithms(False)


def _debug_mode(t: Any, mode: Any) -> Any:
    try:
        t.set_deterministic_debug_mode(mode)
        return (t.get_deterministic_debug_mode(), t.are_deterministic_algorithms_enabled(),
                t.is_deterministic_algorithms_warn_only_enabled())
    finally:
        t.set_deterministic_debug_mode(0)


def _precision(t: Any, precision: str) -> Any:
    try:
        t.set_float32_matmul_precision(precision)
        return t.get_float32_matmul_precision()
    finally:
        t.set_float32_matmul_precision("highest")


def _threads(t: Any, count: Any) -> Any:
    before = t.get_num_threads()
    try:
        t.set_num_threads(count)
        return t.get_num_threads()
    finally:
        t.set_num_threads(before)


CASES: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "defaults": (lambda t: (t.are_deterministic_algorithms_enabled(),
                            t.is_deterministic_algorithms_warn_only_enabled(),
                            t.get_deterministic_debug_mode(), t.get_float32_matmul_precision()),
                 (False, False, 0, "highest")),
    "deterministic": (lambda t: _deterministic(t, True, False), (True, False, 2)),
    "deterministic, warn only": (lambda t: _deterministic(t, True, True), (True, True, 1)),
    "off, warn only kept": (lambda t: _deterministic(t, False, True), (False, True, 0)),
    "mode 1": (lambda t: t.use_deterministic_algorithms(1),
               ("TypeError", "_set_deterministic_algorithms(): argument 'mode' (position 1) must "
                             "be bool, not int")),
    "warn_only 1": (lambda t: t.use_deterministic_algorithms(True, warn_only=1),
                    ("TypeError", "_set_deterministic_algorithms(): argument 'warn_only' must be "
                                  "bool, not int")),
    "debug mode 'warn'": (lambda t: _debug_mode(t, "warn"), (1, True, True)),
    "debug mode 2": (lambda t: _debug_mode(t, 2), (2, True, False)),
    "debug mode 'x'": (lambda t: t.set_deterministic_debug_mode("x"),
                       ("RuntimeError", "invalid value of debug_mode, expected one of `default`, "
                                        "`warn`, `error`, but got x")),
    "debug mode 3": (lambda t: t.set_deterministic_debug_mode(3),
                     ("RuntimeError", "invalid value of debug_mode, expected 0, 1, or 2, but got "
                                      "3")),
    "debug mode 1.0": (lambda t: t.set_deterministic_debug_mode(1.0),
                       ("TypeError", "debug_mode must be str or int, but got <class 'float'>")),
    "precision high": (lambda t: _precision(t, "high"), "high"),
    "precision medium": (lambda t: _precision(t, "medium"), "medium"),
    "precision low": (lambda t: _precision(t, "low"),
                      ("highest", ["low is not one of 'highest', 'high', or 'medium'; the "
                                   "currentsetFloat32MatmulPrecision call has no effect."])),
    "one thread": (lambda t: _threads(t, 1), 1),
    "zero threads": (lambda t: t.set_num_threads(0),
                     ("RuntimeError", "set_num_threads expects a positive integer")),
    "threads 'a'": (lambda t: t.set_num_threads("a"),
                    ("RuntimeError", "set_num_threads expects an int, but got str")),
    "threads True": (lambda t: t.set_num_threads(True),
                     ("RuntimeError", "set_num_threads expects an int, but got bool")),
    "flush_denormal 1": (lambda t: t.set_flush_denormal(1),
                         ("RuntimeError", "flush_denormal expects a bool, but got int")),
}


def test_flush_denormal_is_not_available_and_denormals_stay() -> None:
    # PyTorch's answer on a CPU without flush-to-zero: False, and nothing changes.
    assert autodiff.set_flush_denormal(True) is False
    assert autodiff.tensor([1e-323], dtype=autodiff.float64).item() == 1e-323
    assert autodiff.set_flush_denormal(False) is False


@pytest.mark.parametrize(("label", "call", "expected"),
                         [(label, *case) for label, case in CASES.items()], ids=list(CASES))
def test_setting(label: str, call: Callable[[Any], Any], expected: Any) -> None:
    assert _outcome(autodiff, call) == expected


@pytest.mark.parametrize(("label", "call"), [(label, case[0]) for label, case in CASES.items()],
                         ids=list(CASES))
def test_setting_matches_pytorch(label: str, call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    assert _outcome(autodiff, call) == _outcome(torch, call)


def test_deterministic_index_add_gives_the_same_sums(device: str) -> None:
    """With deterministic algorithms on, repeated scatter-adds into the same slots are summed in
    one fixed order: two runs agree bit for bit (the CPU backends always do)."""
    source = autodiff.rand(4096, device=device, dtype=autodiff.float32)
    index = autodiff.randint(0, 8, (4096,), device=device)
    autodiff.use_deterministic_algorithms(True)
    first = autodiff.zeros(8, device=device).index_add_(0, index, source)
    second = autodiff.zeros(8, device=device).index_add_(0, index, source)
    assert first.tolist() == second.tolist()
    expected = [float(source[index == slot].double().sum()) for slot in range(8)]
    assert first.double().tolist() == pytest.approx(expected, rel=1e-5)
