"""The operators of user namespaces (`torch.ops.mylib.crop`) and the path of one call.

PyTorch's dispatcher runs an operator's kernels in key order; autodiff has no dispatcher, so an
`Operator` keeps what was registered for each part of a call and `call` runs them in that order:

1. the arguments bound to the schema (PyTorch's messages for missing, extra or mistyped ones);
2. vmap (a registered vmap rule, else one call per example with PyTorch's warning);
3. autograd: a CompositeImplicitAutograd kernel runs as it is (its own ops record); a
   registered autograd kernel (`_library/autograd.py`) makes the node; without one, PyTorch's
   fallback: the kernel runs and outputs that do not require grad get a
   `torch::autograd::WarnNotImplemented` node that warns at backward;
4. `redispatch`: the kernel of the tensors' device type (the fake impl on the meta device),
   then the version bumps of the arguments a custom op mutates. Under `autodiff.compile` the
   kernel is one opaque step of the program (`Tracer.record_opaque`): it runs again at each
   replay, as torch.compile calls a custom op.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from backends import Device

from ..autograd.function import Function
from ..batching.batched_tensor import make_batched, unwrap
from ..batching.dispatch import highest_level, looped
from ..batching.levels import levels
from ..compiler import tracing
from ..dual import rules_running
from ..dual import state as dual_state
from ..grad_mode import state as grad_state
from ..op_overloads import USER_NAMESPACES, OpOverload, OpOverloadPacket
from ..tensor import Tensor
from ..torch_function import dispatch, mode_enabled, overloaded_args
from ..user_warnings import warn
from .schema import FunctionSchema

# The names PyTorch's messages give each device type's dispatch key.
_KEYS = {"cpu": "CPU", "cuda": "CUDA", "meta": "Meta", "strict": "PrivateUse1"}


def dispatch_key(device_type: str | None) -> str:
    if device_type is None:
        return "CompositeExplicitAutograd"
    return _KEYS.get(device_type, device_type)


class _FallbackMode(threading.local):
    mode = "warn"  # or "nothing" (opcheck's autograd registration check)


fallback_mode = _FallbackMode()


class Operator:
    """One overload of a user operator: its schema and what each part of a call runs."""

    def __init__(self, schema: FunctionSchema) -> None:
        self.schema = schema
        self.qualname = schema.name  # "mylib::crop"
        # Device type (None: any device, PyTorch's CompositeExplicitAutograd) -> kernel; "meta"
        # holds the fake impl.
        self.kernels: dict[str | None, Callable[..., Any]] = {}
        self.composite: Callable[..., Any] | None = None  # CompositeImplicitAutograd
        self.autograd: Callable[[tuple[Any, ...], dict[str, Any]], Any] | None = None
        self.vmap: Callable[..., Any] | None = None
        self.bumps_versions = False  # a custom_op's mutated arguments (ADInplaceOrView)
        self.overload: UserOpOverload | None = None
        self.positional = tuple(a for a in schema.arguments if not a.kwarg_only)
        self.keyword = tuple(a for a in schema.arguments if a.kwarg_only)

    def has_autograd(self) -> bool:
        return self.autograd is not None or self.composite is not None

    # ----------------------------------------------------------------------------- a call
    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        args, kwargs = self.bind(args, kwargs)
        if levels.depth:
            number = highest_level(args, kwargs)
            if number:
                return self._vmap(number, args, kwargs)
        if self.autograd is not None:
            return self.autograd(args, kwargs)
        if self.composite is not None:
            return self.composite(*args, **kwargs)
        return self._autograd_fallback(args, kwargs)

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]
             ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional arguments (defaults filled) and keyword-only ones, as the dispatcher
        hands them to kernels; lists as lists."""
        schema = self.schema
        if len(args) > len(self.positional) or len(args) + len(kwargs) > len(schema.arguments):
            raise RuntimeError(
                f"{self.qualname}() expected at most {len(schema.arguments)} argument(s) but "
                f"received {len(args) + len(kwargs)} argument(s). Declaration: {schema}")
        names = {argument.name for argument in schema.arguments}
        for name in kwargs:
            if name not in names:
                raise RuntimeError(f"Unknown keyword argument '{name}' for operator "
                                   f"'{self.qualname}'. Schema: {schema}")
        kwargs = dict(kwargs)
        bound = list(args)
        for argument in self.positional[len(args):]:
            bound.append(self._take(argument, kwargs))
        keyword = {argument.name: self._take(argument, kwargs) for argument in self.keyword}
        for position, (argument, value) in enumerate(
                zip((*self.positional, *self.keyword), (*bound, *keyword.values()))):
            checked = _checked(argument.type, value)
            if checked is _WRONG:
                raise RuntimeError(
                    f"{self.qualname}() Expected a value of type '{argument.type}' for argument "
                    f"'{argument.name}' but instead found type '{type(value).__name__}'.\n"
                    f"Position: {position}\nValue: {value!r}\nDeclaration: {schema}\n"
                    f"Cast error details: Unable to cast {value!r} to {argument.type}")
            if position < len(bound):
                bound[position] = checked
            else:
                keyword[argument.name] = checked
        return tuple(bound), keyword

    def _take(self, argument: Any, kwargs: dict[str, Any]) -> Any:
        if argument.name in kwargs:
            return kwargs.pop(argument.name)
        if argument.has_default:
            return argument.default_value
        raise RuntimeError(f"{self.qualname}() is missing value for argument '{argument.name}'. "
                           f"Declaration: {self.schema}")

    def redispatch(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Below autograd: the kernel of the arguments' device type, then the version bumps."""
        device_type = _device_type(args, kwargs)
        kernel = self.kernels.get(device_type)
        if kernel is None and device_type != "meta":
            kernel = self.kernels.get(None)
        if kernel is None:
            raise NotImplementedError(
                f"Could not run '{self.qualname}' with arguments from the "
                f"'{dispatch_key(device_type)}' backend. This could be because the operator "
                "doesn't exist for this backend. "
                f"'{self.qualname}' is only available for these backends: "
                f"[{', '.join(dispatch_key(key) for key in self.kernels)}].")
        if dual_state.enabled:  # the kernel is opaque to forward AD: its outputs get no tangent
            with rules_running():
                result = self._run(kernel, device_type, args, kwargs)
        else:
            result = self._run(kernel, device_type, args, kwargs)
        if self.bumps_versions:  # PyTorch's ADInplaceOrView kernel
            for argument, value in zip((*self.positional, *self.keyword),
                                       (*args, *kwargs.values())):
                if argument.is_write:
                    for tensor in _tensors(value):
                        tensor._bump_version()
        return result

    def _run(self, kernel: Callable[..., Any], device_type: str, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
        tracer = tracing.current()
        if tracer is not None and device_type != "meta":
            return tracer.record_opaque(self.qualname, kernel, args, kwargs,
                                        pure=not self.schema.is_mutable)
        return kernel(*args, **kwargs)

    # ----------------------------------------------------------------------------- autograd
    def _autograd_fallback(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """No autograd kernel: PyTorch's default fallback. The kernel runs (its own ops may
        record); an output it made requiring grad warns when backward reaches it, any other
        floating output gets a node that warns and gives its inputs no gradient."""
        inputs = [tensor for value in (*args, *kwargs.values()) for tensor in _tensors(value)]
        recording = grad_state.enabled and any(t._requires_grad for t in inputs)
        result = self.redispatch(args, kwargs)
        if not recording or fallback_mode.mode == "nothing":
            return result
        name = self.qualname
        outputs = [t for t in _tensors(result) if t.dtype.is_floating_point or t.dtype.is_complex]
        bare = [t for t in outputs if not t._requires_grad]
        for tensor in outputs:
            if tensor._requires_grad:
                tensor.register_hook(lambda grad: _warn_not_implemented(name))
        if bare:
            made = _WarnNotImplemented.apply(_Outputs(name, bare), *inputs)
            for index, (tensor, node_output) in enumerate(zip(bare, made)):
                tensor._grad_fn = node_output.grad_fn
                tensor._output_nr = index
                tensor._requires_grad = True
        return result

    # ----------------------------------------------------------------------------- vmap
    def _vmap(self, number: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        level = levels.find(number)
        if self.vmap is None:
            overload = self.overload
            assert overload is not None
            return looped(self.qualname, overload, args, kwargs, level)
        physical: list[Any] = []
        in_dims: list[Any] = []
        for value in args:
            if isinstance(value, Tensor):
                inner, batched = unwrap(value, number)
                physical.append(inner)
                in_dims.append(0 if batched else None)
            elif isinstance(value, list) and any(isinstance(item, Tensor) for item in value):
                pairs = [unwrap(item, number) if isinstance(item, Tensor) else (item, False)
                         for item in value]
                physical.append([inner for inner, _ in pairs])
                in_dims.append([0 if batched else None for _, batched in pairs])
            else:
                physical.append(value)
                in_dims.append(None)
        output, out_dims = self.vmap(VmapInfo(level.batch_size, level.randomness),
                                     tuple(in_dims), *physical, **kwargs)
        return _batched_output(output, out_dims, number)


class VmapInfo:
    """What a vmap rule is told: the size of the mapped dim, the vmap's randomness."""

    def __init__(self, batch_size: int, randomness: str) -> None:
        self.batch_size = batch_size
        self.randomness = randomness


def _batched_output(output: Any, out_dims: Any, number: int) -> Any:
    if isinstance(output, Tensor):
        if out_dims is None:
            return output
        return make_batched(output.movedim(out_dims, 0), number)
    if isinstance(output, (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(output)
        return type(output)(_batched_output(item, dim, number)
                            for item, dim in zip(output, dims))
    return output


class _Outputs:
    """The outputs the fallback's node is made for (not an input of the node)."""

    def __init__(self, name: str, tensors: list[Tensor]) -> None:
        self.name = name
        self.tensors = tensors


def _warn_not_implemented(name: str) -> None:
    warn(
        f"{name}: an autograd kernel was not registered to the Autograd key(s) but we are "
        "trying to backprop through it. This may lead to silently incorrect behavior. This "
        "behavior is deprecated and will be removed in a future version of PyTorch. If your "
        "operator is differentiable, please ensure you have registered an autograd kernel to "
        "the correct Autograd key (e.g. DispatchKey::Autograd, "
        "DispatchKey::CompositeImplicitAutograd). If your operator is not differentiable, or "
        "to squash this warning and use the previous behavior, please register "
        "torch::CppFunction::makeFallthrough() to DispatchKey::Autograd.", UserWarning,
        stacklevel=2)


class _WarnNotImplemented(Function):
    """The node PyTorch's autograd fallback gives an operator's outputs: backward warns and
    gives no gradient."""

    node_name = "torch::autograd::WarnNotImplemented"

    @staticmethod
    def forward(ctx: Any, outputs: _Outputs, *inputs: Any) -> Any:
        ctx.op_name = outputs.name
        return tuple(outputs.tensors)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        _warn_not_implemented(ctx.op_name)
        return (None,) * (len(ctx.needs_input_grad))


# ----------------------------------------------------------------------------- arguments
class _Wrong:
    pass


_WRONG = _Wrong()
_SCALARS = {"SymInt": (int,), "int": (int,), "float": (float, int), "bool": (bool,),
            "str": (str,), "Scalar": (int, float, bool, complex)}


def _checked(type_text: str, value: Any) -> Any:
    """`value` as the kernel receives it (sequences as lists), or `_WRONG`."""
    optional = type_text.endswith("?")
    if optional:
        if value is None:
            return None
        type_text = type_text[:-1]
    if type_text.endswith("[]"):
        if not isinstance(value, (list, tuple)):
            return value if isinstance(value, Tensor) and type_text != "Tensor[]" else _WRONG
        items = [_checked(type_text[:-2], item) for item in value]
        return _WRONG if any(item is _WRONG for item in items) else items
    if type_text == "Tensor":
        return value if isinstance(value, Tensor) else _WRONG
    kinds = _SCALARS.get(type_text)
    if kinds is not None and not isinstance(value, kinds):
        if isinstance(value, Tensor) and value.dim() == 0 and type_text != "str":
            return value  # a 0-d tensor as a number, as PyTorch accepts it
        return _WRONG
    if type_text == "Device" and isinstance(value, str):
        return Device(value)
    return value


def _tensors(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, Tensor)]
    return []


def _device_type(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The tensors' device type (the first tensor's), else a Device argument's, else CPU."""
    values = (*args, *kwargs.values())
    for value in values:
        for tensor in _tensors(value):
            return tensor.device.type
    for value in values:
        if isinstance(value, Device):
            return value.type
    return "cpu"


# ----------------------------------------------------------------------------- torch.ops
class UserOpOverload(OpOverload):
    """`torch.ops.mylib.crop.default`: calling it runs the operator."""

    def __init__(self, packet: OpOverloadPacket, overload: str, operator: Operator) -> None:
        super().__init__(packet, overload)
        self._op = operator
        self._schema = operator.schema
        self._name = operator.qualname if overload == "default" \
            else f"{operator.qualname}.{overload}"
        self._opname = packet.__name__
        self._defined_in_python = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _call(self, self._op, args, kwargs)


def _call(called: Any, operator: Operator, args: tuple[Any, ...], kwargs: dict[str, Any]
          ) -> Any:
    """Run `operator`, first offering the call (as `called`, the overload or the packet the
    user called) to `__torch_function__` modes and arguments, as PyTorch's operator calls do:
    an fx Proxy argument records it."""
    overloaded = overloaded_args(args, kwargs)
    if overloaded or mode_enabled():
        return dispatch(called, overloaded, args, kwargs)
    return operator.call(args, kwargs)


class UserOpOverloadPacket(OpOverloadPacket):
    """`torch.ops.mylib.crop`: its overloads as attributes; calling it calls the default."""

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__(namespace, name, ())

    def overloads(self) -> list[str]:
        return list(self._cache)

    def __getattr__(self, overload: str) -> OpOverload:
        if overload.startswith("__") or overload == "_cache":
            raise AttributeError(overload)
        found = self._cache.get(overload)
        if found is None:
            raise AttributeError(f"The underlying op of '{self}' has no overload name "
                                 f"'{overload}'")
        return found

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        overloads = list(self._cache.values())
        chosen = overloads[0] if len(overloads) == 1 else self._cache.get("default")
        if isinstance(chosen, UserOpOverload):
            return _call(self, chosen._op, args, kwargs)
        raise RuntimeError(f"{self}: autodiff calls an operator with several overloads only "
                           "through one of them (torch.ops.ns.op.overload)")


class UserNamespace:
    """`torch.ops.mylib`: an attribute per operator defined in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._packets: dict[str, UserOpOverloadPacket] = {}

    def __getattr__(self, op_name: str) -> UserOpOverloadPacket:
        if op_name.startswith("__") or op_name in ("_packets", "name"):
            raise AttributeError(op_name)
        packet = self._packets.get(op_name)
        if packet is None:
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute "
                                 f"'{op_name}'")
        return packet

    def __dir__(self) -> list[str]:
        return sorted(self._packets)

    def __repr__(self) -> str:
        return f"<module 'torch.ops.{self.name}'>"


NAMESPACES: dict[str, UserNamespace] = USER_NAMESPACES
OPERATORS: dict[str, Operator] = {}  # "mylib::crop" or "mylib::crop.overload" -> Operator


def add_operator(schema: FunctionSchema) -> Operator:
    """Make the operator and its torch.ops entries (replacing an operator of that name)."""
    namespace_name, _, name = schema.name.partition("::")
    operator = Operator(schema)
    key = f"{schema.name}.{schema.overload_name}" if schema.overload_name else schema.name
    OPERATORS[key] = operator
    namespace = NAMESPACES.setdefault(namespace_name, UserNamespace(namespace_name))
    packet = namespace._packets.get(name)
    if packet is None:
        packet = namespace._packets[name] = UserOpOverloadPacket(namespace_name, name)
    overload = schema.overload_name or "default"
    made = UserOpOverload(packet, overload, operator)
    packet._cache[overload] = made
    operator.overload = made
    return operator


def remove_operator(key: str) -> None:
    operator = OPERATORS.pop(key, None)
    if operator is None or operator.overload is None:
        return
    packet = operator.overload.overloadpacket
    packet._cache.pop(operator.overload._overloadname, None)
    if not packet._cache:
        NAMESPACES[packet._namespace]._packets.pop(packet.__name__, None)


def lookup(qualname: str) -> Operator:
    """The operator `ns::name` or `ns::name.overload`, with PyTorch's error when there is none."""
    operator = OPERATORS.get(qualname.removesuffix(".default"))
    if operator is None:
        raise RuntimeError(f"operator {qualname} does not exist")
    return operator
