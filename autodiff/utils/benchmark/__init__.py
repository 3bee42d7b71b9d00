"""torch.utils.benchmark's Timer and Measurement, for Python statements: `timeit(number)` runs
the statement `number` times after its setup and reports the time per run, printed as PyTorch
prints it; `blocked_autorange` and `adaptive_autorange` choose how many runs make one timed
block (until the timer's own overhead is negligible) and time blocks until enough time has
passed, or until the spread of the blocks is small. Each measurement runs under the Timer's
`num_threads`, as PyTorch's. `Compare` prints tables of Measurements; `Fuzzer` generates
random parameters and tensors for them. (PyTorch's C++ statements and the Callgrind collection
are not here.)"""

from __future__ import annotations

import collections
import importlib
import math
import statistics
import struct
import textwrap
import timeit as _timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ...settings import get_num_threads, set_num_threads

__all__ = ["Compare", "FuzzedParameter", "FuzzedTensor", "Fuzzer", "Measurement",
           "ParameterAlias", "Timer"]

_IQR_WARN_THRESHOLD = 0.1  # PyTorch's: the spread (IQR / median) a measurement should stay under
_MAX_SIGNIFICANT_FIGURES = 4  # PyTorch's bounds on what Compare prints of a measurement
_MIN_CONFIDENCE_INTERVAL = 25e-9
_IQR_GROSS_WARN_THRESHOLD = 0.25  # past this, PyTorch's repr blames the environment


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
        return _quantile(self.times, 0.5)

    @property
    def iqr(self) -> float:
        if len(self.times) < 2:
            return 0.0
        return _quantile(self.times, 0.75) - _quantile(self.times, 0.25)

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Whether the spread of the times, IQR / median, is under `threshold`."""
        return self.iqr / self.median < threshold

    @property
    def env(self) -> str | None:
        # PyTorch's reads the Timer's env, None when it had none.
        return self.task_spec.get("env")

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    @property
    def has_warnings(self) -> bool:
        return bool(self._warnings())

    @property
    def significant_figures(self) -> int:
        """PyTorch's rough estimate of the digits the measurement supports: the median over a
        90% confidence interval of the interquartile times (z = 1.645, at least 25 ns), in
        powers of ten, between 1 and 4. PyTorch computes it in float32; so does this."""
        ordered = sorted(self.times)
        count = len(ordered)
        middle = [_f32(t) for t in ordered[count // 4:math.ceil(_f32(3 * count / 4))]]
        std = _f32(statistics.pstdev(middle)) if len(middle) > 1 else 0.0
        interval = max(1.645 * std / _f32(math.sqrt(len(middle))), _MIN_CONFIDENCE_INTERVAL)
        figures = math.floor(_f32(math.log10(_f32(self.median / interval))))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @staticmethod
    def merge(measurements: Any) -> list[Measurement]:
        """One Measurement per task (statement, setup, labels, threads): the times of its
        replicates together, with one run per time."""
        groups: dict[tuple[Any, ...], list[Measurement]] = collections.defaultdict(list)
        for m in measurements:
            groups[tuple(sorted(m.task_spec.items(), key=lambda item: item[0]))].append(m)
        return [Measurement(1, [t for m in group for t in m.times], group[0].task_spec)
                for group in groups.values()]

    @property
    def title(self) -> str:
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return (f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n"
                f"{textwrap.indent(self.stmt, '  ')}")

    def _setup_text(self) -> str:
        if self.setup in ("pass", ""):
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def _warnings(self) -> list[str]:
        for threshold, why in ((_IQR_GROSS_WARN_THRESHOLD,
                                "This suggests significant environmental influence."),
                               (_IQR_WARN_THRESHOLD, "This could indicate system fluctuation.")):
            if not self.meets_confidence(threshold):
                return [f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% "
                        f"of the median measurement.\n           {why}"]
        return []

    def __repr__(self) -> str:
        """PyTorch's layout: the statement, its setup, the median (with the IQR from four
        measurements on) and a warning when the spread is large."""
        sections = [self.title, self.description or "", self._setup_text()]
        summary = "\n".join(f"{section}\n" if "\n" in section else section
                             for section in sections if section)
        count = len(self.times)
        unit, scale = _time_unit(self.median)
        lines = [f"<{type(self).__module__}.{type(self).__name__} object at {id(self):#x}>",
                 summary, f"  {'Median: ' if count > 1 else ''}{self.median / scale:.2f} {unit}"]
        if count >= 4:
            low, high = _quantile(self.times, 0.25), _quantile(self.times, 0.75)
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} "
                         f"({low / scale:.2f} to {high / scale:.2f})")
        lines.append(f"  {count} measurement{'s' if count > 1 else ''}, {self.number_per_run} "
                     f"runs {'per measurement,' if count > 1 else ','} {self.num_threads} "
                     f"thread{'s' if self.num_threads > 1 else ''}")
        lines.extend(self._warnings())
        return "\n".join("\n".join(lines).strip().splitlines())


def _time_unit(seconds: float) -> tuple[str, float]:
    """PyTorch's choice: ns, us or ms by the power of a thousand, else s (under 1 ns too)."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(seconds) // 3), "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def _quantile(values: list[float], q: float) -> float:
    """PyTorch's linear quantile, rounded as its lerp rounds (so printed times match)."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    below = math.floor(rank)
    weight = rank - below
    low, high = ordered[below], ordered[min(below + 1, len(ordered) - 1)]
    if weight < 0.5:
        return low + weight * (high - low)
    return high - (high - low) * (1 - weight)


def _f32(value: float) -> float:
    """`value` rounded to float32, as PyTorch's Python-float tensors hold it."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _dedented(code: str) -> str:
    """As PyTorch's Timer: a block string written indented in a function runs as written."""
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


class Timer:
    """Times a Python statement (`stmt`, after `setup`, with `globals` as its namespace,
    which holds this library as `torch` unless `globals` names another)."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = _timeit.default_timer,
                 globals: dict[str, Any] | None = None, label: str | None = None,
                 sub_label: str | None = None, description: str | None = None,
                 env: str | None = None, num_threads: int = 1, language: Any = "python"):
        if str(getattr(language, "name", language)).lower() not in ("python", "py"):
            raise ValueError(f"Timer: only Python statements can be timed, not {language!r}")
        if global_setup:
            raise ValueError("Timer: global_setup is for C++ statements")
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        namespace = dict(globals or {})
        namespace.setdefault("torch", importlib.import_module(__name__.split(".")[0]))
        stmt, setup = _dedented(stmt), _dedented(setup)
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)
        self._num_threads = num_threads
        self._task_spec: dict[str, Any] = {
            "stmt": stmt, "setup": setup, "label": label, "sub_label": sub_label,
            "description": description, "env": env, "num_threads": num_threads}

    def _timeit(self, number: int) -> float:
        # No real statement takes under a nanosecond; this also keeps ratios finite.
        return max(self._timer.timeit(number=number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        with _torch_threads(self._num_threads):
            self._timeit(max(int(number // 100), 2))  # warm up, as PyTorch does
            return Measurement(number, [self._timeit(number)], self._task_spec)

    def blocked_autorange(self, callback: Callable[[int, float], Any] | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Times blocks of `stmt` runs until `min_run_time` seconds have passed; the block size
        makes the timer's overhead negligible (`callback(number, seconds)` after each block)."""
        number = self._estimate_block_size(min_run_time)
        times = self._measurement_loop(number, lambda times: True, min_run_time, None, callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0,
                           callback: Callable[[int, float], Any] | None = None) -> Measurement:
        """As `blocked_autorange`, but goes on until the blocks' IQR / median is under
        `threshold` (with more than 3 blocks) or `max_run_time` seconds have passed."""
        number = self._estimate_block_size(min_run_time=0.05)

        def confident(times: list[float]) -> bool:
            return len(times) > 3 and Measurement(
                number, times, self._task_spec).meets_confidence(threshold=threshold)

        times = self._measurement_loop(number, confident, min_run_time, max_run_time, callback)
        return Measurement(number, times, self._task_spec)

    def _measurement_loop(self, number: int, can_stop: Callable[[list[float]], bool],
                          min_run_time: float, max_run_time: float | None,
                          callback: Callable[[int, float], Any] | None) -> list[float]:
        total_time = 0.0
        stop = False
        times: list[float] = []
        with _torch_threads(self._num_threads):
            while total_time < min_run_time or not stop:
                time_spent = self._timeit(number)
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                stop = can_stop(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        """Runs per block: ten times more until the timer's overhead is under 0.01% of a
        block and a block takes min_run_time / 1000, or a block alone exceeds min_run_time.
        This is also the warm-up."""
        with _torch_threads(self._num_threads):
            overhead = statistics.median([self._timeit(0) for _ in range(5)])
            number = 1
            while True:
                time_taken = self._timeit(number)
                if overhead / time_taken <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    prior = get_num_threads()
    try:
        set_num_threads(count)
        yield
    finally:
        set_num_threads(prior)


from .compare import Compare  # noqa: E402  (it reads Measurement, defined above)
from .fuzzer import FuzzedParameter, FuzzedTensor, Fuzzer, ParameterAlias  # noqa: E402
