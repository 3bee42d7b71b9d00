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
from .compiler.tracing import graph_break
from .tensor import Tensor

# Frames inside the package are not the user's code (with_stack leaves them out).
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

CPU_OP = "cpu_op"
USER_ANNOTATION = "user_annotation"
PYTHON_FUNCTION = "python_function"
MEMORY = "[memory]"


class Range:
    """One recorded range (or memory record): what `FunctionEvent`s are made from."""

    __slots__ = ("children", "device_memory", "device_time_us", "end_ns", "flops",
                 "input_shapes", "input_types", "kind", "memory", "name", "parent",
                 "sequence_nr", "stack", "start_ns", "thread")

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
        self.flops = 0
        self.device_time_us = 0.0  # the device work of the op itself (timing events)
        self.device_memory = 0  # as `memory`, for arrays on the profiled device


class InnerOp:
    """The product PyTorch runs inside an op autodiff records as one (a linear over more
    than two dims is PyTorch's view, addmm and view): its aten name, input shapes (then
    `scalars` scalar arguments) and FLOPs."""

    __slots__ = ("flops", "name", "scalars", "shapes")

    def __init__(self, name: str, shapes: list[list[int]], flops: int,
                 scalars: int = 0) -> None:
        self.name, self.shapes, self.flops, self.scalars = name, shapes, flops, scalars


class DeviceTiming:
    """The two markers around one op's device work, read when the recording stops (reading
    them waits for the device)."""

    __slots__ = ("backend", "end", "opened", "start")

    def __init__(self, opened: Range, backend: Any, start: Any, end: Any) -> None:
        self.opened, self.backend, self.start, self.end = opened, backend, start, end


class MemoryRecord:
    """One allocation or release, for the trace's memory instant events."""

    __slots__ = ("allocation", "category", "device", "nbytes", "thread", "time_ns", "total")

    def __init__(self, time_ns: int, nbytes: int, total: int, thread: int,
                 device: Any = None, category: str | None = None, allocation: int = 0) -> None:
        self.time_ns, self.nbytes, self.total, self.thread = time_ns, nbytes, total, thread
        self.device = device  # the array's Device; None: the CPU
        # What the memory held (the memory timeline's category): "ACTIVATION" (an output of
        # a forward op that recorded a node), "AUTOGRAD_DETAIL" (made by backward),
        # "GRADIENT" (made while accumulating a .grad), None (unknown).
        self.category = category
        self.allocation = allocation  # numbers an allocation and its release alike


class Recording:
    """What one profiling session keeps: every range in opening order, memory records."""

    def __init__(self, record_shapes: bool, profile_memory: bool, with_stack: bool,
                 with_flops: bool = False, with_modules: bool = False,
                 use_device: str | None = None) -> None:
        # FLOPs are counted from the inputs' shapes, so counting them records the shapes too.
        self.record_shapes = record_shapes or with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        # The device type whose ops are timed with the backend's timing events ("cuda").
        self.use_device = use_device
        self.device_timings: list[DeviceTiming] = []
        self.device_allocated = 0
        # Module instances numbered per class, in order of first call (nn.Module: Linear_0).
        self.module_ids: dict[int, int] = {}
        self.module_counts: dict[str, int] = {}
        self.modules: list[Any] = []  # kept alive so their ids stay theirs
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
        graph_break("the profiler started inside a compiled function")
        self.recording = recording
        self.open.stack = []
        self.active = True

    def stop(self) -> Recording:
        recording = self.recording
        if recording is None:
            raise RuntimeError("Can't disable profiler when it's not running")
        graph_break("the profiler stopped inside a compiled function")
        self.active = False
        self.recording = None
        end = time.perf_counter_ns()
        for still_open in self.open.stack:  # ranges left open (a stop inside a range)
            still_open.end_ns = end
        self.open.stack = []
        for finalizer in recording.finalizers:
            finalizer.detach()
        recording.finalizers = []
        for timing in recording.device_timings:
            timing.opened.device_time_us = timing.backend.elapsed_us(timing.start, timing.end)
        recording.device_timings = []
        recording.modules = []
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
                  kwargs: dict[str, Any], requires_grad: bool, kept: Any = None) -> Any:
        """`Function.apply` while profiling: forward and the recording of the node, timed as
        one range named for the op (`kept`: as `Function._run_forward`'s)."""
        opened = self.begin(forward_name(ctx), CPU_OP, args)
        recording = self.recording
        # An op that folds its inputs into PyTorch's mm/addmm/bmm shows that product as a
        # range inside its own, as PyTorch's profile does; the product carries the FLOPs.
        inner_op = getattr(type(ctx), "inner_op", None)
        product = (inner_op(args) if inner_op is not None and opened is not None
                   and recording is not None else None)
        work = opened
        try:
            if product is not None:
                work = self._begin_product(product, args, recording)
            timed = (recording is not None and work is not None
                     and recording.use_device == ctx.backend.device.type)
            if timed:
                start = ctx.backend.timing_event()
            result = ctx._run_forward(arrays, kwargs, kept)
            if timed:
                assert recording is not None and work is not None
                recording.device_timings.append(
                    DeviceTiming(work, ctx.backend, start, ctx.backend.timing_event()))
            if work is not opened:
                self.end(work)
            outputs = ctx._finish(args, arrays, result, requires_grad, kwargs)
            if opened is not None:
                # The node's creation number, when one was recorded (PyTorch's sequence
                # number, which links an op to its backward).
                opened.sequence_nr = ctx.__dict__.get("_sequence_nr", -1)
                if recording is not None and recording.profile_memory:
                    self.allocated(result, ctx.backend, opened, recording)
                if recording is not None and recording.with_flops:
                    count_flops = getattr(type(ctx), "count_flops", None)
                    if count_flops is not None:
                        opened.flops = count_flops(args, kwargs)
        finally:
            self.end(opened)
        return outputs

    def _begin_product(self, product: InnerOp, args: tuple[Any, ...],
                       recording: Recording | None) -> Range | None:
        inner = self.begin(product.name, CPU_OP)
        if inner is not None and recording is not None:
            if recording.record_shapes:
                tensor_type = next((_describe((arg,))[1][0] for arg in args
                                    if isinstance(arg, Tensor)), "")
                inner.input_shapes = product.shapes + [[]] * product.scalars
                inner.input_types = ([tensor_type] * len(product.shapes)
                                     + ["Scalar"] * product.scalars)
            if recording.with_flops:
                inner.flops = product.flops
        return inner

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
            # Arrays off the CPU are device memory (PyTorch's device memory columns).
            device = backend.device if backend.device.type != "cpu" else None
            category = _category(opened)
            allocation = len(recording.finalizers)
            try:
                release = weakref.finalize(array, self._freed, recording, nbytes, device,
                                           category, allocation)
            except TypeError:  # a NumPy scalar: no weak references, and a few bytes
                continue
            recording.finalizers.append(release)
            if device is None:
                opened.memory += nbytes
            else:
                opened.device_memory += nbytes
            self._note(recording, nbytes, device, category, allocation)

    def _freed(self, recording: Recording, nbytes: int, device: Any, category: str | None,
               allocation: int) -> None:
        if recording is not self.recording:
            return
        stack = self.open.stack
        if stack:
            target = stack[-1]
        else:
            target = Range(MEMORY, MEMORY, threading.get_native_id(), None)
            target.start_ns = target.end_ns = time.perf_counter_ns()
            with recording.lock:
                recording.ranges.append(target)
        if device is None:
            target.memory -= nbytes
        else:
            target.device_memory -= nbytes
        self._note(recording, -nbytes, device, category, allocation)

    @staticmethod
    def _note(recording: Recording, nbytes: int, device: Any, category: str | None,
              allocation: int) -> None:
        with recording.lock:
            if device is None:
                recording.allocated += nbytes
                total = recording.allocated
            else:
                recording.device_allocated += nbytes
                total = recording.device_allocated
            recording.memory.append(MemoryRecord(time.perf_counter_ns(), nbytes, total,
                                                 threading.get_native_id(), device, category,
                                                 allocation))

    # ------------------------------------------------------------------------- modules
    def begin_module(self, module: Any) -> Range | None:
        """A module's forward is about to run (with `with_modules`): PyTorch's
        `nn.Module: <Class>_<n>` range, n counting the class's instances in order of first
        call."""
        recording = self.recording
        if recording is None or not recording.with_modules:
            return None
        with recording.lock:
            number = recording.module_ids.get(id(module))
            if number is None:
                class_name = type(module).__name__
                number = recording.module_counts.get(class_name, 0)
                recording.module_counts[class_name] = number + 1
                recording.module_ids[id(module)] = number
                recording.modules.append(module)
        return self.begin(f"nn.Module: {type(module).__name__}_{number}", PYTHON_FUNCTION)


profiler_state = ProfilerState()

ACCUMULATE_GRAD = "torch::autograd::AccumulateGrad"
_EVALUATE = "autograd::engine::evaluate_function: "


def _category(opened: Range) -> str | None:
    """What an array made in `opened` holds, from where it was made."""
    enclosing: Range | None = opened
    while enclosing is not None:
        if enclosing.name == ACCUMULATE_GRAD:
            return "GRADIENT"
        if enclosing.name.startswith(_EVALUATE):
            return "AUTOGRAD_DETAIL"
        enclosing = enclosing.parent
    return "ACTIVATION" if opened.sequence_nr >= 0 else None


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
