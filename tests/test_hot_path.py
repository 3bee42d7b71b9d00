"""The one switch of the hot path (`hot_path.modes.active`): on while any mode that reaches into
op calls is on, off again once each has closed (also when it closes by an exception), and
`fast_path`'s public functions behave as their stacked decorators do."""

from __future__ import annotations

import inspect
import threading

import pytest

import autodiff
from autodiff.autograd import forward_ad
from autodiff.autograd.graph import replayable, saved_tensors_hooks
from autodiff.hot_path import modes

pytestmark = pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")


def _identity(tensor: autodiff.Tensor) -> autodiff.Tensor:
    return tensor


def _modes() -> list[tuple[str, object]]:
    return [
        ("dual_level", forward_ad.dual_level()),
        ("profile", autodiff.autograd.profiler.profile()),
        ("detect_anomaly", autodiff.autograd.detect_anomaly()),
        ("replayable", replayable()),
        ("saved_tensors_hooks", saved_tensors_hooks(_identity, _identity)),
        ("autocast", autodiff.autocast("cpu")),
    ]


@pytest.mark.parametrize("index", range(len(_modes())), ids=[name for name, _ in _modes()])
def test_each_mode_turns_the_switch_on_and_off(index: int) -> None:
    assert not modes.active
    _, mode = _modes()[index]
    x = autodiff.ones(3, 3, requires_grad=True)
    with mode:  # type: ignore[attr-defined]
        assert modes.active
        autodiff.matmul(x, x).sum().backward()  # ops run the full path inside
        assert modes.active
    assert not modes.active


def test_vmap_turns_the_switch_on_and_off_also_on_error() -> None:
    seen = []

    def body(row: autodiff.Tensor) -> autodiff.Tensor:
        seen.append(modes.active)
        return row * 2

    autodiff.func.vmap(body)(autodiff.ones(2, 3))
    assert seen == [True] and not modes.active

    def failing(row: autodiff.Tensor) -> autodiff.Tensor:
        raise ValueError("inside vmap")

    with pytest.raises(ValueError, match="inside vmap"):
        autodiff.func.vmap(failing)(autodiff.ones(2, 3))
    assert not modes.active


def test_autocast_ops_leave_the_count_balanced() -> None:
    """Each autocast op suspends autocast while it runs: counted out and back in, once each."""
    x = autodiff.ones(4, 4)
    with autodiff.autocast("cpu"):
        for _ in range(5):
            autodiff.matmul(x, x)
        assert modes.active
    assert not modes.active
    with autodiff.autocast("cpu"):
        result = autodiff.matmul(x, x)
    assert result.dtype is autodiff.bfloat16  # the wrapper ran: the op was cast
    assert autodiff.matmul(x, x).dtype is autodiff.float32  # and now it is skipped


def test_nested_modes_keep_the_switch_on_until_the_last_closes() -> None:
    with forward_ad.dual_level():
        with autodiff.autograd.detect_anomaly():
            assert modes.active
        assert modes.active
    assert not modes.active


def test_a_mode_in_another_thread_gives_this_thread_the_same_results() -> None:
    """The switch counts modes over all threads: this thread takes the full path, which asks
    each mode for this thread, and computes as before."""
    x = autodiff.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    expected = x.grad.clone()
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with autodiff.autocast("cpu"):
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        entered.wait(10)
        assert modes.active
        x.grad = None
        y = autodiff.matmul(x, x)
        assert y.dtype is autodiff.float32  # autocast is on in the other thread only
        (x * x).sum().backward()
        assert autodiff.equal(x.grad, expected)
    finally:
        release.set()
        thread.join()
    assert not modes.active


def test_fast_path_keeps_signature_name_and_out() -> None:
    signature = inspect.signature(autodiff.add)
    assert "out" in signature.parameters and "alpha" in signature.parameters
    assert autodiff.add.__name__ == "add" and autodiff.matmul.__name__ == "matmul"
    x = autodiff.ones(3)
    out = autodiff.empty(3)
    assert autodiff.add(x, x, out=out) is out
    assert autodiff.equal(out, autodiff.full((3,), 2.0))
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        autodiff.matmul(x, x, bogus=1)
