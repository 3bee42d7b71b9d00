"""The `__torch_function__` protocol, as autodiff runs it: every public function (of
`autodiff`, `nn.functional`, `linalg`, `special`, `fft`) and every Tensor method, operator and
property first offers the call to the innermost TorchFunctionMode and to the classes of its
arguments that define `__torch_function__` (Tensor subclasses and tensor-like classes that are
no Tensor), as PyTorch's argument parser does.

What it costs a program that uses none of it:
- Tensor's methods are left as written while no class and no mode asks for the protocol: the
  switch (`switch.on`) turns on when a Tensor subclass that keeps the protocol is created
  (`Tensor.__init_subclass__`), when a tensor-like argument reaches a public function, or while
  a mode is open (in any thread). Then Tensor's class dictionary gets `TensorMethod`s and
  dispatching properties in place of its methods and properties (`install`), which ask first;
  `uninstall` puts the originals back when only modes had asked and the last one closes.
- A public function is one wrapper (`overridable`) that looks at its arguments' classes, one
  set lookup each (plain Tensors, numbers, dtypes, ...), before calling the function. Once the
  switch is on, Tensor's methods and properties make the same test first, so plain tensors
  still go straight to them while no mode is open.
- Warnings raised under the wrappers point past them (`user_warnings.py`).

A TensorMethod compares equal to (and hashes as) the function it stands for, so tables keyed by
`Tensor.add` taken before the switch turned on still find the calls handed to them.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .argument_parsing import argument_error, missing_arguments_error
from .user_warnings import skip_frames_of, warn


# ----------------------------------------------------------------------------- the switch
class _Switch:
    """`on` while Tensor's methods ask for the protocol: some class has asked for it (for good)
    or some mode is open (counted over all threads). `modes_open` says the latter alone: while
    it is False, a call whose arguments are all plain (each one's class in `plain_types`, or
    `_inert`) goes straight to its function, the switch on or not."""

    __slots__ = ("_lock", "_modes", "classes", "modes_open", "on")

    def __init__(self) -> None:
        self.on = False
        self.classes = False
        self.modes_open = False
        self._modes = 0
        self._lock = threading.Lock()

    def class_seen(self) -> None:
        with self._lock:
            self.classes = True
            self._update()

    def mode_entered(self) -> None:
        with self._lock:
            self._modes += 1
            self._update()

    def mode_exited(self) -> None:
        with self._lock:
            self._modes -= 1
            self._update()

    def _update(self) -> None:
        wanted = self.classes or self._modes > 0
        if wanted and not self.on:
            _tensor_methods.install()
        elif self.on and not wanted:
            _tensor_methods.uninstall()
        self.on = wanted
        self.modes_open = self._modes > 0


switch = _Switch()


class _Local(threading.local):
    """Per thread: the mode stack, and what `DisableTorchFunction(Subclass)` turned off."""

    def __init__(self) -> None:
        self.modes: list[Any] = []
        self.subclasses_disabled = False  # DisableTorchFunctionSubclass: classes not asked
        self.all_disabled = False  # DisableTorchFunction: neither classes nor modes


local = _Local()


def _disabled_torch_function_impl(func: Callable[..., Any], types: Any, args: Any = (),
                                  kwargs: dict[str, Any] | None = None) -> Any:
    """`__torch_function__ = _disabled_torch_function_impl` opts a Tensor subclass out of the
    protocol: its instances are treated as plain Tensors (nn.Parameter's choice)."""
    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


class DisableTorchFunctionSubclass:
    """Inside, no class's `__torch_function__` is asked (modes still are): the handlers of
    subclasses use it to run the function itself."""

    def __enter__(self) -> DisableTorchFunctionSubclass:
        self._previous = local.subclasses_disabled
        local.subclasses_disabled = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        local.subclasses_disabled = self._previous


class DisableTorchFunction:
    """Inside, neither classes' `__torch_function__` nor modes are asked."""

    def __enter__(self) -> DisableTorchFunction:
        self._previous = local.all_disabled
        local.all_disabled = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        local.all_disabled = self._previous


def mode_enabled() -> bool:
    return bool(local.modes) and not local.all_disabled


# ----------------------------------------------------------------------------- overloaded args
# Classes whose instances never take a call over: one set lookup per argument decides for them.
# At first Python's basic types (PyTorch never asks them either); tensor.py adds Tensor itself
# (PyTorch never asks a plain Tensor) and autodiff's own argument classes (dtype, Size, ...,
# classes PyTorch makes immutable). Then, once asked, each class whose answer cannot change
# (`_answer_is_final`) and that takes no call over.
plain_types: set[type] = {int, float, bool, complex, str, type(None), slice, type(Ellipsis),
                          bytes}


def takes_over(kind: type) -> bool:
    """Whether instances of `kind` take calls over through `__torch_function__`. PyTorch's own
    handlers (its Tensor's default and its opt-out, which a torch.Tensor handed to
    `from_dlpack` carries) know only PyTorch's functions: its tensors are plain here."""
    handler = getattr(kind, "__torch_function__", None)
    return (handler is not None and handler is not _disabled_impl_function
            and getattr(handler, "__module__", None) not in _PYTORCHS_HANDLER_MODULES)


_PYTORCHS_HANDLER_MODULES = frozenset({"torch._tensor", "torch._C"})


def _plain_class(kind: type) -> bool:
    """Whether instances of `kind` leave calls to their functions: it takes no call over, or
    it is one of autodiff's own Tensor subclasses that keep Tensor's handler (views, batched
    and nested tensors). (autodiff's subclasses with a handler of their own, such as
    CausalBias, take their calls over.)"""
    if not takes_over(kind):
        return True
    tensor_class = _tensor_class()
    return (kind is tensor_class
            or (issubclass(kind, tensor_class) and kind.__module__.startswith("autodiff.")
                and "__torch_function__" not in _own_attributes(kind)))


_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: no attribute of the class can be set


def _answer_is_final(kind: type) -> bool:
    """Whether `kind`'s answer to the protocol can be kept: it is an immutable class (an
    extension's, such as NumPy's scalars), or a Tensor subclass all of whose classes before
    Tensor in its method order are Tensor classes too, whose metaclass (`TensorMeta`) says
    when one of them is given a new handler. Any other class is asked at every call, as
    PyTorch asks every argument's class that is no Tensor nor basic Python type: a handler
    may be assigned to it at any time."""
    if kind.__flags__ & _IMMUTABLE_TYPE:
        return True
    tensor_class = _tensor_class()
    order = kind.__mro__
    if tensor_class not in order:
        return False
    return all(issubclass(base, tensor_class) for base in order[:order.index(tensor_class)])


def _inert(arg: Any) -> bool:
    """Whether `arg`, whose class is not in `plain_types`, takes no call over: a list or tuple
    of such arguments, or an instance of a class that does not (kept in `plain_types` where
    its answer is final)."""
    kind = type(arg)
    if kind is list or kind is tuple:
        for item in arg:  # noqa: SIM110 (a loop: no generator to make for `cat`'s list)
            if type(item) not in plain_types and not _inert(item):
                return False
        return True
    if not _plain_class(kind):
        return False
    if _answer_is_final(kind):
        plain_types.add(kind)
    return True


def overloaded_args(args: Iterable[Any], kwargs: dict[str, Any] | None = None) -> list[Any]:
    """The arguments (one level into lists and tuples, and keyword values) whose classes take
    the call over: one per class, a subclass before its bases, otherwise left to right; empty
    while `DisableTorchFunction(Subclass)` is on."""
    if local.subclasses_disabled or local.all_disabled:
        return []
    found: list[Any] = []
    for arg in _flat(args, kwargs):
        kind = type(arg)
        if kind in plain_types or kind is list or kind is tuple or _inert(arg):
            continue
        if not switch.classes:  # Tensor's methods must ask from now on too
            switch.class_seen()
        kind = protocol_class(kind)
        if any(protocol_class(type(seen)) is kind for seen in found):
            continue
        position = next((index for index, seen in enumerate(found)
                         if issubclass(kind, protocol_class(type(seen)))), len(found))
        found.insert(position, arg)
    return found


def protocol_class(kind: type) -> type:
    """The class the protocol names for instances of `kind`: a view's class made by
    `as_subclass` (the view-tracking class and the user's, `ops/shape.py`) is the user's."""
    return vars(kind).get("_protocol_class", kind)


def _flat(args: Iterable[Any], kwargs: dict[str, Any] | None) -> Iterator[Any]:
    for arg in args:
        if type(arg) in (list, tuple):
            yield from arg
        else:
            yield arg
    if kwargs:
        for value in kwargs.values():
            if type(value) in (list, tuple):
                yield from value
            else:
                yield value


# ----------------------------------------------------------------------------- dispatching
def dispatch(public_api: Callable[..., Any], overloaded: list[Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
    """Offer the call to the innermost mode (set aside meanwhile), then to each overloaded
    argument's class: the first result that is not NotImplemented (PyTorch's
    handle_torch_function)."""
    kinds = tuple(protocol_class(type(arg)) for arg in overloaded)
    if mode_enabled():
        with pop_mode_temporarily() as mode:
            result = mode.__torch_function__(public_api, kinds, args, kwargs)
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        handler = arg.__torch_function__
        if not isinstance(handler, types.MethodType) or handler.__self__ is arg:
            warn("Defining your `__torch_function__` as a plain method is deprecated "
                 "and will be an error in future, please define it as a classmethod.",
                 DeprecationWarning, stacklevel=2)
        result = handler(public_api, kinds, args, kwargs)
        if result is not NotImplemented:
            return result
    raise TypeError(_refusal(public_api, kinds))


# What PyTorch writes in Python (torch/functional.py, torch/_tensor.py): there
# handle_torch_function words the refusal of every handler; the rest of torch, linalg, special,
# fft and Tensor is bound in C++, whose dispatcher words it otherwise.
_PYTHON_FUNCTIONS = frozenset({
    "atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_tensors",
    "cartesian_prod", "cdist", "chain_matmul", "einsum", "lu", "meshgrid", "norm", "split",
    "stft", "tensordot", "unique", "unique_consecutive", "unravel_index"})
_PYTHON_TENSOR_METHODS = frozenset({
    "__array__", "__array_wrap__", "__contains__", "__deepcopy__", "__dir__", "__dlpack__",
    "__dlpack_device__", "__format__", "__len__", "__reduce_ex__", "__repr__", "__reversed__",
    "__setstate__", "backward", "dim_order", "index", "is_shared", "istft", "lu",
    "module_load", "norm", "register_hook", "register_post_accumulate_grad_hook", "resize",
    "resize_as", "share_memory_", "split", "stft", "storage", "storage_type", "unflatten",
    "unique", "unique_consecutive"})
_NATIVE_NAMESPACES = frozenset({"autodiff", "autodiff.linalg", "autodiff.special",
                                "autodiff.fft"})


def _refusal(public_api: Callable[..., Any], kinds: tuple[type, ...]) -> str:
    """PyTorch's message when every handler (the innermost mode's first) returned
    NotImplemented: the C++ dispatcher's for its native functions and Tensor's methods,
    handle_torch_function's for the functions written in Python (nn.functional's, a user's)."""
    name = qualified_name(public_api)
    if getattr(public_api, "_torch_function_namespace", None) == "autodiff" \
            and public_api.__name__ in _PYTHON_FUNCTIONS:
        name = f"torch.functional.{public_api.__name__}"  # where PyTorch defines them
    elif isinstance(public_api, TensorMethod) and public_api.name in _PYTHON_TENSOR_METHODS:
        name = f"torch._tensor.{public_api.name}"
    mode = local.modes[-1] if mode_enabled() else None
    if _is_native(public_api):
        handlers = ([f"  - mode object {mode!r}"] if mode is not None else []) + [
            f"  - tensor subclass {kind!r}" for kind in dict.fromkeys(kinds)]
        return (f"Multiple dispatch failed for '{name}'; all __torch_function__ handlers "
                "returned NotImplemented:\n\n" + "\n".join(handlers)
                + "\n\nFor more information, try re-running with TORCH_LOGS=not_implemented")
    message = (f"no implementation found for '{name}' on types that implement "
               f"__torch_function__: {list(kinds)}")
    if mode is not None:
        message += f" nor in mode {mode}"
    return message


def _is_native(function: Any) -> bool:
    if isinstance(function, TensorMethod):
        return function.name not in _PYTHON_TENSOR_METHODS
    if getattr(function, "__name__", None) in ("__get__", "__set__"):
        return True  # a property's accessor
    namespace = getattr(function, "_torch_function_namespace", None)
    if namespace == "autodiff":
        return function.__name__ not in _PYTHON_FUNCTIONS
    return namespace in _NATIVE_NAMESPACES


def qualified_name(function: Any) -> str:
    """PyTorch's name of `function` in its messages: "torch.add", "torch.Tensor.add",
    "torch.Tensor.grad.__get__"; a function of the user's by its own module."""
    if isinstance(function, TensorMethod):
        return f"torch.Tensor.{function.name}"
    name = getattr(function, "__name__", None) or repr(function)
    if name in ("__get__", "__set__"):
        owner = getattr(function, "__self__", None)
        return f"torch.Tensor.{_property_names.get(owner, '?')}.{name}"
    namespace = getattr(function, "_torch_function_namespace", None)
    if namespace is not None:
        return f"torch{namespace[len('autodiff'):]}.{name}"
    return f"{getattr(function, '__module__', None) or 'torch'}.{name}"


@contextmanager
def pop_mode_temporarily() -> Iterator[Any]:
    """The innermost mode, off the stack while its handler runs (so the calls it makes are
    not handed back to it, but to the modes further out)."""
    mode = local.modes.pop()
    try:
        yield mode
    finally:
        local.modes.append(mode)


def push_mode(mode: Any) -> None:
    local.modes.append(mode)
    switch.mode_entered()


def pop_mode() -> Any:
    if not local.modes:
        raise RuntimeError("Trying to pop from an empty mode stack")
    mode = local.modes.pop()
    switch.mode_exited()
    return mode


def _plain_call(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> bool:
    """No argument could take the call over: the test of Tensor's methods and properties while
    the switch is on (a public function makes it in its own frame)."""
    for arg in args:
        if type(arg) not in plain_types and not _inert(arg):
            return False
    if kwargs:
        for value in kwargs.values():
            if type(value) not in plain_types and not _inert(value):
                return False
    return True


def _check(public: Callable[..., Any], function: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> Any:
    """A public function's slow path: some argument is not plainly inert, or the switch is on."""
    overloaded = overloaded_args(args, kwargs)
    if overloaded or mode_enabled():
        return dispatch(public, overloaded, args, kwargs)
    try:
        return function(*args, **kwargs)
    except (TypeError, AttributeError, ValueError) as error:
        _raise_argument_error(public, function, args, kwargs, error)
        raise


def _parser_worded(message: str) -> bool:
    return ("(): argument '" in message or "received an invalid combination" in message
            or message.startswith("expected Tensor as element"))


def _raise_argument_error(public: Callable[..., Any], function: Callable[..., Any],
                          args: tuple[Any, ...], kwargs: dict[str, Any],
                          error: Exception) -> None:
    """A failed call's arguments, as PyTorch's parser would have refused them first (its
    TypeError, `argument_parsing.py`); nothing when it would have taken them."""
    if type(error) is TypeError and _parser_worded(str(error)):
        return  # the function's own checks already said it as PyTorch's parser does
    refused = argument_error(public.__name__, function, args, kwargs, _tensor_class())
    if refused is None:
        refused = missing_arguments_error(getattr(public, "_torch_function_namespace", ""),
                                          public.__name__, function, args, kwargs)
    if refused is not None:
        raise refused from None


def overridable(function: Callable[..., Any], module: str) -> Callable[..., Any]:
    """`function` as the public function of namespace `module` ("autodiff.linalg"): the call
    goes through `__torch_function__` where an argument or a mode asks for it."""
    # The test for plain arguments is written out here rather than called: this frame is all
    # the protocol costs a call with plain Tensors and numbers.
    def public(*args: Any, **kwargs: Any) -> Any:
        if switch.modes_open:
            return _check(public, function, args, kwargs)
        for arg in args:
            if type(arg) not in plain_types and not _inert(arg):
                return _check(public, function, args, kwargs)
        if kwargs:
            for value in kwargs.values():
                if type(value) not in plain_types and not _inert(value):
                    return _check(public, function, args, kwargs)
        # (A try costs a call that succeeds nothing; a failed one may be PyTorch's TypeError.)
        try:
            return function(*args, **kwargs)
        except (TypeError, AttributeError, ValueError) as error:
            _raise_argument_error(public, function, args, kwargs, error)
            raise

    skip_frames_of(public)  # warnings point past it (user_warnings.py)
    functools.update_wrapper(public, function)  # its __module__ stays the op's home
    public._torch_function_of = function  # type: ignore[attr-defined]
    public._torch_function_namespace = module  # type: ignore[attr-defined]
    return public


# (id(function), exported name for an alias) -> its public wrapper
_wrapped: dict[tuple[int, str], Callable[..., Any]] = {}


def make_namespace_overridable(namespace: dict[str, Any], module: str,
                               ignored: Iterable[str] = ()) -> None:
    """Replace each public function of a namespace (a module's globals) by its `overridable`
    form; one wrapper per function, shared by the namespaces that export it."""
    skip = set(ignored)
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in skip or type(value) is not types.FunctionType:
            continue
        if hasattr(value, "_torch_function_of"):
            continue
        # An alias (`arctan` of `atan`, `qr` of `torch_qr`) is a function of its own named as
        # exported, as PyTorch's are: handlers and fx graphs see the name the user called.
        key = (id(value), name if name != value.__name__ else "")
        public = _wrapped.get(key)
        if public is None:
            public = overridable(value, module)
            if key[1]:
                public.__name__ = public.__qualname__ = name
            _wrapped[key] = public
            _originals_alive.append(value)
        namespace[name] = public


_originals_alive: list[Any] = []  # keeps the ids in `_wrapped` unique


def exported_path(obj: Any) -> tuple[str, str] | None:
    """(namespace, name) where a public function's wrapper is found, for pickling it by
    reference: its `__module__` is the wrapped function's, whose module holds that function
    (a module's `activation=F.relu` holds the wrapper). None for anything else."""
    namespace = getattr(obj, "_torch_function_namespace", None)
    if type(obj) is not types.FunctionType or not isinstance(namespace, str):
        return None
    module = sys.modules.get(namespace)
    name: str = obj.__name__
    return (namespace, name) if getattr(module, name, None) is obj else None


# ----------------------------------------------------------------------------- Tensor's methods
class TensorMethod:
    # Stands in Tensor's class dictionary for one of its methods while the switch is on: the
    # call goes through `__torch_function__` where an argument or a mode asks for it. (A
    # comment: the instances' __doc__ is their method's.)

    __slots__ = ("__weakref__", "dispatched_as", "name", "original")

    def __init__(self, original: Callable[..., Any], name: str) -> None:
        self.original = original
        self.name = name
        # The function handlers are given: PyTorch hands them the named method an operator
        # stands for (`Tensor.add` for `+`), see OPERATOR_METHODS.
        self.dispatched_as: TensorMethod = self

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not switch.modes_open and _plain_call(args, kwargs):
            return self.original(*args, **kwargs)
        if local.subclasses_disabled and not local.modes:
            return self.original(*args, **kwargs)
        overloaded = overloaded_args(args, kwargs)
        if overloaded or mode_enabled():
            return dispatch(self.dispatched_as, overloaded, args, kwargs)
        return self.original(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TensorMethod):
            return other.original is self.original
        return other is self.original

    def __hash__(self) -> int:
        return hash(self.original)

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self.original.__doc__

    def __getattr__(self, name: str) -> Any:  # __name__, __qualname__, __wrapped__
        if name == "__module__":
            return "autodiff.Tensor"
        return getattr(self.original, name)

    def __repr__(self) -> str:
        return f"<method '{self.name}' of 'autodiff.Tensor' objects>"

    def __reduce__(self) -> Any:
        return getattr, (_tensor_class(), self.name)


def _tensor_class() -> type:
    from .tensor import Tensor

    return Tensor


def _dispatching_property(original: property, name: str) -> property:
    """A property that asks the protocol before running `original`'s accessors (PyTorch hands
    `Tensor.<name>.__get__` / `__set__` to the handlers)."""
    def get(self: Any) -> Any:
        if not switch.modes_open and (type(self) in plain_types or _inert(self)):
            return original.__get__(self)
        overloaded = overloaded_args((self,))
        if overloaded or mode_enabled():
            return dispatch(current.__get__, overloaded, (self,), {})
        return original.__get__(self)

    def set_(self: Any, value: Any) -> None:
        if not switch.modes_open and _plain_call((self, value), None):
            original.__set__(self, value)
            return
        overloaded = overloaded_args((self, value))
        if overloaded or mode_enabled():
            dispatch(current.__set__, overloaded, (self, value), {})
            return
        original.__set__(self, value)

    skip_frames_of(get, set_)
    current = property(get, set_ if original.fset is not None else None,
                       original.fdel, original.__doc__)
    _property_names[current] = name
    return current


_property_names: dict[Any, str] = {}

# Never handed over: the protocol's own machinery, object construction and the attributes the
# machinery itself reads.
_NOT_DISPATCHED = frozenset({
    "__new__", "__init__", "__init_subclass__", "__torch_function__", "__torch_dispatch__",
    "__getattribute__", "__getattr__", "__setattr__", "__delattr__", "__class__", "__dict__",
    "__weakref__", "__module__", "__doc__", "__slots__", "__annotations__", "__hash__",
    "__getstate__", "__setstate__", "__reduce__", "__reduce_ex__", "__deepcopy__", "__copy__",
    "__sizeof__", "__subclasshook__", "__class_getitem__", "__dir__", "__str__",
    "_make_subclass", "_make_wrapper_subclass", "as_subclass", "__array_priority__",
})


def tensor_attribute_names(tensor_class: type) -> list[str]:
    """The names of Tensor's methods, operators and properties that go through the protocol."""
    names = []
    for name, value in vars(tensor_class).items():
        if name in _NOT_DISPATCHED or (name.startswith("_") and not name.startswith("__")):
            continue
        if isinstance(value, (types.FunctionType, property)):
            names.append(name)
    return names


# The operators whose `__torch_function__` call PyTorch makes with the named method they stand
# for (its Python bindings alias them), so a handler testing `func == Tensor.add` sees `a + b`.
# The others (__rsub__, __floordiv__, __and__, __eq__, ...) are handed themselves, as there.
OPERATOR_METHODS = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub",
    "__isub__": "sub_", "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_",
    "__truediv__": "div", "__itruediv__": "div_", "__mod__": "remainder", "__pow__": "pow",
    "__ipow__": "pow_", "__matmul__": "matmul", "__rand__": "bitwise_and",
    "__ror__": "bitwise_or", "__rxor__": "bitwise_xor", "__ne__": "ne", "__lt__": "lt",
    "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__neg__": "neg", "__abs__": "abs",
    "__pos__": "positive",
}


class _TensorMethods:
    """Puts TensorMethods and dispatching properties in Tensor's class dictionary, and back."""

    def __init__(self) -> None:
        self.originals: dict[str, Any] = {}
        self.replacements: dict[str, Any] = {}

    def install(self) -> None:
        tensor_class = _tensor_class()
        if not self.replacements:
            for name in tensor_attribute_names(tensor_class):
                value = vars(tensor_class)[name]
                self.originals[name] = value
                self.replacements[name] = (TensorMethod(value, name)
                                           if isinstance(value, types.FunctionType)
                                           else _dispatching_property(value, name))
            for operator, method in OPERATOR_METHODS.items():
                stand_in, named = (self.replacements.get(operator),
                                   self.replacements.get(method))
                if isinstance(stand_in, TensorMethod) and isinstance(named, TensorMethod):
                    stand_in.dispatched_as = named
        for name, replacement in self.replacements.items():
            setattr(tensor_class, name, replacement)

    def uninstall(self) -> None:
        tensor_class = _tensor_class()
        for name, original in self.originals.items():
            setattr(tensor_class, name, original)


_tensor_methods = _TensorMethods()
_disabled_impl_function = _disabled_torch_function_impl


# ----------------------------------------------------------------------------- Tensor subclasses
def subclass_created(cls: type) -> None:
    """A Tensor subclass was made. One that opts out (`_disabled_torch_function_impl`, as
    nn.Parameter) and autodiff's own subclasses that keep Tensor's handler (views, batched and
    nested tensors) are plain Tensors to the protocol; any other that takes calls over turns
    the switch on. (autodiff's subclasses with a handler of their own, such as CausalBias, reach
    it through the public functions, which always look.) As in PyTorch, a class defining
    `__torch_dispatch__` and no `__torch_function__` opts out."""
    own = vars(cls)
    if "__torch_dispatch__" in own and "__torch_function__" not in own:
        type.__setattr__(cls, "__torch_function__", _disabled_torch_function_impl)
    _classify(cls)


def _classify(cls: type) -> None:
    if _plain_class(cls):
        if _answer_is_final(cls):
            plain_types.add(cls)
    elif not cls.__module__.startswith("autodiff.") and not switch.classes:
        switch.class_seen()


def handler_changed(cls: type) -> None:
    """`cls` (Tensor or a subclass) was given, or lost, a `__torch_function__` or
    `__torch_dispatch__`: it and its subclasses are asked again (PyTorch looks the handler up
    at every call; the swap-tensors recipe assigns one to a class after making it)."""
    tensor_class = _tensor_class()
    stale = [cls]
    for kind in stale:
        stale.extend(kind.__subclasses__())
    for kind in stale:
        if kind is not tensor_class:
            plain_types.discard(kind)
            _classify(kind)


class TensorMeta(type):
    """Tensor's metaclass (PyTorch's Tensor has one too): assigning or deleting a class's
    `__torch_function__` or `__torch_dispatch__` tells the protocol (`handler_changed`), so
    the answers kept in `plain_types` for Tensor subclasses stay true."""

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _HANDLER_NAMES:
            handler_changed(cls)

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        if name in _HANDLER_NAMES:
            handler_changed(cls)


_HANDLER_NAMES = frozenset({"__torch_function__", "__torch_dispatch__"})


def _own_attributes(cls: type) -> set[str]:
    """The names defined by `cls` or its bases up to (not including) Tensor."""
    tensor_class = _tensor_class()
    names: set[str] = set()
    for base in cls.__mro__:
        if base is tensor_class:
            break
        names.update(vars(base))
    return names


def default_torch_function(cls: type, func: Callable[..., Any], kinds: Any, args: Any,
                           kwargs: dict[str, Any] | None) -> Any:
    """Tensor.__torch_function__: NotImplemented unless `cls` derives from every class taking
    part; else `func` runs with subclasses' handlers off, its Tensors made `cls`."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, kind) for kind in kinds):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        result = func(*args, **kwargs)
        if is_default_nowrap(func):
            return result
        return convert(result, cls)


_NOWRAP_PROPERTIES = ("grad", "_grad", "_base")


def is_default_nowrap(func: Any) -> bool:
    """`Tensor.grad.__get__` (and `_grad`'s, `_base`'s): the default handler returns what
    they give, unconverted."""
    if getattr(func, "__name__", None) != "__get__":
        return False
    owner = getattr(func, "__self__", None)
    tensor_class = _tensor_class()
    return any(vars(tensor_class).get(name) is owner for name in _NOWRAP_PROPERTIES)


def get_default_nowrap_functions() -> set[Callable[..., Any]]:
    tensor_class = _tensor_class()
    return {vars(tensor_class)[name].__get__ for name in _NOWRAP_PROPERTIES
            if isinstance(vars(tensor_class).get(name), property)}


def convert(result: Any, cls: type) -> Any:
    """`result` with its Tensors (at the top, or in a tuple or list) made instances of `cls`."""
    tensor_class = _tensor_class()
    if cls is tensor_class:
        return result
    if isinstance(result, tensor_class) and not isinstance(result, cls):
        return result.as_subclass(cls)  # type: ignore[attr-defined]
    if isinstance(result, (tuple, list)):
        items = [convert(item, cls) for item in result]
        try:
            return type(result)(items)
        except TypeError:  # a named tuple (return_types) takes its fields one by one
            return type(result)(*items)
    return result


# A warning raised through the protocol points past its frames and the handlers it calls
# (user_warnings.py), where it would point without the protocol.
skip_frames_of(_check, TensorMethod.__call__, default_torch_function,
               _disabled_torch_function_impl)
skip_frames_of(dispatch, handlers_called_by=True)
