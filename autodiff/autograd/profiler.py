"""`autodiff.autograd.profiler`, shaped like `torch.autograd.profiler`: `profile` records every
op's forward and every backward node while it is open; `record_function` marks a range of the
user's code. The results are `profiler_util.EventList`s.

    with autodiff.autograd.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

Times are host wall time (`time.perf_counter_ns`); no device activity is recorded, so the
options that ask for device time (`use_cuda`, `use_device`) are refused, as are those whose
results autodiff does not compute (`with_flops`, `with_modules`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..profiling import USER_ANNOTATION, Range, Recording, profiler_state
from .profiler_util import EventList, FunctionEventAvg, events_from

F = TypeVar("F", bound=Callable[..., Any])


def refuse_options(**options: Any) -> None:
    """Refuse, by name, the PyTorch options whose results autodiff does not record."""
    reasons = {
        "use_cuda": "no device activity is recorded (times are host wall time)",
        "use_device": "no device activity is recorded (times are host wall time)",
        "with_flops": "autodiff does not count FLOPs",
        "with_modules": "autodiff does not record module hierarchy",
        "experimental_config": "there is no Kineto configuration",
        "execution_trace_observer": "autodiff writes no execution traces",
        "custom_trace_id_callback": "traces have no trace id",
        "activity_filters": "only CPU activity is recorded",
        "acc_events": "events are not accumulated across profiling cycles",
    }
    for name, value in options.items():
        if value:
            raise ValueError(f"profiler option {name}={value!r} is not supported: "
                             f"{reasons[name]}")


class profile:
    """Record ops, backward nodes and `record_function` ranges while open (PyTorch's
    `torch.autograd.profiler.profile`)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False,
                 use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None,
                 post_processing_timeout_s: float | None = None,
                 activity_filters: Any = None) -> None:
        refuse_options(use_cuda=use_cuda, use_device=use_device, with_flops=with_flops,
                       with_modules=with_modules, experimental_config=experimental_config,
                       acc_events=acc_events, custom_trace_id_callback=custom_trace_id_callback,
                       activity_filters=activity_filters)
        if not use_cpu:
            raise ValueError("profiler option use_cpu=False is not supported: only CPU "
                             "activity is recorded, so nothing would be")
        # use_kineto picks PyTorch's recording back end; post_processing_timeout_s bounds its
        # post-processing. There is one back end here and no post-processing to bound.
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.entered = False
        self._function_events: EventList | None = None

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.enabled:
            return
        self._stop()

    def _start(self) -> None:
        profiler_state.start(Recording(self.record_shapes, self.profile_memory,
                                       self.with_stack))

    def _stop(self) -> None:
        self._function_events = events_from(profiler_state.stop())

    # ------------------------------------------------------------------------- results
    def _check_finish(self) -> EventList:
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self._function_events

    @property
    def function_events(self) -> EventList:
        return self._check_finish()

    def events(self) -> EventList:
        return self._check_finish()

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        return self._check_finish().table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._check_finish().key_averages(group_by_input_shape, group_by_stack_n,
                                                 group_by_overload_name)

    def total_average(self) -> FunctionEventAvg:
        return self._check_finish().total_average()

    def export_chrome_trace(self, path: str) -> None:
        self._check_finish().export_chrome_trace(path)

    @property
    def self_cpu_time_total(self) -> float:
        return self._check_finish().self_cpu_time_total

    def __str__(self) -> str:
        return self.table()


class record_function:
    """A range of the user's code, named `name`, in the profile (a context manager and a
    decorator). Costs a test of one attribute while no profiler records."""

    def __init__(self, name: str, args: str | None = None) -> None:
        if args is not None:
            raise ValueError("record_function(args=...) is not supported: ranges carry no "
                             "arguments")
        self.name = name
        self.record: Range | None = None

    def __enter__(self) -> record_function:
        if profiler_state.active:
            self.record = profiler_state.begin(self.name, USER_ANNOTATION)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.record is not None:
            profiler_state.end(self.record)
            self.record = None

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


__all__ = ["EventList", "profile", "record_function"]
