"""Warnings raised through the `__torch_function__` layer point at the user's line, as PyTorch's
do and as they did before the layer wrapped every public function (autodiff/user_warnings.py):
with the protocol switched off (public functions are one wrapper deep), switched on (Tensor's
methods and properties dispatch too), through a Tensor subclass's handler and through a mode.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff import nn, torch_function
from autodiff.overrides import TorchFunctionMode


@pytest.fixture(params=["off", "on"])
def protocol(request: pytest.FixtureRequest) -> Iterator[str]:
    """The protocol's switch as the parameter says, put back afterwards (it stays on for good
    once a user subclass exists, so a test cannot rely on finding it off)."""
    switch = torch_function.switch
    was_on = switch.classes
    with switch._lock:
        switch.classes = request.param == "on"
        switch._update()
    assert switch.on is (request.param == "on")
    yield request.param
    with switch._lock:
        switch.classes = was_on
        switch._update()


def _non_leaf() -> autodiff.Tensor:
    x = autodiff.ones(2, requires_grad=True)
    return x * 2


def _read_only_array() -> np.ndarray:
    array = np.arange(3.0)
    array.flags.writeable = False
    return array


class _Sub(autodiff.Tensor):
    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        return super().__torch_function__(func, types, args, kwargs)


class _PassingMode(TorchFunctionMode):
    def __torch_function__(self, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        return func(*args, **(kwargs or {}))


# Each case calls one public function, method, property or module on its own line: the
# warning must name this file and that line (the lambda's).
CASES: dict[str, tuple[Callable[[], Any], str]] = {
    "F.softmax without dim": (
        lambda: F.softmax(autodiff.ones(2, 3)), "Implicit dimension choice for softmax"),
    "autodiff.from_numpy of a read-only array": (
        lambda: autodiff.from_numpy(_read_only_array()), "The given NumPy array is not writable"),
    "autodiff.as_tensor of a read-only array": (
        lambda: autodiff.as_tensor(_read_only_array()), "The given NumPy array is not writable"),
    "Tensor.grad of a non-leaf (a property)": (
        lambda: _non_leaf().grad, "The .grad attribute of a Tensor that is not a leaf"),
    "Tensor.resize (a method)": (
        lambda: autodiff.ones(4).resize(2, 2), "non-inplace resize is deprecated"),
    "Tensor.H of a 0-d tensor": (
        lambda: autodiff.tensor(1.0).H, "Tensor.H is deprecated on 0-D tensors"),
    "nn.Softmax without dim": (
        lambda: nn.Softmax()(autodiff.ones(2, 3)), "Implicit dimension choice for softmax"),
}


def _check_points_at_the_case(case: str) -> None:
    call, message = CASES[case]
    with pytest.warns(UserWarning, match=message) as record:
        call()
    found = [w for w in record if message in str(w.message)]
    assert [(w.filename, w.lineno) for w in found] == [
        (__file__, call.__code__.co_firstlineno)] * len(found)


@pytest.mark.parametrize("case", CASES)
def test_a_warning_points_at_the_users_line(case: str, protocol: str) -> None:
    _check_points_at_the_case(case)


@pytest.mark.parametrize("case", CASES)
def test_through_a_mode_it_still_points_at_the_users_line(case: str) -> None:
    with _PassingMode():
        _check_points_at_the_case(case)


def test_through_a_subclass_handler_it_points_at_the_users_line() -> None:
    x = autodiff.ones(2, 3).as_subclass(_Sub)
    with pytest.warns(UserWarning, match="Implicit dimension") as record:
        F.softmax(x); line = _line()  # noqa: E702
    assert (record[0].filename, record[0].lineno) == (__file__, line)
    y = (autodiff.ones(2, requires_grad=True) * 2).as_subclass(_Sub)
    with pytest.warns(UserWarning, match="not a leaf") as record:
        y.grad; line = _line()  # noqa: B018, E702
    assert (record[0].filename, record[0].lineno) == (__file__, line)


def _line() -> int:
    import sys

    return sys._getframe(1).f_lineno


def test_stacklevel_past_the_outermost_frame_is_reported_as_sys() -> None:
    from autodiff.user_warnings import warn

    with pytest.warns(UserWarning, match="far") as record:
        warn("far", UserWarning, stacklevel=10_000)
    assert record[0].filename == "sys"


def test_a_warning_from_python_dash_c_points_at_its_line() -> None:
    """`python -c`'s `__main__` has the built-in importer as its loader, which has no source
    to give: the warning still shows, at `<string>`'s line, as warnings.warn's does."""
    code = ("import autodiff\n"
            "autodiff.sparse_coo_tensor(autodiff.tensor([[0]]), autodiff.tensor([1.0]), (2,))\n")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(root)), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("<string>:2: UserWarning: Sparse invariant checks")
