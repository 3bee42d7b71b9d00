"""`autodiff.profiler`, shaped like `torch.profiler`: `profile` (with `schedule`, `step()` and
`on_trace_ready`), `record_function`, `ProfilerActivity`, `tensorboard_trace_handler`,
`_ExperimentalConfig`. The recording itself is `autograd.profiler`'s."""

from __future__ import annotations

from ..autograd.profiler import record_function
from ..autograd.profiler_config import _ExperimentalConfig
from .profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)

__all__ = [
    "ProfilerAction", "ProfilerActivity", "_ExperimentalConfig", "profile", "record_function",
    "schedule", "supported_activities", "tensorboard_trace_handler",
]
