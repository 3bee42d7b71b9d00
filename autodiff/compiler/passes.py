"""Optimizations of a traced program, each switched by `compile(options=...)`.

- `eliminate_dead_code`: drop pure steps (no write into an array, no generator drawn) whose
  values nothing reads. Shape-only work (views whose results go unused, dtype queries) goes
  with them; shapes themselves are Python constants of the trace already.
- `plan_buffers`: give every result of an `out=`-taking primitive (NumPy's ufuncs and matmul)
  an array that lives across replays, so a steady-state replay allocates nothing for them.
  Liveness is per buffer: a value may reuse the buffer of a value whose last reader has run,
  and an elementwise step may write over an input of the same shape that dies at that step
  (the CPU's elementwise chains then run in place: `v5 = multiply(v4, c1, out=b0)` after
  `v4 = exp(v3, out=b0)`). Values that leave the program (results, `.grad`, state) and
  anything a view may share memory with until its last use keep their own arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .program import Buffer, Program
from .tracing import Ref

if TYPE_CHECKING:
    from backends import Backend


def eliminate_dead_code(program: Program) -> None:
    live = set(program.outputs)
    kept = []
    for step in reversed(program.steps):
        if step.pure and not any(vid in live for vid in step.output_ids()):
            continue
        kept.append(step)
        live.update(step.uses())
    program.removed += len(program.steps) - len(kept)
    kept.reverse()
    program.steps = kept


def plan_buffers(program: Program, backend: Backend, values: list[Any]) -> None:
    """Assign buffers (see the module's docstring). `values` are the arrays of the trace, by
    value number, for their shapes and dtypes."""
    steps = program.steps
    # Which values may share memory: a step that is not a planned kind of call may return a
    # view of (or the very object of) any array it reads. Union-find over value numbers.
    parent: dict[int, int] = {}

    def find(vid: int) -> int:
        root = vid
        while parent.get(root, root) != root:
            root = parent[root]
        parent[vid] = root
        return root

    kinds: list[str | None] = []
    for step in steps:
        kind = _plannable(step, backend, values)
        kinds.append(kind)
        if kind is None:
            for output in step.output_ids():
                for used in step.uses():
                    parent[find(output)] = find(used)
    # Each alias group's last use (an escaping group: never released) and its members.
    escapes = {find(vid) for vid in program.outputs} | {find(vid) for vid in program.inputs}
    escapes |= {find(vid) for vid in program.constants}
    last_use: dict[int, int] = {}
    for index, step in enumerate(steps):
        for vid in step.uses():
            last_use[find(vid)] = index
        for vid in step.output_ids():
            last_use.setdefault(find(vid), index)
    free: dict[tuple[Any, Any], list[Buffer]] = {}
    holding: dict[int, Buffer] = {}  # alias group -> its buffer
    for index, step in enumerate(steps):
        kind = kinds[index]
        result = step.outputs
        if kind is not None and isinstance(result, int):
            group = find(result)
            if group not in escapes and group == result:
                array = values[result]
                key = (tuple(array.shape), array.dtype)
                read = [holding.get(find(vid)) for vid in step.uses()]
                if kind == "elementwise":  # an input dying here may take the result
                    _release(step, index, find, last_use, holding, free, values)
                pool = free.get(key)
                if pool:
                    buffer = pool.pop()
                    if any(buffer is item for item in read):
                        program.in_place += 1
                else:
                    buffer = Buffer(len(program.buffers),
                                    backend.empty(key[0], backend.dtype_name(array)))
                    program.buffers.append(buffer)
                buffer.values.append(result)
                holding[group] = buffer
                step.kwargs = {**step.kwargs, "out": buffer}
        _release(step, index, find, last_use, holding, free, values)


def _release(step: Any, index: int, find: Any, last_use: dict[int, int],
             holding: dict[int, Any], free: dict[tuple[Any, Any], list[Any]],
             values: list[Any]) -> None:
    """Give back the buffers of the alias groups whose last use is this step."""
    for vid in [*step.uses(), *step.output_ids()]:
        group = find(vid)
        buffer = holding.get(group)
        if buffer is not None and last_use.get(group) == index:
            del holding[group]
            array = buffer.array
            free.setdefault((tuple(array.shape), array.dtype), []).append(buffer)


def _plannable(step: Any, backend: Backend, values: list[Any]) -> str | None:
    """The `out=` kind of a step whose result may go into a buffer, or None."""
    if "out" in step.kwargs or type(step.outputs) is not int:
        return None
    kind = backend.out_argument(step.function)
    if kind is None:
        return None
    array = values[step.outputs]
    if getattr(array, "ndim", 0) == 0 or not backend.is_array(array):
        return None  # NumPy gives 0-d results as scalars; keep them as eager has them
    if any(type(item) not in (Ref, int, float, bool) for item in step.args):
        return None
    return kind
