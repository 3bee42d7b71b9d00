"""CheckpointException: a save or load failed, with each rank's exception and traceback."""

from __future__ import annotations

import traceback
from typing import Any


class CheckpointException(BaseException):
    """Raised when saving or loading a checkpoint failed (a BaseException, as in PyTorch)."""

    def __init__(self, msg: str, failures: dict[int, Any]) -> None:
        super().__init__(msg, failures)
        self._failures = failures

    @property
    def failures(self) -> dict[int, Any]:
        """Each failed rank's (exception, traceback entries)."""
        return self._failures

    def __str__(self) -> str:
        text = f"CheckpointException ranks:{self._failures.keys()}\n"
        for rank, (error, trace) in self._failures.items():
            text += f"Traceback (most recent call last): (RANK {rank})\n"
            if trace is not None:
                text += "".join(traceback.format_list(trace))
            text += "".join(traceback.format_exception_only(type(error), error))
        return text


def wrap_failure(error: Exception) -> CheckpointException:
    """The exception of this process (rank 0) as PyTorch reports a failed step."""
    trace = traceback.extract_tb(error.__traceback__)
    return CheckpointException("", {0: (error, trace)})
