"""Anomaly mode: NaN in backward raises naming the node, errors in a node warn with the
forward traceback of the user's code, and nothing is recorded or checked while it is off."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import autodiff
from autodiff import autograd
from autodiff.autograd import anomaly_mode
from tests.autograd._compare import error_of, same_as_torch


@pytest.fixture(autouse=True)
def _anomaly_off() -> Any:
    yield
    anomaly_mode.set_anomaly_enabled(False)


def _nan_in_log_backward(lib: Any, device: str = "cpu") -> Any:
    """log(0) * 0: the product's backward is fine, LogBackward0 computes 0 / 0."""
    x = lib.tensor([0.0, 1.0], dtype=lib.float64, device=device, requires_grad=True)
    y = lib.log(x)  # the line the warning must point at
    return x, (y * 0).sum()


def test_nan_raises_naming_the_node_as_torch() -> None:
    def scenario(lib: Any) -> Any:
        log = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                x, loss = _nan_in_log_backward(lib)
                log.append(error_of(loss.backward))
                log.append(x.grad)
                q = x * 0
                log.append(error_of(lambda: (q / q).sum().backward()))
        log.append([str(w.message).split("\n")[0] for w in caught
                    if w.category is UserWarning])
        return log

    log = same_as_torch(scenario)
    assert log[0] == ("RuntimeError", "Function 'LogBackward0' returned nan values in its 0th "
                                      "output.")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's log(0)
def test_warning_shows_where_the_node_was_made(device: str) -> None:
    with autograd.set_detect_anomaly(True), pytest.warns(UserWarning) as caught:
        _, loss = _nan_in_log_backward(autodiff, device)
        with pytest.raises(RuntimeError, match="LogBackward0"):
            loss.backward()
    messages = [str(w.message) for w in caught]
    trace = [m for m in messages if m.startswith("Error detected in LogBackward0.")]
    assert len(trace) == 1
    assert "Traceback of forward call that caused the error:" in trace[0]
    assert __file__ in trace[0] and "y = lib.log(x)" in trace[0]
    assert "autodiff/function.py" not in trace[0]  # the trace ends in the user's code


def test_error_in_a_custom_backward_warns_with_its_trace() -> None:
    class Fails(autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: autodiff.Tensor) -> autodiff.Tensor:
            return x * 2

        @staticmethod
        def backward(ctx: Any, grad: autodiff.Tensor) -> autodiff.Tensor:
            raise ValueError("broken backward")

    x = autodiff.tensor([1.0], requires_grad=True)
    with autograd.set_detect_anomaly(True):
        y = Fails.apply(x)  # custom op made here
    with autograd.set_detect_anomaly(True), \
            pytest.warns(UserWarning, match="Error detected in FailsBackward") as caught, \
            pytest.raises(ValueError, match="broken backward"):
        y.sum().backward()
    assert any("y = Fails.apply(x)  # custom op made here" in str(w.message) for w in caught)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's 0 ** -1.5
def test_nodes_made_by_a_recorded_backward_point_at_their_parent() -> None:
    """The NaN appears in the double backward: the warning names the node whose backward
    created the failing node, with that node's trace too."""
    x = autodiff.tensor([0.0], dtype=autodiff.float64, requires_grad=True)
    with autograd.set_detect_anomaly(True):
        y = x ** 0.5  # first derivative 0.5 x^-0.5; its derivative at 0 is -inf * ...
        (grad,) = autograd.grad(y.sum(), x, create_graph=True)
        with pytest.warns(UserWarning) as caught, pytest.raises(RuntimeError,
                                                                match="returned nan values"):
            (grad * 0).sum().backward()
    messages = "".join(str(w.message) for w in caught)
    assert "Previous calculation was induced by PowBackward0" in messages
    assert "y = x ** 0.5" in messages


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_off_records_nothing_and_checks_nothing() -> None:
    assert not autograd.anomaly_mode.is_anomaly_enabled()
    x, loss = _nan_in_log_backward(autodiff)
    assert loss.grad_fn._anomaly_trace is None
    loss.backward()  # NaN goes through silently, as in PyTorch
    grad = x.grad.tolist()
    assert grad[0] != grad[0] and grad[1] == 0.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_switches_restore_the_previous_state() -> None:
    enabled = anomaly_mode.is_anomaly_enabled
    setting = autograd.set_detect_anomaly(True)
    assert enabled()
    with autograd.set_detect_anomaly(False):
        assert not enabled()
    assert enabled()
    setting.__exit__()
    assert not enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = autograd.detect_anomaly(check_nan=False)
    with mode:
        assert enabled() and not anomaly_mode.is_anomaly_check_nan_enabled()
        _, loss = _nan_in_log_backward(autodiff)
        loss.backward()  # check_nan=False: no error
    assert not enabled() and anomaly_mode.is_anomaly_check_nan_enabled()

    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        @autograd.detect_anomaly()
        def inside() -> bool:
            return enabled()

    assert inside() and not enabled()
