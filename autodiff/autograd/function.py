"""`autograd.Function`: custom ops with a hand-written backward, as in PyTorch.

It is the built-in ops' `Function` with one difference: `forward(ctx, *args)` receives the
Tensors themselves (and runs with grad mode off), not their arrays. The node, the ctx, the
saved-tensor machinery, the gradient checks and the engine path are the built-in ones.

    class Exp(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            result, = ctx.saved_tensors
            return grad * result
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from .. import function as _function
from ..batching.batched_tensor import make_batched, unwrap
from ..batching.dispatch import highest_level
from ..batching.levels import levels as _vmap_levels
from ..creation import zeros_like
from ..dual import rules_running, tangent_at
from ..dual import state as _dual_state
from ..grad_mode import no_grad
from ..grad_mode import state as _grad_state
from ..hot_path import modes as _modes
from ..ops.views import CUSTOM_FUNCTION_VIEW
from ..profiling import CPU_OP, profiler_state
from ..saved import SavedTensor
from ..tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])


class Function(_function.Function):
    """Base class of custom ops: subclass it with static `forward(ctx, *args)` on Tensors and
    `backward(ctx, *grad_outputs)` returning one gradient (or None) per argument of forward;
    call it as `MyOp.apply(*args)`. Alternatively `forward(*args)` without ctx plus
    `setup_context(ctx, inputs, output)`, as in PyTorch 2."""

    _custom = True
    # The class of this Function's nodes, `<Name>Backward` (a subclass made with the class),
    # as PyTorch's `_backward_cls`: `type(grad_fn).__name__` is the node's name.
    _backward_cls: type[Function]

    # True: the first `ctx.saved_tensors` drops the node's references to them (so they can be
    # freed while backward runs), and a second access raises.
    clear_saved_tensors_on_access = False
    # True: backward receives the gradients as one mutable list, `backward(ctx, grads)`, so it
    # can drop each as it is used.
    boxed_grads_call = False
    # Under vmap, a class runs its `vmap` staticmethod, `vmap(info, in_dims, *args)` returning
    # (output, out_dims); or, with this True, forward itself, whose ops then batch.
    generate_vmap_rule = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "node_name" not in cls.__dict__:
            cls.node_name = f"{cls.__name__}Backward"  # what PyTorch names the node
        if cls.__dict__.get("_is_backward_cls"):
            cls._backward_cls = cls
            return
        # The node's backward is the user's backward or vjp, called as the class asks.
        namespace = {
            "_is_backward_cls": True, "node_name": cls.node_name,
            "__module__": "autodiff.autograd.function", "__qualname__": cls.node_name,
            "backward": staticmethod(functools.partial(_call_user_backward, cls))}
        if cls.clear_saved_tensors_on_access:
            namespace["saved_tensors"] = _saved_tensors_once
        cls._backward_cls = type(cls.node_name, (cls,), namespace)

    def __repr__(self) -> str:
        return f"<autodiff.autograd.function.{self.node_name} object at {hex(id(self))}>"

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def vjp(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def vmap(info: Any, in_dims: tuple[int | None, ...], *args: Any) -> Any:
        """The rule under vmap: `args` with their examples along `in_dims` (None: not
        batched); returns (output, out_dims). `info.batch_size`, `info.randomness`."""
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap "
            "staticmethod or set generate_vmap_rule=True.")

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        """The forward-mode rule: one tangent per forward input (zeros for a Tensor input
        without one, None for a non-Tensor), one tangent returned per output."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    # ------------------------------------------------------------------------- in forward
    def mark_dirty(self, *tensors: Tensor) -> None:
        """Inputs that forward modified in place; apply returns them with this node's history."""
        self._dirty = tensors

    _dirty: tuple[Tensor, ...] = ()
    _saved_for_forward: tuple[Any, ...] = ()

    def save_for_forward(self, *tensors: Any) -> None:
        """Tensors the jvp reads back as `ctx.saved_tensors` (backward does not see them)."""
        for tensor in tensors:
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(
                    "save_for_forward expects all arguments to be tensors; but got "
                    f"{type(tensor)}"
                )
        self._saved_for_forward = tensors

    # ------------------------------------------------------------------------- applying
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward on the Tensors of `args` with grad mode off; record a node when one of
        them requires grad (and grad mode is on)."""
        if kwargs:  # PyTorch binds keyword arguments to forward's parameters, positionally
            args = _bind(cls, args, kwargs)
        if profiler_state.active:  # a range named for the class, as PyTorch's
            opened = profiler_state.begin(cls.__name__, CPU_OP, args)
            try:
                return cls._apply_bound(args)
            finally:
                profiler_state.end(opened)
        return cls._apply_bound(args)

    @classmethod
    def _apply_bound(cls, args: tuple[Any, ...]) -> Any:
        if _modes.active and _vmap_levels.depth:
            number = highest_level(args, {})
            if number:
                return cls._apply_batched(args, _vmap_levels.find(number))
        return cls._apply_unbatched(args)

    @classmethod
    def _apply_unbatched(cls, args: tuple[Any, ...]) -> Any:
        recording = _grad_state.enabled and any(
            isinstance(arg, Tensor) and arg._requires_grad for arg in args)
        ctx = _function._new(cls._backward_cls)
        ctx.needs_input_grad = tuple([
            recording and isinstance(arg, Tensor) and arg._requires_grad for arg in args])
        # A dual input's tangent goes to jvp (a dirty input's is the one jvp changes in place),
        # once per level where an input has one.
        found = _dual_state.visible_levels(
            [arg for arg in args if isinstance(arg, Tensor)]) if _dual_state.enabled else []
        tangents = [[(tangent_at(arg, level) if tangent_at(arg, level) is not None
                      else zeros_like(arg)) if isinstance(arg, Tensor) else None
                     for arg in args] for level in found]
        previous = _grad_state.enabled
        _grad_state.enabled = False
        try:
            with rules_running():  # forward's own ops propagate no tangents: jvp gives them
                if _overrides_setup_context(cls):
                    output = cls.forward(*args)
                    cls.setup_context(ctx, args, output)
                else:
                    output = cls.forward(ctx, *args)
        finally:
            _grad_state.enabled = previous
        for tensor in ctx._dirty:
            _check_dirty(tensor, args, recording)
            tensor._bump_version()
        if recording:
            output = ctx._record_custom(args, output)
        for level, level_tangents in zip(found, tangents):
            ctx._forward_custom(level_tangents, output, level)
        return output

    @classmethod
    def _apply_batched(cls, args: tuple[Any, ...], level: Any) -> Any:
        """`apply` on inputs batched at the vmap `level`: the class's `vmap` staticmethod on
        their examples stacked along the dims it is told, or, with `generate_vmap_rule`, forward
        itself (its ops batch one by one), as PyTorch's vmap of an autograd.Function."""
        if _defines(cls, "vmap"):
            unwrapped = [unwrap(arg, level.number) for arg in args]
            in_dims = tuple(0 if batched else None for _, batched in unwrapped)
            info = VmapInfo(level.batch_size, level.randomness)
            result = cls.vmap(info, in_dims, *[value for value, _ in unwrapped])
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(
                    f"{cls.__name__}.vmap must return a tuple of two things: the output and "
                    "the out_dims")
            output, out_dims = result
            return _batched_outputs(output, out_dims, level.number, cls.__name__)
        if not _overrides_setup_context(cls):
            raise RuntimeError(
                "In order to use an autograd.Function with functorch transforms (vmap, grad, "
                "jvp, jacrev, ...), it must override the setup_context staticmethod. For more "
                "details, please see https://pytorch.org/docs/main/notes/extending.func.html")
        if cls.generate_vmap_rule:
            from .function_vmap import generated

            unwrapped = [unwrap(arg, level.number) for arg in args]
            in_dims = tuple(0 if batched else None for _, batched in unwrapped)
            output = generated(cls).apply(in_dims, level.randomness, level.batch_size,
                                          *[value for value, _ in unwrapped])
            return _batched_outputs(output, 0, level.number, cls.__name__)
        raise RuntimeError(
            f"You tried to vmap over {cls.__name__}, but it does not have vmap support. Please "
            "override and implement the vmap staticmethod or set generate_vmap_rule=True. For "
            "more details, please see https://pytorch.org/docs/main/notes/extending.func.html")

    def _forward_custom(self, tangents: list[Any], output: Any, level: int) -> None:
        """Run the user's jvp (forward AD off, `saved_tensors` = what save_for_forward got)
        and give each floating or complex output its tangent, with PyTorch's checks."""
        # While jvp runs, saved_tensors is what save_for_forward was given.
        saved = self._saved
        self._saved = tuple([None if tensor is None else SavedTensor(tensor, None)
                             for tensor in self._saved_for_forward])
        try:
            with rules_running(level):
                results = type(self).jvp(self, *tangents)
        finally:
            self._saved = saved
        outputs = output if type(output) is tuple else (output,)
        results = results if type(results) is tuple else (results,)
        if len(results) != len(outputs):
            raise RuntimeError(
                "Function's jvp returned an invalid number of forward gradients (expected "
                f"{len(outputs)} but got {len(results)})"
            )
        marked = self._non_differentiable or ()
        for tensor, tangent in zip(outputs, results):
            if (not isinstance(tensor, Tensor) or tangent is None
                    or not (tensor.dtype.is_floating_point or tensor.dtype.is_complex)
                    or any(tensor is item or tensor._data is item for item in marked)):
                continue
            if tangent.shape != tensor.shape:
                raise RuntimeError(
                    "Trying to set a forward gradient that has a different size than that of "
                    "the original Tensor, this is not supported. Tensor is of size "
                    f"{list(tensor.shape)} while the given forward gradient is of size "
                    f"{list(tangent.shape)}."
                )
            existing = tangent_at(tensor, level)
            if any(tensor is dirty for dirty in self._dirty) and existing is not None \
                    and tangent is not existing:
                raise RuntimeError(
                    "jvp function must modify the corresponding gradient inplace for the "
                    "inputs marked as dirty"
                )
            _dual_state.set_tangent(tensor, tangent, level)

    def _record_custom(self, args: tuple[Any, ...], output: Any) -> Any:
        """Make this ctx the node of forward's outputs through the built-in `_record`.

        Each output keeps its slot (output_nr) as in PyTorch; a non-Tensor output holds an
        empty placeholder array there, gets no Tensor, and backward receives None for it.
        """
        is_tuple = type(output) is tuple
        outputs = output if is_tuple else (output,)
        tensors = [tensor for tensor in outputs if isinstance(tensor, Tensor)]
        if not tensors:
            return output
        backend = self.backend = tensors[0]._backend
        placeholder = backend.zeros((0,), "float32")
        result = tuple([tensor._data if isinstance(tensor, Tensor) else placeholder
                        for tensor in outputs])
        # What the built-in machinery compares with arrays: outputs given as their arrays.
        if self._non_differentiable is not None:
            self._non_differentiable = (placeholder, *[
                tensor._data if isinstance(tensor, Tensor) else tensor
                for tensor in self._non_differentiable])
        else:
            self._non_differentiable = (placeholder,)
        if self._to_save is not None:
            self._to_save = tuple([_saved_item(index, item, outputs, args)
                                   for index, item in enumerate(self._to_save)])
        arrays = [arg._data if isinstance(arg, Tensor) else arg for arg in args]
        made = list(self._record(args, arrays, result))
        assert self._output_meta is not None
        self._output_meta = tuple([
            meta if isinstance(tensor, Tensor) else None
            for meta, tensor in zip(self._output_meta, outputs)])
        for index, tensor in enumerate(outputs):
            if not isinstance(tensor, Tensor):
                made[index] = tensor  # passed through as it is
            elif any(tensor is dirty for dirty in self._dirty):
                # The input modified in place is the output, with this node as its history.
                tensor._grad_fn = made[index].grad_fn
                tensor._output_nr = index
                tensor._requires_grad = made[index]._requires_grad
                made[index] = tensor
            elif any(tensor is arg for arg in args):
                # An input returned as it is: a new Tensor on the same data (PyTorch: a view,
                # which may not be modified in place while recording).
                made[index]._version_counter = tensor._shared_version_counter()
                made[index]._base = tensor._base if tensor._base is not None else tensor
                made[index]._view_error = (CUSTOM_FUNCTION_VIEW, (self._op_name, index))
        return tuple(made) if is_tuple else made[0]


def _call_user_backward(cls: type[Function], ctx: Any, *grad_outputs: Any) -> Any:
    """The node's backward: the class's `backward`, or its `vjp` (one of them, as PyTorch
    requires), given the gradients one by one or, with `boxed_grads_call`, as one list."""
    backward = cls.backward
    vjp = cls.vjp
    if backward is not Function.backward and vjp is not Function.vjp:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not "
                           "allowed. You should only implement one of them.")
    user_fn = vjp if vjp is not Function.vjp else backward
    if cls.boxed_grads_call:
        return user_fn(ctx, list(grad_outputs))
    return user_fn(ctx, *grad_outputs)


def _read_saved_tensors_once(ctx: Any) -> tuple[Any, ...]:
    """`saved_tensors` of a class with `clear_saved_tensors_on_access`: the node drops its
    references on the first access (the caller's are then the last), a second one raises."""
    if ctx.__dict__.get("_saved_accessed"):
        raise RuntimeError(
            "saved_tensors can only be accessed once when clear_saved_tensors_on_access=True is "
            "set on the autograd.Function. Either access saved_tensors only once, or set "
            "clear_saved_tensors_on_access=False.")
    tensors: tuple[Any, ...] = _function.Function.saved_tensors.__get__(ctx)
    ctx._saved_accessed = True
    ctx._saved = None
    return tensors


_saved_tensors_once = property(_read_saved_tensors_once)


class VmapInfo:
    """What a `vmap` staticmethod is told of the vmap it runs under."""

    def __init__(self, batch_size: int, randomness: str) -> None:
        self.batch_size = batch_size
        self.randomness = randomness


def _defines(cls: type[Function], name: str) -> bool:
    """Whether the class (or a base below Function) defines staticmethod `name`."""
    return any(name in vars(kind) for kind in cls.__mro__
               if kind is not Function and issubclass(kind, Function))


def _batched_outputs(output: Any, out_dims: Any, level: int, name: str) -> Any:
    """A vmap staticmethod's output with each Tensor's `out_dim` moved to the front and the
    Tensor batched at `level` (an out_dim of None: the same for every example)."""
    if isinstance(output, tuple):
        dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(output)
        if len(dims) != len(output):
            raise ValueError(f"{name}.vmap returned {len(output)} outputs but out_dims for "
                             f"{len(dims)}")
        return tuple(_batched_outputs(item, dim, level, name) for item, dim in zip(output, dims))
    if not isinstance(output, Tensor) or out_dims is None:
        return output
    if not isinstance(out_dims, int):
        raise ValueError(f"{name}.vmap returned an out_dim of type {type(out_dims).__name__} "
                         "for a Tensor output (expected an int or None)")
    return make_batched(output.movedim(out_dims, 0), level)


def _overrides_setup_context(cls: type[Function]) -> bool:
    return getattr(cls.setup_context, "__func__", cls.setup_context) is not \
        Function.__dict__["setup_context"].__func__


def _bind(cls: type[Function], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    signature = inspect.signature(cls.forward)
    if not _overrides_setup_context(cls):  # forward(ctx, ...): bind without the ctx
        parameters = list(signature.parameters.values())[1:]
        signature = signature.replace(parameters=parameters)
    bound = signature.bind(*args, **kwargs)
    for name in bound.kwargs:  # keyword-only: PyTorch's forward call refuses them
        raise TypeError(f"forward() got an unexpected keyword argument '{name}'")
    bound.apply_defaults()
    return tuple(bound.args)


def _check_dirty(tensor: Tensor, args: tuple[Any, ...], recording: bool) -> None:
    if not any(tensor is arg for arg in args):
        raise RuntimeError("mark_dirty only accepts input tensors, but argument wasn't one")
    if recording and tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad has been used in an in-place operation."
        )


def _saved_item(index: int, item: Any, outputs: tuple[Tensor, ...], args: tuple[Any, ...]
                ) -> Any:
    """An output Tensor is saved as its array (so it is unpacked with this node as grad_fn);
    inputs and other Tensors as they are."""
    if item is None:
        return None
    if not isinstance(item, Tensor):
        raise TypeError(
            f"save_for_backward can only save variables, but argument {index} is of type "
            f"{type(item).__name__}"
        )
    if not any(item is arg for arg in args):
        for tensor in outputs:
            if item is tensor:
                return tensor._data
    return item


class _DelayedError(_function.Function):
    """The node `once_differentiable` puts after a backward's results: differentiating them
    again raises."""

    node_name = "DelayedError"

    @staticmethod
    def forward(ctx: Any, value: Any, *inputs: Any) -> Any:
        return value

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def once_differentiable(backward: F) -> F:
    """Decorate a custom Function's backward that is not itself differentiable: it runs with
    grad mode off, and differentiating its results (create_graph) raises."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grad_outputs: Any) -> Any:
        with no_grad():
            results = backward(ctx, *grad_outputs)
        if not _grad_state.enabled:
            return results
        needing = [grad for grad in grad_outputs
                   if isinstance(grad, Tensor) and grad._requires_grad]
        if not needing:
            return results
        single = not isinstance(results, tuple)
        wrapped = tuple([
            _DelayedError.apply(result, *needing) if isinstance(result, Tensor) else result
            for result in ((results,) if single else results)])
        return wrapped[0] if single else wrapped

    return wrapper  # type: ignore[return-value]


FunctionCtx = _function.Function  # the ctx a custom forward and backward receive

__all__ = ["Function", "FunctionCtx", "once_differentiable"]
