"""Grad modes: no_grad, enable_grad, set_grad_enabled (call, context manager, decorator),
inference_mode and is_grad_enabled, restored on exit (also on errors) and thread-local."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import autodiff


@pytest.fixture(autouse=True)
def _grad_mode_restored() -> Iterator[None]:
    """Every test starts and must end with grad mode on."""
    assert autodiff.is_grad_enabled() and not autodiff.is_inference_mode_enabled()
    yield
    enabled = autodiff.is_grad_enabled()
    autodiff.set_grad_enabled(True)
    assert enabled, "the test left grad mode off"


def records(device: str = "cpu") -> bool:
    """Whether an op on a tensor that requires grad records a graph node right now."""
    x = autodiff.ones(2, device=device, requires_grad=True)
    y = x * 2
    assert y.requires_grad == (y.grad_fn is not None)
    return y.grad_fn is not None


def test_default_is_enabled(device: str) -> None:
    assert autodiff.is_grad_enabled()
    assert records(device)


def test_no_grad_context_manager(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    with autodiff.no_grad() as entered:
        assert entered is None  # as in PyTorch
        assert not autodiff.is_grad_enabled()
        y = x * 2 + 1
        assert not records(device)
    assert autodiff.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert x.requires_grad  # leaves keep their flag
    z = x * 2
    assert z.grad_fn is not None


def test_no_grad_decorator(device: str) -> None:
    @autodiff.no_grad()
    def forward(x: autodiff.Tensor) -> autodiff.Tensor:
        """Doc."""
        assert not autodiff.is_grad_enabled()
        return x * 2

    x = autodiff.ones(2, device=device, requires_grad=True)
    assert forward(x).grad_fn is None
    assert autodiff.is_grad_enabled()
    assert forward.__name__ == "forward" and forward.__doc__ == "Doc."
    assert forward(x).grad_fn is None  # reusable


def test_no_grad_on_a_method(device: str) -> None:
    class Model:
        @autodiff.no_grad()
        def predict(self, x: autodiff.Tensor) -> autodiff.Tensor:
            return x * 2

    x = autodiff.ones(2, device=device, requires_grad=True)
    assert not Model().predict(x).requires_grad


@pytest.mark.parametrize("mode", ["no_grad", "enable_grad", "inference_mode"])
def test_bare_decorator(mode: str) -> None:
    @getattr(autodiff, mode)
    def inner() -> bool:
        return autodiff.is_grad_enabled()

    expected = mode == "enable_grad"
    with autodiff.set_grad_enabled(not expected):
        assert inner() is expected
        assert autodiff.is_grad_enabled() is not expected


def test_decorated_generator_runs_under_the_mode() -> None:
    @autodiff.no_grad()
    def steps() -> Iterator[bool]:
        yield autodiff.is_grad_enabled()
        yield autodiff.is_grad_enabled()

    generator = steps()
    assert next(generator) is False
    assert autodiff.is_grad_enabled()  # the caller's mode between steps
    assert next(generator) is False
    assert autodiff.is_grad_enabled()


def test_enable_grad_inside_no_grad(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    with autodiff.no_grad():
        with autodiff.enable_grad():
            assert autodiff.is_grad_enabled()
            y = x * 2
        assert not autodiff.is_grad_enabled()
        z = x * 2
    assert y.grad_fn is not None and z.grad_fn is None


def test_enable_grad_decorator(device: str) -> None:
    @autodiff.enable_grad()
    def forward(x: autodiff.Tensor) -> autodiff.Tensor:
        return x * 2

    x = autodiff.ones(2, device=device, requires_grad=True)
    with autodiff.no_grad():
        y = forward(x)
        assert not autodiff.is_grad_enabled()
    assert y.grad_fn is not None


def test_set_grad_enabled_as_a_call() -> None:
    autodiff.set_grad_enabled(False)
    try:
        assert not autodiff.is_grad_enabled() and not records()
    finally:
        autodiff.set_grad_enabled(True)
    assert autodiff.is_grad_enabled() and records()


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_as_a_context_manager(mode: bool) -> None:
    with autodiff.no_grad():
        with autodiff.set_grad_enabled(mode):
            assert autodiff.is_grad_enabled() is mode
            assert records() is mode
        assert not autodiff.is_grad_enabled()
    with autodiff.set_grad_enabled(mode):
        assert autodiff.is_grad_enabled() is mode
    assert autodiff.is_grad_enabled()


def test_set_grad_enabled_nested() -> None:
    with autodiff.set_grad_enabled(False):
        with autodiff.set_grad_enabled(True):
            assert autodiff.is_grad_enabled()
        assert not autodiff.is_grad_enabled()
    assert autodiff.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator() -> None:
    @autodiff.set_grad_enabled(False)
    def inner() -> bool:
        return autodiff.is_grad_enabled()

    # Decorating changes nothing until the function runs.
    assert autodiff.is_grad_enabled()
    assert inner() is False
    assert autodiff.is_grad_enabled()
    assert inner() is False


@pytest.mark.parametrize("make_mode", [
    pytest.param(autodiff.no_grad, id="no_grad"),
    pytest.param(lambda: autodiff.set_grad_enabled(False), id="set_grad_enabled"),
    pytest.param(autodiff.inference_mode, id="inference_mode"),
])
def test_mode_restored_after_an_exception(make_mode: Callable[[], Any]) -> None:
    with pytest.raises(KeyError), make_mode():
        raise KeyError("inside")
    assert autodiff.is_grad_enabled() and not autodiff.is_inference_mode_enabled()

    @make_mode()
    def failing() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError):
        failing()
    assert autodiff.is_grad_enabled() and not autodiff.is_inference_mode_enabled()


def test_inference_mode(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    with autodiff.inference_mode():
        assert autodiff.is_inference_mode_enabled() and not autodiff.is_grad_enabled()
        y = x * 2
    assert not autodiff.is_inference_mode_enabled() and autodiff.is_grad_enabled()
    assert not y.requires_grad
    with autodiff.inference_mode(False):
        assert not autodiff.is_inference_mode_enabled() and autodiff.is_grad_enabled()

    @autodiff.inference_mode()
    def predict() -> bool:
        return autodiff.is_inference_mode_enabled()

    assert predict() and not autodiff.is_inference_mode_enabled()


def test_in_place_updates_under_no_grad_keep_leaves(device: str) -> None:
    """The optimizer step of the tutorials: w -= lr * w.grad under no_grad."""
    w = autodiff.ones(2, device=device, requires_grad=True)
    (w * 3).sum().backward()
    with autodiff.no_grad():
        w -= 0.5 * w.grad
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert w.tolist() == [-0.5, -0.5]


def test_backward_does_not_record_its_own_ops(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    assert autodiff.is_grad_enabled()


# ----------------------------------------------------------------------------- threads
def _in_thread(target: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def test_no_grad_in_a_thread_does_not_affect_the_main_thread() -> None:
    barrier = threading.Barrier(2, timeout=30)
    seen: dict[str, bool] = {}

    def worker() -> None:
        with autodiff.no_grad():
            barrier.wait()  # 1: the worker is inside no_grad
            barrier.wait()  # 2: the main thread has checked its own mode
            seen["worker"] = autodiff.is_grad_enabled()
            seen["worker records"] = records()

    thread = threading.Thread(target=worker)
    thread.start()
    barrier.wait()
    try:
        assert autodiff.is_grad_enabled()
        assert records()
    finally:
        barrier.wait()
        thread.join(timeout=30)
    assert seen == {"worker": False, "worker records": False}


def test_no_grad_in_the_main_thread_does_not_affect_a_thread() -> None:
    barrier = threading.Barrier(2, timeout=30)
    seen: dict[str, bool] = {}

    def worker() -> None:
        barrier.wait()  # the main thread is inside no_grad now
        seen["enabled"] = autodiff.is_grad_enabled()
        seen["records"] = records()
        with autodiff.set_grad_enabled(False):
            seen["inner"] = autodiff.is_grad_enabled()
        barrier.wait()

    with autodiff.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        barrier.wait()
        barrier.wait()
        assert not autodiff.is_grad_enabled()
    thread.join(timeout=30)
    assert seen == {"enabled": True, "records": True, "inner": False}


def test_set_grad_enabled_call_in_a_thread_stays_there() -> None:
    def worker() -> None:
        autodiff.set_grad_enabled(False)
        assert not autodiff.is_grad_enabled()

    _in_thread(worker)
    assert autodiff.is_grad_enabled()


def test_inference_mode_is_thread_local() -> None:
    barrier = threading.Barrier(2, timeout=30)

    def worker() -> None:
        with autodiff.inference_mode():
            barrier.wait()
            barrier.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    barrier.wait()
    try:
        assert not autodiff.is_inference_mode_enabled() and autodiff.is_grad_enabled()
    finally:
        barrier.wait()
        thread.join(timeout=30)
