"""Anomaly mode: find where a NaN in backward (or any error in a node) came from.

While it is on, every node records the traceback of the user's code that created it (and, for
nodes made by a `create_graph` backward, the node whose backward made them); backward checks
each node's results for NaN and raises PyTorch's "Function 'LogBackward0' returned nan values
in its 0th output.", and an error inside a node warns with the recorded traceback first.
The switch is global, as PyTorch's is. Off, it costs one attribute test per op. The state, and
the recording of each node's trace, live with the graph node (`node.anomaly_state`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from ..node import anomaly_state as _anomaly_state

F = TypeVar("F", bound=Callable[..., Any])


def is_anomaly_enabled() -> bool:
    return _anomaly_state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _anomaly_state.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    _anomaly_state.enabled = bool(enabled)
    _anomaly_state.check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on inside it."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc_info: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_detect_anomaly:
    """`set_detect_anomaly(True)` turns anomaly detection on now; used with `with`, only
    inside the block."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


__all__ = ["detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly"]
