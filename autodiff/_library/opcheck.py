"""`torch.library.opcheck`: PyTorch's checks of how an operator was registered, run on sample
arguments, each on copies of them:

- test_schema: the kernel writes only the arguments its schema marks mutable, and returns no
  input itself;
- test_autograd_registration: with an input requiring grad, an operator without an autograd
  kernel must make no output that requires grad (its kernel recorded ops PyTorch would not
  differentiate through the op);
- test_faketensor: the fake impl, run on meta tensors, gives the real outputs' shapes, dtypes
  and strides;
- test_aot_dispatch_static / _dynamic: outputs and gradients under `autodiff.compile` equal
  eager's (after the fake impl runs, as PyTorch's tracing would run it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..tensor import Tensor
from . import operators
from .operators import Operator, UserOpOverload, UserOpOverloadPacket

DEFAULT_TEST_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor",
                      "test_aot_dispatch_dynamic")


class OpCheckError(Exception):
    """A check of `opcheck` failed (raise_exception=True)."""


class UnsupportedOperatorException(RuntimeError):
    """The operator has no fake impl (PyTorch's fake tensors cannot run it)."""


class MetadataMismatchError(Exception):
    """A fake impl's output differs from the real output's metadata."""


def _map_tensors(value: Any, function: Callable[[Tensor], Any]) -> Any:
    if isinstance(value, Tensor):
        return function(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_map_tensors(item, function) for item in value)
    if isinstance(value, dict):
        return {key: _map_tensors(item, function) for key, item in value.items()}
    return value


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _clone(tensor: Tensor) -> Tensor:
    """A leaf copy that requires grad where the original does (PyTorch's clone_input)."""
    return tensor.detach().clone().requires_grad_(tensor.requires_grad)


def _copies(args: Any, kwargs: Any) -> tuple[Any, Any]:
    return _map_tensors(args, _clone), _map_tensors(kwargs, _clone)


def schema_check(operator: Operator, args: Any, kwargs: Any) -> None:
    from ..grad_mode import no_grad
    from ..ops.comparison import allclose

    args, kwargs = _copies(args, kwargs)
    bound, keyword = operator.bind(args, kwargs)
    arguments = (*operator.positional, *operator.keyword)
    values = (*bound, *keyword.values())
    with no_grad():
        before = [_map_tensors(value, lambda t: t.clone()) for value in values]
    result = operator.overload(*args, **kwargs)  # type: ignore[misc]
    outputs = _leaves(result)
    for argument, value, old in zip(arguments, values, before):
        name = argument.name if argument.name != "self" else "input"
        for output_index, output in enumerate(outputs):
            for tensor in operators._tensors(value):
                if output is tensor and not argument.is_write:
                    raise RuntimeError(
                        "Dispatcher operators below autograd are not allowed to directly "
                        f"return inputs.\nHowever, we found that `outputs[{output_index}] is "
                        f"{name}")
        for tensor, copy in zip(operators._tensors(value), operators._tensors(old)):
            changed = tensor.shape != copy.shape or not allclose(
                tensor.detach(), copy, equal_nan=True)
            if changed and not argument.is_write:
                raise RuntimeError(f"Argument {name} is not defined as mutable but was mutated")


def autograd_registration_check(operator: Operator, args: Any, kwargs: Any) -> None:
    flat = [leaf for leaf in _leaves((args, list(kwargs.values())))]
    tensors = [leaf for leaf in flat if isinstance(leaf, Tensor)]
    if not any(tensor.requires_grad for tensor in tensors):
        raise RuntimeError(
            "autograd_registration_check: no inputs have requires_grad=True so we are unable "
            "to actually perform this test. Please pass inputs that do require grad.")
    device_types = {tensor.device.type for tensor in tensors}
    if not device_types <= {"cpu", "cuda", "xpu"}:
        raise NotImplementedError(
            "autograd_registration_check: NYI devices other than CPU/CUDA/XPU, got "
            f"{device_types}")
    if operator.has_autograd():
        return
    previous = operators.fallback_mode.mode
    operators.fallback_mode.mode = "nothing"
    try:
        result = operator.overload(*args, **kwargs)  # type: ignore[misc]
    finally:
        operators.fallback_mode.mode = previous
    inputs = {id(leaf) for leaf in flat}
    if any(isinstance(out, Tensor) and out.requires_grad and id(out) not in inputs
           for out in _leaves(result)):
        raise AssertionError(
            f"{operator.qualname}: at least one output of this operator has requires_grad=True "
            "but the operator does not have an autograd kernel defined at an autograd key "
            "(e.g. DispatchKey::Autograd). This could mean that you have incorrectly "
            "registered an autograd kernel to a non-Autograd DispatchKey, which may lead to "
            "silently incorrect results. If your operator consists of regular PyTorch "
            "operations, consider not using an operator at all or registering your operator "
            "as CompositeImplicitAutograd. If you have an autograd.Function registered to a "
            "backend (CPU/CUDA/XPU) key, the correct location for it is the Autograd key.")


def _on_meta(args: Any, kwargs: Any) -> tuple[Any, Any]:
    from ..ops.strides import empty_strided

    def meta(tensor: Tensor) -> Tensor:
        # Its strides kept, as PyTorch's fake tensors keep them (`to("meta")` lays it out anew).
        made = empty_strided(tuple(tensor.shape), tensor.stride(), dtype=tensor.dtype,
                             device="meta")
        return made.requires_grad_(tensor.requires_grad)

    return _map_tensors(args, meta), _map_tensors(kwargs, meta)


def _fake_run(operator: Operator, args: Any, kwargs: Any) -> Any:
    """The operator below autograd on meta copies of the arguments (PyTorch's fake tensors)."""
    from ..grad_mode import no_grad

    if operator.composite is not None and operator.autograd is None:
        return None  # it decomposes: its ops have their own meta kernels
    if "meta" not in operator.kernels:
        raise UnsupportedOperatorException(str(operator.overload))
    meta_args, meta_kwargs = _on_meta(args, kwargs)
    bound, keyword = operator.bind(meta_args, meta_kwargs)
    with no_grad():
        return operator.redispatch(bound, keyword)


def fake_check(operator: Operator, args: Any, kwargs: Any) -> None:
    from ..grad_mode import no_grad

    args, kwargs = _copies(args, kwargs)
    fake = _fake_run(operator, args, kwargs)
    if operator.composite is not None and operator.autograd is None:
        return
    bound, keyword = operator.bind(args, kwargs)
    with no_grad():
        real = operator.redispatch(bound, keyword)
    context = (f"When comparing the output of {operator.overload} on FakeTensor and concrete "
               "Tensors, found")
    real_leaves, fake_leaves = _leaves(real), _leaves(fake)
    if len(real_leaves) != len(fake_leaves):
        raise AssertionError(f"{context} mismatch in number of returns {len(fake_leaves)} != "
                             f"{len(real_leaves)}")
    for index, (real_out, fake_out) in enumerate(zip(real_leaves, fake_leaves)):
        if isinstance(real_out, Tensor) != isinstance(fake_out, Tensor):
            raise AssertionError(f"{context} mismatched number of tensor outputs")
        if not isinstance(real_out, Tensor):
            continue
        problem = _metadata_difference(real_out, fake_out)
        if problem is not None:
            where = "" if len(real_leaves) == 1 else f" for output[{index}]"
            raise MetadataMismatchError(f"{context} mismatched tensor metadata{where}: {problem}")


def _metadata_difference(real: Tensor, fake: Tensor) -> str | None:
    if tuple(real.shape) != tuple(fake.shape):
        return (f"Shapes torch.Size({list(real.shape)}) and torch.Size({list(fake.shape)}) are "
                "not equal!")
    if real.dtype is not fake.dtype:
        return f"Dtypes {real.dtype} and {fake.dtype} are not equal!"
    if real.numel() > 1 and real.stride() != fake.stride():
        return f"Stride mismatch! Strides are {real.stride()} and {fake.stride()} (mismatched " \
               "at some dim)!"
    return None


_OUTPUTS_MSG = ("Outputs of the operator are different in eager-mode PyTorch vs AOTDispatcher "
                "tracing. This means the operator will have incorrect output underneath "
                "torch.compile. This could be because the operator's implementation not "
                "traceable.")
_GRADIENTS_MSG = ("Gradients of the operator are different in eager-mode PyTorch vs "
                  "AOTDispatcher. This means the operator will have incorrect gradients "
                  "underneath torch.compile. This could be because the operator's backward is "
                  "incorrectly registered or not traceable.")


def aot_dispatch_check(operator: Operator, args: Any, kwargs: Any, *, rtol: float | None,
                       atol: float | None) -> None:
    """Eager against `autodiff.compile`: outputs, and gradients where an output requires
    grad. The fake impl runs first, as PyTorch's tracing runs it."""
    from .. import autograd
    from ..compiler.compiled import compile as compile_function
    from ..testing import assert_close

    overload = operator.overload

    def function(args: Any, kwargs: Any) -> Any:
        args, kwargs = _map_tensors((args, kwargs), lambda tensor: tensor.clone())
        return overload(*args, **kwargs)  # type: ignore[misc]

    def forward_backward(run: Callable[..., Any]) -> tuple[Any, Any]:
        out = run(args, kwargs)
        differentiable = [leaf for leaf in _leaves((args, list(kwargs.values())))
                          if isinstance(leaf, Tensor) and leaf.requires_grad]
        outputs = [leaf for leaf in _leaves(out) if isinstance(leaf, Tensor)]
        if not differentiable or not any(output.requires_grad for output in outputs):
            return out, None
        total = outputs[0].sum().abs()
        for output in outputs[1:]:
            total = total + output.sum().abs()
        return out, autograd.grad(total, differentiable, allow_unused=True)

    def equal(actual: Any, expected: Any, message: str) -> None:
        try:
            if rtol is not None and atol is not None:
                assert_close(actual, expected, rtol=rtol, atol=atol)
            else:
                assert_close(actual, expected)
        except AssertionError as exc:
            raise AssertionError(message) from exc

    eager_out, eager_grads = forward_backward(function)
    _fake_run(operator, *_copies(args, kwargs))
    compiled = compile_function(function)
    compiled_out, compiled_grads = forward_backward(compiled)
    equal(compiled_out, eager_out, _OUTPUTS_MSG)
    if eager_grads is not None:
        equal(compiled_grads, eager_grads, _GRADIENTS_MSG)


def opcheck(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None, *,
            test_utils: str | Sequence[str] = DEFAULT_TEST_UTILS, raise_exception: bool = True,
            atol: float | None = None, rtol: float | None = None) -> dict[str, Any]:
    """Check that `op` is registered correctly, on sample `args` (torch.library.opcheck):
    a dict of each check's "SUCCESS" or exception (raise_exception=False)."""
    from .custom_ops import CustomOpDef

    if (rtol is None) ^ (atol is None):
        raise ValueError("opcheck(op, ...): if you specify one of rtol/atol, you must specify "
                         "both")
    kwargs = {} if kwargs is None else kwargs
    if isinstance(op, CustomOpDef):
        op = op._opoverload
    if isinstance(op, UserOpOverloadPacket):
        overloads = op.overloads()
        if len(overloads) != 1:
            raise RuntimeError(
                "opcheck can only test operators without overloads. Got the following "
                f"overloads for {op._qualified_op_name}: {overloads}")
        op = getattr(op, overloads[0])
    if not isinstance(op, UserOpOverload):
        raise ValueError("opcheck(op, ...): op must be instance of torch._ops.OpOverload, e.g. "
                         f"torch.ops.aten.sin.default, got {type(op)}")
    checks: dict[str, Callable[[], Any]] = {
        "test_schema": lambda: schema_check(operator, args, kwargs),
        "test_autograd_registration": lambda: _if_grad(autograd_registration_check),
        "test_faketensor": lambda: fake_check(operator, args, kwargs),
        "test_aot_dispatch_static": lambda: aot_dispatch_check(operator, args, kwargs,
                                                               rtol=rtol, atol=atol),
        "test_aot_dispatch_dynamic": lambda: aot_dispatch_check(operator, args, kwargs,
                                                                rtol=rtol, atol=atol),
    }
    operator = op._op

    def _if_grad(check: Callable[[Operator, Any, Any], None]) -> None:
        copies = _copies(args, kwargs)
        if any(isinstance(leaf, Tensor) and leaf.requires_grad
               for leaf in _leaves((copies[0], list(copies[1].values())))):
            check(operator, *copies)

    if test_utils == "ALL":
        test_utils = tuple(checks)
    if isinstance(test_utils, str):
        test_utils = (test_utils,)
    if not isinstance(test_utils, (tuple, list)) or not set(test_utils) <= set(checks):
        raise ValueError(f"opcheck(op, ..., test_utils={test_utils}), expected test_utils to be "
                         f"subset of {tuple(checks)} but it was not")
    results: dict[str, Any] = {}
    for name in test_utils:
        try:
            checks[name]()
            results[name] = "SUCCESS"
        except Exception as exc:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {exc} (scroll up for "
                                   "stack trace)") from exc
            results[name] = exc
    return results
