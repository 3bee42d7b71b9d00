"""`torch.library.custom_op` and `CustomOpDef`: a Python function made an operator.

The function is the operator's kernel for its device types (every device where none are
given); its schema comes from its type hints (`schema.infer_schema`). The operator always has
an autograd kernel (a node whose backward raises until `register_autograd` gives one), bumps
the versions of the arguments it mutates, and checks that its outputs alias no input.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from typing import Any

from ..tensor import Tensor
from . import operators
from .autograd import Info, make_autograd_impl
from .schema import FunctionSchema, infer_schema, parse_schema


def custom_op(name: str, fn: Callable[..., Any] | None = None, /, *,
              mutates_args: str | Iterable[str], device_types: str | Sequence[str] | None = None,
              schema: str | None = None, tags: Any = None) -> Any:
    """Wrap `fn` into a custom operator `name` ("namespace::name"); a decorator without `fn`."""
    if tags:
        raise NotImplementedError("custom_op: autodiff does not implement operator tags")

    def inner(fn: Callable[..., Any]) -> CustomOpDef:
        schema_text = schema if schema is not None else infer_schema(
            fn, mutates_args=mutates_args)
        namespace, opname = name.split("::")
        result = CustomOpDef(namespace, opname, schema_text, fn)
        if schema is not None:
            expected = {argument.name for argument in result._opoverload._schema.arguments
                        if argument.is_write}
            if expected != set(mutates_args):
                raise ValueError(
                    f"Attempted to create a custom op with `mutates_args={mutates_args}` and "
                    f"`schema={schema}. The schema suggests that the op mutates {expected}"
                    "which is different from what was provided to us in `mutates_args`. "
                    "Please make these consistent.")
        result.register_kernel(device_types)(fn)
        return result

    if fn is None:
        return inner
    return inner(fn)


OPDEFS: dict[str, CustomOpDef] = {}


class CustomOpDef:
    """A function turned into a custom op (made by `custom_op`): callable, with methods that
    register its other behaviours."""

    def __init__(self, namespace: str, name: str, schema: str, fn: Callable[..., Any]) -> None:
        self._namespace = namespace
        self._name = name
        self._schema = schema
        self._init_fn = fn
        self._backend_fns: dict[str | None, Callable[..., Any]] = {}
        self._abstract_fn: Callable[..., Any] | None = None
        self._disabled_kernel: set[str | None] = set()
        self._autograd_info = Info()
        self._vmap_fn: Callable[..., Any] | None = None
        parsed = parse_schema(self._name + schema)
        if any(argument.kwarg_only and argument.is_tensor for argument in parsed.arguments):
            raise NotImplementedError(
                "custom_op with kwarg-only Tensor args. Please make your tensors not "
                f"kwarg-only. Got: {self._name + schema}")
        parsed = FunctionSchema(self._qualname, parsed.overload_name, parsed.arguments,
                                parsed.returns, parsed.returns_text)
        operators.remove_operator(self._qualname)  # a new definition replaces an old one
        operator = self._operator = operators.add_operator(parsed)
        overload = operator.overload
        assert overload is not None
        self._opoverload = overload
        operator.bumps_versions = parsed.is_mutable
        operator.kernels["meta"] = self._fake_impl
        operator.autograd = make_autograd_impl(operator, self._autograd_info)
        OPDEFS[self._qualname] = self

    @property
    def _qualname(self) -> str:
        return f"{self._namespace}::{self._name}"

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._qualname})>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._opoverload(*args, **kwargs)

    # ----------------------------------------------------------------------------- kernels
    def register_kernel(self, device_types: str | Sequence[str] | None,
                        fn: Callable[..., Any] | None = None, /) -> Callable[..., Any]:
        """Register `fn` as the implementation for `device_types` (a decorator without fn)."""

        def inner(fn: Callable[..., Any]) -> Callable[..., Any]:
            if device_types is None or isinstance(device_types, str):
                kinds: list[str | None] = [device_types]
            else:
                kinds = list(device_types)
            for device_type in kinds:
                self._backend_fns[device_type] = fn
                self._operator.kernels[device_type] = self._kernel_for(device_type)
            return fn

        if device_types is not None and not any(
                argument.is_tensor for argument in self._opoverload._schema.arguments) and not any(
                argument.type.startswith("Device") for argument in
                self._opoverload._schema.arguments):
            raise ValueError("Functions without tensor inputs are required to have a `device: "
                             "torch.device` argument")
        if fn is None:
            return inner
        return inner(fn)

    def _kernel_for(self, device_type: str | None) -> Callable[..., Any]:
        def backend_impl(*args: Any, **kwargs: Any) -> Any:
            if device_type in self._disabled_kernel:
                result = self._init_fn(*args, **kwargs)
            else:
                result = self._backend_fns[device_type](*args, **kwargs)
            _check_aliasing(self._name, self._backend_fns[device_type], args, kwargs, result)
            return result

        return backend_impl

    @contextmanager
    def set_kernel_enabled(self, device_type: str, enabled: bool = True) -> Any:
        """Disable (or re-enable) the kernel registered for `device_type` while the context
        lasts: the function the op was made from runs instead."""
        originally_disabled = device_type in self._disabled_kernel
        if enabled:
            self._disabled_kernel.discard(device_type)
        else:
            self._disabled_kernel.add(device_type)
        try:
            yield
        finally:
            if originally_disabled:
                self._disabled_kernel.add(device_type)
            else:
                self._disabled_kernel.discard(device_type)

    # ----------------------------------------------------------------------------- fake
    def register_fake(self, fn: Callable[..., Any], /) -> Callable[..., Any]:
        """Register the fake impl: the outputs' shapes and dtypes from the inputs' (it runs
        on meta tensors, and for opcheck's test_faketensor)."""
        self._abstract_fn = fn
        return fn

    def _fake_impl(self, *args: Any, **kwargs: Any) -> Any:
        if self._abstract_fn is not None:
            return self._abstract_fn(*args, **kwargs)
        schema = self._opoverload._schema
        if schema.is_mutable and not schema.returns:
            return None  # PyTorch's trivial fake impl: nothing to describe
        raise RuntimeError(
            f"There was no fake impl registered for {self}. This is necessary for "
            "torch.compile/export/fx tracing to work. Please use "
            f"`{self._init_fn.__name__}.register_fake` to add an fake impl.")

    # ----------------------------------------------------------------------------- autograd
    def register_autograd(self, backward: Callable[..., Any], /, *,
                          setup_context: Callable[..., Any] | None = None) -> None:
        """Register `backward(ctx, *grads)`, and `setup_context(ctx, inputs, output)` that
        runs in forward to save what backward needs."""
        schema = self._opoverload._schema
        if schema.is_mutable or not schema.returns:
            raise RuntimeError(
                f"Cannot register autograd formula for non-functional operator {self} with "
                f"schema {schema}. Please create a functional operator and register an "
                "autograd formula for that.")
        self._autograd_info.backward = backward
        self._autograd_info.setup_context = setup_context

    # ----------------------------------------------------------------------------- vmap
    def register_vmap(self, func: Callable[..., Any] | None = None) -> Any:
        """Register `func(info, in_dims, *args, **kwargs) -> (output, out_dims)`, the op on
        inputs with a mapped dim (`in_dims`: its index per argument, None where absent)."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self._vmap_fn = func
            self._operator.vmap = func
            return func

        if func is None:
            return register
        return register(func)

    def register_torch_dispatch(self, torch_dispatch_class: Any, fn: Any = None, /) -> Any:
        raise NotImplementedError("register_torch_dispatch: autodiff's __torch_dispatch__ "
                                  "subclasses do not see custom operators")

    def register_autocast(self, device_type: str, cast_inputs: Any) -> Any:
        raise NotImplementedError("register_autocast: autodiff's autocast does not reach "
                                  "custom operators")


def _shares_memory(first: Tensor, second: Tensor) -> bool:
    if first is second or first._data is second._data:
        return True
    if first._backend is not second._backend or first.device.type == "meta":
        return False
    backend = first._backend
    try:
        starts = [tensor.data_ptr() - tensor.storage_offset() * tensor.dtype.itemsize
                  for tensor in (first, second)]
    except (RuntimeError, ValueError, TypeError):
        return False
    return starts[0] == starts[1] and backend.storage_size(first._data) > 0


def _check_aliasing(name: str, kernel: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any], result: Any) -> None:
    """PyTorch's rule for custom ops: no output is an input, or shares an input's or another
    output's memory."""
    inputs = [tensor for value in (*args, *kwargs.values())
              for tensor in operators._tensors(value)]
    outputs = operators._tensors(result if isinstance(result, (tuple, list)) else [result])
    for index, output in enumerate(outputs):
        others = inputs + outputs[:index]
        if any(_shares_memory(output, other) for other in others):
            raise RuntimeError(
                f"{name} (with implementation in {inspect.getmodule(kernel)}): The output of "
                "this custom operator (1) must not also be an input to this custom operator "
                "and (2) may not alias any inputs to this custom operator or other returns. "
                "The most common way to trigger this error is if we have y = custom_op(x) and "
                "y and x are the same Tensor. Please instead return a clone of the offending "
                "output tensor(s) (e.g. return x.clone()) or refactor the custom operator to "
                "not return y.")
