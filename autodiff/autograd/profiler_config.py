"""`_ExperimentalConfig`, PyTorch's `torch.profiler._ExperimentalConfig`: the profiler's
experimental switches, with PyTorch's keywords and defaults.

What they mean here: `verbose` writes each op's "Call stack" into the Chrome trace (with
`with_stack`); `trace_only` skips building the events (only `export_chrome_trace` works);
`profile_all_threads` is what the recording always does (every thread's ops are kept). The
others configure Kineto's device and hardware-counter back ends (CUPTI metrics, perf events,
CUDA synchronization events, CPU-to-kernel correlation, custom back ends, Vulkan timestamps),
which autodiff does not have: setting one raises, naming it.
"""

from __future__ import annotations

from collections.abc import Sequence

_DEVICE_ONLY = {
    "profiler_metrics": "CUPTI metrics are Kineto's (CUDA)",
    "profiler_measure_per_kernel": "CUPTI metrics are Kineto's (CUDA)",
    "performance_events": "hardware performance counters are not read",
    "enable_cuda_sync_events": "CUDA synchronization events are Kineto's (CUPTI)",
    "adjust_profiler_step": "it adjusts Kineto's step events to its Python tracer's",
    "disable_external_correlation": "it turns off Kineto's correlation of CPU ops with GPU "
                                    "kernels, which are not traced",
    "capture_overload_names": "autodiff's ops have no ATen overload names",
    "record_python_gc_info": "Python garbage-collection events are not recorded",
    "expose_kineto_event_metadata": "there are no Kineto events",
    "custom_profiler_config": "there is no custom profiler back end",
    "adjust_timestamps": "it adjusts Vulkan events",
}


class _ExperimentalConfig:
    """The profiler's experimental switches (keywords and defaults as PyTorch's)."""

    def __init__(self, profiler_metrics: Sequence[str] = (),
                 profiler_measure_per_kernel: bool = False, verbose: bool = False,
                 performance_events: Sequence[str] = (), enable_cuda_sync_events: bool = False,
                 adjust_profiler_step: bool = False, disable_external_correlation: bool = False,
                 profile_all_threads: bool = False, capture_overload_names: bool = False,
                 record_python_gc_info: bool = False,
                 expose_kineto_event_metadata: bool = False, custom_profiler_config: str = "",
                 adjust_timestamps: bool = False, trace_only: bool = False) -> None:
        self.profiler_metrics = list(profiler_metrics)
        self.profiler_measure_per_kernel = profiler_measure_per_kernel
        self.verbose = verbose
        self.performance_events = list(performance_events)
        self.enable_cuda_sync_events = enable_cuda_sync_events
        self.adjust_profiler_step = adjust_profiler_step
        self.disable_external_correlation = disable_external_correlation
        self.profile_all_threads = profile_all_threads
        self.capture_overload_names = capture_overload_names
        self.record_python_gc_info = record_python_gc_info
        self.expose_kineto_event_metadata = expose_kineto_event_metadata
        self.custom_profiler_config = custom_profiler_config
        self.adjust_timestamps = adjust_timestamps
        self.trace_only = trace_only

    def check(self) -> None:
        """Refuse, by name, a switch of a back end autodiff does not have."""
        for name, reason in _DEVICE_ONLY.items():
            value = getattr(self, name)
            if value:
                raise ValueError(f"_ExperimentalConfig({name}={value!r}) is not supported: "
                                 f"{reason}")
