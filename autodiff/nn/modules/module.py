"""`Module`: the base class of layers. Registers parameters, buffers and submodules on
assignment, walks them, moves them between devices in place, and saves/loads its state; runs
its hooks around `forward` (forward pre-hooks and hooks, with kwargs, prepended, always called;
backward pre-hooks and full backward hooks through `utils.hooks.BackwardHook`; the deprecated
non-full backward hooks), and the global hooks of `register_module_*` for every module.

The behaviour and the messages follow PyTorch's `torch.nn.Module`, so a model written for one
runs on the other. Without hooks, calling a module is one test and `forward`.
"""

from __future__ import annotations

import functools
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from backends import Device

from ... import __future__ as _future
from ... import dtypes
from ...creation import empty_like
from ...grad_mode import no_grad
from ...layouts import check_memory_format
from ...ops._checks import invalid_arguments
from ...ops.conversion import TO_SIGNATURES
from ...profiling import profiler_state
from ...python_dispatch import is_traceable_wrapper_subclass
from ...swap import swap_tensors
from ...tensor import Tensor
from ...user_warnings import warn
from ..parameter import Buffer, Parameter

if TYPE_CHECKING:
    from ...utils.hooks import RemovableHandle

M = TypeVar("M", bound="Module")


class _Structure:
    """How many times any module's attributes, registries or forward hooks were written. A
    compiled function's cache hit compares the modules it reaches in full only when this moved
    since their last comparison passed (`compiler/checks.py`): every writer counts here."""

    __slots__ = ("version",)

    def __init__(self) -> None:
        self.version = 0


structure = _Structure()

# The state_dict key (after a module's prefix) of what its get_extra_state returns
_EXTRA_STATE = "_extra_state"


class Registry(dict[Any, Any]):
    """A module's `_parameters`, `_buffers` or `_modules`: a dict whose every write moves
    `structure.version`, as code that writes the registries directly (utilities, users) must
    be seen by a compiled function's cache hit."""

    __slots__ = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        structure.version += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        structure.version += 1
        dict.__delitem__(self, key)

    def __ior__(self, other: Any) -> Registry:  # type: ignore[misc]
        structure.version += 1
        dict.update(self, other)
        return self

    def pop(self, *args: Any) -> Any:
        structure.version += 1
        return dict.pop(self, *args)

    def popitem(self) -> Any:
        structure.version += 1
        return dict.popitem(self)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        structure.version += 1
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        structure.version += 1
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        structure.version += 1
        dict.clear(self)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns; prints as PyTorch's does."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text: str, spaces: int) -> str:
    """Indent every line after the first (PyTorch's helper for nested module reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    rest = [(" " * spaces) + line if line.strip() else "" for line in lines]
    return first + "\n" + "\n".join(rest)


def typename(obj: Any) -> str:
    """PyTorch's `torch.typename`: `torch.FloatTensor` for tensors, the qualified class name
    otherwise."""
    if isinstance(obj, Tensor):
        return f"torch.{dtypes.LEGACY_NAMES[obj.dtype.name]}"
    cls = type(obj)
    module = cls.__module__
    if module in (None, "builtins"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


# ----------------------------------------------------------------------------- global hooks
def _handle(hooks: dict[int, Any], *, extra_dict: Any = None) -> RemovableHandle:
    # autodiff.utils imports nn (activation checkpointing), so its hooks module is imported
    # once the first hook is registered rather than with this one.
    from ...utils.hooks import RemovableHandle

    return RemovableHandle(hooks, extra_dict=extra_dict)



# Hooks for every module (PyTorch's `register_module_*`), by handle id. Global hooks run before
# a module's own.
_global_buffer_registration_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_module_registration_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_parameter_registration_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_backward_pre_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_backward_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_forward_pre_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks_always_called: dict[int, bool] = OrderedDict()
_global_forward_hooks_with_kwargs: dict[int, bool] = OrderedDict()


class _GlobalState:
    """Whether the global backward hooks are full ones (None: none registered yet)."""

    is_full_backward_hook: bool | None = None


def register_module_buffer_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """`hook(module, name, buffer) -> None or a new buffer`, on every register_buffer."""
    handle = _handle(_global_buffer_registration_hooks)
    _global_buffer_registration_hooks[handle.id] = hook
    return handle


def register_module_module_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """`hook(module, name, submodule) -> None or a new submodule`, on every registration."""
    handle = _handle(_global_module_registration_hooks)
    _global_module_registration_hooks[handle.id] = hook
    return handle


def register_module_parameter_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """`hook(module, name, param) -> None or a new parameter`, on every registration."""
    handle = _handle(_global_parameter_registration_hooks)
    _global_parameter_registration_hooks[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A forward pre-hook for every module, run before each module's own."""
    handle = _handle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook: Callable[..., Any], *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """A forward hook for every module, run before each module's own."""
    handle = _handle(_global_forward_hooks,
                             extra_dict=_global_forward_hooks_always_called)
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A (deprecated, non-full) backward hook for every module."""
    if _GlobalState.is_full_backward_hook is True:
        raise RuntimeError(
            "Cannot use both regular backward hooks and full backward hooks as a global Module "
            "hook. Please use only one of them.")
    _GlobalState.is_full_backward_hook = False
    handle = _handle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A backward pre-hook for every module, run before each module's own."""
    handle = _handle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A full backward hook for every module, run before each module's own."""
    if _GlobalState.is_full_backward_hook is False:
        raise RuntimeError(
            "Cannot use both regular backward hooks and full backward hooks as a global Module "
            "hook. Please use only one of them.")
    _GlobalState.is_full_backward_hook = True
    handle = _handle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def _registration_hooks(hooks: dict[int, Callable[..., Any]], module: Module, name: str,
                        value: Any) -> Any:
    """Run the global registration hooks on a value being registered; each may replace it."""
    for hook in hooks.values():
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def _any_global_hooks() -> bool:
    return bool(_global_forward_pre_hooks or _global_forward_hooks
                or _global_backward_pre_hooks or _global_backward_hooks)


class _WrappedHook:
    """A hook called with its module first (held weakly, as PyTorch does)."""

    def __init__(self, hook: Callable[..., Any], module: Module | None = None) -> None:
        self.hook = hook
        functools.update_wrapper(self, hook)
        self.with_module = module is not None
        if module is not None:
            self.module = weakref.ref(module)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.with_module:
            module = self.module()
            if module is None:
                raise RuntimeError("You are trying to call the hook of a dead Module!")
            return self.hook(module, *args, **kwargs)
        return self.hook(*args, **kwargs)


class Module:
    """Base class for all layers; subclasses assign submodules and Parameters in `__init__` and
    define `forward`."""

    # The layout version of this class's state-dict entries (PyTorch's `_version`).
    _version: ClassVar[int] = 1
    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]
    _forward_pre_hooks: dict[int, Callable[..., Any]]
    _forward_pre_hooks_with_kwargs: dict[int, bool]
    _forward_hooks: dict[int, Callable[..., Any]]
    _forward_hooks_with_kwargs: dict[int, bool]
    _forward_hooks_always_called: dict[int, bool]
    _backward_pre_hooks: dict[int, Callable[..., Any]]
    _backward_hooks: dict[int, Callable[..., Any]]
    _is_full_backward_hook: bool | None
    _load_state_dict_pre_hooks: dict[int, Callable[..., Any]]
    _load_state_dict_post_hooks: dict[int, Callable[..., Any]]
    _state_dict_pre_hooks: dict[int, Callable[..., Any]]
    _state_dict_hooks: dict[int, Callable[..., Any]]

    # PyTorch's class flags: `call_super_init` passes __init__'s arguments on to the next
    # class of a multiple inheritance; `dump_patches` is kept for compatibility (unused).
    call_super_init: bool = False
    dump_patches: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.call_super_init is False and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if self.call_super_init is False and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        # object.__setattr__: our own __setattr__ needs these dicts to exist first.
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", Registry())
        setattr_(self, "_buffers", Registry())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_is_full_backward_hook", None)
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks_always_called", OrderedDict())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_modules", Registry())
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        # The registries pickle as plain dicts, as PyTorch's do: a saved module names no
        # class of ours besides its own (a weights-only load allowlists just those).
        state = dict(self.__dict__)
        for name in ("_parameters", "_buffers", "_modules"):
            registry = state.get(name)
            if type(registry) is Registry:
                state[name] = dict(registry)
        return state

    def __copy__(self: M) -> M:
        # A shallow copy shares the registries, as PyTorch's does (through __getstate__ it
        # would get copies of them); __getstate__ is still asked, for the classes that refuse
        # to be copied (parametrized modules).
        self.__getstate__()
        copied = type(self).__new__(type(self))
        copied.__dict__.update(self.__dict__)
        return copied

    def __setstate__(self, state: dict[str, Any]) -> None:
        # (the registries become counting ones again)
        self.__dict__.update(state)
        for name in ("_state_dict_pre_hooks", "_state_dict_hooks"):  # older pickles lack them
            if name not in state:
                object.__setattr__(self, name, OrderedDict())
        for name in ("_parameters", "_buffers", "_modules"):
            registry = state.get(name)
            if type(registry) is dict:
                object.__setattr__(self, name, Registry(registry))
        structure.version += 1

    # ------------------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # Module.compile's compiled call (of `_call_eager`), which __call__ runs in its place
    _compiled_call_impl: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled_call_impl is not None:
            return self._compiled_call_impl(*args, **kwargs)
        if profiler_state.active:
            return self._call_profiled(args, kwargs)
        if (self._forward_pre_hooks or self._forward_hooks or self._backward_pre_hooks
                or self._backward_hooks or _any_global_hooks()):
            return self._call_impl(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_eager(self, *args: Any, **kwargs: Any) -> Any:
        """The call as it is without Module.compile: what the compiled call traces."""
        if profiler_state.active:
            return self._call_profiled(args, kwargs)
        if (self._forward_pre_hooks or self._forward_hooks or self._backward_pre_hooks
                or self._backward_hooks or _any_global_hooks()):
            return self._call_impl(args, kwargs)
        return self.forward(*args, **kwargs)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile this module's calls in place with `autodiff.compile` (its arguments are
        passed as they are): the module stays itself (type, state_dict keys), and its calls
        run the compiled call."""
        from ...compiler.compiled import compile as compile_function  # (built on Module)

        object.__setattr__(self, "_compiled_call_impl",
                           compile_function(self._call_eager, *args, **kwargs))

    def _call_profiled(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The call inside the profiler's `nn.Module: <Class>_<n>` range (with_modules)."""
        opened = profiler_state.begin_module(self)
        try:
            if (self._forward_pre_hooks or self._forward_hooks or self._backward_pre_hooks
                    or self._backward_hooks or _any_global_hooks()):
                return self._call_impl(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            profiler_state.end(opened)

    def _call_impl(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """forward with the hooks around it, in PyTorch's order: global then own forward
        pre-hooks, the backward hook set-up on the inputs, forward, global then own forward
        hooks, the set-up on the outputs. Forward hooks registered with always_call run even
        when forward (or a hook) raises."""
        result = None
        called_always: set[int] = set()
        try:
            return self._call_with_hooks(args, kwargs, called_always)
        except Exception:
            for hook_id, hook in _global_forward_hooks.items():
                if (hook_id in _global_forward_hooks_always_called
                        and hook_id not in called_always):
                    try:
                        replaced = hook(self, args, result)
                        if replaced is not None:
                            result = replaced
                    except Exception as error:
                        warn(
                            "global module forward hook with ``always_call=True`` raised an "
                            f"exception that was silenced as another error was raised in "
                            f"forward: {error}", UserWarning, stacklevel=2)
            for hook_id, hook in self._forward_hooks.items():
                if hook_id in self._forward_hooks_always_called and hook_id not in called_always:
                    try:
                        if hook_id in self._forward_hooks_with_kwargs:
                            replaced = hook(self, args, kwargs, result)
                        else:
                            replaced = hook(self, args, result)
                        if replaced is not None:
                            result = replaced
                    except Exception as error:
                        warn(
                            "module forward hook with ``always_call=True`` raised an exception "
                            f"that was silenced as another error was raised in forward: {error}",
                            UserWarning, stacklevel=2)
            raise

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                         called_always: set[int]) -> Any:
        full_backward_hooks: list[Callable[..., Any]] = []
        non_full_backward_hooks: list[Callable[..., Any]] = []
        backward_pre_hooks: list[Callable[..., Any]] = []
        if self._backward_pre_hooks or _global_backward_pre_hooks:
            backward_pre_hooks = [*_global_backward_pre_hooks.values(),
                                  *self._backward_pre_hooks.values()]
        if self._backward_hooks or _global_backward_hooks:
            full_backward_hooks, non_full_backward_hooks = self._get_backward_hooks()
        for hook_id, hook in (*_global_forward_pre_hooks.items(),
                              *self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                args_kwargs = hook(self, args, kwargs)
                if args_kwargs is not None:
                    if isinstance(args_kwargs, tuple) and len(args_kwargs) == 2:
                        args, kwargs = args_kwargs
                    else:
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {args_kwargs}.")
            else:
                replaced = hook(self, args)
                if replaced is not None:
                    args = replaced if isinstance(replaced, tuple) else (replaced,)
        backward_hook = None
        if full_backward_hooks or backward_pre_hooks:
            from ...utils.hooks import BackwardHook  # (see _handle)

            backward_hook = BackwardHook(self, full_backward_hooks, backward_pre_hooks)
            args = backward_hook.setup_input_hook(args)
        result = self.forward(*args, **kwargs)
        for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
            if (hook_id in self._forward_hooks_always_called
                    or hook_id in _global_forward_hooks_always_called):
                called_always.add(hook_id)
            if (hook_id in self._forward_hooks_with_kwargs
                    or hook_id in _global_forward_hooks_with_kwargs):
                replaced = hook(self, args, kwargs, result)
            else:
                replaced = hook(self, args, result)
            if replaced is not None:
                result = replaced
        if backward_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warn(
                    "For backward hooks to be called, module output should be a Tensor or a "
                    f"tuple of Tensors but received {type(result)}", UserWarning, stacklevel=3)
            result = backward_hook.setup_output_hook(result)
        if non_full_backward_hooks:
            variable = result
            while not isinstance(variable, Tensor):
                if isinstance(variable, dict):
                    variable = next(v for v in variable.values() if isinstance(v, Tensor))
                else:
                    variable = variable[0]
            grad_fn = variable.grad_fn
            if grad_fn is not None:
                for hook in non_full_backward_hooks:
                    grad_fn.register_hook(_WrappedHook(hook, self))
                self._maybe_warn_non_full_backward_hook(args, result, grad_fn)
        return result

    def _get_backward_hooks(self) -> tuple[list[Callable[..., Any]], list[Callable[..., Any]]]:
        """(full backward hooks, non-full ones), global first."""
        full: list[Callable[..., Any]] = []
        non_full: list[Callable[..., Any]] = []
        if _GlobalState.is_full_backward_hook is True:
            full += _global_backward_hooks.values()
        if self._is_full_backward_hook is True:
            full += self._backward_hooks.values()
        if _GlobalState.is_full_backward_hook is False:
            non_full += _global_backward_hooks.values()
        if self._is_full_backward_hook is False:
            non_full += self._backward_hooks.values()
        return full, non_full

    def _maybe_warn_non_full_backward_hook(self, inputs: Any, result: Any,
                                           grad_fn: Any) -> None:
        """PyTorch's warnings where a non-full backward hook misses part of the gradients."""
        def deprecated(message: str) -> None:
            warn(message, FutureWarning, stacklevel=4)

        if not isinstance(result, Tensor):
            if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
                deprecated(
                    "Using non-full backward hooks on a Module that does not return a single "
                    "Tensor or a tuple of Tensors is deprecated and will be removed in future "
                    "versions. This hook will be missing some of the grad_output. Please use "
                    "register_full_backward_hook to get the documented behavior.")
                return
        else:
            result = (result,)
        if not isinstance(inputs, Tensor):
            if not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
                deprecated(
                    "Using non-full backward hooks on a Module that does not take as input a "
                    "single Tensor or a tuple of Tensors is deprecated and will be removed in "
                    "future versions. This hook will be missing some of the grad_input. Please "
                    "use register_full_backward_hook to get the documented behavior.")
                return
        else:
            inputs = (inputs,)
        output_nodes = {r.grad_fn for r in result if r.grad_fn is not None}
        if not output_nodes or (len(output_nodes) == 1 and grad_fn not in output_nodes):
            deprecated(
                "Using a non-full backward hook when outputs are nested in python data "
                "structure is deprecated and will be removed in future versions. This hook will "
                "be missing some grad_output.")
        elif len(output_nodes) > 1:
            deprecated(
                "Using a non-full backward hook when outputs are generated by different "
                "autograd Nodes is deprecated and will be removed in future versions. This hook "
                "will be missing some grad_output. Please use register_full_backward_hook to "
                "get the documented behavior.")
        else:
            input_nodes = {i.grad_fn for i in inputs if i.grad_fn is not None}
            if input_nodes != {edge[0] for edge in grad_fn.next_functions}:
                deprecated(
                    "Using a non-full backward hook when the forward contains multiple autograd "
                    "Nodes is deprecated and will be removed in future versions. This hook will "
                    "be missing some grad_input. Please use register_full_backward_hook to get "
                    "the documented behavior.")

    # ------------------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """`hook(module, args) -> None or new args` before forward; with_kwargs:
        `hook(module, args, kwargs) -> None or (new args, new kwargs)`."""
        handle = _handle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        structure.version += 1
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)  # type: ignore[attr-defined]
        return handle

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """`hook(module, args, output) -> None or new output` after forward; with_kwargs:
        `hook(module, args, kwargs, output)`; always_call: also when forward raises."""
        handle = _handle(self._forward_hooks, extra_dict=[
            self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        structure.version += 1
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)  # type: ignore[attr-defined]
        return handle

    def register_full_backward_pre_hook(self, hook: Callable[..., Any],
                                        prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_output) -> None or new grad_output`, when the gradients w.r.t.
        the module's outputs are computed (grad_output: a tuple, None for non-Tensors)."""
        handle = _handle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)  # type: ignore[attr-defined]
        return handle

    def register_full_backward_hook(self, hook: Callable[..., Any],
                                    prepend: bool = False) -> RemovableHandle:
        """`hook(module, grad_input, grad_output) -> None or new grad_input`, when the
        gradients w.r.t. the module's (positional) inputs are computed; when no input requires
        grad, when those w.r.t. its outputs are (with grad_input all None)."""
        if self._is_full_backward_hook is False:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single "
                "Module. Please use only one of them.")
        self._is_full_backward_hook = True
        handle = _handle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)  # type: ignore[attr-defined]
        return handle

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Deprecated: a hook on the node of the module's output (it sees that node's gradients
        only); use register_full_backward_hook."""
        if self._is_full_backward_hook is True:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single "
                "Module. Please use only one of them.")
        self._is_full_backward_hook = False
        handle = _handle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)` before this module's keys are read (it may edit
        state_dict)."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                           with_module: bool = False) -> RemovableHandle:
        handle = _handle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = _WrappedHook(
            hook, self if with_module else None)
        return handle

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, prefix, keep_vars)` before this module's state_dict is made."""
        handle = _handle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, state_dict, prefix, local_metadata)` once this module's entries (and
        its submodules') are in; it may edit state_dict in place, and must return None."""
        hook._from_public_api = True  # type: ignore[attr-defined]
        handle = _handle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def _register_state_dict_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """The older, private post-hook: what it returns replaces the state dict of the call
        it runs in (honoured at the root only, as in PyTorch)."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook "
                               "that was previously registered via "
                               "register_state_dict_post_hook")
        handle = _handle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """`hook(module, incompatible_keys)` after load_state_dict; it may edit the lists of
        missing and unexpected keys (before `strict` judges them)."""
        handle = _handle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------------- registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{typename(param)}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method."
            )
        if param is not None:
            for hook in _global_parameter_registration_hooks.values():
                output = hook(self, name, param)
                if output is not None:
                    param = output
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (saved in the state dict if persistent)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{typename(tensor)}' object to buffer '{name}' "
                "(torch Tensor or None required)"
            )
        tensor = _registration_hooks(_global_buffer_registration_hooks, self, name, tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = _registration_hooks(_global_module_registration_hooks, self,
                                                  name, module)

    register_module = add_module

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: look in the registries. On every forward
        # (self.weight), so the common case is two dict lookups and nothing else.
        state = self.__dict__
        try:
            return state["_parameters"][name]
        except KeyError:
            pass
        for registry in ("_buffers", "_modules"):
            members = state.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        structure.version += 1
        state = self.__dict__
        params = state.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(name, state, self._buffers, self._modules,
                         self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{typename(value)}' as parameter '{name}' "
                    "(torch.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        else:
            modules = state.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                _remove_from(name, state, self._parameters, self._buffers,
                             self._non_persistent_buffers_set)
                modules[name] = _registration_hooks(_global_module_registration_hooks, self,
                                                    name, value)
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(
                        f"cannot assign '{typename(value)}' as child module '{name}' "
                        "(torch.nn.Module or None expected)"
                    )
                modules[name] = _registration_hooks(_global_module_registration_hooks, self,
                                                    name, value)
            else:
                buffers = state.get("_buffers")
                if isinstance(value, Buffer):  # a new buffer, persistent or not as marked
                    self.register_buffer(name, value, value.persistent)
                elif buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(
                            f"cannot assign '{typename(value)}' as buffer '{name}' "
                            "(torch.nn.Buffer, torch.Tensor or None expected)"
                        )
                    buffers[name] = _registration_hooks(_global_buffer_registration_hooks,
                                                        self, name, value)
                else:
                    object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        structure.version += 1
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules,
                *self._buffers]
        return sorted(key for key in keys if not key[0].isdigit())

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path such as "encoder.0.weight"."""
        _, name, parameter = self._attribute_at(target)
        if not isinstance(parameter, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return parameter

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path such as "bn.running_mean"."""
        module, name, buffer = self._attribute_at(target)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return buffer

    def _attribute_at(self, target: str) -> tuple[Module, str, Any]:
        """(the owning submodule, the attribute's name, its value) of a dotted path."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        return module, name, getattr(module, name)

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at a dotted path; its parent must exist (and with `strict`, a
        submodule there already)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self if len(atoms) == 1 else self.get_submodule(".".join(atoms[:-1]))
        name = atoms[-1]
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path such as "encoder.0"."""
        if target == "":
            return self
        module: Module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            child = getattr(module, item)
            if not isinstance(child, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
            module = child
        return module

    # ------------------------------------------------------------------------- walking
    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it, each once (unless remove_duplicate=False)."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                            remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo: set[Module] = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, members: Callable[[Module], Any], prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in members(module):
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) for every parameter, shared ones once."""
        return self._named_members(lambda module: module._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(lambda module: module._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self: M, fn: Callable[[Module], None]) -> M:
        """Call `fn` on every submodule (children first), then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------------- modes and grads
    def train(self: M, mode: bool = True) -> M:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self: M) -> M:
        return self.train(False)

    def requires_grad_(self: M, requires_grad: bool = True) -> M:
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            _zero_grad(parameter, set_to_none)

    # ------------------------------------------------------------------------- devices, dtypes
    def _apply(self: M, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> M:
        """Convert every parameter, its gradient, and every buffer (replaced) with `fn` (in the
        submodules too, with `recurse`). A parameter stays the same object (optimizers keep
        working): its `.data` is set, or with `autodiff.__future__`'s
        swap_module_params_on_conversion (and for wrapper subclasses that can be traced) its
        contents are swapped with the converted Parameter's (`utils.swap_tensors`); with
        overwrite_module_params_on_conversion a new Parameter replaces it."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        swap = _future.get_swap_module_params_on_conversion()
        overwrite = _future.get_overwrite_module_params_on_conversion()
        for key, parameter in self._parameters.items():
            if parameter is None:
                continue
            with no_grad():
                converted = fn(parameter)
            use_swap = swap or is_traceable_wrapper_subclass(converted)
            grad = parameter._grad
            if use_swap:
                try:
                    if grad is not None:
                        parameter.grad = None  # the gradient is swapped on its own below
                    converted = Parameter(converted, requires_grad=parameter.requires_grad)
                    swap_tensors(parameter, converted)
                except Exception as error:
                    if grad is not None:
                        parameter.grad = grad
                    raise RuntimeError(
                        f"_apply(): Couldn't swap {self._get_name()}.{key}") from error
                out = parameter
            elif not overwrite:
                _swap_data(parameter, converted)
                out = parameter
            else:
                out = Parameter(converted, parameter.requires_grad)
                self._parameters[key] = out
            if grad is None:
                continue
            with no_grad():
                grad_converted = fn(grad)
            if use_swap:
                grad_converted.requires_grad_(grad.requires_grad)
                try:
                    swap_tensors(grad, grad_converted)
                except Exception as error:
                    raise RuntimeError(
                        f"_apply(): Couldn't swap {self._get_name()}.{key}.grad") from error
                out.grad = grad
            elif not overwrite:
                _swap_data(grad, grad_converted)
            else:
                out.grad = grad_converted.requires_grad_(grad.requires_grad)
        for name, buffer in self._buffers.items():
            if buffer is not None:
                self._buffers[name] = fn(buffer)
        return self

    def to_empty(self: M, *, device: Any, recurse: bool = True) -> M:
        """Move the parameters and buffers to `device` without copying their values: each
        becomes an uninitialised tensor of its shape and dtype there (the way out of the meta
        device: `Module(device="meta").to_empty(device="cpu")`, then initialise)."""
        return self._apply(lambda tensor: empty_like(tensor, device=device), recurse=recurse)

    def share_memory(self: M) -> M:
        """Move every parameter and buffer into memory shared with processes forked later
        (`Tensor.share_memory_`), for Hogwild-style training."""
        return self._apply(lambda tensor: tensor.share_memory_())

    def to(self: M, *args: Any, **kwargs: Any) -> M:
        """`to(device)`, `to(dtype)`, `to(device, dtype)` or `to(tensor)`; floating-point or
        complex dtypes only, applied to floating-point and complex parameters and buffers;
        `memory_format=` lays out the 4-d and 5-d ones."""
        memory_format = kwargs.pop("memory_format", None)
        check_memory_format("to", memory_format)
        device, dtype = _parse_to(args, kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(
                "nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={dtype}"
            )
        if dtype is not None and dtype.is_complex:
            warn(
                "Complex modules are a new feature under active development whose design may "
                "change, and some modules might not work as expected when using complex tensors "
                "as parameters or buffers. Please file an issue at "
                "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml if a "
                "complex module does not work as expected.", UserWarning)

        def convert(tensor: Tensor) -> Tensor:
            layout = memory_format if tensor.dim() in (4, 5) else None
            if dtype is not None and (tensor.is_floating_point() or tensor.is_complex()):
                return tensor.to(device=device, dtype=dtype, memory_format=layout)
            return tensor.to(device=device, memory_format=layout)

        return self._apply(convert)

    def cuda(self: M, device: Any = None) -> M:
        return self.to("cuda" if device is None else (
            f"cuda:{device}" if isinstance(device, int) else device))

    def cpu(self: M) -> M:
        return self.to("cpu")

    def type(self: M, dst_type: Any) -> M:
        """Cast every parameter and buffer to `dst_type` (a dtype or a type name)."""
        return self._apply(lambda t: t.type(dst_type))

    def float(self: M) -> M:
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self: M) -> M:
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self: M) -> M:
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self: M) -> M:
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    # ------------------------------------------------------------------------- state dict
    def get_extra_state(self) -> Any:
        """A module's state besides its parameters and buffers, for its state_dict (under
        `<prefix>_extra_state`): a module that has some overrides this and set_extra_state."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template="
            "bug-report.yml to report this bug.")

    def set_extra_state(self, state: Any) -> None:
        """Take back what get_extra_state gave, from a loaded state_dict."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template="
            "bug-report.yml to report this bug.")

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str,
                            keep_vars: bool) -> None:
        for name, parameter in self._parameters.items():
            if parameter is not None:
                destination[prefix + name] = parameter if keep_vars else parameter.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def state_dict(self, *, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> Any:
        """Parameters and persistent buffers by dotted name (detached, sharing memory), and
        PyTorch's `_metadata`: each module's `_version` by its prefix, which lets a later
        version of a layer upgrade an older checkpoint when loading."""
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        metadata = getattr(destination, "_metadata", None)
        local_metadata = {"version": self._version}
        if metadata is not None:
            metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):
                if result is not None:
                    raise RuntimeError("state_dict post-hook must return None")
            elif result is not None:
                destination = result
        return destination

    def _upgrade_state_dict(self, state_dict: dict[str, Any], prefix: str,
                            version: int | None) -> None:
        """Bring the entries under `prefix` of a checkpoint this module's class wrote at
        `version` (None: no metadata, the oldest) up to the current layout, in place."""

    def _other_state_loaders(self) -> dict[str, Callable[[Any], None]]:
        """The entries this module's `_save_to_state_dict` writes besides its parameters and
        buffers (a quantized layer's packed weights), by local name, each with the function
        that loads it back; load_state_dict calls them in this order once every key has been
        checked."""
        return {}

    def _local_state(self) -> dict[str, Tensor]:
        state: dict[str, Tensor] = {k: v for k, v in self._parameters.items() if v is not None}
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                state[name] = buffer
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy `state_dict` into this module's parameters and buffers (in place, casting to
        their dtype and device). Every key and shape is checked before anything is copied."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # the pre-hooks may edit it: a copy
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        copies: list[tuple[Module, str, str, Tensor, Tensor]] = []
        loads: list[tuple[Callable[[Any], None], Any]] = []
        visited = _prefixed_modules(self)
        for prefix, module in visited:
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            for hook in module._load_state_dict_pre_hooks.values():
                hook(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)
            module._upgrade_state_dict(state_dict, prefix, local_metadata.get("version"))
            local = module._local_state()
            other_state = module._other_state_loaders()
            for name, load in other_state.items():
                if prefix + name in state_dict:
                    loads.append((load, state_dict[prefix + name]))
                else:
                    missing.append(prefix + name)
            if type(module).set_extra_state is not Module.set_extra_state:
                other_state = {**other_state, _EXTRA_STATE: module.set_extra_state}
                if prefix + _EXTRA_STATE in state_dict:
                    loads.append((module.set_extra_state, state_dict[prefix + _EXTRA_STATE]))
                else:
                    missing.append(prefix + _EXTRA_STATE)
            for name, target in local.items():
                key = prefix + name
                if key not in state_dict:
                    missing.append(key)
                    continue
                value = state_dict[key]
                if not isinstance(value, Tensor):
                    errors.append(
                        f'While copying the parameter named "{key}", expected torch.Tensor or '
                        f"Tensor-like object from checkpoint but received {type(value)}"
                    )
                    continue
                if target.ndim == 0 and tuple(value.shape) == (1,):  # PyTorch 0.3 checkpoints
                    value = value.reshape(())
                if value.shape != target.shape:
                    errors.append(
                        f"size mismatch for {key}: copying a param with shape {value.shape} "
                        f"from checkpoint, the shape in current model is {target.shape}."
                    )
                    continue
                copies.append((module, name, key, target, value))
            # Like PyTorch, missing and unexpected keys are always reported; `strict` decides
            # whether they are an error.
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                head = key[len(prefix):].split(".", 1)
                if len(head) > 1:
                    if head[0] not in module._modules:
                        unexpected.append(key)
                elif head[0] not in local and head[0] not in other_state:
                    unexpected.append(key)
        incompatible = _IncompatibleKeys(missing, unexpected)
        for module in {id(module): module for _, module in visited}.values():
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:
                    raise RuntimeError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{key}"' for key in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{key}"' for key in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        swap = _future.get_swap_module_params_on_conversion()
        for load, value in loads:
            load(value)
        with no_grad():
            for module, name, key, target, value in copies:
                if swap:
                    _load_by_swap(self, key, target, value, assign)
                elif assign:
                    _assign(module, name, target, value)
                else:
                    _copy_into(target, value)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------------- printing
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """One line (or several) shown inside this module's parentheses in its repr."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


# ----------------------------------------------------------------------------- helpers
def _check_name(name: Any, kind: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {typename(name)}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


def _remove_from(name: str, *registries: Any) -> None:
    for registry in registries:
        if name in registry:
            if isinstance(registry, dict):
                del registry[name]
            else:
                registry.discard(name)


def _prefixed_modules(root: Module) -> list[tuple[str, Module]]:
    """(prefix with trailing dot, module) for every module, as load_state_dict visits them:
    a shared submodule is visited under each of its names."""
    result = []
    stack = [("", root)]
    while stack:
        prefix, module = stack.pop()
        result.append((prefix, module))
        children = [(prefix + name + ".", child) for name, child in module._modules.items()
                    if child is not None]
        stack.extend(reversed(children))
    return result


def _zero_grad(parameter: Tensor, set_to_none: bool) -> None:
    grad = parameter._grad
    if grad is None:
        return
    if set_to_none:
        parameter._grad = None
        return
    if grad.grad_fn is not None:
        grad.detach_()
    else:
        grad._requires_grad = False
    backend = grad._backend
    backend.setitem(grad._data, (...,), 0)
    grad._bump_version()


def _swap_data(tensor: Tensor, converted: Tensor) -> None:
    tensor._data = converted._data
    tensor._backend = converted._backend


def _copy_into(target: Tensor, value: Tensor) -> None:
    """target.copy_(value) under no_grad: cast and move value, then write into target's array."""
    source = value.detach()
    if source._backend is not target._backend or source.dtype is not target.dtype:
        source = source.to(target.device, target.dtype)
    target._backend.setitem(target._data, (...,), source._data)
    target._bump_version()


def _load_by_swap(root: Module, key: str, target: Tensor, value: Tensor, assign: bool) -> None:
    """load_state_dict under swap_module_params_on_conversion: the parameter or buffer keeps
    its identity and takes the contents of `target.module_load(value, assign)`."""
    try:
        loaded = target.module_load(value, assign=assign)
        if loaded is value or loaded is target:
            raise RuntimeError("module_load returned one of self or other, please .detach() "
                               "the result if returning one of the inputs in module_load")
        if isinstance(target, Parameter):
            if not isinstance(loaded, Parameter):
                loaded = Parameter(loaded, requires_grad=target.requires_grad)
            else:
                loaded.requires_grad_(target.requires_grad)
        swap_tensors(target, loaded)
    except Exception as error:
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(root).__name__}:\n\tWhile swapping "
            f'the parameter named "{key}", whose dimensions in the model are {target.size()} '
            f"and whose dimensions in the checkpoint are {value.size()}, an exception "
            f"occurred : {error.args}.") from error


def _assign(module: Module, name: str, target: Tensor, value: Tensor) -> None:
    if isinstance(target, Parameter):
        if not isinstance(value, Parameter):
            value = Parameter(value, requires_grad=target._requires_grad)
        else:
            value.requires_grad_(target._requires_grad)
    setattr(module, name, value)




def _parse_to(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dtypes.dtype | None]:
    """(device, dtype) of Module.to's arguments, taken as PyTorch's three forms take them:
    (device, dtype), (dtype) or (tensor), each followed by non_blocking and copy flags."""
    given = dict(kwargs)
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    flags = list(args)
    if flags and isinstance(flags[0], Tensor):
        device, dtype = flags[0].device, flags[0].dtype
        flags = flags[1:]
    elif flags and isinstance(flags[0], dtypes.dtype):
        dtype = flags.pop(0)
    else:
        if flags and (flags[0] is None or _is_device_like(flags[0])):
            device = flags.pop(0)
            if flags and (flags[0] is None or isinstance(flags[0], dtypes.dtype)):
                dtype = flags.pop(0)
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False)
    if kwargs or len(flags) > 2 or not all(isinstance(flag, bool) for flag in flags) or (
            device is not None and not _is_device_like(device)):
        raise invalid_arguments("to", args, given, TO_SIGNATURES)
    if copy or (len(flags) == 2 and flags[1]):
        raise RuntimeError(".to() does not accept copy argument")
    return device, None if dtype is None else dtypes.to_dtype(dtype)


def _is_device_like(value: Any) -> bool:
    return isinstance(value, (str, Device)) or (isinstance(value, int)
                                                 and not isinstance(value, bool))
