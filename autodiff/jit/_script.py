"""torch.jit.script, and the annotations TorchScript reads.

TorchScript compiles a function's or module's Python source into its own language. autodiff
cannot: a scripted object runs its Python, so data-dependent control flow behaves as
TorchScript's compiled code does (each call takes the branch its data asks for). A scripted
module is a copy of the module whose class is a subclass of both ScriptModule and the
module's own class, sharing the original's parameters and buffers; its submodules are
scripted in turn. `.code` is the Python source of forward; `.graph` is autodiff.fx's trace of
it, where fx can trace it.
"""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
import typing
from builtins import isinstance as _isinstance
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from autodiff.nn import Module

from ._module import ScriptFunction, ScriptModule, fx_graph_of
from ._trace import is_tracing

if TYPE_CHECKING:
    from autodiff.fx import Graph

__all__ = ["Attribute", "Error", "Final", "ScriptWarning", "annotate", "export", "ignore",
           "interface", "is_scripting", "isinstance", "script", "script_if_tracing",
           "script_method", "unused"]

T = TypeVar("T")
Final = typing.Final



class Error(RuntimeError):
    """An error raised by TorchScript code (torch.jit.Error)."""


class ScriptWarning(Warning):
    """A warning TorchScript raises (torch.jit.ScriptWarning)."""


class Attribute(NamedTuple):
    """A module attribute with its TorchScript type: scripting stores the value."""

    value: Any
    type: Any


def annotate(the_type: Any, the_value: T) -> T:
    """The value, unchanged: the type is for TorchScript's compiler."""
    return the_value


def script_method(fn: T) -> T:
    """Marks a method of a ScriptModule subclass; it runs as Python."""
    return fn


def is_scripting() -> bool:
    """False: scripted code runs as Python here (TorchScript's compiler sees True)."""
    return False


# ----------------------------------------------------------------------------- markers
class FunctionModifiers:
    """What `export`, `ignore` and `unused` mark a function with (torch._jit_internal's)."""

    UNUSED = "unused (ignored and replaced with raising of an exception)"
    IGNORE = "ignore (leave as a call to Python, cannot be torch.jit.save'd)"
    EXPORT = "export (compile this function even if nothing calls it)"
    DEFAULT = "default (compile if called from a exported function / forward)"
    COPY_TO_SCRIPT_WRAPPER = ("if this method is not scripted, copy the python method onto "
                              "the scripted model")
    _DROP = "_drop (function is fully ignored, declaration can be unscriptable)"


def export(fn: T) -> T:
    """Marks a method to compile though forward does not call it; it runs as Python."""
    fn._torchscript_modifier = FunctionModifiers.EXPORT  # type: ignore[attr-defined]
    return fn


def unused(fn: Any) -> Any:
    """Marks a function TorchScript replaces with one that raises; here it runs as Python."""
    if _isinstance(fn, property):
        for accessor in (fn.fget, fn.fset):
            if accessor is not None:
                accessor._torchscript_modifier = FunctionModifiers.UNUSED  # type: ignore[union-attr]
        return fn
    fn._torchscript_modifier = FunctionModifiers.UNUSED
    return fn


# The code of the `@ignore`d functions: a saved graph may not call them.
_ignored_codes: set[CodeType] = set()


def _remember_ignored(function: Any) -> None:
    code = getattr(function, "__code__", None)
    if _isinstance(code, CodeType):
        _ignored_codes.add(code)


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Marks a function TorchScript leaves as a Python call: it runs as Python, and code
    that calls it cannot be saved. `@ignore`, `@ignore(drop=True)` (as `@unused`)."""
    if callable(drop):
        drop._torchscript_modifier = FunctionModifiers.IGNORE
        _remember_ignored(drop)
        return drop
    if not _isinstance(drop, bool):
        raise RuntimeError("Argument to @torch.jit.ignore must be a bool or a function but "
                           f"got {drop}")
    drop_on_export = kwargs.pop("drop_on_export", None)
    if drop_on_export is not None:
        drop = drop or drop_on_export

    def decorator(fn: T) -> T:
        modifier = FunctionModifiers.UNUSED if drop else FunctionModifiers.IGNORE
        fn._torchscript_modifier = modifier  # type: ignore[attr-defined]
        if not drop:
            _remember_ignored(fn)
        return fn

    return decorator


def interface(obj: T) -> T:
    """Marks a class as a TorchScript interface type; the class itself is returned."""
    if not inspect.isclass(obj):
        raise RuntimeError("interface must be applied to a class")
    obj.__torch_script_interface__ = True  # type: ignore[attr-defined]
    return obj


def script_if_tracing(fn: Callable[..., T]) -> Callable[..., T]:
    """`fn`, scripted on its first call while tracing. Here scripting runs the Python, so
    inside a trace its ops are recorded along the path this call takes."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        if not is_tracing():
            return fn(*args, **kwargs)
        return script(fn)(*args, **kwargs)

    wrapper.__original_fn = fn  # type: ignore[attr-defined]
    wrapper.__script_if_tracing_wrapper = True  # type: ignore[attr-defined]
    return wrapper


# ----------------------------------------------------------------------------- isinstance
def isinstance(obj: Any, target_type: Any) -> bool:
    """Python's isinstance, also for container types such as `List[int]`,
    `Dict[str, Tensor]`, `Tuple[int, str]` and `Optional[Tensor]` (element by element)."""
    origin = typing.get_origin(target_type)
    if origin is None:
        if target_type is Any:
            return True
        if target_type is None or target_type is type(None):
            return obj is None
        return _isinstance(obj, target_type)
    arguments = typing.get_args(target_type)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(isinstance(obj, option) for option in arguments)
    if origin in (list, typing.List):  # noqa: UP006
        return _isinstance(obj, list) and all(isinstance(item, arguments[0]) for item in obj)
    if origin in (dict, typing.Dict):  # noqa: UP006
        return _isinstance(obj, dict) and all(
            isinstance(key, arguments[0]) and isinstance(value, arguments[1])
            for key, value in obj.items())
    if origin in (tuple, typing.Tuple):  # noqa: UP006
        if not _isinstance(obj, tuple):
            return False
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(isinstance(item, arguments[0]) for item in obj)
        return len(obj) == len(arguments) and all(
            isinstance(item, kind) for item, kind in zip(obj, arguments, strict=True))
    return _isinstance(obj, origin)


# ----------------------------------------------------------------------------- script
class _ScriptedModule(ScriptModule):
    """The ScriptModule side of a scripted module's class (before the module's own class in
    its method order)."""

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    @property
    def code(self) -> str:
        """The Python source of forward (TorchScript shows its compiled code); a scripted fx
        GraphModule's generated code."""
        generated = self.__dict__.get("_code")
        if _isinstance(generated, str):
            return generated
        cls = original_class(self)
        assert cls is not None
        return textwrap.dedent(inspect.getsource(cls.forward))

    @property
    def graph(self) -> Graph:
        """forward as autodiff.fx traces it (a scripted GraphModule's own graph); a
        RuntimeError where fx cannot trace it (control flow that depends on tensor values)."""
        from autodiff.fx import Graph

        own = self.__dict__.get("_graph")
        if _isinstance(own, Graph):
            return own
        return fx_graph_of(self)


class _CompiledMethod:
    """forward or an `@export` method of a scripted module's class (those TorchScript
    compiles): on an instance, a bound method with `.code` (its Python source), `.graph`
    (autodiff.fx's trace of it, where it can trace it), `.name` and `.owner`, as PyTorch's
    ScriptMethod; on the class, the function."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __get__(self, owner: Any, cls: Any = None) -> Any:
        if owner is None:
            return self.function
        if self.function.__name__ in owner.__dict__.get("_dropped_methods", ()):
            # (freeze drops it: Module.__getattr__ then raises PyTorch's AttributeError)
            raise AttributeError(self.function.__name__)
        return _BoundCompiledMethod(owner, self.function)


class _BoundCompiledMethod:
    def __init__(self, owner: ScriptModule, function: Callable[..., Any]) -> None:
        self.owner = owner
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(self.owner, *args, **kwargs)

    @property
    def __self__(self) -> ScriptModule:  # (as a bound method's)
        return self.owner

    @property
    def __func__(self) -> Callable[..., Any]:
        return self.function

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def code(self) -> str:
        if self.name == "forward":  # (a scripted fx GraphModule shows its generated code)
            return self.owner.code
        return textwrap.dedent(inspect.getsource(self.function))

    @property
    def graph(self) -> Graph:
        if self.name == "forward":
            return self.owner.graph
        return fx_graph_of(self.owner, self.name)

    @property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self.function)
        return signature.replace(parameters=list(signature.parameters.values())[1:])


def saved_methods(module: ScriptModule) -> list[str]:
    """forward and the exported methods of a scripted module (those `freeze` kept)."""
    dropped = module.__dict__.get("_dropped_methods", ())
    return ["forward", *(name for name in exported_methods(type(module)) if name not in dropped)]


class ExportRefused(RuntimeError):
    """Code being saved calls an `@ignore`d function (PyTorch's error)."""


@contextmanager
def refusing_ignored_calls() -> Iterator[None]:
    """Raise PyTorch's ExportRefused where the block (`save` tracing scripted code) calls an
    `@ignore`d function; TorchScript leaves those as calls to Python, which an archive
    cannot hold. The calls are seen by a profile function, set for the block only."""
    called: list[str] = []
    previous: Any = sys.getprofile()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in _ignored_codes and not called:
            called.append(frame.f_code.co_name)
        if previous is not None:
            previous(frame, event, arg)

    def refused() -> ExportRefused:
        return ExportRefused(
            f"Could not export Python function call '{called[0]}'. Remove calls to Python "
            f"functions before export. Did you forget to add @script or @script_method "
            f"annotation? If this is a nn.ModuleList, add it to __constants__")

    sys.setprofile(profile)
    try:
        yield
    except BaseException as error:
        sys.setprofile(previous)
        if called:
            raise refused() from error
        raise
    sys.setprofile(previous)
    if called:
        raise refused()


def _called_from_script(owner: Any) -> bool:
    """Whether the frame that reads the attribute (two up) runs one of the methods TorchScript
    would compile for `owner`'s class: forward, the exported methods and what they call."""
    codes: frozenset[Any] = getattr(type(owner), "_script_codes", frozenset())
    return sys._getframe(2).f_code in codes


class _UnusedMethod:
    """An `@unused` method: called from the scripted code, it raises (TorchScript compiles
    it into a raise); called from Python, it runs."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __get__(self, owner: Any, cls: Any = None) -> Any:
        if owner is None or not _called_from_script(owner):
            return self.function if owner is None else self.function.__get__(owner, cls)

        def unused(*args: Any, **kwargs: Any) -> Any:
            raise Error("This Python function is annotated to be ignored and cannot be run")

        return unused


def _script_codes(cls: type) -> frozenset[Any]:
    """The code of the methods of `cls` (and the user's classes it derives from) that are
    not `@ignore`d or `@unused`."""
    codes = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith(("autodiff.nn.modules", "autodiff.jit")) \
                or klass is object:
            continue
        for value in vars(klass).values():
            code = getattr(value, "__code__", None)
            modifier = getattr(value, "_torchscript_modifier", None)
            if code is not None and modifier not in (FunctionModifiers.IGNORE,
                                                     FunctionModifiers.UNUSED):
                codes.add(code)
    return frozenset(codes)


def _unused_methods(cls: type) -> dict[str, Any]:
    """The scripted class's descriptors for the `@unused` methods of `cls`."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            modifier = getattr(value, "_torchscript_modifier", None)
            if not inspect.isfunction(value):
                found.pop(name, None)
            elif modifier == FunctionModifiers.UNUSED:
                found[name] = _UnusedMethod(value)
            else:
                found.pop(name, None)
    return found


def exported_methods(cls: type) -> dict[str, Callable[..., Any]]:
    """The methods of `cls` marked `@export` (nearest definition first in the MRO)."""
    found: dict[str, Callable[..., Any]] = {}
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if name in found:
                continue
            function = value.function if _isinstance(value, _CompiledMethod) else value
            if getattr(function, "_torchscript_modifier", None) == FunctionModifiers.EXPORT:
                found[name] = function
    return found


def constant_names(cls: type) -> set[str]:
    """The attributes TorchScript makes constants: those `__constants__` lists and those
    annotated `Final` (`x: Final[int]`, also as a string annotation)."""
    names = set(getattr(cls, "__constants__", ()))
    for klass in cls.__mro__:
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if _isinstance(annotation, str):
                final = re.match(r"^([\w.]+\.)?Final\b", annotation) is not None
            else:
                final = annotation is typing.Final or typing.get_origin(annotation) is \
                    typing.Final
            if final:
                names.add(name)
    return names


_scripted_classes: dict[type[Module], type[ScriptModule]] = {}


def _scripted_class(cls: type[Module]) -> type[ScriptModule]:
    scripted = _scripted_classes.get(cls)
    if scripted is None:
        namespace: dict[str, Any] = {
            "__module__": __name__, "__qualname__": "RecursiveScriptModule",
            "_script_original_class": cls}
        namespace.update({name: _CompiledMethod(function)
                          for name, function in exported_methods(cls).items()})
        if inspect.isfunction(getattr(cls, "forward", None)):
            namespace["forward"] = _CompiledMethod(cls.forward)
        namespace.update(_unused_methods(cls))
        namespace["_script_codes"] = _script_codes(cls)
        scripted = type("RecursiveScriptModule", (_ScriptedModule, cls), namespace)
        _scripted_classes[cls] = scripted
    return scripted


def original_class(module: ScriptModule) -> type[Module] | None:
    """The user's class a scripted module was made from; None for other ScriptModules."""
    cls: type[Module] | None = getattr(type(module), "_script_original_class", None)
    return cls


def _attribute_types(state: dict[str, Any]) -> dict[str, Any]:
    """The TorchScript types of a module's plain attributes: a `jit.Attribute`'s own,
    otherwise inferred from the value (none where TorchScript infers none)."""
    from ._types import attribute_type, infer_type

    types = {}
    for name, value in state.items():
        if name in _MODULE_STATE or _isinstance(value, Module):
            continue
        kind = (attribute_type(value.type) if _isinstance(value, Attribute)
                else infer_type(value))
        if kind is not None:
            types[name] = kind
    return types


_MODULE_STATE = frozenset(vars(Module()))


def _script_module(module: Module) -> ScriptModule:
    if _isinstance(module, ScriptModule):
        return module
    cls = _scripted_class(type(module))
    scripted = cls.__new__(cls)
    state = dict(module.__dict__)
    for name in ("_parameters", "_buffers"):
        state[name] = type(state[name])(state[name])
    state["_modules"] = type(state["_modules"])(
        (name, None if child is None else _script_module(child))
        for name, child in module._modules.items())
    state["_attribute_types"] = _attribute_types(state)
    for name, value in list(state.items()):
        if _isinstance(value, Attribute):
            state[name] = value.value
    state["_original_name"] = type(module).__name__
    state["_constant_names"] = frozenset(
        name for name in constant_names(type(module))
        if name in state and not _isinstance(state[name], Module))
    scripted.__dict__.update(state)
    return scripted


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """A ScriptModule for a Module (sharing its parameters), a ScriptFunction for a
    function. They run the object's Python: see this module's docstring."""
    if _isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if _isinstance(obj, Module):
        return _script_module(obj)
    if inspect.isclass(obj):
        return obj  # a TorchScript class: its instances are plain Python here
    if callable(obj):
        if hasattr(obj, "__script_if_tracing_wrapper"):
            obj = obj.__original_fn
        return ScriptFunction(obj)
    if _isinstance(obj, (dict, list)):
        return obj
    raise RuntimeError(f"script() cannot compile an object of type {type(obj).__name__}")
