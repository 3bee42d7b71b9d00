"""torch.ops.profiler: record_function's range as two operators, `_record_function_enter`
(opens a range named `name` while a profiler records; returns a handle tensor) and
`_record_function_exit` (closes the handle's range). An fx graph calls them where a traced
`record_function` must stay a range in the profile (pytorch/examples' fx/profiling_tracer).
Defined with torch.library when `torch.ops.profiler` is first read (`ops/__init__.py`)."""

import itertools

from ..creation import tensor
from ..dtypes import int64
from ..library import custom_op
from ..profiling import USER_ANNOTATION, Range, profiler_state
from ..tensor import Tensor

# The ranges the handles stand for (None where no profiler recorded when it opened).
_open: dict[int, Range | None] = {}
_handles = itertools.count(1)


@custom_op("profiler::_record_function_enter", mutates_args=())
def _record_function_enter(name: str, args: str | None = None) -> Tensor:
    if args is not None:
        raise ValueError("record_function(args=...) is not supported: ranges carry no "
                         "arguments")
    handle = next(_handles)
    _open[handle] = (profiler_state.begin(name, USER_ANNOTATION) if profiler_state.active
                     else None)
    return tensor(handle, dtype=int64)


@custom_op("profiler::_record_function_exit", mutates_args=())
def _record_function_exit(handle: Tensor) -> None:
    profiler_state.end(_open.pop(int(handle.item()), None))
