"""A deadline for tests that start worker processes: a hang becomes a failure (SIGALRM raises
in the test), and the loader's cleanup then stops its workers."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

DEADLINE_SECONDS = 60


@pytest.fixture
def deadline() -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"test still running after {DEADLINE_SECONDS} s (a hang?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(DEADLINE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
