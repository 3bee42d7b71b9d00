"""How an op runs on batched tensors. `Function.apply` calls `dispatch` while a vmap is open:
the highest vmap level among the inputs is handled here, by the op's batching rule
(`rules.RULES`, keyed by the op's Function class) or, where an op has none, by a loop
over the examples with PyTorch's performance warning. A rule unwraps the inputs batched at its
level (their examples along dim 0), calls ops on those physical tensors, and wraps the result;
inputs batched at lower levels stay batched, so those ops are dispatched again one level down.

Ops written in Python on arrays rather than as a Function (comparisons, logical ops, random
draws) are marked with the decorators at the bottom: `elementwise_op` and `looped_op` batch
them the same way, `random_op` applies the randomness of the open vmaps.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..hot_path import fast_path
from ..op_modes import op_mode_state
from ..tensor import Tensor
from ..user_warnings import warn
from .batched_tensor import (
    BatchedArray,
    BatchedTensor,
    level_of,
    make_batched,
    move_into_level,
    slice_level,
    unwrap,
)
from .levels import NOT_BATCHED, Level, levels, set_dispatch

F = TypeVar("F", bound=Callable[..., Any])

_PERFORMANCE = ("There is a performance drop because we have not yet implemented the batching "
                "rule for {name}. Please file us an issue on GitHub so that we can prioritize "
                "its implementation.")
RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either "
                "use the 'same' or 'different' randomness flags on vmap or perform the "
                "randomness operation out of vmap")


def highest_level(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """The highest vmap level among the arguments (tensors, arrays of batched tensors, and
    those inside tuples and lists); 0 when none is batched. Every op inside vmap asks, so the
    scan is written out (no call per item)."""
    highest = _highest_within(args, 0)
    if kwargs:
        highest = _highest_within(kwargs.values(), highest)
    return highest


def _highest_within(items: Any, highest: int) -> int:
    for item in items:
        kind = type(item)
        if kind not in _MAY_HOLD_LEVELS:  # one set test for what most items are
            continue
        if kind is BatchedTensor:
            if item._level > highest:
                highest = item._level
        elif kind is BatchedArray:
            if item.level > highest:
                highest = item.level
        elif kind is tuple or kind is list:  # one level deep: a list of tensors (cat, stack)
            for inner in item:
                inner_kind = type(inner)
                if inner_kind is BatchedTensor:
                    if inner._level > highest:
                        highest = inner._level
                elif inner_kind is BatchedArray and inner.level > highest:
                    highest = inner.level
    return highest


_MAY_HOLD_LEVELS = frozenset({BatchedTensor, BatchedArray, tuple, list})
_rules: dict[type, Any] = {}  # rules.RULES once imported (it imports the ops, which import us)


def dispatch(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # highest_level, its scan of the positional arguments written out: every op inside vmap
    # asks, the ops a rule runs on physical tensors and a backward pass under grad included
    number = 0
    for item in args:
        kind = type(item)
        if kind is BatchedTensor:
            if item._level > number:
                number = item._level
        elif kind in _MAY_HOLD_LEVELS:
            number = _highest_within((item,), number)
    if kwargs:  # options (dims, shapes, flags) are rarely batched: one type test each
        for item in kwargs.values():
            kind = type(item)
            if kind is BatchedTensor:
                if item._level > number:
                    number = item._level
            elif kind in _MAY_HOLD_LEVELS:
                number = _highest_within((item,), number)
    if not number:
        return NOT_BATCHED
    rule = _rules.get(cls)
    if rule is None:
        from .rules import RULES, elementwise_rule

        _load_rules()
        rule = RULES.get(cls) or elementwise_rule(cls)
        if rule is None:
            return fallback(cls, args, kwargs, levels.find(number), stacklevel=4)
        _rules[cls] = rule
    return rule(cls, args, kwargs, levels.find(number))


set_dispatch(dispatch)


def _load_rules() -> None:
    """Import the rule modules (each registers its rules in `rules.RULES`)."""
    from . import composite_rules, index_rules, linalg_rules, nn_rules, spectral_rules  # noqa: F401


def has_rule(cls: Any) -> bool:
    """Whether an op's Function class has a batching rule (else vmap loops over examples)."""
    from .rules import RULES, elementwise_rule

    _load_rules()
    return cls in RULES or elementwise_rule(cls) is not None


# ----------------------------------------------------------------------------- looping
def _slice(item: Any, level: int, index: int) -> Any:
    if type(item) is tuple or type(item) is list:
        return type(item)(_slice(inner, level, index) for inner in item)
    return slice_level(item, level, index)


def fallback(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any], level: Level,
             stacklevel: int = 5) -> Any:
    """An op (or a case of one) with no batching rule: once per example of `level`, with
    PyTorch's performance warning. An op that writes into its first input (`inplace`) must
    have that input batched: the examples' writes into one shared tensor would mix them."""
    if kwargs.get("inplace") and level_of(args[0]) != level.number:
        from .index_rules import INPLACE

        raise RuntimeError(INPLACE.format(name=getattr(cls, "_op_name", cls.__name__)))
    warn(_PERFORMANCE.format(name=getattr(cls, "_op_name", cls.__name__)), UserWarning,
         stacklevel=stacklevel)
    return loop(cls.apply, args, kwargs, level)


def looped(name: str, function: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any], level: Level) -> Any:
    """A function (or a case of one) with no batching rule: once per example, with PyTorch's
    performance warning."""
    warn(_PERFORMANCE.format(name=name), UserWarning, stacklevel=4)
    return loop(function, args, kwargs, level)


def loop(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
         level: Level) -> Any:
    """`function` once per example of `level`, the results stacked along the mapped dim."""
    from ..ops.joining import stack

    results = []
    for index in range(level.batch_size):
        sliced_args = [_slice(arg, level.number, index) for arg in args]
        sliced_kwargs = {key: _slice(value, level.number, index)
                         for key, value in kwargs.items()}
        results.append(function(*sliced_args, **sliced_kwargs))
    first = results[0] if results else None
    if isinstance(first, Tensor):
        return move_into_level(stack(results), level.number)
    if type(first) is tuple or (isinstance(first, tuple) and hasattr(first, "_fields")):
        parts = [move_into_level(stack([result[i] for result in results]), level.number)
                 if isinstance(first[i], Tensor) else first[i] for i in range(len(first))]
        if not hasattr(first, "_fields"):
            return tuple(parts)
        try:
            return type(first)(*parts)
        except TypeError:  # autodiff.return_types: made from one sequence, as PyTorch's
            return type(first)(parts)
    if first is None and not results:
        raise RuntimeError("vmap: cannot run an op without a batching rule over a mapped "
                           "dimension of size 0")
    return first


def all_examples(tensor: Any) -> Any:
    """The physical tensor under every vmap level: the values of all the examples, for checks
    that must hold for each of them (a value check that fails for any example fails as the
    loop of examples would)."""
    while type(tensor) is BatchedTensor:
        tensor = tensor._value
    return tensor


# ----------------------------------------------------------------------------- Python ops
def elementwise_op(function: F) -> F:
    """A broadcasting op computed on arrays in Python (comparisons, logical ops): inside vmap
    it runs once on the physical tensors, batch dims padded so they line up."""

    @functools.wraps(function)
    def batched(*args: Any, **kwargs: Any) -> Any:
        if levels.depth:
            number = highest_level(args, kwargs)
            if number:
                from .rules import broadcast_values

                values, _ = broadcast_values(args, number)
                return make_batched(batched(*values, **kwargs), number)
        result = function(*args, **kwargs)
        if op_mode_state.active:  # op modes see it (an export writes it as its ONNX op)
            named = bool(args) and isinstance(args[0], str)
            op_mode_state.computed(args[0] if named else function.__name__,
                                   args[1:] if named else args, kwargs, result)
        return result

    return fast_path(batched, function)  # type: ignore[return-value]


def looped_op(function: F) -> F:
    """An op computed on arrays in Python with no batching rule: inside vmap it runs once per
    example (with PyTorch's performance warning)."""

    @functools.wraps(function)
    def batched(*args: Any, **kwargs: Any) -> Any:
        if levels.depth:
            number = highest_level(args, kwargs)
            if number:
                warn(_PERFORMANCE.format(name=function.__name__), UserWarning,
                     stacklevel=2)
                return loop(batched, args, kwargs, levels.find(number))
        return function(*args, **kwargs)

    return fast_path(batched, function)  # type: ignore[return-value]


def index_op(kind: str) -> Callable[[F], F]:
    """A gather/scatter-style function `(input, dim, index, ...)`: inside vmap, a batched
    index (one per example) is batched here, where it is still a tensor
    (`index_rules`: kind "same_rank" for gather-like functions, else the function's name for
    those taking a vector of positions); any other call runs the function, whose op has its
    rule."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def batched(*args: Any, **kwargs: Any) -> Any:
            if levels.depth and len(args) > 2:
                number = highest_level(args, kwargs)
                if number and level_of(args[2]) == number:
                    from . import index_rules

                    level = levels.find(number)
                    if kind == "same_rank":
                        return index_rules.same_rank(batched, level, *args, **kwargs)
                    return index_rules.vector(kind, level, *args, **kwargs)
            return function(*args, **kwargs)

        return batched  # type: ignore[return-value]

    return decorate


def function_rule(name: str, *, seen: bool = False) -> Callable[[F], F]:
    """A function written in Python on arrays with a batching rule of its own
    (`function_rules.RULES[name]`): inside vmap, with a batched argument, the rule runs it
    once on the physical tensors. `seen`: it computes its result with no node, and op modes
    see the call as the op `name` (an export writes it as its ONNX op)."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def batched(*args: Any, **kwargs: Any) -> Any:
            if levels.depth:
                number = highest_level(args, kwargs)
                if number:
                    from .function_rules import RULES

                    return RULES[name](batched, levels.find(number), *args, **kwargs)
            result = function(*args, **kwargs)
            if seen and op_mode_state.active:
                op_mode_state.computed(name, args, kwargs, result)
            return result

        return batched  # type: ignore[return-value]

    return decorate


def random_op(function: F | None = None, *,
              draws: Callable[..., bool] | None = None) -> Any:
    """A function that draws random numbers (`draws(*args, **kwargs)`, when given, says
    whether a call does). Inside vmap: randomness='error' refuses it, 'same' lets one draw
    serve every example, 'different' draws once per example (a loop over that vmap's
    examples)."""
    if function is None:
        return functools.partial(random_op, draws=draws)

    @functools.wraps(function)
    def batched(*args: Any, **kwargs: Any) -> Any:
        if levels.depth and (draws is None or draws(*args, **kwargs)):
            check_randomness()
            for level in reversed(levels.stack):
                if level.randomness == "different":
                    level.randomness = "looping"
                    try:
                        return loop(batched, args, kwargs, level)
                    finally:
                        level.randomness = "different"
            number = highest_level(args, kwargs)
            if number:  # 'same': each example from the same state of the generator
                return loop(_from_same_state(batched, args, kwargs), args, kwargs,
                            levels.find(number))
        return function(*args, **kwargs)

    return fast_path(batched, function)


def _from_same_state(function: Callable[..., Any], args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Callable[..., Any]:
    """`function`, each call starting from the generator state of the first one."""
    generator = kwargs.get("generator")
    if generator is not None:
        impl = generator._impl
    else:
        backend = next(a._backend for a in (*args, *kwargs.values()) if isinstance(a, Tensor))
        impl = backend.default_generator
    state = impl.get_state()

    def same_draws(*sliced: Any, **options: Any) -> Any:
        impl.set_state(state)
        return function(*sliced, **options)

    return same_draws


def check_randomness() -> None:
    """PyTorch's refusal of a random op in a vmap with randomness='error'."""
    if levels.stack and levels.stack[-1].randomness == "error":
        raise RuntimeError(RANDOM_ERROR)


__all__ = ["NOT_BATCHED", "BatchedArray", "BatchedTensor", "all_examples", "dispatch",
           "elementwise_op", "fallback", "function_rule", "has_rule", "index_op", "loop",
           "looped", "looped_op", "random_op", "unwrap"]


def batched_inplace(tensor: Tensor, others: tuple[Any, ...],
                    compute: Callable[[Tensor], Tensor]) -> Tensor:
    """An in-place op inside vmap. On a batched tensor: the in-place op on its physical value
    (itself an in-place op, one level down, so the value before it is kept where the op's
    backward saved it), computed by the op on that value batched again. On an unbatched
    tensor: the op out of place, then copied in. A tensor cannot take values that vary over
    examples it does not have: PyTorch's error."""
    if type(tensor) is not BatchedTensor:
        result = compute(tensor)
        _check_level(tensor, result, level_of(tensor))
        tensor.copy_(result)
        return tensor
    from ..ops import inplace

    number = tensor._level

    def physical(source: Tensor) -> Tensor:
        result = compute(make_batched(source, number))
        _check_level(tensor, result, number)
        value, batched = unwrap(result, number)
        return value if batched else value.expand(tuple(source.shape))

    inplace.apply(tensor._value, tuple(all_examples(other) for other in others), physical)
    return tensor


def _check_level(tensor: Tensor, result: Tensor, number: int) -> None:
    if level_of(result) > number:
        level = levels.find(level_of(result))
        raise RuntimeError(f"output with shape {list(tensor.shape)} doesn't match the "
                           f"broadcast shape {[level.batch_size, *result.shape]}")


def dim_op(function: F) -> F:
    """An op of `(input, dim, ...)` computed on arrays in Python (argmax, any, argsort, ...):
    inside vmap it runs once on the physical tensor, dim shifted past the batch dim (None,
    every dim, on the flattened example)."""

    default = list(inspect.signature(function).parameters.values())[1].default

    @functools.wraps(function)
    def batched(input: Any, *args: Any, **kwargs: Any) -> Any:
        if levels.depth and type(input) is BatchedTensor:
            value, size, rank = input._value, levels.find(input._level).batch_size, input.dim()
            options = dict(kwargs)
            dim = args[0] if args else options.pop("dim", default)
            rest = args[1:] if args else ()
            if dim is None:
                keepdim = rest[0] if rest else options.get("keepdim", False)
                if rest:
                    rest = (False, *rest[1:])
                elif "keepdim" in options:
                    options["keepdim"] = False
                out = batched(value.reshape((size, -1)), 1, *rest, **options)
                if keepdim:
                    out = out.reshape((size, *(1,) * rank))
                return make_batched(out, input._level)
            if isinstance(dim, (tuple, list)):
                shifted: Any = tuple(d + 1 if d >= 0 else d for d in dim)
            else:
                shifted = dim + 1 if dim >= 0 else dim
            return make_batched(batched(value, shifted, *rest, **options), input._level)
        result = function(input, *args, **kwargs)
        if op_mode_state.active:  # op modes see it (an export writes it as its ONNX op)
            op_mode_state.computed(function.__name__, (input, *args), kwargs, result)
        return result

    return fast_path(batched, function)  # type: ignore[return-value]



def dynamic_shape_op(function: F) -> F:
    """An op whose output shape depends on the values (nonzero, unique, masked_select):
    PyTorch's vmap refuses it."""

    @functools.wraps(function)
    def batched(*args: Any, **kwargs: Any) -> Any:
        if levels.depth and highest_level(args, kwargs):
            raise RuntimeError("vmap: We do not support batching operators that can output "
                               "dynamic shape. Attempted to vmap over aten::"
                               f"{function.__name__}. Please voice your support in "
                               "https://github.com/pytorch/functorch/issues/256")
        return function(*args, **kwargs)

    return fast_path(batched, function)  # type: ignore[return-value]


def indexing_op(function: F) -> F:
    """`x[key]` and `x[key] = v`: a batched boolean mask selects a number of elements that
    varies over examples (PyTorch's dynamic-shape refusal); batched integer indices run once
    per example (the basic and unbatched keys reach the Index rules)."""

    @functools.wraps(function)
    def batched(tensor: Any, key: Any, *args: Any) -> Any:
        if levels.depth:
            items = key if type(key) is tuple else (key,)
            batched_items = [item for item in items if type(item) is BatchedTensor]
            if any(item.dtype.name == "bool" for item in batched_items):
                raise RuntimeError("vmap: We do not support batching operators that can output "
                                   "dynamic shape. Attempted to vmap over aten::index. Please "
                                   "voice your support in "
                                   "https://github.com/pytorch/functorch/issues/256")
            if batched_items:
                number = max(item._level for item in batched_items)
                if args and level_of(tensor) < number:  # x[i] = v, i batched, x not
                    from .index_rules import INPLACE

                    raise RuntimeError(INPLACE.format(name="index_put_"))
                if level_of(tensor) <= number:
                    warn(_PERFORMANCE.format(name=function.__name__), UserWarning,
                         stacklevel=2)
                    return loop(batched, (tensor, key, *args), {}, levels.find(number))
        return function(tensor, key, *args)

    return fast_path(batched, function)  # type: ignore[return-value]
