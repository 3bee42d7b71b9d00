"""`out=`: the functions PyTorch gives an `out` argument run as usual, then write into `out`.

`@takes_out(rule)` on a public function adds the keyword. With `out` given, the call

1. refuses to run when grad mode is on and any argument (or `out`) requires grad, with
   PyTorch's message: results written into `out` are not differentiable;
2. runs the function (grad mode off), passing `out`'s dtype on where PyTorch computes in it
   (sums, products, means into a float out, factories);
3. checks the result's dtype against `out`'s with the rule's test and message (each family of
   PyTorch kernels has its own: castable, equal, ...) and the device;
4. resizes `out` when its shape differs (with PyTorch's deprecation warning unless `out` is
   empty), writes the result into its memory (views of `out` see it), bumps its version and
   returns `out` (a `..._out` named tuple for ops with several results).

A failed check raises before `out` changes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import dtypes, return_types
from ..grad_mode import no_grad
from ..grad_mode import state as _grad_state
from ..hot_path import fast_path
from ..tensor import Tensor
from ..user_warnings import warn
from .views import forget_base, own_array

F = TypeVar("F", bound=Callable[..., Any])


# ----------------------------------------------------------------------------- rules
def _castable(result: dtypes.dtype, out: dtypes.dtype) -> bool:
    """PyTorch's canCast: never to a lower category (float to int, int to bool)."""
    return result.category <= out.category


def _equal(result: dtypes.dtype, out: dtypes.dtype) -> bool:
    return result is out


def _any(result: dtypes.dtype, out: dtypes.dtype) -> bool:
    return True


@dataclass(frozen=True)
class OutRule:
    """How one kind of PyTorch kernel treats `out`'s dtype.

    `accepts(result_dtype, out_dtype)` says whether the result may be written into `out`;
    otherwise `error(message)` is raised, the message formatted with the dtypes' short names
    (`result`, `out`: "Float") and C++ names (`result_cpp`, `out_cpp`: "float").
    `computes_in(out_dtype)` says whether the function is asked to compute in `out`'s dtype
    (its `dtype=` argument), as sums and factories are.
    """

    accepts: Callable[[dtypes.dtype, dtypes.dtype], bool]
    message: str
    error: type[Exception] = RuntimeError
    computes_in: Callable[[dtypes.dtype], bool] | None = None

    def check(self, result: dtypes.dtype, out: dtypes.dtype) -> None:
        if not self.accepts(result, out):
            raise self.error(self.message.format(
                result=dtypes.SCALAR_TYPE_NAMES[result.name],
                out=dtypes.SCALAR_TYPE_NAMES[out.name],
                result_cpp=dtypes.CPP_TYPE_NAMES[result.name],
                out_cpp=dtypes.CPP_TYPE_NAMES[out.name]))


_EXPECTED = "Expected out tensor to have dtype {result_cpp}, but got {out_cpp} instead"

# Elementwise ops that compute in a common dtype and cast to out's (add, exp, comparisons...).
CAST: OutRule = OutRule(
    _castable, "result type {result} can't be cast to the desired output type {out}")
# Elementwise ops whose out must have the result's dtype (abs, floor, clamp, neg, sign...).
SAME: OutRule = OutRule(_equal, "Found dtype {out} but expected {result}")
# Structured kernels that allocate their result's dtype (mm, gather, softmax, max(dim)...).
EXACT = OutRule(_equal, _EXPECTED)
# Reductions that compute in out's dtype (sum, prod, cumsum: dtype=out.dtype).
INTO = OutRule(_any, "", computes_in=lambda out: True)
# mean, std, var: in out's dtype when it is floating; castable otherwise.
INTO_FLOAT = OutRule(_castable, CAST.message, computes_in=lambda out: out.is_floating_point)


def same(message: str, error: type[Exception] = RuntimeError) -> OutRule:
    """Out must have the result's dtype; PyTorch words the refusal per op."""
    return OutRule(_equal, message, error)


def castable(message: str, error: type[Exception] = RuntimeError) -> OutRule:
    return OutRule(_castable, message, error)


def only(kind: dtypes.dtype, message: str) -> OutRule:
    """Out must be of dtype `kind` (any/all: bool)."""
    return OutRule(lambda result, out: out is kind, message)


def floating(message: str) -> OutRule:
    """Out must be floating; the result is cast to it (logsumexp)."""
    return OutRule(lambda result, out: out.is_floating_point, message)


# ----------------------------------------------------------------------------- the decorator
def takes_out(rule: OutRule | tuple[OutRule, ...] | Callable[..., Any],
              name: str | None = None) -> Callable[[F], F]:
    """Give a public function PyTorch's `out=` keyword.

    `rule`: an OutRule, a tuple of them for a function with several results (max(dim):
    values and indices), or a function of the call's arguments (`out` among them) returning
    either, for overloads with different rules (or raising for an overload without `out`).
    `name` is the op's name in messages (default: the function's).
    """
    def decorate(function: F) -> F:
        op_name = name or function.__name__

        @functools.wraps(function)
        def with_out(*args: Any, out: Any = None, **kwargs: Any) -> Any:
            if out is None:
                return function(*args, **kwargs)
            chosen = rule(*args, out=out, **kwargs) if callable(rule) \
                and not isinstance(rule, OutRule) else rule
            return call_with_out(function, op_name, chosen, args, kwargs, out)

        with_out.__signature__ = _with_out_parameter(function)  # type: ignore[attr-defined]
        return fast_path(with_out, function, out=True, vmap_blind=True)  # type: ignore[return-value]
    return decorate


def _with_out_parameter(function: Callable[..., Any]) -> inspect.Signature:
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    position = len(parameters)
    if parameters and parameters[-1].kind is inspect.Parameter.VAR_KEYWORD:
        position -= 1
    parameters.insert(position, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY,
                                                  default=None))
    return signature.replace(parameters=parameters)


def call_with_out(function: Callable[..., Any], name: str,
                  rule: OutRule | tuple[OutRule, ...], args: tuple[Any, ...],
                  kwargs: dict[str, Any], out: Any) -> Any:
    rules = rule if isinstance(rule, tuple) else (rule,)
    outs = _out_tensors(name, out, len(rules), isinstance(rule, tuple))
    check_no_grad(name, (*args, *kwargs.values()), outs)
    if len(rules) == 1 and rules[0].computes_in is not None \
            and rules[0].computes_in(outs[0].dtype):
        requested = kwargs.get("dtype")
        if requested is not None and dtypes.to_dtype(requested) is not outs[0].dtype:
            EXACT.check(dtypes.to_dtype(requested), outs[0].dtype)
        kwargs = {**kwargs, "dtype": outs[0].dtype}
    with no_grad():
        result = function(*args, **kwargs)
    results = tuple(result) if isinstance(rule, tuple) else (result,)
    for each, each_rule, target in zip(results, rules, outs):
        each_rule.check(each.dtype, target.dtype)
        check_device(each, target)
    for each, target in zip(results, outs):
        write(target, each)
    if isinstance(rule, tuple):
        return return_types.out_type(type(result))(outs)
    return out


def _out_tensors(name: str, out: Any, count: int, several: bool) -> tuple[Tensor, ...]:
    if not several:
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        return (out,)
    if not isinstance(out, (tuple, list)) or not all(isinstance(o, Tensor) for o in out):
        raise TypeError(
            f"{name}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if len(out) != count:
        raise TypeError(f"expected tuple of {count} elements but got {len(out)}")
    return tuple(out)


def check_no_grad(name: str, arguments: tuple[Any, ...], outs: tuple[Tensor, ...]) -> None:
    """Results written into `out` are not recorded: refuse when something requires grad."""
    if not _grad_state.enabled:
        return
    if any(o.requires_grad for o in outs) or any(_requires_grad(a) for a in arguments):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )


def _requires_grad(argument: Any) -> bool:
    if isinstance(argument, Tensor):
        return argument.requires_grad
    if isinstance(argument, (list, tuple)):
        return any(_requires_grad(item) for item in argument)
    return False


def check_device(result: Tensor, out: Tensor) -> None:
    if result._backend is not out._backend:
        raise RuntimeError(
            f"Expected out tensor to have device {result.device}, but got {out.device} instead"
        )


def write(out: Tensor, result: Tensor) -> None:
    """Resize `out` to the result's shape if needed, copy the values in (cast to out's dtype),
    bump its version."""
    shape = tuple(result._data.shape)
    backend = out._backend
    if tuple(out._data.shape) != shape:
        if out.numel():
            warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out._data.shape)}, which does not match the required output shape "
                f"{list(shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=4)
        resize(out, shape)
    data = result._data
    if data.dtype != out._data.dtype:
        data = backend.astype(data, backend.dtype_name(out._data))
    own_array(out)  # a 0-d out may hold an immutable NumPy scalar
    backend.setitem(out._data, (...,), data)
    out._bump_version()


def resize(out: Tensor, shape: tuple[int, ...]) -> None:
    """New memory of `shape` for `out`. (PyTorch resizes the storage, in place when it is large
    enough, so a view keeps writing into its base; here a resized view gets memory of its own
    and stops being a view.)"""
    if out._base is not None:
        forget_base(out)
    backend = out._backend
    out._data = backend.empty(shape, backend.dtype_name(out._data))
