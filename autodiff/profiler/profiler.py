"""`autodiff.profiler.profile`, shaped like `torch.profiler.profile`: CPU activity, an optional
`schedule` of wait / warmup / active steps advanced by `step()`, `on_trace_ready` called at the
end of each active cycle, and the results of `autograd.profiler.profile`.

    with autodiff.profiler.profile(activities=[ProfilerActivity.CPU],
                                   schedule=schedule(wait=1, warmup=1, active=2),
                                   on_trace_ready=tensorboard_trace_handler("./log")) as prof:
        for batch in loader:
            train_step(batch)
            prof.step()
"""

from __future__ import annotations

import enum
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from ..autograd.profiler import profile as _autograd_profile
from ..autograd.profiler import record_function, refuse_options
from ..autograd.profiler_util import EventList, FunctionEventAvg


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 2
    XPU = 3
    MTIA = 4
    HPU = 5
    PrivateUse1 = 6


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set[ProfilerActivity]:
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """PyTorch's schedule: after `skip_first` steps, cycles of `wait` idle steps, `warmup`
    steps profiled but discarded and `active` recorded steps (the last one saves), `repeat`
    times (0: for ever). `skip_first_wait` skips the first cycle's wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), "
            f"warmup={warmup} (need >= 0), active={active} (need > 0), repeat={repeat} "
            f"(need >= 0), skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return (ProfilerAction.RECORD if mod_step < num_steps - 1
                else ProfilerAction.RECORD_AND_SAVE)

    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[profile], None]:
    """An `on_trace_ready` that writes each cycle's Chrome trace into `dir_name`, named
    `{worker_name}.{milliseconds}.pt.trace.json[.gz]` (worker_name: host and process id)."""

    def handler_fn(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json"
        if use_gzip:
            file_name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler_fn


class profile:
    """torch.profiler.profile: record CPU activity during the steps `schedule` marks active."""

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[profile], Any] | None = None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        refuse_options(use_cuda=use_cuda, with_flops=with_flops, with_modules=with_modules,
                       experimental_config=experimental_config,
                       execution_trace_observer=execution_trace_observer,
                       acc_events=acc_events, custom_trace_id_callback=custom_trace_id_callback)
        self.activities = set(activities) if activities is not None else supported_activities()
        for activity in self.activities:
            if activity is not ProfilerActivity.CPU:
                raise ValueError(f"profiler activity {activity} is not supported: only "
                                 "ProfilerActivity.CPU is recorded (host wall time)")
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.schedule = schedule if schedule is not None else _default_schedule_fn
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.profiler: _autograd_profile | None = None
        self._recording = False
        self._step_range: record_function | None = None
        self._action_map: dict[tuple[ProfilerAction, ProfilerAction | None],
                               list[Callable[[], Any]]] = {
            (ProfilerAction.NONE, ProfilerAction.WARMUP): [self._prepare_trace],
            (ProfilerAction.NONE, ProfilerAction.RECORD): [self._prepare_trace,
                                                           self._start_trace],
            (ProfilerAction.NONE, ProfilerAction.RECORD_AND_SAVE): [self._prepare_trace,
                                                                    self._start_trace],
            (ProfilerAction.WARMUP, ProfilerAction.NONE): [
                partial(warnings.warn, "Incorrect schedule: WARMUP followed by NONE"),
                self._start_trace, self._stop_trace],
            (ProfilerAction.WARMUP, ProfilerAction.RECORD): [self._start_trace],
            (ProfilerAction.WARMUP, ProfilerAction.RECORD_AND_SAVE): [self._start_trace],
            (ProfilerAction.RECORD, ProfilerAction.NONE): [
                partial(warnings.warn, "Incorrect schedule: RECORD followed by NONE"),
                self._stop_trace],
            (ProfilerAction.RECORD, ProfilerAction.WARMUP): [
                partial(warnings.warn, "Incorrect schedule: RECORD followed by WARMUP"),
                self._stop_trace],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE): [self._stop_trace,
                                                                    self._trace_ready],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.WARMUP): [
                self._stop_trace, self._trace_ready, self._prepare_trace],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.RECORD): [
                self._stop_trace, self._trace_ready, self._prepare_trace, self._start_trace],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.RECORD_AND_SAVE): [
                self._stop_trace, self._trace_ready, self._prepare_trace, self._start_trace],
            # On stop():
            (ProfilerAction.WARMUP, None): [self._start_trace, self._stop_trace],
            (ProfilerAction.RECORD, None): [self._stop_trace, self._trace_ready],
            (ProfilerAction.RECORD_AND_SAVE, None): [self._stop_trace, self._trace_ready],
        }

    # ------------------------------------------------------------------------- the steps
    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._transit_action(ProfilerAction.NONE, self.current_action)
        self._open_step_range()

    def stop(self) -> None:
        self._close_step_range()
        self._transit_action(self.current_action, None)

    def step(self) -> None:
        """The next step starts: move through the schedule."""
        self._close_step_range()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(previous, self.current_action)
        self._open_step_range()

    def _open_step_range(self) -> None:
        if self.record_steps and self._recording:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}")
            self._step_range.__enter__()

    def _close_step_range(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    def _transit_action(self, previous: ProfilerAction,
                        current: ProfilerAction | None) -> None:
        for action in self._action_map.get((previous, current), []):
            action()

    def _prepare_trace(self) -> None:
        self.profiler = _autograd_profile(record_shapes=self.record_shapes,
                                          profile_memory=self.profile_memory,
                                          with_stack=self.with_stack)

    def _start_trace(self) -> None:
        assert self.profiler is not None
        self.profiler._start()
        self._recording = True

    def _stop_trace(self) -> None:
        if self._recording and self.profiler is not None:
            self.profiler._stop()
        self._recording = False

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # ------------------------------------------------------------------------- results
    def _results(self) -> _autograd_profile:
        if self.profiler is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.profiler

    def events(self) -> EventList:
        return self._results().function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._results().key_averages(group_by_input_shape, group_by_stack_n,
                                            group_by_overload_name)

    def total_average(self) -> FunctionEventAvg:
        return self._results().total_average()

    def export_chrome_trace(self, path: str) -> None:
        events = self.events()
        if path.endswith(".gz"):
            import gzip
            import json

            with gzip.open(path, "wt") as file:
                json.dump(events._chrome_trace(path), file)
            return
        events.export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Stacks for flame graphs: one line per event recorded `with_stack`, its frames
        outermost first joined by ";" and the metric in microseconds."""
        if metric not in ("self_cpu_time_total",):
            raise ValueError(f"metric {metric!r} is not supported: only "
                             "'self_cpu_time_total' is recorded")
        if not self.with_stack:
            raise ValueError("export_stacks() needs with_stack=True")
        with open(path, "w") as file:
            for event in self.events():
                if event.stack:
                    frames = ";".join(reversed(event.stack))
                    file.write(f"{frames};{event.name} {int(event.self_cpu_time_total)}\n")
