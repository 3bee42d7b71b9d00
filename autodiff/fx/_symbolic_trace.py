"""Symbolic tracing: run a module's forward (or a function) on Proxies and record what it does.

While `Tracer.trace` runs, `nn.Module.__call__` and `nn.Module.__getattr__` are patched (as
PyTorch's tracer patches them): a submodule call becomes one call_module node when the
submodule is a leaf (autodiff's own layers), else is traced through; a parameter read becomes
a get_attr node. Functions marked with `wrap`, and the `math` module's functions seen in the
traced code's globals, are patched to record a call_function node when given a Proxy.
Autodiff's functions reach the tracer through `Proxy.__torch_function__`.
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import functools
import inspect
import math
from collections.abc import Callable, Iterator
from itertools import chain
from types import FunctionType, ModuleType
from typing import Any, ClassVar

from autodiff.nn import Module, Parameter, Sequential
from autodiff.tensor import Tensor

from ..user_warnings import warn
from .graph import Graph
from .graph_module import GraphModule
from .node import Argument, map_aggregate
from .proxy import ParameterProxy, Proxy, Scope, ScopeContextManager, TracerBase

__all__ = ["PH", "ProxyableClassMeta", "Tracer", "is_fx_tracing", "symbolic_trace", "wrap"]

HAS_VARSTUFF = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS

_is_fx_tracing_flag = False


def is_fx_tracing() -> bool:
    """Whether a symbolic trace is running."""
    return _is_fx_tracing_flag


class ProxyableClassMeta(type):
    """Instances of classes with this metaclass are recorded as calls to their constructor
    when made from Proxies."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        found: list[Proxy] = []

        def check_proxy(a: Any) -> Any:
            if isinstance(a, Proxy):
                found.append(a)
            return a

        map_aggregate(args, check_proxy)
        map_aggregate(kwargs, check_proxy)
        if found:
            return found[0].tracer.create_proxy("call_function", cls, args, kwargs)
        return super().__call__(*args, **kwargs)


class PHBase:
    """The placeholder marker for `concrete_args`: this part stays an input."""

    def __repr__(self) -> str:
        return "PH"


PH = PHBase()


def _transfer_attrs(fr: object, to: object) -> None:
    for attr_name in dir(fr):
        attr_val = getattr(fr, attr_name)
        if not callable(attr_val) and not attr_name.startswith("__") and \
                not hasattr(to, attr_name):
            setattr(to, attr_name, attr_val)


class Tracer(TracerBase):
    """Turns a module's forward, or a function, into a Graph (`trace`). Override
    `is_leaf_module` to choose which submodules stay calls, `create_proxy` / `create_node` /
    `create_arg` to change what is recorded."""

    def __init__(self, autowrap_modules: tuple[ModuleType, ...] = (math,),
                 autowrap_functions: tuple[Callable[..., Any], ...] = (),
                 param_shapes_constant: bool = False) -> None:
        super().__init__()
        # The functions of these modules, seen by identity in the traced code's globals,
        # are recorded as calls when given a Proxy.
        self._autowrap_function_ids: set[int] = {
            id(value) for name, value in chain.from_iterable(
                module.__dict__.items() for module in autowrap_modules)
            if not name.startswith("_") and callable(value)
        }
        self._autowrap_function_ids.update(id(f) for f in autowrap_functions)
        self._autowrap_search: list[ModuleType] = list(autowrap_modules)
        self.param_shapes_constant = param_shapes_constant
        self.submodule_paths: dict[Any, str] | None = None
        self.root_module_name = ""
        self.scope = Scope("", None)
        self.module_stack = collections.OrderedDict()
        self.num_calls: dict[str, int] = {}
        self.node_name_to_scope = {}

    _qualname_counter: ClassVar[dict[str, int]] = collections.defaultdict(int)

    def get_fresh_qualname(self, prefix: str) -> str:
        """A name `prefix<n>` the root has no attribute of."""
        qualname = f"{prefix}0"
        if not hasattr(self.root, qualname):
            self._qualname_counter[prefix] = 0
            return qualname
        i = self._qualname_counter[prefix]
        while True:
            qualname = f"{prefix}{i}"
            i += 1
            if not hasattr(self.root, qualname):
                break
        self._qualname_counter[prefix] = i
        return qualname

    def create_arg(self, a: Any) -> Argument:
        """As TracerBase's, and: the root's parameters, buffers and submodules become get_attr
        nodes; other tensors are stored on the root as `_tensor_constant<n>`."""
        if isinstance(a, Parameter):
            for name, parameter in self.root.named_parameters():
                if a is parameter:
                    return self.create_node("get_attr", name, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, Tensor):
            for name, buffer in self.root.named_buffers():
                if a is buffer:
                    return self.create_node("get_attr", name, (), {})
        elif isinstance(a, Module):
            for name, module in self.root.named_modules():
                if a is module:
                    return self.create_node("get_attr", name, (), {})
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            args = tuple(self.create_arg(elem) for elem in a)
            return self.create_node("call_function", a.__class__, args, {})
        if isinstance(a, Tensor):
            qualname = self.tensor_attrs.get(a)
            if not qualname:
                qualname = self.get_fresh_qualname("_tensor_constant")
                self.tensor_attrs[a] = qualname
                setattr(self.root, qualname, a)
            return self.create_node("get_attr", qualname, (), {})
        return super().create_arg(a)

    def is_leaf_module(self, m: Any, module_qualified_name: str) -> bool:
        """Whether `m` stays one call_module node: autodiff's own layers (PyTorch's
        torch.nn ones), except Sequential, which is traced through."""
        return m.__module__.startswith("autodiff.nn") and not isinstance(m, Sequential)

    def path_of_module(self, mod: Any) -> str:
        """The dotted path of `mod` in the root's hierarchy."""
        if self.submodule_paths:
            path = self.submodule_paths.get(mod)
            if path is None:
                raise NameError("module is not installed as a submodule")
            return path
        for name, module in self.root.named_modules():
            if mod is module:
                return name
        raise NameError("module is not installed as a submodule")

    def call_module(self, m: Any, forward: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        """A submodule called while tracing: one call_module node for a leaf, else its
        forward traced through."""
        module_qualified_name = self.path_of_module(m)
        with ScopeContextManager(self.scope, Scope(module_qualified_name, type(m))) as scope:
            num_calls = self.num_calls.get(module_qualified_name, 0)
            module_key = f"{scope.module_path}@{num_calls}" if num_calls > 0 \
                else scope.module_path
            self.module_stack[module_key] = (module_qualified_name, scope.module_type)
            self.num_calls[module_qualified_name] = num_calls + 1
            if not self.is_leaf_module(m, module_qualified_name):
                ret_val = forward(*args, **kwargs)
            else:
                ret_val = self.create_proxy("call_module", module_qualified_name, args, kwargs)
            key, _ = self.module_stack.popitem(last=True)
            assert key == module_key, f"Unexpected key {key}"
        return ret_val

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Proxy]) -> Any:
        """A module attribute read while tracing: a parameter (a buffer, with
        proxy_buffer_attributes) becomes a get_attr Proxy, once per name."""

        def maybe_get_proxy_for_attr(attr_val: Any, collection: Iterator[tuple[str, Any]]
                                     ) -> Proxy | None:
            for name, value in collection:
                if attr_val is value:
                    if name not in parameter_proxy_cache:
                        kwargs: dict[str, Any] = {}
                        if "proxy_factory_fn" in inspect.signature(self.create_proxy).parameters:
                            kwargs["proxy_factory_fn"] = None if not self.param_shapes_constant \
                                else functools.partial(_parameter_proxy, self, name, attr_val)
                        parameter_proxy_cache[name] = self.create_proxy("get_attr", name, (), {},
                                                                        **kwargs)
                    return parameter_proxy_cache[name]
            return None

        if isinstance(attr_val, Parameter):
            proxy = maybe_get_proxy_for_attr(attr_val, self.root.named_parameters())
            if proxy is not None:
                return proxy
        if self.proxy_buffer_attributes and isinstance(attr_val, Tensor):
            proxy = maybe_get_proxy_for_attr(attr_val, self.root.named_buffers())
            if proxy is not None:
                return proxy
        return attr_val

    def create_args_for_root(self, root_fn: Callable[..., Any], is_module: bool,
                             concrete_args: dict[str, Any] | tuple[Any, ...] | None = None
                             ) -> tuple[Callable[..., Any], list[Any]]:
        """The placeholders (or concrete values) the traced function is called with."""
        fn_for_analysis = inspect.unwrap(root_fn)
        co = fn_for_analysis.__code__
        total_args = co.co_argcount + co.co_kwonlyargcount
        names_iter = iter(co.co_varnames)
        args: list[Any] = []
        skip_arg_idx = 0
        if is_module:
            if total_args == 0:
                raise RuntimeError("``self`` argument cannot be part of *args expansion!")
            skip_arg_idx = 1
            next(names_iter)  # self
            args.append(self.root)
        sig = inspect.signature(fn_for_analysis)

        if isinstance(concrete_args, tuple) and len(concrete_args) > 0 and \
                co.co_flags & HAS_VARSTUFF and total_args == 1:
            for index, concrete_arg in enumerate(concrete_args):
                out = self.create_proxy("placeholder", f"input_{index}", (), {})
                if isinstance(concrete_arg, PHBase) and concrete_arg is not PH:
                    _transfer_attrs(fr=concrete_arg, to=out.node)
                args.append(out)
            return root_fn, args

        arg_names = [next(names_iter) for _ in range(skip_arg_idx, total_args)]
        if isinstance(concrete_args, tuple):
            if len(arg_names) != len(concrete_args):
                raise RuntimeError(f"Tracing expected {len(arg_names)} arguments but got "
                                   f"{len(concrete_args)} concrete arguments")
            concrete_args = dict(zip(arg_names, concrete_args))

        args.extend(self._proxy_placeholder(name, concrete_args, sig, fn_for_analysis)
                    for name in arg_names)
        if co.co_kwonlyargcount > 0 or co.co_flags & HAS_VARSTUFF:
            if co.co_flags & inspect.CO_VARARGS:
                args.append(self._proxy_placeholder("*" + next(names_iter), concrete_args, sig,
                                                    fn_for_analysis))
            if co.co_flags & inspect.CO_VARKEYWORDS:
                args.append(self._proxy_placeholder("**" + next(names_iter), concrete_args,
                                                    sig, fn_for_analysis))
            root_fn = _patch_function(root_fn, len(args))  # type: ignore[arg-type]
        return root_fn, args

    def _proxy_placeholder(self, name: str, concrete_args: dict[str, Any] | None,
                           sig: inspect.Signature, fn_for_analysis: Callable[..., Any]) -> Any:
        if concrete_args is not None and name in concrete_args:
            count = 0

            def replace_ph(x: Any) -> Any:
                nonlocal count
                count += 1
                param = sig.parameters[name]
                default = () if param.default is inspect.Parameter.empty else (param.default,)
                out = self.create_proxy("placeholder", f"{name}_{count}", default, {})
                if isinstance(x, PHBase):
                    if x is not PH:
                        _transfer_attrs(fr=x, to=out.node)
                    return out
                from .proxy import _base_types
                if type(x) is bool or (type(x) in _base_types() and not isinstance(x, Tensor)):
                    import autodiff
                    autodiff._assert(out == x, f"{name} has been specialized to have value {x} "
                                               "but got another value")
                elif x is None:
                    self.create_proxy(
                        "call_function", _assert_is_none,
                        (out, f"{name} has been specialized to have value None but got another "
                              "value"), {})
                else:
                    warn(
                        f"Was not able to add assertion to guarantee correct input {name} to "
                        "specialized function. It is up to the user to make sure that your "
                        "inputs match the inputs you specialized the function with.",
                        stacklevel=2)
                return x

            from autodiff.func.pytree import tree_map
            return tree_map(replace_ph, concrete_args[name])
        if name[0] == "*":
            default: tuple[Any, ...] = ()
        else:
            param = sig.parameters[name]
            default = () if param.default is inspect.Parameter.empty else (param.default,)
        return self.create_proxy("placeholder", name, default, {},
                                 type_expr=fn_for_analysis.__annotations__.get(name, None))

    def trace(self, root: Any, concrete_args: dict[str, Any] | None = None) -> Graph:
        """Trace `root` (a module's `forward`, or a function) into a Graph. `concrete_args`
        fixes some inputs to values (the graph then asserts them); PH keeps one an input."""
        global _is_fx_tracing_flag
        old_is_fx_tracing_flag = _is_fx_tracing_flag
        _is_fx_tracing_flag = True
        try:
            if isinstance(root, Module):
                self.root = root
                assert hasattr(type(root), self.traced_func_name), \
                    f"traced_func_name={self.traced_func_name} doesn't exist in " \
                    f"{type(root).__name__}"
                fn = getattr(type(root), self.traced_func_name)
                self.root_module_name = root._get_name()
                self.submodule_paths = {mod: name for name, mod in root.named_modules()}
            else:
                self.root = Module()
                fn = root
            tracer_cls = getattr(self, "__class__", None)
            self.graph = Graph(tracer_cls=tracer_cls)
            # Tensors held as plain attributes (not parameters or buffers) are read by get_attr.
            self.tensor_attrs: dict[Any, str] = {}

            def collect_tensor_attrs(m: Any, prefix_atoms: list[str]) -> None:
                for k, v in m.__dict__.items():
                    if isinstance(v, Tensor):
                        self.tensor_attrs[v] = ".".join([*prefix_atoms, k])
                for k, v in m.named_children():
                    collect_tensor_attrs(v, [*prefix_atoms, k])

            collect_tensor_attrs(self.root, [])
            assert isinstance(fn, FunctionType), f"Expected FunctionType, got {type(fn)}"
            fn_globals = fn.__globals__  # before it gets patched
            fn, args = self.create_args_for_root(fn, isinstance(root, Module), concrete_args)

            parameter_proxy_cache: dict[str, Proxy] = {}  # one get_attr per parameter

            @functools.wraps(_orig_module_getattr)
            def module_getattr_wrapper(mod: Any, attr: str) -> Any:
                attr_val = _orig_module_getattr(mod, attr)
                return self.getattr(attr, attr_val, parameter_proxy_cache)

            @functools.wraps(_orig_module_call)
            def module_call_wrapper(mod: Any, *args: Any, **kwargs: Any) -> Any:
                def forward(*args: Any, **kwargs: Any) -> Any:
                    return _orig_module_call(mod, *args, **kwargs)

                _autowrap_check(patcher, getattr(getattr(mod, "forward", mod), "__globals__", {}),
                                self._autowrap_function_ids)
                return self.call_module(mod, forward, args, kwargs)

            with _new_patcher() as patcher:
                patcher.patch_method(Module, "__getattr__", module_getattr_wrapper,
                                     deduplicate=False)
                patcher.patch_method(Module, "__call__", module_call_wrapper,
                                     deduplicate=False)
                _patch_wrapped_functions(patcher)
                _autowrap_check(patcher, fn_globals, self._autowrap_function_ids)
                for module in self._autowrap_search:
                    _autowrap_check(patcher, module.__dict__, self._autowrap_function_ids)
                annotations = getattr(inspect.unwrap(fn), "__annotations__", {})
                self.create_node("output", "output", (self.create_arg(fn(*args)),), {},
                                 type_expr=annotations.get("return", None))
            self.submodule_paths = None
        finally:
            _is_fx_tracing_flag = old_is_fx_tracing_flag
        return self.graph

    def __deepcopy__(self, memo: dict[int, Any]) -> Tracer:
        import copy
        new_tracer = Tracer.__new__(Tracer)
        for k, v in self.__dict__.items():
            new_tracer.__dict__[k] = copy.copy(v) if k == "_autowrap_search" \
                else copy.deepcopy(v, memo)
        return new_tracer


def _parameter_proxy(tracer: Tracer, name: str, param: Any, node: Any) -> ParameterProxy:
    return ParameterProxy(tracer, node, name, param)


def _patch_function(fn: FunctionType, nargs: int) -> FunctionType:
    """`fn` with its *args / **kwargs / keyword-only parameters made plain positional ones,
    so that it can be called with one Proxy per parameter."""
    co = fn.__code__
    co_flags = co.co_flags & ~HAS_VARSTUFF
    new_code = co.replace(co_argcount=nargs, co_posonlyargcount=0, co_kwonlyargcount=0,
                          co_flags=co_flags)
    return FunctionType(new_code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


# ------------------------------------------------------------------------------ patching
_wrapped_fns_to_patch: dict[tuple[int, str], dict[str, Any]] = {}
_wrapped_methods_to_patch: list[tuple[type, str]] = []


def _find_proxy(*objects_to_search: Any) -> Proxy | None:
    proxy = None

    def find_proxy(x: Any) -> Any:
        nonlocal proxy
        if isinstance(x, Proxy):
            proxy = x
        return x

    map_aggregate(objects_to_search, find_proxy)
    return proxy


def _create_wrapped_func(orig_fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(orig_fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        """Given a Proxy, record a call_function node for `orig_fn`; otherwise call it."""
        proxy = _find_proxy(args, kwargs)
        if proxy is not None:
            return_proxy = proxy.tracer.create_proxy("call_function", orig_fn, args, kwargs)
            return_proxy.node.meta["is_wrapped"] = True
            return return_proxy
        return orig_fn(*args, **kwargs)

    return wrapped


def _create_wrapped_method(cls: type, name: str) -> Callable[..., Any]:
    orig_fn = getattr(cls, name)

    @functools.wraps(orig_fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        proxy = _find_proxy(args, kwargs)
        if proxy is not None:
            return proxy.tracer.create_proxy("call_method", name, args, kwargs)
        return orig_fn(*args, **kwargs)

    return wrapped


class _PatchedFn:
    """One patch: where (a globals dict or a class), which name, the original and the new."""

    def __init__(self, frame_dict: Any, fn_name: str, orig_fn: Any, new_fn: Any,
                 kind: str) -> None:
        self.frame_dict, self.fn_name = frame_dict, fn_name
        self.orig_fn, self.new_fn, self.kind = orig_fn, new_fn, kind

    def revert(self) -> None:
        if self.kind == "setattr":
            setattr(self.frame_dict, self.fn_name, self.orig_fn)
        elif self.kind == "del":
            del self.frame_dict[self.fn_name]
        else:
            self.frame_dict[self.fn_name] = self.orig_fn

    def patch(self) -> None:
        if self.kind == "setattr":
            setattr(self.frame_dict, self.fn_name, self.new_fn)
        else:
            self.frame_dict[self.fn_name] = self.new_fn


class _Patcher:
    """The patches of one trace, undone together when it ends."""

    def __init__(self) -> None:
        self.patches_made: list[_PatchedFn] = []
        self.visited: set[int] = set()

    def patch(self, frame_dict: dict[str, Any], name: str, new_fn: Callable[..., Any],
              deduplicate: bool = True) -> None:
        """Replace `frame_dict[name]` (a builtin, when the globals lack the name)."""
        new_fn.__fx_already_patched = deduplicate  # type: ignore[attr-defined]
        if name not in frame_dict and hasattr(builtins, name):
            self.patches_made.append(_PatchedFn(frame_dict, name, None, new_fn, "del"))
        elif getattr(frame_dict[name], "__fx_already_patched", False):
            return
        else:
            self.patches_made.append(_PatchedFn(frame_dict, name, frame_dict[name], new_fn,
                                                "setitem"))
        self.patches_made[-1].patch()

    def patch_method(self, cls: type, name: str, new_fn: Callable[..., Any],
                     deduplicate: bool = True) -> None:
        new_fn.__fx_already_patched = deduplicate  # type: ignore[attr-defined]
        orig_fn = getattr(cls, name)
        if getattr(orig_fn, "__fx_already_patched", False):
            return
        self.patches_made.append(_PatchedFn(cls, name, orig_fn, new_fn, "setattr"))
        self.patches_made[-1].patch()

    def visit_once(self, thing: Any) -> bool:
        """True the first time `thing` is seen in this trace."""
        key = id(thing)
        if key in self.visited:
            return False
        self.visited.add(key)
        return True

    def revert_all_patches(self) -> list[_PatchedFn]:
        for patch in self.patches_made:
            patch.revert()
        return self.patches_made

    def reapply_all_patches(self) -> list[_PatchedFn]:
        for patch in self.patches_made:
            patch.patch()
        return self.patches_made

    def __enter__(self) -> _Patcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        while self.patches_made:
            self.patches_made.pop().revert()
        self.visited.clear()


CURRENT_PATCHER: _Patcher | None = None


@contextlib.contextmanager
def _new_patcher() -> Iterator[_Patcher]:
    global CURRENT_PATCHER
    prior_patcher = CURRENT_PATCHER
    try:
        CURRENT_PATCHER = _Patcher()
        yield CURRENT_PATCHER
    finally:
        assert CURRENT_PATCHER is not None
        CURRENT_PATCHER.revert_all_patches()
        CURRENT_PATCHER = prior_patcher


def _patch_wrapped_functions(patcher: _Patcher) -> None:
    """Patch the functions `wrap` registered, in the globals it registered them in."""
    for (_, name), frame_dict in _wrapped_fns_to_patch.copy().items():
        if name not in frame_dict and hasattr(builtins, name):
            orig_fn = getattr(builtins, name)
        else:
            orig_fn = frame_dict[name]
        patcher.patch(frame_dict, name, _create_wrapped_func(orig_fn))
    for cls, name in _wrapped_methods_to_patch:
        patcher.patch_method(cls, name, _create_wrapped_method(cls, name))


def _autowrap_check(patcher: _Patcher, frame_dict: dict[str, Any],
                    function_ids: set[int]) -> None:
    """Patch the autowrapped functions (by identity) found in the globals `frame_dict`."""
    if patcher.visit_once(frame_dict):
        for name, value in frame_dict.items():
            if not name.startswith("_") and callable(value) and id(value) in function_ids:
                patcher.patch(frame_dict, name, _create_wrapped_func(value))


def wrap(fn_or_name: str | Callable[..., Any]) -> Any:
    """At module level, mark a function of that module (or a builtin, by name) to be
    recorded as one call_function node, not traced through::

        torch.fx.wrap('len')

        @torch.fx.wrap
        def my_custom_function(x, y):
            return x * x + y * y
    """
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError("Unsupported type for global function! Must be either a callable or "
                           "string name")
    fn_name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    current_frame = inspect.currentframe()
    assert current_frame is not None
    f = current_frame.f_back
    assert f is not None
    if f.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    # Keyed by the globals dict itself: one registration per module and name.
    _wrapped_fns_to_patch[(id(f.f_globals), fn_name)] = f.f_globals
    return fn_or_name


def symbolic_trace(root: Any, concrete_args: dict[str, Any] | None = None) -> GraphModule:
    """Trace a module or function into a GraphModule::

        def f(a, b):
            return a + b
        gm = symbolic_trace(f)  # gm(a, b) == a + b
    """
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = root.__class__.__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)


@wrap
def _assert_is_none(value: Any, msg: str) -> None:
    assert value is None, msg


_orig_module_getattr = Module.__getattr__
_orig_module_call = Module.__call__
