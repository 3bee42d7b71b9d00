"""`Program`: a trace's steps as one generated Python function of the input arrays, returning
the arrays the caller needs (the function's results and the arrays it leaves in Tensors).

The source is a flat list of calls on local variables (`v12 = f3_multiply(v4, v11)`), so a
replay costs one Python call per step and nothing else: no Tensor, node or dispatch. Constants
(`c7`), functions (`f3_...`) and planned buffers (`b2`) are the generated function's globals.
The same source is what `explain()` prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .tracing import Ref, Step


class Buffer:
    """An array the program writes a result into (`out=`), reused by every replay."""

    __slots__ = ("array", "index", "values")

    def __init__(self, index: int, array: Any) -> None:
        self.index = index
        self.array = array
        self.values: list[int] = []  # the value numbers that live in it, in program order


class BlockedRun:
    """A run of elementwise steps `steps[start:stop]` over arrays of `shape`, replayed block
    of `rows` leading rows by block (`blocking.py`): the buffers and arrays the plan made that
    it reads or writes by block, the inputs and constants it reads by block (`sliced`)."""

    def __init__(self, start: int, shape: tuple[int, ...], rows: int) -> None:
        self.start = start
        self.stop = start
        self.shape = shape
        self.rows = rows
        self.buffers: list[Buffer] = []  # read or written by block
        self.written: list[Buffer] = []
        self.read_whole: list[Buffer] = []  # of another shape, broadcast against each block
        self.held: dict[int, Buffer] = {}  # value number -> the buffer it is read from
        self.sliced: set[int] = set()
        self.arrays: list[Any] = []

    def blocks(self) -> list[tuple[Any, ...]]:
        """Per block: its slice, then the views of `buffers` and `arrays` on it."""
        made = []
        for first in range(0, self.shape[0], self.rows):
            block = slice(first, min(first + self.rows, self.shape[0]))
            made.append((block, *[buffer.array[block] for buffer in self.buffers],
                         *[array[block] for array in self.arrays]))
        return made


class Program:
    """The generated replay function and what built it."""

    def __init__(self, steps: list[Step], inputs: list[int], outputs: list[int],
                 constants: dict[int, Any]) -> None:
        self.steps = steps
        self.inputs = inputs
        self.outputs = outputs
        self.constants = constants
        self.buffers: list[Buffer] = []
        self.meta: dict[int, tuple[tuple[int, ...], Any]] = {}  # each value's shape and dtype
        # A guard after a write: the inputs (position, backend) and generators to put back.
        self.restore: list[tuple[int, Any]] = []
        self.reseed: list[Any] = []
        self.removed = 0  # steps dead-code elimination dropped
        self.folded = 0  # steps made constants when the program was built
        self.in_place = 0  # planned results written over one of their own inputs
        self.fused = 0  # cross_entropy forward/gradient pairs run as fused steps (fusion.py)
        self.products = 0  # sums and means run as products with ones (passes.py)
        self.blocks: list[BlockedRun] = []  # elementwise runs replayed by blocks of rows
        self.source = ""
        self.objects: list[tuple[str, Any]] = []  # the `k` names the source binds, and what
        self.run: Callable[[list[Any]], tuple[Any, ...]] = _unbuilt

    def build(self) -> None:
        # (the module name this package's NumPy warnings are silenced by, `backends/__init__`:
        # a replay's log(0) or exp overflow is as quiet as the eager call's)
        namespace: dict[str, Any] = {"slice": slice, "__name__": __name__}
        writer = _Writer(namespace, self.constants)
        lines = ["def program(inputs):"]
        if self.inputs:
            names = ", ".join(f"v{vid}" for vid in self.inputs)
            lines.append(f"    {names}, = inputs")
        runs = {run.start: run for run in self.blocks}
        index = 0
        while index < len(self.steps):
            run = runs.get(index)
            if run is None:
                lines.append("    " + writer.step(self.steps[index]))
                index += 1
                continue
            later = set(self.outputs)  # (the values the run made that are read after it)
            for step in self.steps[run.stop:]:
                later.update(step.uses())
            lines += writer.run(run, self.steps[run.start:run.stop], len(lines), later)
            index = run.stop
        returned = ", ".join(writer.value(vid) for vid in self.outputs)
        lines.append(f"    return ({returned}{',' if len(self.outputs) == 1 else ''})")
        self.source = "\n".join(lines)
        self.objects = writer.bound
        exec(compile(self.source, "<autodiff.compile program>", "exec"), namespace)
        self.run = namespace["program"]

    def listing(self) -> str:
        """The source, then the buffers: which values share each one."""
        lines = [self.source]
        if self.buffers:
            lines.append("# buffers (reused by every replay):")
            for buffer in self.buffers:
                shape = tuple(buffer.array.shape)
                values = ", ".join(f"v{vid}" for vid in buffer.values)
                lines.append(f"#   b{buffer.index} {shape} {buffer.array.dtype}: {values}")
        for run in self.blocks:
            lines.append(f"# blocked run: {run.stop - run.start} steps over {run.shape}, "
                         f"{run.rows} rows per block, {len(run.blocks())} blocks")
        arrays = [(name, obj) for name, obj in self.objects
                  if hasattr(obj, "shape") and hasattr(obj, "dtype")]
        if arrays:
            lines.append("# arrays made when the program was built:")
            for name, array in arrays:
                shape = tuple(array.shape)
                value = f"{float(array[(0,) * len(shape)])!r}" if all(shape) else ""
                if value:
                    value = f" = {value}" if not shape else f" filled with {value}"
                lines.append(f"#   {name} {shape} {array.dtype}{value}")
        return "\n".join(lines)


def _unbuilt(inputs: list[Any]) -> tuple[Any, ...]:
    raise RuntimeError("the program was not built")


class _Writer:
    """Renders steps as Python, binding functions and objects into the namespace."""

    def __init__(self, namespace: dict[str, Any], constants: dict[int, Any]) -> None:
        self.namespace = namespace
        self.constants = constants
        self.functions: dict[int, str] = {}
        self.bound: list[tuple[str, Any]] = []
        self.names: dict[int, str] = {}  # id of a bound object -> its name
        # Inside a blocked run: the block's names of values and of buffers and arrays.
        self.local_values: dict[int, str] = {}
        self.local_objects: dict[int, str] = {}

    def value(self, vid: int) -> str:
        local = self.local_values.get(vid)
        if local is not None:
            return local
        if vid in self.constants:
            name = f"c{vid}"
            self.namespace[name] = self.constants[vid]
            return name
        return f"v{vid}"

    def function(self, step: Step) -> str:
        name = self.functions.get(id(step.function))
        if name is None:
            name = f"f{len(self.functions)}_{''.join(c if c.isalnum() else '_' for c in step.name)}"
            self.functions[id(step.function)] = name
            self.namespace[name] = step.function
        return name

    def obj(self, obj: Any) -> str:
        local = self.local_objects.get(id(obj))
        if local is not None:
            return local
        kind = type(obj)
        if kind is Ref:
            return self.value(obj.vid)
        if kind is Buffer:
            name = f"b{obj.index}"
            self.namespace[name] = obj.array
            return name
        if obj is None or kind in (bool, int, str):
            return repr(obj)
        if kind is float and math.isfinite(obj):
            return repr(obj)
        if obj is Ellipsis:
            return "..."
        if kind is tuple:
            items = ", ".join(self.obj(item) for item in obj)
            return f"({items}{',' if len(obj) == 1 else ''})"
        if kind is list:
            return "[" + ", ".join(self.obj(item) for item in obj) + "]"
        if kind is dict and all(type(key) is str for key in obj):
            return "{" + ", ".join(f"{key!r}: {self.obj(item)}" for key, item in obj.items()) + "}"
        if kind is slice:
            return f"slice({self.obj(obj.start)}, {self.obj(obj.stop)}, {self.obj(obj.step)})"
        known = self.names.get(id(obj))
        if known is not None:  # (one 0-d array of a number serves every step that uses it)
            return known
        name = f"k{len(self.bound)}"
        self.bound.append((name, obj))
        self.names[id(obj)] = name
        self.namespace[name] = obj
        return name

    def run(self, run: BlockedRun, steps: list[Step], number: int, later: set[int]
            ) -> list[str]:
        """A blocked run: a loop over its blocks (bound as `r<line>`), each step on the block,
        then each value the run made that is read `later` named as its whole buffer."""
        loop = [f"u{index}" for index in range(len(run.buffers))]
        loop += [f"a{index}" for index in range(len(run.arrays))]
        name = f"r{number}"
        self.namespace[name] = run.blocks()
        self.local_objects = {id(buffer): f"u{index}" for index, buffer in enumerate(run.buffers)}
        self.local_objects.update(
            {id(array): f"a{index}" for index, array in enumerate(run.arrays)})
        self.local_values = {vid: self.local_objects[id(buffer)]
                             for vid, buffer in run.held.items()}
        self.local_values.update({vid: f"{self.value(vid)}[s]" for vid in sorted(run.sliced)})
        lines = [f"    for s, {', '.join(loop)}, in {name}:"]
        for step in steps:
            lines.append("        " + self.call(step))
        self.local_values, self.local_objects = {}, {}
        for step in steps:
            if isinstance(step.outputs, int) and step.outputs in later:
                lines.append(f"    v{step.outputs} = {self.obj(step.kwargs['out'])}")
        return lines

    def call(self, step: Step) -> str:
        arguments = [self.obj(item) for item in step.args]
        arguments += [f"{key}={self.obj(item)}" for key, item in step.kwargs.items()]
        return f"{self.function(step)}({', '.join(arguments)})"

    def step(self, step: Step) -> str:
        call = self.call(step)
        outputs = step.outputs
        if outputs is None:
            return call
        if isinstance(outputs, int):
            return f"v{outputs} = {call}"
        names = ", ".join(f"v{vid}" for vid in outputs)
        return f"{names}{',' if len(outputs) == 1 else ''} = {call}"
