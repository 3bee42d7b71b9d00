"""Anomaly mode's where trap: a NaN made in backward from the zero gradient `where` or
`masked_fill` gives an unselected branch is reported with the masking op and the double-where
fix; `check_forward=True` flags the first forward op that made a non-finite value."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import autodiff
from autodiff.autograd import anomaly_mode
from tests.autograd._compare import error_of

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's log(0), 0 / 0

TORCH_MESSAGE = "Function 'LogBackward0' returned nan values in its 0th output."


@pytest.fixture(autouse=True)
def _anomaly_off() -> Any:
    yield
    anomaly_mode.set_anomaly_enabled(False)


def _where_trap(lib: Any, device: str = "cpu") -> Any:
    kwargs = {"device": device} if lib is autodiff else {}
    x = lib.tensor([0.0, 1.0, 2.0], requires_grad=True, **kwargs)
    return lib.where(x > 0, lib.log(x), 0.0).sum()


def _backward_error(loss: Any) -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return error_of(loss.backward)


def test_where_trap_is_named_with_the_fix(device: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with autodiff.autograd.detect_anomaly():
            kind, message = _backward_error(_where_trap(autodiff, device))
    assert kind == "RuntimeError"
    assert message.startswith(TORCH_MESSAGE)  # PyTorch's words first
    assert "masked by where (WhereBackward0)" in message
    assert "double-where" in message
    assert "where(x > 0, log(where(x > 0, x, 1)), 0)" in message
    assert "_where_trap" in message  # where the where was called
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            torch_kind, torch_message = _backward_error(_where_trap(torch))
    assert (torch_kind, torch_message) == (kind, TORCH_MESSAGE)


def test_masked_fill_trap(device: str) -> None:
    x = autodiff.tensor([0.0, 4.0], device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with autodiff.autograd.detect_anomaly():
            loss = autodiff.log(x).masked_fill(x <= 0, 0.0).sum()
            _, message = _backward_error(loss)
    assert message.startswith(TORCH_MESSAGE)
    assert "masked by masked_fill (MaskedFillBackward0)" in message


def test_trap_found_through_ops_between() -> None:
    # where's zero reaches log through a multiplication and a view.
    x = autodiff.tensor([[0.0, 1.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with autodiff.autograd.detect_anomaly():
            branch = (autodiff.log(x) * 3).reshape(2)
            loss = autodiff.where(x.reshape(2) > 0, branch, 0.0).sum()
            _, message = _backward_error(loss)
    assert message.startswith("Function 'LogBackward0' returned nan values")
    assert "WhereBackward0" in message


def test_double_where_fix_has_no_nan() -> None:
    x = autodiff.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with autodiff.autograd.detect_anomaly():
            safe = autodiff.where(x > 0, x, 1.0)
            autodiff.where(x > 0, autodiff.log(safe), 0.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.5]


def test_nan_not_made_by_a_mask_keeps_torchs_message() -> None:
    # The gradient reaching LogBackward0 is nonzero: the NaN is log's own (x < 0).
    x = autodiff.tensor([-1.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with autodiff.autograd.detect_anomaly():
            y = autodiff.log(x)
            kind, message = _backward_error(autodiff.where(x > -5, y * y, 0.0).sum())
    assert (kind, message) == ("RuntimeError", "Function 'MulBackward0' returned nan values "
                                               "in its 0th output.")


def test_check_forward_flags_the_first_non_finite_op(device: str) -> None:
    x = autodiff.tensor([0.0, 1.0], device=device, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with autodiff.autograd.detect_anomaly(check_forward=True):
            y = autodiff.log(x)  # -inf: flagged
            z = autodiff.log(y)  # nan: not flagged again
            (x * 2).sum()
    flagged = [str(w.message) for w in caught if "produced" in str(w.message)]
    assert len(flagged) == 1
    assert flagged[0].startswith("Function 'LogBackward0' produced inf values in its 0th "
                                 "output in forward")
    assert "y = autodiff.log(x)" in flagged[0]
    assert z.shape == (2,)


def test_check_forward_flags_again_in_a_new_block_and_is_off_by_default() -> None:
    x = autodiff.tensor([0.0], requires_grad=True)
    for check_forward, expected in [(True, 1), (True, 1), (False, 0)]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with autodiff.autograd.detect_anomaly(check_forward=check_forward):
                autodiff.log(x)
        assert sum("produced" in str(w.message) for w in caught) == expected
    assert not anomaly_mode.is_anomaly_check_forward_enabled()
