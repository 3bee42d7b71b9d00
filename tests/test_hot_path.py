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


# ----------------------------------------------------------------------------- plain-path shortcuts
def test_an_op_defining_init_is_refused_at_class_creation() -> None:
    """`apply` makes an op's ctx with a plain class call: an op with an __init__ would get no
    arguments, so defining one is refused when the class is made (custom Functions, which make
    their ctx themselves, may define one)."""
    from autodiff.function import Function

    with pytest.raises(TypeError, match="set its state in forward"):
        class WithInit(Function):  # the class statement is what fails
            def __init__(self) -> None:
                self.value = 1

    class Custom(autodiff.autograd.Function):
        def __init__(self) -> None:
            self.value = 1

        @staticmethod
        def forward(ctx: object, x: autodiff.Tensor) -> autodiff.Tensor:
            return x * 2

        @staticmethod
        def backward(ctx: object, grad: autodiff.Tensor) -> autodiff.Tensor:
            return grad * 2

    x = autodiff.ones(2, requires_grad=True)
    Custom.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("number", [3, 2.5])
def test_mul_by_number_backward_matches_the_op_in_every_mode(dtype: str, number: float) -> None:
    """Mul's backward by a number multiplies directly on the plain path; under a mode, with
    create_graph or for float16 it goes through the op: the gradients agree, and create_graph
    still records the product (MulBackward0 on the gradient)."""
    x = autodiff.tensor([1.0, -2.0, 3.0], dtype=getattr(autodiff, dtype), requires_grad=True)
    (x * number).sum().backward()
    plain = x.grad.tolist()
    assert plain == [float(number)] * 3  # exact in every dtype here
    for _, mode in _modes():
        x.grad = None
        with mode:  # type: ignore[attr-defined]
            (x * number).sum().backward()
        assert x.grad.tolist() == plain
    x.grad = None
    (grad,) = autodiff.autograd.grad((x * number * x).sum(), x, create_graph=True)
    assert grad.grad_fn is not None
    (second,) = autodiff.autograd.grad(grad.sum(), x)
    assert second.tolist() == [2.0 * number] * 3


def test_needs_input_grad_is_read_off_the_recorded_inputs() -> None:
    from autodiff.ops.arithmetic import Mul

    x = autodiff.ones(2, requires_grad=True)
    y = autodiff.ones(2)
    node = (x * y).grad_fn
    assert node.needs_input_grad == (True, False)
    assert (y * x).grad_fn.needs_input_grad == (False, True)
    node.needs_input_grad = (False, False)  # a value set on the ctx wins, as before
    assert node.needs_input_grad == (False, False)
    assert Mul().needs_input_grad is None  # not recorded: the default


_FIRST_INFERENCE = """
import threading
import autodiff
from autodiff.grad_mode import inference_seen
x = autodiff.ones(3, requires_grad=True)
assert not inference_seen.entered and not (x * 2).is_inference()
made = []
def worker():
    with autodiff.inference_mode():
        made.append(x * 2)  # the apply path
        made.append((x * 2).detach() + 1)
thread = threading.Thread(target=worker)
thread.start()
thread.join()
assert inference_seen.entered and all(t.is_inference() for t in made)
with autodiff.inference_mode():
    assert (x * 2).is_inference() and autodiff.ones(2).is_inference()
assert not (x * 2).is_inference() and (x * 2).requires_grad
with autodiff.inference_mode(False):
    assert not (x * 2).is_inference()
print("ok")
"""


def test_first_inference_mode_in_any_thread_marks_its_tensors() -> None:
    # A fresh interpreter: until inference mode is first entered, the hot path skips the
    # thread-local read of the inference flag (grad_mode.inference_seen).
    import os
    import subprocess
    import sys
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", _FIRST_INFERENCE], env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
