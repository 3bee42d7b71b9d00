"""Cache blocking of elementwise runs (compile's "blocked_elementwise" option).

On the CPU one elementwise step is one pass of a NumPy ufunc over whole arrays. Past the size
of the caches every pass of a chain then streams its operands from memory, while the chain
itself would let each element go through all its steps in cache. A run of consecutive
elementwise `out=` steps over arrays of one shape becomes a loop over blocks of leading rows
(`Backend.replay_block_bytes` per array): every step of the run on one block, then the next
block. Every element still goes through the same ufuncs in the same order, so the results are
eager's bit for bit; a ufunc call per block and step is the cost, which is why only arrays of
at least `MIN_BLOCKS` blocks are blocked.

What may enter a run, so that a block of a step reads only the same block of what earlier
steps of the run wrote:
- its result goes into a planned buffer of the run's shape (`out=` a buffer, or in place into
  a value held by one): program-owned memory that no input, constant or other buffer shares;
- each array operand is a value held by a buffer (of the run's shape: read by block; of
  another shape: read whole, and only where no step of the run writes that buffer), an input
  or constant of the program (by block if of the run's shape, else whole), or an array the
  plan made (the numbers `plan_buffers` turned into arrays); an operand read whole must
  broadcast against a block (it has no leading axis of the run's length).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .program import BlockedRun, Buffer, Program
from .tracing import Ref, Step

if TYPE_CHECKING:
    from backends import Backend

MIN_BLOCKS = 4  # fewer blocks than this: the extra calls cost more than the cache saves
_KEYWORDS = frozenset({"out", "dtype", "casting"})


def block_elementwise(program: Program, backend: Backend, values: list[Any]) -> None:
    """Find the runs (see the module's docstring) and record them in `program.blocks`."""
    block_bytes = backend.replay_block_bytes
    if block_bytes is None:
        return
    held: dict[int, Buffer] = {}
    for buffer in program.buffers:
        for vid in buffer.values:
            held[vid] = buffer
    outside = set(program.inputs) | set(program.constants)
    runs: list[BlockedRun] = []
    current: BlockedRun | None = None
    for index, step in enumerate(program.steps):
        shape = _run_shape(step, backend, held, block_bytes)
        if current is not None and (shape != current.shape
                                    or not _fits(step, current, held, outside, values, backend)):
            _close(current, runs)
            current = None
        if shape is None:
            continue
        if current is None:
            current = BlockedRun(index, shape, _rows_per_block(step, held, block_bytes))
            if not _fits(step, current, held, outside, values, backend):
                current = None
                continue
        current.stop = index + 1
        _add(step, current, held, outside, values, backend)
    if current is not None:
        _close(current, runs)
    program.blocks = runs


def _close(run: BlockedRun, runs: list[BlockedRun]) -> None:
    if run.stop - run.start >= 2:  # (one step alone gains nothing from blocks)
        runs.append(run)


def _result_buffer(step: Step, held: dict[int, Buffer]) -> Buffer | None:
    out = step.kwargs.get("out")
    if type(out) is Buffer:
        return out
    if type(out) is Ref:
        return held.get(out.vid)
    return None


def _run_shape(step: Step, backend: Backend, held: dict[int, Buffer],
               block_bytes: int) -> tuple[int, ...] | None:
    """The shape of a step that may enter a run, or None."""
    if not set(step.kwargs) <= _KEYWORDS or backend.out_argument(step.function) != "elementwise":
        return None
    buffer = _result_buffer(step, held)
    if buffer is None:
        return None
    array = buffer.array
    shape = tuple(array.shape)
    if not shape or array.nbytes < MIN_BLOCKS * block_bytes:
        return None
    rows = _rows_per_block(step, held, block_bytes)
    if shape[0] < MIN_BLOCKS * rows:
        return None
    return shape


def _rows_per_block(step: Step, held: dict[int, Buffer], block_bytes: int) -> int:
    buffer = _result_buffer(step, held)
    assert buffer is not None
    array = buffer.array
    row_bytes = array.nbytes // array.shape[0]
    return max(1, block_bytes // max(row_bytes, 1))


def _operands(step: Step) -> list[Any]:
    return [*step.args, *[item for key, item in step.kwargs.items() if key != "out"]]


def _whole(array: Any, shape: tuple[int, ...]) -> bool:
    """Whether `array` broadcasts against any block of rows of `shape` as it is."""
    ndim = len(array.shape)
    return ndim < len(shape) or (ndim == len(shape) and array.shape[0] == 1)


def _fits(step: Step, run: BlockedRun, held: dict[int, Buffer], outside: set[int],
          values: list[Any], backend: Backend) -> bool:
    """Whether `step` (of the run's shape) may join `run`."""
    result = _result_buffer(step, held)
    if any(buffer is result for buffer in run.read_whole):
        return False  # (a block would overwrite what every later block still reads)
    written = {id(buffer) for buffer in run.written} | {id(result)}
    shape = run.shape
    for item in _operands(step):
        if type(item) is Ref:
            buffer = held.get(item.vid)
            if buffer is None and item.vid not in outside:
                return False  # (a fresh result or a view: it might share a buffer's memory)
            array = buffer.array if buffer is not None else values[item.vid]
            if tuple(array.shape) != shape and (
                    not _whole(array, shape) or (buffer is not None and id(buffer) in written)):
                return False
        elif not _plain_operand(item, shape, backend):
            return False
    return True


def _plain_operand(item: Any, shape: tuple[int, ...], backend: Backend) -> bool:
    """Whether an operand that is not a value (a number, an array the plan made) can be read
    by a block: a number, a 0-d array, an array of the run's shape or one that broadcasts."""
    if isinstance(item, (tuple, list, dict)):
        return False
    if not backend.is_array(item) or not item.ndim:
        return True
    return tuple(item.shape) == shape or _whole(item, shape)


def _add(step: Step, run: BlockedRun, held: dict[int, Buffer], outside: set[int],
         values: list[Any], backend: Backend) -> None:
    result = _result_buffer(step, held)
    assert result is not None
    if all(buffer is not result for buffer in run.written):
        run.written.append(result)
    _by_block(run, result)
    shape = run.shape
    for item in _operands(step):
        if type(item) is Ref:
            buffer = held.get(item.vid)
            if buffer is not None:
                if tuple(buffer.array.shape) == shape:
                    _by_block(run, buffer)
                    run.held[item.vid] = buffer
                elif all(known is not buffer for known in run.read_whole):
                    run.read_whole.append(buffer)
            elif tuple(values[item.vid].shape) == shape:
                run.sliced.add(item.vid)
        elif (backend.is_array(item) and tuple(getattr(item, "shape", ())) == shape
              and all(known is not item for known in run.arrays)):
            run.arrays.append(item)


def _by_block(run: BlockedRun, buffer: Buffer) -> None:
    if all(known is not buffer for known in run.buffers):
        run.buffers.append(buffer)
