"""The profiler's results, shaped like `torch.autograd.profiler_util`: `FunctionEvent` (one
range), `FunctionEventAvg` (ranges of one name added up), `EventList` with `table()` (PyTorch's
layout), `key_averages()`, `total_average()` and `export_chrome_trace()`.

Times are in microseconds. A range's self time is its time less that of the ranges directly
inside it; its memory (`cpu_memory_usage`) is what it and the ranges inside it allocated, less
what they released (`self_cpu_memory_usage`: its own share).
"""

from __future__ import annotations

import gzip
import json
import os
import socket
from collections.abc import Iterable
from typing import Any

from ..profiling import (
    CPU_OP,
    MEMORY,
    PYTHON_FUNCTION,
    USER_ANNOTATION,
    MemoryRecord,
    Range,
    Recording,
)
from .profiler_table import build_table, format_time


class Interval:
    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    def elapsed_us(self) -> float:
        return self.end - self.start


class FormattedTimesMixin:
    """The `*_str` forms of the times (PyTorch's names)."""

    cpu_time_total: float
    self_cpu_time_total: float
    count: int

    @property
    def cpu_time(self) -> float:
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    @property
    def cpu_time_str(self) -> str:
        return format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return format_time(self.self_cpu_time_total)

    device_time_total: float
    self_device_time_total: float

    @property
    def device_time(self) -> float:
        return 0.0 if self.count == 0 else self.device_time_total / self.count

    @property
    def device_time_str(self) -> str:
        return format_time(self.device_time)

    @property
    def device_time_total_str(self) -> str:
        return format_time(self.device_time_total)

    @property
    def self_device_time_total_str(self) -> str:
        return format_time(self.self_device_time_total)

    # PyTorch's names from before device types other than CUDA.
    @property
    def cuda_time(self) -> float:
        return self.device_time

    @property
    def cuda_time_total(self) -> float:
        return self.device_time_total

    @property
    def self_cuda_time_total(self) -> float:
        return self.self_device_time_total

    node_id = -1
    overload_name = ""
    is_async = False
    is_remote = False
    device_type = "CPU"
    device_index = 0


class FunctionEvent(FormattedTimesMixin):
    """One profiled range: an op, a backward node, a `record_function` range, or a memory
    release outside any range (`[memory]`)."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float,
                 input_shapes: list[list[int]] | None, input_types: list[str] | None,
                 stack: list[str] | None, sequence_nr: int, self_memory: int,
                 is_user_annotation: bool, flops: int = 0, use_device: str | None = None,
                 self_device_time: float = 0.0, self_device_memory: int = 0,
                 kind: str = CPU_OP) -> None:
        self.id = id
        self.name = name
        self.kind = kind
        self.flops = flops
        self.use_device = use_device
        # As PyTorch's legacy (fallback) device profiling: device time kept on the CPU event.
        self.is_legacy = use_device is not None
        self.own_device_time = self_device_time
        self.self_device_memory_usage = self_device_memory
        self.key = name
        self.thread = thread
        self.fwd_thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.input_types = input_types if input_types is not None else []
        self.stack = stack if stack is not None else []
        self.sequence_nr = sequence_nr
        self.self_cpu_memory_usage = self_memory
        self.is_user_annotation = is_user_annotation
        self.count = 1
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None

    @property
    def cpu_time_total(self) -> float:  # type: ignore[override]
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:  # type: ignore[override]
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def cpu_memory_usage(self) -> int:
        return self.self_cpu_memory_usage + sum(child.cpu_memory_usage
                                                for child in self.cpu_children)

    @property
    def device_memory_usage(self) -> int:
        return self.self_device_memory_usage + sum(child.device_memory_usage
                                                   for child in self.cpu_children)

    @property
    def device_time_total(self) -> float:  # type: ignore[override]
        """The device work of this range and of those inside it."""
        return self.own_device_time + sum(child.device_time_total
                                          for child in self.cpu_children)

    @property
    def self_device_time_total(self) -> float:  # type: ignore[override]
        return self.own_device_time

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
                f"cpu_time={self.cpu_time_str} start_us={self.time_range.start:.3f} "
                f"end_us={self.time_range.end:.3f} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(FormattedTimesMixin):
    """Ranges with one key added up (`key_averages`)."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.device_time_total = 0.0
        self.self_device_time_total = 0.0
        self.device_memory_usage = 0
        self.self_device_memory_usage = 0
        self.flops = 0
        self.use_device: str | None = None
        self.is_legacy = False
        self.input_shapes: list[list[int]] | None = None
        self.stack: list[str] | None = None
        self.is_user_annotation = False
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] | None = None

    def add(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.use_device = other.use_device
            self.is_legacy = other.is_legacy
        elif other.key != self.key:
            raise AssertionError(f"Expected keys to match, but got {self.key} vs {other.key}")
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.device_time_total += other.device_time_total
        self.self_device_time_total += other.self_device_time_total
        self.device_memory_usage += other.device_memory_usage
        self.self_device_memory_usage += other.self_device_memory_usage
        self.flops += other.flops
        return self

    def __iadd__(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        return self.add(other)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list[Any]):
    """A list of events with PyTorch's summaries."""

    def __init__(self, events: Iterable[Any] = (), use_device: str | None = None,
                 profile_memory: bool = False, with_flops: bool = False,
                 memory: list[MemoryRecord] | None = None, epoch_offset_ns: int = 0,
                 record_shapes: bool = False, verbose: bool = False,
                 metadata: dict[str, str] | None = None) -> None:
        super().__init__(events)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._memory = memory or []
        self._epoch_offset_ns = epoch_offset_ns
        self._record_shapes = record_shapes
        self._verbose = verbose
        # Keys and JSON texts for the trace's top level (the profile's, shared with it).
        self._metadata = metadata if metadata is not None else {}

    def _like(self, events: Iterable[Any]) -> EventList:
        return EventList(events, use_device=self._use_device,
                         profile_memory=self._profile_memory, with_flops=self._with_flops,
                         record_shapes=self._record_shapes, metadata=self._metadata)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(event.self_cpu_time_total for event in self)

    @property
    def memory_records(self) -> list[MemoryRecord]:
        """Every allocation and release recorded with `profile_memory`, in order."""
        return self._memory

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's table: one row per event, sorted by the attribute `sort_by` (largest
        first), e.g. "self_cpu_time_total", "cpu_time_total", "cpu_memory_usage", "count"."""
        return build_table(self, sort_by=sort_by, header=header, row_limit=row_limit,
                           max_src_column_width=max_src_column_width,
                           max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width,
                           with_flops=self._with_flops, profile_memory=self._profile_memory,
                           top_level_events_only=top_level_events_only, time_unit=time_unit)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events added up by name (and by input shapes, and by the innermost
        `group_by_stack_n` frames, when asked), in order of first appearance."""
        if group_by_overload_name:
            raise ValueError("group_by_overload_name: autodiff's ops have no overload names")
        averages: dict[tuple[Any, ...], FunctionEventAvg] = {}
        for event in self:
            key: tuple[Any, ...] = (event.key, event.is_user_annotation)
            if group_by_input_shapes:
                key += (str(event.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(event.stack[:group_by_stack_n])
            averages.setdefault(key, FunctionEventAvg()).add(event)
        for average in averages.values():  # as PyTorch: what was not grouped by is dropped
            average.stack = (average.stack or [])[:group_by_stack_n]
            if not group_by_input_shapes:
                average.input_shapes = []
        return self._like(averages.values())

    def supported_export_stacks_metrics(self) -> list[str]:
        return ["self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total",
                "self_privateuse1_time_total"]

    def export_stacks(self, path: str, metric: str) -> None:
        """Stacks for flame graphs: per event recorded `with_stack` whose `metric` is
        positive, its frames outermost first (spaces, ";", tabs and newlines in them made
        "_"), joined by ";", then the metric in whole microseconds."""
        if metric not in self.supported_export_stacks_metrics():
            raise ValueError("metric should be one of: "
                             + str(self.supported_export_stacks_metrics()))
        attribute = (metric.replace("cuda", "device").replace("xpu", "device")
                     .replace("privateuse1", "device"))
        translate = str.maketrans(" ;\t\n", "____")
        with open(path, "w") as file:
            for event in self:
                if event.stack:
                    value = getattr(event, attribute)
                    if int(value) > 0:
                        frames = ";".join(entry.translate(translate)
                                          for entry in reversed(event.stack))
                        file.write(f"{frames} {int(value)}\n")

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg()
        for event in self:
            total.count += event.count
            total.cpu_time_total += event.cpu_time_total
            total.self_cpu_time_total += event.self_cpu_time_total
            total.cpu_memory_usage += event.cpu_memory_usage
            total.self_cpu_memory_usage += event.self_cpu_memory_usage
            total.device_time_total += event.device_time_total
            total.self_device_time_total += event.self_device_time_total
            total.flops += event.flops
        total.key = "Total"
        return total

    def export_chrome_trace(self, path: str, metadata: dict[str, str] | None = None) -> None:
        """Write the events as a Chrome trace (JSON; chrome://tracing and Perfetto open it):
        one complete event ("ph": "X") per range, an instant event per allocation and
        release; `metadata` (keys and JSON texts) at the top level. A path ending in ".gz" is
        written gzipped."""
        trace = self._chrome_trace(path, metadata)
        if path.endswith(".gz"):
            with gzip.open(path, "wt") as file:
                json.dump(trace, file)
            return
        with open(path, "w") as file:
            json.dump(trace, file)

    def _chrome_trace(self, name: str, metadata: dict[str, str] | None = None
                      ) -> dict[str, Any]:
        pid = os.getpid()
        offset_us = self._epoch_offset_ns / 1000.0
        events: list[dict[str, Any]] = []
        threads = sorted({event.thread for event in self})
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": "python"}})
        events.append({"ph": "M", "name": "process_labels", "pid": pid, "tid": 0,
                       "args": {"labels": "CPU"}})
        for thread in threads:
            events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": thread,
                           "args": {"name": f"thread {thread} (python)"}})
        for index, event in enumerate(self):
            if event.name == MEMORY:
                continue
            args: dict[str, Any] = {"External id": event.id}
            op = event.kind == CPU_OP
            if op:
                args["Sequence number"] = event.sequence_nr
                args["Fwd thread id"] = 0
            if self._record_shapes and op:
                args["Input type"] = event.input_types
                args["Input Dims"] = event.input_shapes
            if self._verbose and op and event.stack:
                args["Call stack"] = "".join(frame + ";" for frame in event.stack)
            if event.kind == PYTHON_FUNCTION:
                args = {"Python module id": _module_number(event.name)}
            args["Ev Idx"] = index
            events.append({
                "ph": "X", "cat": event.kind,
                "name": event.name, "pid": pid, "tid": event.thread,
                "ts": event.time_range.start + offset_us, "dur": event.cpu_time_total,
                "args": args,
            })
        for record in self._memory:
            events.append({
                "ph": "i", "cat": "cpu_instant_event", "s": "t", "name": MEMORY, "pid": pid,
                "tid": record.thread, "ts": record.time_ns / 1000.0 + offset_us,
                "args": {"Total Reserved": 0, "Total Allocated": record.total,
                         "Bytes": record.nbytes, **_device_args(record.device)},
            })
        trace: dict[str, Any] = {"schemaVersion": 1, "deviceProperties": []}
        for key, text in {**self._metadata, **(metadata or {})}.items():
            trace[key] = json.loads(text)
        trace.update({
            "host_name": socket.gethostname(),
            "displayTimeUnit": "ms",
            "baseTimeNanoseconds": 0,
            "traceEvents": events,
            "traceName": name,
        })
        return trace


# PyTorch's c10::DeviceType numbers, as the trace's memory events carry them.
_DEVICE_TYPES = {"cpu": 0, "cuda": 1, "strict": 20}  # strict: PyTorch's PrivateUse1 place


def _device_args(device: Any) -> dict[str, int]:
    if device is None:
        return {"Device Type": 0, "Device Id": -1}
    return {"Device Type": _DEVICE_TYPES.get(device.type, 20),
            "Device Id": device.index if device.index is not None else 0}


def _module_number(name: str) -> int:
    """n of "nn.Module: Linear_n"."""
    return int(name.rsplit("_", 1)[1])


def events_from(recording: Recording, use_device: str | None = None,
                config: Any = None, metadata: dict[str, str] | None = None) -> EventList:
    """The recorded ranges as FunctionEvents, parents and children linked, in order of
    starting."""
    made: dict[int, FunctionEvent] = {}
    events = []
    ordered = sorted(recording.ranges, key=lambda opened: opened.start_ns)
    for index, opened in enumerate(ordered):
        event = _event(index, opened, use_device)
        made[id(opened)] = event
        parent = opened.parent
        if parent is not None and id(parent) in made:
            event.cpu_parent = made[id(parent)]
            made[id(parent)].cpu_children.append(event)
        events.append(event)
    return EventList(events, use_device=use_device, profile_memory=recording.profile_memory,
                     with_flops=recording.with_flops, memory=recording.memory,
                     epoch_offset_ns=recording.epoch_offset_ns,
                     record_shapes=recording.record_shapes,
                     verbose=bool(config is not None and config.verbose), metadata=metadata)


def _event(index: int, opened: Range, use_device: str | None) -> FunctionEvent:
    return FunctionEvent(
        index, opened.name, opened.thread, opened.start_ns / 1000.0, opened.end_ns / 1000.0,
        opened.input_shapes, opened.input_types, opened.stack, opened.sequence_nr,
        opened.memory, opened.kind == USER_ANNOTATION, flops=opened.flops,
        use_device=use_device, self_device_time=opened.device_time_us,
        self_device_memory=opened.device_memory, kind=opened.kind)
