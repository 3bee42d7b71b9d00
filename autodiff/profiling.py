"""The profiler's recording: the switch every op tests, and the ranges it keeps while on.

`Function.apply` and the engine test one attribute, `profiler_state.active`; only while a
profiler (`autograd.profiler.profile`, `profiler.profile`) is recording do they call in here.
Then each op's forward is a range named as PyTorch names the aten op (`MulBackward0`'s forward is
`aten::mul`), each node the engine runs is `autograd::engine::evaluate_function: <node>` around a
range named for the node, and `record_function` adds ranges of the user's. Ranges nest per
thread: a range opened while another is open in the same thread is its child.

With `profile_memory`, each memory-owning array an op returns is an allocation of the op's
range, and its release (when the array is garbage) a negative one of the range open in that
thread at the time, as PyTorch attributes frees; between ranges it is a `[memory]` record.
Memory an op uses inside its forward and gives back before returning is not seen.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
import traceback
import weakref
from typing import Any

from . import dtypes
from .tensor import Tensor

# Frames inside the package are not the user's code (with_stack leaves them out).
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

CPU_OP = "cpu_op"
USER_ANNOTATION = "user_annotation"
MEMORY = "[memory]"


class Range:
    """One recorded range (or memory record): what `FunctionEvent`s are made from."""

    __slots__ = ("children", "end_ns", "input_shapes", "input_types", "kind", "memory",
                 "name", "parent", "sequence_nr", "stack", "start_ns", "thread")

    def __init__(self, name: str, kind: str, thread: int, parent: Range | None) -> None:
        self.name = name
        self.kind = kind
        self.thread = thread
        self.parent = parent
        self.children: list[Range] = []
        self.start_ns = self.end_ns = 0
        self.input_shapes: list[list[int]] | None = None
        self.input_types: list[str] | None = None
        self.sequence_nr = -1
        self.memory = 0  # bytes allocated (positive) and freed (negative) directly in it
        self.stack: list[str] | None = None


class MemoryRecord:
    """One allocation or release, for the trace's memory instant events."""

    __slots__ = ("nbytes", "thread", "time_ns", "total")

    def __init__(self, time_ns: int, nbytes: int, total: int, thread: int) -> None:
        self.time_ns, self.nbytes, self.total, self.thread = time_ns, nbytes, total, thread


class Recording:
    """What one profiling session keeps: every range in opening order, memory records."""

    def __init__(self, record_shapes: bool, profile_memory: bool, with_stack: bool) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.ranges: list[Range] = []
        self.memory: list[MemoryRecord] = []
        self.allocated = 0
        self.finalizers: list[weakref.finalize] = []
        # perf_counter_ns to the epoch's nanoseconds (the trace's timestamps).
        self.epoch_offset_ns = time.time_ns() - time.perf_counter_ns()
        # Reentrant: a release (a finalizer) may run while this thread holds it.
        self.lock = threading.RLock()


class _OpenRanges(threading.local):
    def __init__(self) -> None:
        self.stack: list[Range] = []


class ProfilerState:
    """The switch and the session. `active` is the one attribute the ops and the engine read."""

    def __init__(self) -> None:
        self.active = False
        self.recording: Recording | None = None
        self.open = _OpenRanges()

    # ------------------------------------------------------------------------- the session
    def start(self, recording: Recording) -> None:
        if self.recording is not None:
            raise RuntimeError("Profiler is already enabled on this thread")
        self.recording = recording
        self.open.stack = []
        self.active = True

    def stop(self) -> Recording:
        recording = self.recording
        if recording is None:
            raise RuntimeError("Can't disable profiler when it's not running")
        self.active = False
        self.recording = None
        end = time.perf_counter_ns()
        for still_open in self.open.stack:  # ranges left open (a stop inside a range)
            still_open.end_ns = end
        self.open.stack = []
        for finalizer in recording.finalizers:
            finalizer.detach()
        recording.finalizers = []
        return recording

    # ------------------------------------------------------------------------- ranges
    def begin(self, name: str, kind: str = CPU_OP, inputs: Any = None) -> Range | None:
        """Open a range named `name` in this thread (inside the innermost open one)."""
        recording = self.recording
        if recording is None:
            return None
        stack = self.open.stack
        parent = stack[-1] if stack else None
        opened = Range(name, kind, threading.get_native_id(), parent)
        if recording.record_shapes and inputs is not None:
            opened.input_shapes, opened.input_types = _describe(inputs)
        if recording.with_stack:
            opened.stack = _user_stack()
        if parent is not None:
            parent.children.append(opened)
        with recording.lock:
            recording.ranges.append(opened)
        stack.append(opened)
        opened.start_ns = time.perf_counter_ns()
        return opened

    def end(self, opened: Range | None) -> None:
        """Close `opened` (and any range left open inside it)."""
        if opened is None:
            return
        opened.end_ns = time.perf_counter_ns()
        stack = self.open.stack
        while stack:
            top = stack.pop()
            if top is opened:
                break
            top.end_ns = opened.end_ns

    def depth(self) -> int:
        return len(self.open.stack)

    def unwind(self, depth: int) -> None:
        """Close every range opened in this thread since the stack had `depth` entries (an
        exception went through them)."""
        stack = self.open.stack
        end = time.perf_counter_ns()
        while len(stack) > depth:
            stack.pop().end_ns = end

    # ------------------------------------------------------------------------- ops
    def record_op(self, ctx: Any, args: tuple[Any, ...], arrays: list[Any],
                  kwargs: dict[str, Any], requires_grad: bool) -> Any:
        """`Function.apply` while profiling: forward and the recording of the node, timed as
        one range named for the op."""
        opened = self.begin(forward_name(ctx), CPU_OP, args)
        try:
            result = type(ctx).forward(ctx, *arrays, **kwargs)
            outputs = ctx._finish(args, arrays, result, requires_grad, kwargs)
            if opened is not None:
                # The node's creation number, when one was recorded (PyTorch's sequence
                # number, which links an op to its backward).
                opened.sequence_nr = ctx.__dict__.get("_sequence_nr", -1)
                recording = self.recording
                if recording is not None and recording.profile_memory:
                    self.allocated(result, ctx.backend, opened, recording)
        finally:
            self.end(opened)
        return outputs

    def begin_node(self, node: Any, grads: list[Any]) -> tuple[Range | None, Range | None]:
        """The engine is about to run `node`: PyTorch's two ranges (the evaluation, and inside
        it the node itself)."""
        name = node.name()
        outer = self.begin(f"autograd::engine::evaluate_function: {name}")
        inner = self.begin(name, CPU_OP, grads)
        sequence_nr = node._sequence_nr if node._sequence_nr < (1 << 62) else -1
        for opened in (outer, inner):
            if opened is not None:
                opened.sequence_nr = sequence_nr
        return outer, inner

    # ------------------------------------------------------------------------- memory
    def allocated(self, result: Any, backend: Any, opened: Range, recording: Recording) -> None:
        arrays = result if type(result) is tuple else (result,)
        for array in arrays:
            if not hasattr(array, "shape") or not backend.owns_memory(array):
                continue
            nbytes = _nbytes(array, backend)
            try:
                release = weakref.finalize(array, self._freed, recording, nbytes)
            except TypeError:  # a NumPy scalar: no weak references, and a few bytes
                continue
            recording.finalizers.append(release)
            opened.memory += nbytes
            self._note(recording, nbytes)

    def _freed(self, recording: Recording, nbytes: int) -> None:
        if recording is not self.recording:
            return
        stack = self.open.stack
        if stack:
            stack[-1].memory -= nbytes
        else:
            free = Range(MEMORY, MEMORY, threading.get_native_id(), None)
            free.start_ns = free.end_ns = time.perf_counter_ns()
            free.memory = -nbytes
            with recording.lock:
                recording.ranges.append(free)
        self._note(recording, -nbytes)

    @staticmethod
    def _note(recording: Recording, nbytes: int) -> None:
        with recording.lock:
            recording.allocated += nbytes
            recording.memory.append(MemoryRecord(time.perf_counter_ns(), nbytes,
                                                 recording.allocated,
                                                 threading.get_native_id()))


profiler_state = ProfilerState()


# ----------------------------------------------------------------------------- names
_FORWARD_NAMES: dict[str, str] = {}
_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")
_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def forward_name(ctx: Any) -> str:
    """The aten name PyTorch's profiler gives the op whose node is `ctx`: the node's name
    without `Backward<n>`, in snake case (`LogSoftmaxBackward0` -> `aten::log_softmax`). A
    user's `autograd.Function` is named by its class, as in PyTorch."""
    node_name = ctx.node_name
    name = _FORWARD_NAMES.get(node_name)
    if name is None:
        stem = _BACKWARD_SUFFIX.sub("", node_name)
        name = "aten::" + _WORD.sub("_", stem).lower()
        _FORWARD_NAMES[node_name] = name
    return name


# PyTorch's names of the C++ scalar types, as its trace writes them under "Input type".
_SCALAR_TYPES = {
    "float32": "float", "float64": "double", "float16": "c10::Half",
    "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int", "int16": "short int",
    "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
    "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
}


def _describe(inputs: Any) -> tuple[list[list[int]], list[str]]:
    """Input shapes and types, as PyTorch's record_shapes keeps them: a Tensor's shape, `[]`
    for anything else."""
    shapes: list[list[int]] = []
    types: list[str] = []
    for item in inputs:
        if isinstance(item, Tensor):
            shapes.append(list(item._data.shape))
            types.append(_SCALAR_TYPES.get(item._backend.dtype_name(item._data), ""))
        else:
            shapes.append([])
            types.append("Scalar" if type(item) in (bool, int, float, complex) else "")
    return shapes, types


def _nbytes(array: Any, backend: Any) -> int:
    return math.prod(array.shape) * dtypes.BY_NAME[backend.dtype_name(array)].itemsize


def _user_stack() -> list[str]:
    """The user's frames, innermost first, as PyTorch's with_stack writes them."""
    frames = traceback.extract_stack()
    return [f"{frame.filename}({frame.lineno}): {frame.name}"
            for frame in reversed(frames) if not frame.filename.startswith(_PACKAGE_DIR)]
