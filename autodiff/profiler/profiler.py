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

import copy
import enum
import functools
import json
import os
import socket
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import backends

from ..autograd.profiler import PRIVATE_USE1_DEVICE, record_function, refuse_options
from ..autograd.profiler import profile as _autograd_profile
from ..autograd.profiler_config import _ExperimentalConfig
from ..autograd.profiler_util import EventList, FunctionEventAvg
from ..user_warnings import warn
from .memory_timeline import MemoryTimeline


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
    """CPU, and CUDA when a CUDA device is there (PyTorch's answer on a build with CUDA)."""
    activities = {ProfilerActivity.CPU}
    if backends.cuda_device_count() > 0:
        activities.add(ProfilerActivity.CUDA)
    return activities


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
        warn("Profiler won't be using warmup, this can skew profiler results",
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


def _parse_activities(activities: Iterable[Any]) -> set[ProfilerActivity]:
    """The activities asked for. PyTorch also takes `{activity: [names]}` to record only
    some of an activity's events (Kineto's filters): refused, by name."""
    parsed: set[ProfilerActivity] = set()
    for item in activities:
        if isinstance(item, dict):
            raise ValueError("profiler activity filters ({activity: [names]}) are not "
                             "supported: there are no Kineto activities to filter")
        if not isinstance(item, ProfilerActivity):
            raise TypeError(f"Expected ProfilerActivity or dict, got {type(item)}")
        if item in parsed:
            raise ValueError(f"Activity {item} specified more than once")
        parsed.add(item)
    return parsed


@functools.cache
def _warn_once(message: str) -> None:
    warn(message, stacklevel=3)


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
    """torch.profiler.profile: record CPU activity (and the device time of the ops, with
    `ProfilerActivity.CUDA`) during the steps `schedule` marks active. `acc_events` keeps the
    events of every active cycle, not only the last one's."""

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[profile], Any] | None = None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config: _ExperimentalConfig | None = None,
                 execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        refuse_options(execution_trace_observer=execution_trace_observer,
                       custom_trace_id_callback=custom_trace_id_callback)
        if use_cuda is not None:
            warn("`use_cuda` is deprecated, use `activities` argument instead",
                 FutureWarning, stacklevel=2)
            activities = set(activities) if activities is not None else supported_activities()
            if use_cuda:
                activities.add(ProfilerActivity.CUDA)
            else:
                activities.discard(ProfilerActivity.CUDA)
        self.activities = (_parse_activities(activities) if activities is not None
                           else supported_activities())
        if not self.activities:
            raise AssertionError("No valid profiler activities found")
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        if (experimental_config is not None and experimental_config.trace_only
                and with_stack):
            warn("trace_only=True is incompatible with with_stack=True (stack traces "
                 "require event post-processing). Disabling trace_only.",
                 stacklevel=2)
            experimental_config = copy.copy(experimental_config)
            experimental_config.trace_only = False
        self.experimental_config = experimental_config
        self.acc_events = acc_events
        self.post_processing_timeout_s = post_processing_timeout_s
        self.use_device: str | None = None
        if ProfilerActivity.CUDA in self.activities:
            self.use_device = "cuda"
        elif ProfilerActivity.PrivateUse1 in self.activities:
            self.use_device = PRIVATE_USE1_DEVICE
        else:
            for activity in (ProfilerActivity.XPU, ProfilerActivity.MTIA,
                             ProfilerActivity.HPU):
                if activity in self.activities:
                    raise ValueError(f"profiler activity {activity} is not supported: "
                                     "autodiff has no such device")
        self.preset_metadata: dict[str, str] = {}
        self._trace_metadata: dict[str, str] = {}
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
                partial(warn, "Incorrect schedule: WARMUP followed by NONE"),
                self._start_trace, self._stop_trace],
            (ProfilerAction.WARMUP, ProfilerAction.RECORD): [self._start_trace],
            (ProfilerAction.WARMUP, ProfilerAction.RECORD_AND_SAVE): [self._start_trace],
            (ProfilerAction.RECORD, ProfilerAction.NONE): [
                partial(warn, "Incorrect schedule: RECORD followed by NONE"),
                self._stop_trace],
            (ProfilerAction.RECORD, ProfilerAction.WARMUP): [
                partial(warn, "Incorrect schedule: RECORD followed by WARMUP"),
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
        if self.profiler is not None and not self.acc_events:
            _warn_once("Warning: Profiler clears events at the end of each cycle. Only events "
                       "from the current cycle will be reported. To keep events across "
                       "cycles, set acc_events=True.")
        if self.profiler is None or not self.acc_events:
            self.profiler = _autograd_profile(
                use_cpu=ProfilerActivity.CPU in self.activities, use_device=self.use_device,
                record_shapes=self.record_shapes, with_flops=self.with_flops,
                profile_memory=self.profile_memory, with_stack=self.with_stack,
                with_modules=self.with_modules, use_kineto=True,
                experimental_config=self.experimental_config, acc_events=self.acc_events,
                post_processing_timeout_s=self.post_processing_timeout_s)
            self.profiler.trace_metadata = self._trace_metadata

    def _start_trace(self) -> None:
        assert self.profiler is not None
        self.profiler._start()
        self._recording = True
        for option in ("profile_memory", "with_stack", "record_shapes", "with_modules",
                       "with_flops"):
            if getattr(self, option):
                self.add_metadata_json(option, "1")
        for key, value in self.preset_metadata.items():
            self.add_metadata_json(key, value)

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

    def add_metadata(self, key: str, value: str) -> None:
        """A string written at the top level of the trace, under `key`."""
        self._trace_metadata[key] = json.dumps(value)

    def add_metadata_json(self, key: str, value: str) -> None:
        """A JSON text (checked here) written at the top level of the trace, under `key`."""
        json.loads(value)
        self._trace_metadata[key] = value

    def preset_metadata_json(self, key: str, value: str) -> None:
        """Metadata added when the trace starts (set before it does)."""
        json.loads(value)
        self.preset_metadata[key] = value

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._results().key_averages(group_by_input_shape, group_by_stack_n,
                                            group_by_overload_name)

    def total_average(self) -> FunctionEventAvg:
        return self._results().total_average()

    def export_chrome_trace(self, path: str, use_python_export: bool = False) -> None:
        """The Chrome trace of the last active cycle (of all, with `acc_events`), gzipped when
        `path` ends in ".gz"; the metadata added at the top level. (`use_python_export` picks
        PyTorch's writer; there is one here.)"""
        self._results().export_chrome_trace(path, self._trace_metadata)

    def export_memory_timeline(self, path: str, device: str | None = None) -> None:
        """The memory the recorded arrays held over time, by category, as PyTorch writes it:
        `.json` (or `.json.gz`) holds `[times, sizes]` (times in microseconds; at each, the
        bytes of every category), `.raw.json.gz` the events `(time, action, bytes,
        category)`, `.html` a plot. Needs record_shapes, profile_memory and with_stack, as
        PyTorch's does."""
        warn("`export_memory_timeline` is deprecated and will be removed in a future "
             "version. Please use `torch.cuda.memory._record_memory_history` and "
             "`torch.cuda.memory._export_memory_snapshot` instead.", FutureWarning,
             stacklevel=2)
        required = ("record_shapes", "profile_memory", "with_stack")
        missing = [f"{name}=True" for name in required if not getattr(self, name)]
        if missing:
            raise ValueError(f"{', '.join(missing)} required for memory profiling.")
        if device is None:
            device = "cuda:0" if self.use_device == "cuda" else "cpu"
        timeline = MemoryTimeline(self._results().function_events, device)
        if path.endswith(".html"):
            timeline.export_html(path)
        elif path.endswith("raw.json.gz"):
            timeline.export_raw(path)
        else:
            timeline.export(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Stacks for flame graphs (`self_cpu_time_total`, or `self_cuda_time_total` with
        device activity): one line per event recorded `with_stack` whose metric is positive."""
        self._results().export_stacks(path, metric)
