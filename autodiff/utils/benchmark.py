"""torch.utils.benchmark's Timer and Measurement, for Python statements: `timeit(number)` runs
the statement `number` times after its setup and reports the time per run, printed as PyTorch
prints it. (PyTorch's C++ statements, `blocked_autorange`/`adaptive_autorange` and the
Callgrind collection are not here.)"""

from __future__ import annotations

import statistics
import timeit as _timeit
from collections.abc import Callable
from typing import Any

__all__ = ["Measurement", "Timer"]


class Measurement:
    """The times of one statement: `times` holds seconds per run, one entry per measurement."""

    def __init__(self, number_per_run: int, raw_times: list[float], task_spec: dict[str, Any]):
        self.number_per_run = number_per_run
        self.raw_times = raw_times
        self.task_spec = task_spec
        self.times = [time / number_per_run for time in raw_times]
        self.stmt = task_spec["stmt"]
        self.setup = task_spec["setup"]
        self.label = task_spec["label"]
        self.sub_label = task_spec["sub_label"]
        self.description = task_spec["description"]
        self.num_threads = task_spec["num_threads"]

    @property
    def mean(self) -> float:
        return statistics.mean(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def iqr(self) -> float:
        if len(self.times) < 2:
            return 0.0
        quartiles = statistics.quantiles(self.times, n=4, method="inclusive")
        return quartiles[2] - quartiles[0]

    @property
    def title(self) -> str:
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        return self.stmt

    def __repr__(self) -> str:
        lines = [f"<{type(self).__module__}.{type(self).__name__} object at {id(self):#x}>",
                 self.title]
        if self.description:
            lines.append(self.description)
        if self.setup != "pass":
            lines.append(f"setup: {self.setup}")
        count = len(self.times)
        lines.append(f"  {_time_text(self.median)}")
        lines.append(f"  {count} measurement{'s' if count != 1 else ''}, "
                     f"{self.number_per_run} runs , {self.num_threads} "
                     f"thread{'s' if self.num_threads != 1 else ''}")
        return "\n".join(lines)


def _time_text(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.2f} {unit}"
    return f"{seconds / 1e-9:.2f} ns"


class Timer:
    """Times a Python statement (`stmt`, after `setup`, with `globals` as its namespace)."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = _timeit.default_timer,
                 globals: dict[str, Any] | None = None, label: str | None = None,
                 sub_label: str | None = None, description: str | None = None,
                 env: str | None = None, num_threads: int = 1, language: Any = "python"):
        if str(getattr(language, "name", language)).lower() not in ("python", "py"):
            raise ValueError(f"Timer: only Python statements can be timed, not {language!r}")
        if global_setup:
            raise ValueError("Timer: global_setup is for C++ statements")
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer,
                                    globals=dict(globals or {}))
        self._task_spec = {"stmt": stmt, "setup": setup, "label": label, "sub_label": sub_label,
                           "description": description, "env": env, "num_threads": num_threads}

    def timeit(self, number: int = 1000000) -> Measurement:
        self._timer.timeit(number=max(int(number // 100), 2))  # warm up, as PyTorch does
        return Measurement(number, [self._timer.timeit(number=number)], self._task_spec)
