"""Optimizations of a traced program, each switched by `compile(options=...)`.

- `fold_constants`: a factory call whose arguments are Python constants (`ones((), 'float32')`,
  `arange(0, 64)`, `zeros_like(v49)`: only its shape and dtype are read), and then any pure
  call that reads only such folded constants (the backward's `broadcast_to(reshape(ones))`
  and the chain of multiplications a backward applies to it), whose result is only ever read
  (no step writes into it or a view of it, and it does not leave the program) is made once,
  when the program is built, by the same call on the same arrays (so bitwise the same).
- `eliminate_dead_code`: drop pure steps (no write into an array, no generator drawn) whose
  values nothing reads. Shape-only work (views whose results go unused, dtype queries) goes
  with them; shapes themselves are Python constants of the trace already.
- `plan_buffers`: call what the backend gives as the same computation taking `out=`
  (`replay_function`: NumPy's matmul ufunc for its matmul method, its ufuncs for Python's
  operators), then give every result of an `out=`-taking primitive (NumPy's ufuncs and
  matmul) an array that lives across replays, so a steady-state replay allocates nothing for them.
  Liveness is per buffer: a value may reuse the buffer of a value whose last reader has run,
  and an elementwise step may write over an input of the same shape that dies at that step
  (the CPU's elementwise chains then run in place: `v5 = multiply(v4, c1, out=b0)` after
  `v4 = exp(v3, out=b0)`). Values that leave the program (results, `.grad`, state) and
  anything a view may share memory with until its last use keep their own arrays. In-place
  operators (`t *= -1` inside a kernel) become the ufunc writing `out=` their target, and the
  Python-number operands of elementwise `out=` calls take the form `Backend.scalar_operand`
  names (a 0-d array of the dtype the number takes anyway: the same elements, faster).
- `reduce_by_products` (off by default: it changes the order of the additions): a sum or mean
  the backend computes faster as a product with ones (`Backend.product_reduction`: NumPy's
  float32 and float64 sums of a whole array, or of a matrix along one axis, as BLAS's dot or
  matrix-vector product) becomes that product, then for a mean the division by the count.
  The ones are constants of the program (for a whole-array sum, as large as the array).
- `fold_constants` also drops an in-place multiplication by a one it made (the ones a backward
  starts from, multiplied into a kernel's gradient): it leaves every element as it is.
"""

from __future__ import annotations

import operator
import warnings
from typing import TYPE_CHECKING, Any

from .program import Buffer, Program
from .tracing import VIEWS, WRITES_FIRST, Ref, Step

if TYPE_CHECKING:
    from backends import Backend
    from backends.base import ProductReduction


# In-place operators (as the tape records them) and the operators they update with.
_IN_PLACE = {operator.iadd: operator.add, operator.isub: operator.sub,
             operator.imul: operator.mul, operator.itruediv: operator.truediv}
_FACTORIES = frozenset({"zeros", "ones", "full", "eye", "arange", "linspace", "logspace"})
_LIKE = frozenset({"zeros_like", "ones_like"})
# Reductions and products: their results are new arrays, never views of their inputs.
_FRESH = frozenset({"sum", "mean", "prod", "max", "min", "any", "all", "matmul", "logsumexp",
                    "vdot"})


def fold_constants(program: Program, values: list[Any]) -> None:
    """Make the read-only results of constant factory calls constants (see the docstring)."""
    readers: dict[int, list[tuple[Step, int]]] = {}
    for step in program.steps:
        for position, item in enumerate(step.args):
            for vid in _refs(item):
                readers.setdefault(vid, []).append((step, position))
        for item in step.kwargs.values():
            for vid in _refs(item):
                readers.setdefault(vid, []).append((step, -1))
    outputs = set(program.outputs)
    memo: dict[int, bool] = {}

    def read_only(vid: int) -> bool:
        known = memo.get(vid)
        if known is not None:
            return known
        memo[vid] = False  # (a cycle cannot happen; this only guards against one)
        result = vid not in outputs and all(
            _only_reads(step, position, read_only) for step, position in readers.get(vid, []))
        memo[vid] = result
        return result

    kept = []
    made: set[int] = set()  # the values this pass made constants
    constants = program.constants

    def array(vid: int) -> Any:
        return constants[vid] if vid in made else values[vid]

    for step in program.steps:
        result = step.outputs
        if (isinstance(result, int) and step.pure and "out" not in step.kwargs
                and (_constant_call(step) or _of_made(step, made)) and read_only(result)):
            args = _substitute(step.args, array)
            kwargs = _substitute(step.kwargs, array)
            constants[result] = step.function(*args, **kwargs)
            made.add(result)
            program.folded += 1
            continue
        kept.append(step)
    program.steps = kept = [step for step in kept if not _times_one(step, values, constants,
                                                                     made)]
    # Made constants that only fed other made constants are dropped (memory held for nothing).
    needed = set(program.outputs)
    for step in kept:
        needed.update(step.uses())
    for vid in made - needed:
        del program.constants[vid]


def _times_one(step: Step, values: list[Any], constants: dict[int, Any],
               made: set[int]) -> bool:
    """Whether `step` multiplies a floating array in place by a one of its dtype that this
    pass made a constant, or a literal 1.0 (`grad *= grad_output` where the output's gradient
    is the ones a backward starts from): a step that leaves every element as it is (a
    signaling NaN aside, which no arithmetic makes). An array held by reference may change
    between calls: it is not such a constant."""
    if step.function is not operator.imul or len(step.args) != 2:
        return False
    target, factor = step.args
    if type(target) is not Ref:
        return False
    array = values[target.vid]
    if type(factor) is Ref:
        one = constants.get(factor.vid) if factor.vid in made else None
        if one is None or getattr(one, "shape", None) != () or one.dtype != array.dtype:
            return False
    elif type(factor) is float:
        one = factor
    else:
        return False
    kind = str(array.dtype)
    return kind.startswith(("float", "bfloat")) and float(one) == 1.0


def _substitute(obj: Any, array: Any) -> Any:
    """`obj` (a step's arguments) with each `Ref` replaced by `array(vid)`."""
    kind = type(obj)
    if kind is Ref:
        return array(obj.vid)
    if kind in (tuple, list):
        return kind(_substitute(item, array) for item in obj)
    if kind is dict:
        return {key: _substitute(item, array) for key, item in obj.items()}
    return obj


def _of_made(step: Step, made: set[int]) -> bool:
    """Whether every array `step` reads is a constant this pass made: the step computes the
    same array on every replay (arrays the trace holds by reference may change between calls;
    these cannot: nothing writes into them)."""
    found = step.uses()
    return bool(found) and all(vid in made for vid in found)


def _constant_call(step: Step) -> bool:
    if step.name in _FACTORIES:
        return not any(_refs(item) for item in (*step.args, *step.kwargs.values()))
    if step.name in _LIKE:  # the first argument gives only its shape and dtype
        return type(step.args[0]) is Ref and not any(
            _refs(item) for item in (*step.args[1:], *step.kwargs.values()))
    return False


def _only_reads(step: Step, position: int, read_only: Any) -> bool:
    """Whether `step` only reads its argument at `position` (-1: a keyword argument)."""
    if step.name == "guard":
        return True
    if step.name in WRITES_FIRST:
        return position != 0
    if not step.pure or "out" in step.kwargs:
        return False
    if step.name in VIEWS:  # the result may share its memory: it must be read-only too
        return all(read_only(vid) for vid in step.output_ids())
    return True


def _refs(obj: Any) -> list[int]:
    kind = type(obj)
    if kind is Ref:
        return [obj.vid]
    if kind in (tuple, list):
        return [vid for item in obj for vid in _refs(item)]
    if kind is dict:
        return [vid for item in obj.values() for vid in _refs(item)]
    return []


def reduce_by_products(program: Program, values: list[Any]) -> None:
    """Sums and means as products with ones where the backend says how (see the module's
    docstring); `values` gets the new values (the ones, a mean's undivided sum) appended."""
    steps: list[Step] = []
    for step in program.steps:
        plan = _product_plan(step, values)
        if plan is None:
            steps.append(step)
            continue
        array = step.args[0]
        ones = len(values)
        values.append(plan.ones)
        program.constants[ones] = plan.ones
        operands = (Ref(ones), array) if plan.ones_first else (array, Ref(ones))
        name = getattr(plan.function, "__name__", "product")
        result = step.outputs
        assert isinstance(result, int)
        if plan.divisor is None:
            steps.append(Step(name, plan.function, operands, {}, result, True))
        else:
            total = len(values)
            values.append(values[result])  # (its shape and dtype: the mean's, as a sample)
            steps.append(Step(name, plan.function, operands, {}, total, True))
            steps.append(Step("divide", operator.truediv, (Ref(total), plan.divisor), {},
                              result, True))
        program.products += 1
    program.steps = steps


def _product_plan(step: Step, values: list[Any]) -> ProductReduction | None:
    """The backend's `product_reduction` for a `sum` or `mean` step of one of its methods
    (array, axis, keepdims[, dtype] as it takes them), or None."""
    if step.name not in ("sum", "mean") or type(step.outputs) is not int or not step.args \
            or type(step.args[0]) is not Ref:
        return None
    backend = getattr(step.function, "__self__", None)
    make = getattr(backend, "product_reduction", None)
    if make is None:
        return None
    names = ("axis", "keepdims", "dtype")
    if len(step.args) > 1 + len(names) or any(key not in names for key in step.kwargs):
        return None
    given = dict(zip(names, step.args[1:]))
    if any(key in given for key in step.kwargs):
        return None
    given.update(step.kwargs)
    if given.get("dtype") is not None or any(_refs(item) for item in given.values()):
        return None
    return make(step.function, values[step.args[0].vid], given.get("axis"),
                bool(given.get("keepdims", False)))


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
    for step in steps:  # (NumPy: the matmul method and Python's operators become ufuncs)
        arrays = [values[vid] for vid in step.uses()]
        operator = _IN_PLACE.get(step.function)
        if operator is not None and type(step.args[0]) is Ref:
            # `a op= b` on an array is the ufunc of `op` writing into a: `op(a, b, out=a)`
            function = backend.replay_function(operator, arrays)
            if backend.out_argument(function) == "elementwise":
                step.function = function
                step.name = getattr(function, "__name__", step.name)
                step.kwargs = {"out": step.args[0]}
                continue
        function = backend.replay_function(step.function, arrays)
        if function is not step.function:  # (the listing names what the replay calls)
            step.name = getattr(function, "__name__", step.name)
        step.function = function
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
        if kind is None and step.name not in _FRESH:
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
    numbers: dict[tuple[str, str], Any] = {}  # (number, dtype) -> its 0-d array, or None
    with warnings.catch_warnings():  # (a number that overflows the dtype is told by its value)
        warnings.simplefilter("ignore")
        for step in steps:
            if "out" in step.kwargs and backend.out_argument(step.function) == "elementwise":
                _number_operands(step, backend, values, numbers)


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


def _number_operands(step: Step, backend: Backend, values: list[Any],
                     numbers: dict[tuple[str, str], Any]) -> None:
    """Give the Python-number operands of an elementwise `out=` step the form
    `Backend.scalar_operand` names: a 0-d array or a full array of the array operands' dtype,
    made now. Only where every array operand has one floating dtype and the result has it too
    or is a bool (a comparison): the number took that dtype in the call, so the same elements
    come out; and an int converts exactly."""
    out = step.kwargs["out"]
    result = out.array if type(out) is Buffer else values[out.vid]
    form = backend.scalar_operand(step.function)
    arrays = [values[item.vid] for item in step.args if type(item) is Ref]
    if form is None or not arrays:
        return
    operand_dtype = getattr(arrays[0], "dtype", None)
    if not backend.is_floating(operand_dtype) or any(
            getattr(array, "dtype", None) != operand_dtype for array in arrays) or (
            result.dtype != operand_dtype and backend.dtype_name(result) != "bool"):
        return
    dtype = backend.dtype_name(arrays[0])
    arguments = list(step.args)
    for position, item in enumerate(arguments):
        kind = type(item)
        if kind is not float and kind is not int:
            continue
        key = (repr(item), dtype)  # (-0.0 == 0.0, but not as an operand)
        if key not in numbers:
            number = backend.full((), item, dtype)
            converted = backend.item(number)
            exact = not ((kind is int and converted != item) or converted != converted  # nan
                         or (abs(converted) == float("inf") and abs(item) != float("inf")))
            numbers[key] = number if exact else None
        number = numbers[key]
        if number is None:
            return  # (not exact in the dtype, nan, or past its range)
        arguments[position] = (backend.full(tuple(result.shape), item, dtype)
                               if form == "array" else number)
    step.args = tuple(arguments)


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
