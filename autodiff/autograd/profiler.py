"""`autodiff.autograd.profiler`, shaped like `torch.autograd.profiler`: `profile` records every
op's forward and every backward node while it is open; `record_function` marks a range of the
user's code. The results are `profiler_util.EventList`s.

    with autodiff.autograd.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

Times are host wall time (`time.perf_counter_ns`); with `use_device`, the ops on that device
are also timed on it (the backend's timing events: CUDA events with CuPy). `with_flops` counts
PyTorch's FLOPs (`flop_counts.py`), `with_modules` records each `nn.Module` call as a range.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import backends

from ..profiling import USER_ANNOTATION, Range, Recording, profiler_state
from ..user_warnings import warn
from .profiler_config import _ExperimentalConfig
from .profiler_util import EventList, FunctionEventAvg, events_from

F = TypeVar("F", bound=Callable[..., Any])


def refuse_options(**options: Any) -> None:
    """Refuse, by name, the PyTorch options whose results autodiff does not record."""
    reasons = {
        "execution_trace_observer": "autodiff writes no execution traces",
        "custom_trace_id_callback": "traces have no trace id",
        "activity_filters": "there are no Kineto activities to filter",
    }
    for name, value in options.items():
        if value:
            raise ValueError(f"profiler option {name}={value!r} is not supported: "
                             f"{reasons[name]}")


# The device types `use_device` may name, as PyTorch's list them; "strict", autodiff's test
# device, stands where PyTorch has its PrivateUse1 backend (a device outside the core).
PRIVATE_USE1_DEVICE = "strict"
_VALID_DEVICES = ("cuda", "xpu", "mtia", "hpu", PRIVATE_USE1_DEVICE)


def _device_available(device_type: str) -> bool:
    if device_type == "cuda":
        return backends.cuda_device_count() > 0
    return device_type == PRIVATE_USE1_DEVICE


class profile:
    """Record ops, backward nodes and `record_function` ranges while open (PyTorch's
    `torch.autograd.profiler.profile`).

    With `use_device="cuda"` (or `use_cuda=True`), each op on a CUDA device is also timed on
    the device, between two CUDA events around its launch (PyTorch's legacy GPU fallback:
    the device time is kept on the op's event); without a CUDA device this warns and records
    CPU activity only, as PyTorch does. "strict", autodiff's test device, is timed the same
    way through its backend (PyTorch's PrivateUse1 place)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False,
                 use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config: _ExperimentalConfig | None = None,
                 acc_events: bool = False, custom_trace_id_callback: Any = None,
                 post_processing_timeout_s: float | None = None,
                 activity_filters: Any = None) -> None:
        self.enabled = enabled
        if not enabled:
            return
        refuse_options(custom_trace_id_callback=custom_trace_id_callback,
                       activity_filters=activity_filters)
        self.use_cuda = use_cuda
        if use_cuda:
            warn("The attribute `use_cuda` will be deprecated soon, please use "
                 "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        self.record_shapes = record_shapes or with_flops
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.acc_events = acc_events
        if experimental_config is None:
            experimental_config = _ExperimentalConfig()
        experimental_config.check()
        if experimental_config.trace_only and with_stack:
            warn("trace_only=True is incompatible with with_stack=True (stack traces "
                 "require event post-processing). Disabling trace_only.",
                 stacklevel=2)
            experimental_config = copy.copy(experimental_config)
            experimental_config.trace_only = False
        self.experimental_config = experimental_config
        if not use_cpu and not use_kineto:
            raise AssertionError("Device-only events supported only with Kineto "
                                 "(use_kineto=True)")
        if use_device is not None:
            if use_device not in _VALID_DEVICES:
                warn(f"The {use_device} is not a valid device option.", stacklevel=2)
                use_device = None
            elif use_device in ("cuda", "xpu", "hpu") and not _device_available(use_device):
                name = use_device.upper()
                warn(f"{name} is not available, disabling {name} profiling",
                     stacklevel=2)
                if use_device == "cuda":
                    self.use_cuda = False
                use_device = None
            elif use_device == "mtia":
                raise AssertionError("Legacy MTIA profiling is not supported. Requires "
                                     "use_kineto=True on MTIA devices.")
        if use_device is not None and not use_cpu:
            # The device time is kept on the CPU op events (PyTorch's fallback): without them
            # there is nothing to keep it on.
            raise AssertionError(f"Legacy {use_device.upper()} profiling requires "
                                 "use_cpu=True")
        if not use_cpu:
            raise AssertionError("No activities specified for the profiler")
        if post_processing_timeout_s is not None and post_processing_timeout_s < 0:
            raise ValueError("post_processing_timeout_s must be non-negative")
        # use_kineto picks PyTorch's recording back end; post_processing_timeout_s bounds its
        # post-processing. There is one back end here and no post-processing to bound.
        self.use_device = use_device
        self.entered = False
        self.trace_metadata: dict[str, str] = {}
        self._function_events: EventList | None = None
        self._old_function_events: EventList | None = None

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
        self.entered = True
        profiler_state.start(Recording(self.record_shapes, self.profile_memory,
                                       self.with_stack, self.with_flops, self.with_modules,
                                       self.use_device))

    def _stop(self) -> None:
        if self._function_events is not None and self.acc_events:
            self._old_function_events = self._function_events
        events = events_from(profiler_state.stop(), self.use_device, self.experimental_config,
                             self.trace_metadata)
        if self._old_function_events is not None and self.acc_events:
            events.extend(self._old_function_events)
            self._old_function_events = None
        self._function_events = events

    # ------------------------------------------------------------------------- results
    def _check_finish(self) -> EventList:
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        if self.experimental_config.trace_only:
            raise RuntimeError("events() is not available when trace_only=True in "
                               "ExperimentalConfig. Use export_chrome_trace() instead.")
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

    def export_chrome_trace(self, path: str, metadata: dict[str, str] | None = None) -> None:
        """The Chrome trace, with `metadata` (keys and JSON texts) at its top level."""
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        self._function_events.export_chrome_trace(path, metadata)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        events = self._check_finish()
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        events.export_stacks(path, metric)

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
