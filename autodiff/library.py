"""torch.library: operators defined in Python, reachable as `autodiff.ops.<namespace>.<name>`.

`custom_op` makes a function an operator (`_library/custom_ops.py`); the older `Library` /
`define` / `impl` API defines an operator from a schema string and registers its kernels by
dispatch key or device type. `register_fake`, `register_autograd`, `register_kernel` and
`register_vmap` add to either kind; `opcheck` checks a registration on sample arguments. How a
call runs is in `_library/operators.py`.
"""

from __future__ import annotations

import functools
import pkgutil
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from . import ops as _ops_package
from ._library import operators as _operators
from ._library.autograd import Info as _Info
from ._library.autograd import make_autograd_impl as _make_autograd_impl
from ._library.custom_ops import OPDEFS as _OPDEFS
from ._library.custom_ops import CustomOpDef, custom_op
from ._library.opcheck import OpCheckError, opcheck
from ._library.schema import infer_schema, parse_schema
from .op_overloads import OpOverload
from .user_warnings import warn

__all__ = [
    "CustomOpDef", "Library", "OpCheckError", "custom_op", "define", "fallthrough_kernel",
    "impl", "impl_abstract", "infer_schema", "opcheck", "register_autograd", "register_fake",
    "register_kernel", "register_vmap",
]

# Names torch.ops already holds here (autodiff.ops's modules, aten) and PyTorch's reserved one.
_TAKEN = frozenset({"aten", "prim", *(module.name for module in
                                      pkgutil.iter_modules(_ops_package.__path__))})
_DEF_NAMESPACES: set[str] = set()  # namespaces a "DEF" Library holds
_keep_alive: list[Library] = []  # the libraries the module-level functions make


def fallthrough_kernel() -> None:
    """A dummy kernel: registered to the Autograd key, the operator runs without a node."""
    raise NotImplementedError("fallthrough_kernel() should never be called.")


class Library:
    """Operators of the namespace `ns`: "DEF" defines them (one DEF library per namespace),
    "FRAGMENT" defines more, "IMPL" only registers kernels."""

    def __init__(self, ns: str, kind: str, dispatch_key: str = "") -> None:
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if ns == "prim" and kind in ("DEF", "FRAGMENT"):
            raise ValueError(f"{ns} is a reserved namespace. Please try creating a library "
                             "with another name.")
        if ns in _TAKEN:
            raise NotImplementedError(
                f"Library({ns!r}, ...): autodiff's own ops are not dispatcher operators, so "
                f"the namespace {ns!r} cannot be defined or overridden; use another name")
        if kind == "DEF":
            if ns in _DEF_NAMESPACES:
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; "
                    "please put all of your definitions in a single TORCH_LIBRARY block.  If "
                    "you were trying to specify implementations, consider using "
                    "TORCH_LIBRARY_IMPL (which can be duplicated).  If you really intended to "
                    "define operators for a single namespace in a distributed way, you can use "
                    "TORCH_LIBRARY_FRAGMENT to explicitly indicate this.")
            _DEF_NAMESPACES.add(ns)
        self.ns = ns
        self.kind = kind
        self.dispatch_key = dispatch_key
        self._op_defs: set[str] = set()
        self._finalizer = weakref.finalize(self, _forget, set(self._op_defs), ns, kind)
        self._destroyed = False

    def __repr__(self) -> str:
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema: str, alias_analysis: str = "", *, tags: Any = ()) -> str:
        """Define the operator `schema` ("name(Tensor x) -> Tensor") in this namespace."""
        if alias_analysis not in ("", "FROM_SCHEMA", "CONSERVATIVE"):
            raise RuntimeError(f"Invalid alias_analysis type {alias_analysis}")
        if tags:
            raise NotImplementedError("Library.define: autodiff does not implement operator "
                                      "tags")
        if self.kind == "IMPL":
            raise RuntimeError(f"Library(kind=IMPL) for namespace {self.ns} cannot define "
                               "operators; use DEF or FRAGMENT")
        parsed = parse_schema(schema)
        qualname = f"{self.ns}::{parsed.name}"
        key = f"{qualname}.{parsed.overload_name}" if parsed.overload_name else qualname
        if key in _operators.OPERATORS:
            shown = parse_schema(f"{qualname}{schema[schema.index('('):]}")
            raise RuntimeError(
                f"Tried to register an operator ({shown}) with the same name and overload name "
                "multiple times. Each overload's schema should only be registered with a "
                "single call to def().")
        _operators.add_operator(parse_schema(f"{self.ns}::{schema}"))
        self._op_defs.add(key)
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _forget, set(self._op_defs), self.ns, self.kind)
        return parsed.name if not parsed.overload_name else \
            f"{parsed.name}.{parsed.overload_name}"

    def impl(self, op_name: Any, fn: Callable[..., Any], dispatch_key: str = "", *,
             with_keyset: bool = False, allow_override: bool = True) -> None:
        """Register `fn` as the operator's kernel for `dispatch_key` ("CPU", "CUDA", "Meta",
        "CompositeExplicitAutograd", "CompositeImplicitAutograd" (the default), "Autograd")."""
        if not callable(fn):
            raise TypeError(f"Input function is required to be a callable but found type "
                            f"{type(fn)}")
        if with_keyset:
            raise NotImplementedError("Library.impl(with_keyset=True): autodiff has no "
                                      "dispatch key sets to pass")
        key = dispatch_key or self.dispatch_key or "CompositeImplicitAutograd"
        name = op_name.name() if isinstance(op_name, OpOverload) else op_name
        if "::" not in name:
            name = f"{self.ns}::{name}"
        operator = _operators.lookup(name)
        if not allow_override and _registered(operator, key):
            raise RuntimeError(
                "This is not allowed since there's already a kernel registered from python "
                f"overriding {name.split('::')[-1]}'s behavior for {key} dispatch key and "
                f"{self.ns} namespace.")
        _register_kernel(operator, key, fn)

    def _register_fake(self, op_name: str, fn: Callable[..., Any], _stacklevel: int = 1, *,
                       allow_override: bool = True) -> None:
        name = op_name if "::" in op_name else f"{self.ns}::{op_name}"
        operator = _operators.lookup(name)
        if not allow_override and "meta" in operator.kernels:
            raise RuntimeError(f"{name}: a fake impl is already registered")
        operator.kernels["meta"] = fn

    def fallback(self, fn: Callable[..., Any], dispatch_key: str = "", *,
                 with_keyset: bool = False) -> None:
        raise NotImplementedError("Library.fallback: autodiff has no dispatcher to fall back "
                                  "through")

    def _destroy(self) -> None:
        self._finalizer()
        self._op_defs.clear()


def _forget(op_defs: set[str], ns: str, kind: str) -> None:
    for key in op_defs:
        _operators.remove_operator(key)
    if kind == "DEF":
        _DEF_NAMESPACES.discard(ns)


_DEVICE_KEYS = {"CPU": "cpu", "CUDA": "cuda", "Meta": "meta", "PrivateUse1": "strict",
                "CompositeExplicitAutograd": None}
_AUTOGRAD_KEYS = ("Autograd", "AutogradCPU", "AutogradCUDA")


def _registered(operator: _operators.Operator, key: str) -> bool:
    if key in _DEVICE_KEYS:
        return _DEVICE_KEYS[key] in operator.kernels
    if key == "CompositeImplicitAutograd":
        return operator.composite is not None
    return operator.autograd is not None


def _register_kernel(operator: _operators.Operator, key: str, fn: Callable[..., Any]) -> None:
    if key in _DEVICE_KEYS:
        operator.kernels[_DEVICE_KEYS[key]] = fn
    elif key == "CompositeImplicitAutograd":
        operator.composite = fn
    elif key in _AUTOGRAD_KEYS:
        if fn is fallthrough_kernel:  # no node: straight to the kernel
            operator.autograd = operator.redispatch
        else:
            operator.autograd = lambda args, kwargs: fn(*args, **kwargs)
    else:
        raise NotImplementedError(f"autodiff registers no kernels for the dispatch key {key}")


def _key_of(kind: str) -> str:
    """A dispatch key, or a device type's ("cpu" -> "CPU", "default" -> every device)."""
    if kind in _DEVICE_KEYS or kind in _AUTOGRAD_KEYS or kind == "CompositeImplicitAutograd":
        return kind
    if kind == "default":
        return "CompositeExplicitAutograd"
    return _operators.dispatch_key(kind)


def _parse_namespace(qualname: str) -> tuple[str, str]:
    parts = qualname.split("::")
    if len(parts) != 2:
        raise ValueError(
            f'Expected `qualname` to be of the form "namespace::name", but got {qualname}. The '
            "qualname passed to the torch.library APIs must consist of a namespace and a name, "
            "e.g. aten::sin")
    return parts[0], parts[1]


def _library_for(namespace: str, lib: Library | None) -> Library:
    if lib is not None:
        return lib
    made = Library(namespace, "FRAGMENT")
    _keep_alive.append(made)
    return made


@functools.singledispatch
def define(qualname: Any, schema: str, *, lib: Library | None = None, tags: Any = ()) -> Any:
    """Define the operator `qualname` ("mylib::sin") with `schema` ("(Tensor x) -> Tensor")."""
    if not isinstance(qualname, str):
        raise ValueError(f"define(qualname, schema): expected qualname to be instance of str, "
                         f"got {type(qualname)}")
    namespace, name = _parse_namespace(qualname)
    if not schema.startswith("(") or "->" not in schema:
        raise ValueError('define(qualname, schema, ...): expected schema to look like e.g. '
                         f'"(Tensor x) -> Tensor" but got "{schema}"')
    _library_for(namespace, lib).define(name + schema, tags=tags)


@define.register
def _(lib: Library, schema: str, alias_analysis: str = "") -> Callable[..., Any]:
    """The old form: define on `lib` and register the decorated function as its kernel."""

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        name = lib.define(schema, alias_analysis)
        lib.impl(name, f)
        return f

    return wrap


@functools.singledispatch
def impl(qualname: Any, types: str | Sequence[str], func: Callable[..., Any] | None = None, *,
         lib: Library | None = None) -> Any:
    """Register `func` as the operator's kernel for device `types` ("cpu", "cuda"; "default"
    for every device), or dispatch keys; a decorator without func."""
    kinds = (types,) if isinstance(types, str) else tuple(types)
    keys = [_key_of(kind) for kind in kinds]

    def register(func: Callable[..., Any]) -> None:
        namespace, _ = _parse_namespace(qualname)
        use = _library_for(namespace, lib)
        for key in keys:
            use.impl(qualname, func, key)

    if func is None:
        return register
    register(func)
    return None


@impl.register
def _(lib: Library, name: str, dispatch_key: str = "") -> Callable[..., Any]:
    """The old form: `@impl(lib, "name", "CPU")`."""

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        lib.impl(name, f, dispatch_key)
        return f

    return wrap


def _resolve(op: Any, api: str) -> CustomOpDef | str:
    if not isinstance(op, (str, OpOverload, CustomOpDef)):
        raise ValueError(f"{api}({op}): got unexpected type for op: {type(op)}")
    if isinstance(op, OpOverload):
        op = op.name()
    if isinstance(op, str) and op in _OPDEFS:
        return _OPDEFS[op]
    return op


def register_kernel(op: Any, device_types: str | Sequence[str] | None,
                    func: Callable[..., Any] | None = None, /, *,
                    lib: Library | None = None) -> Any:
    """Register `func` as `op`'s implementation for `device_types` (None: every device)."""
    resolved = _resolve(op, "register_kernel")
    if isinstance(resolved, CustomOpDef):
        return resolved.register_kernel(device_types, func)
    return impl(resolved, "CompositeExplicitAutograd" if device_types is None else device_types,
                func, lib=lib)


def register_fake(op: Any, func: Callable[..., Any] | None = None, /, *,
                  lib: Library | None = None, _stacklevel: int = 1,
                  allow_override: bool = True) -> Any:
    """Register `op`'s fake impl: its outputs' metadata from its inputs' (it runs for meta
    tensors and opcheck)."""
    resolved = _resolve(op, "register_fake")
    if isinstance(resolved, CustomOpDef):
        return resolved.register_fake if func is None else resolved.register_fake(func)

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        namespace, name = _parse_namespace(resolved)
        _library_for(namespace, lib)._register_fake(name, func, allow_override=allow_override)
        return func

    return register if func is None else register(func)


def impl_abstract(qualname: Any, func: Callable[..., Any] | None = None, *,
                  lib: Library | None = None, _stacklevel: int = 1) -> Any:
    """The name `register_fake` had before PyTorch 2.4."""
    warn("`torch.library.impl_abstract` was renamed to `torch.library.register_fake`. "
         "Please use that instead; we will remove `torch.library.impl_abstract` in a "
         "future version of PyTorch.", FutureWarning, stacklevel=2)
    return register_fake(qualname, func, lib=lib)


def register_autograd(op: Any, backward: Callable[..., Any], /, *,
                      setup_context: Callable[..., Any] | None = None, lib: Any = None) -> None:
    """Register `op`'s backward formula and the `setup_context` that saves what it needs."""
    resolved = _resolve(op, "register_autograd")
    if isinstance(resolved, CustomOpDef):
        resolved.register_autograd(backward, setup_context=setup_context)
        return
    operator = _operators.lookup(resolved)
    schema = operator.schema
    if schema.is_mutable or not schema.returns:
        raise RuntimeError(
            f"Cannot register autograd formula for non-functional operator "
            f"{operator.overload} with schema {schema}. Please create a functional operator "
            "and register an autograd formula for that.")
    if any(argument.kwarg_only and argument.is_tensor for argument in schema.arguments):
        raise NotImplementedError(
            "register_autograd with kwarg-only Tensor args. In the original definition of the "
            f"op, please make your tensors not kwarg-only. Got: {schema}")
    operator.autograd = _make_autograd_impl(operator, _Info(backward, setup_context))


def register_vmap(op: Any, func: Callable[..., Any] | None = None, /, *, lib: Any = None) -> Any:
    """Register `func(info, in_dims, *args, **kwargs) -> (output, out_dims)` for vmap."""
    resolved = _resolve(op, "register_vmap")
    if isinstance(resolved, CustomOpDef):
        return resolved.register_vmap(func)
    operator = _operators.lookup(resolved)

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        operator.vmap = func
        return func

    return register if func is None else register(func)
