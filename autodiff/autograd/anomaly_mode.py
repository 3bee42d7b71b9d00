"""Anomaly mode: find where a NaN in backward (or any error in a node) came from.

While it is on, every node records the traceback of the user's code that created it (and, for
nodes made by a `create_graph` backward, the node whose backward made them); backward checks
each node's results for NaN and raises PyTorch's "Function 'LogBackward0' returned nan values
in its 0th output." (adding, when the gradient the node received was zero there, that a
`where`/`masked_fill` above it masked a branch with a non-finite derivative, and the
double-where fix), and an error inside a node warns with the recorded traceback first.
`check_forward=True` (autodiff's own option) also warns at the first recorded op whose forward
returned a NaN or an infinity.
The switch is global, as PyTorch's is. Off, it costs one attribute test per op. The state, and
the recording of each node's trace, live with the graph node (`node.anomaly_state`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..compiler.tracing import graph_break
from ..node import anomaly_state as _anomaly_state
from ..user_warnings import warn

F = TypeVar("F", bound=Callable[..., Any])


def is_anomaly_enabled() -> bool:
    return _anomaly_state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _anomaly_state.check_nan


def is_anomaly_check_forward_enabled() -> bool:
    return _anomaly_state.check_forward


def set_anomaly_enabled(enabled: bool, check_nan: bool = True,
                        check_forward: bool = False) -> None:
    graph_break("anomaly mode switched inside a compiled function")
    _anomaly_state.enabled = bool(enabled)
    _anomaly_state.check_nan = bool(check_nan)
    if check_forward and not _anomaly_state.check_forward:
        _anomaly_state.forward_flagged = False  # a new block flags its own first value
    _anomaly_state.check_forward = bool(check_forward)


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on inside it.

    check_forward (autodiff's, not PyTorch's): also warn, with its forward traceback, at the
    first recorded op whose forward returns a NaN or an infinity."""

    def __init__(self, check_nan: bool = True, check_forward: bool = False) -> None:
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.check_forward = check_forward
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        self.prev_check_forward = is_anomaly_check_forward_enabled()
        warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        self.prev_check_forward = is_anomaly_check_forward_enabled()
        set_anomaly_enabled(True, self.check_nan, self.check_forward)

    def __exit__(self, *exc_info: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan, self.prev_check_forward)

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_detect_anomaly:
    """`set_detect_anomaly(True)` turns anomaly detection on now; used with `with`, only
    inside the block."""

    def __init__(self, mode: bool, check_nan: bool = True, check_forward: bool = False) -> None:
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        self.prev_check_forward = is_anomaly_check_forward_enabled()
        set_anomaly_enabled(mode, check_nan, check_forward)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan, self.prev_check_forward)


__all__ = ["detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly"]
