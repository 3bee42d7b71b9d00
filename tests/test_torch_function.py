"""The `__torch_function__` protocol (torch.overrides): tensor-like classes that are no Tensor
(PyTorch's notes/extending.rst), Tensor subclasses and the default handler, TorchFunctionMode.
Each scenario is a function of the library; where PyTorch is installed it runs on both and the
outcomes (values, class names, the functions seen, exception types and messages) must agree.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import autodiff

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as error:
        return type(error).__name__, str(error).replace("autodiff", "torch")


def _same_on_both(scenario: Callable[[Any], Any]) -> Any:
    ours = _outcome(lambda: scenario(autodiff))
    if HAS_TORCH:
        import torch

        theirs = _outcome(lambda: scenario(torch))
        assert ours == theirs
    return ours


def _name(lib: Any, func: Any) -> str | None:
    return lib.overrides.resolve_name(func)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- tensor-likes
def _scalar_tensor_class(lib: Any) -> Any:
    """extending.rst's ScalarTensor: an N x N diagonal matrix of one value, no Tensor."""
    handled: dict[Any, Any] = {}

    def implements(function: Any) -> Any:
        def decorator(implementation: Any) -> Any:
            handled[function] = implementation
            return implementation
        return decorator

    class ScalarTensor:
        def __init__(self, size: int, value: float) -> None:
            self._size = size
            self._value = value

        def tensor(self) -> Any:
            return self._value * lib.eye(self._size)

        @classmethod
        def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            if kwargs is None:
                kwargs = {}
            if func not in handled or not all(issubclass(t, (lib.Tensor, ScalarTensor))
                                              for t in types):
                return NotImplemented
            return handled[func](*args, **kwargs)

    @implements(lib.mean)
    def mean(input: Any) -> float:
        return float(input._value) / input._size

    def ensure_tensor(data: Any) -> Any:
        return data.tensor() if isinstance(data, ScalarTensor) else data

    @implements(lib.add)
    def add(input: Any, other: Any) -> Any:
        if isinstance(input, ScalarTensor) and isinstance(other, ScalarTensor):
            return ScalarTensor(input._size, input._value + other._value)
        return lib.add(ensure_tensor(input), ensure_tensor(other))

    @implements(lib.nn.functional.relu)
    def relu(input: Any, inplace: bool = False) -> Any:
        return ScalarTensor(input._size, max(input._value, 0.0))

    @implements(lib.linalg.matrix_norm)
    def matrix_norm(input: Any) -> Any:
        return lib.linalg.matrix_norm(input.tensor())

    return ScalarTensor


def test_tensor_like_takes_functions_over() -> None:
    def scenario(lib: Any) -> Any:
        scalar_tensor = _scalar_tensor_class(lib)
        d = scalar_tensor(5, 2.0)
        both = lib.add(d, scalar_tensor(5, 1.0))
        mixed = lib.add(d, lib.ones(5, 5))
        return (lib.mean(d), type(both).__name__, both._value, mixed.tolist()[0],
                lib.nn.functional.relu(scalar_tensor(2, -1.0))._value,
                round(float(lib.linalg.matrix_norm(d)), 6))

    assert _same_on_both(scenario)[:3] == (0.4, "ScalarTensor", 3.0)


def test_tensor_like_refusal_is_pytorchs_type_error() -> None:
    def scenario(lib: Any) -> Any:
        d = _scalar_tensor_class(lib)(5, 2.0)
        return _outcome(lambda: lib.nn.functional.softsign(d))

    assert _same_on_both(scenario) == (
        "TypeError", "no implementation found for 'torch.nn.functional.softsign' on types that "
        "implement __torch_function__: [<class 'tests.test_torch_function."
        "_scalar_tensor_class.<locals>.ScalarTensor'>]")


def test_tensor_like_in_a_list_argument() -> None:
    def scenario(lib: Any) -> Any:
        seen = []

        class Like:
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                seen.append((_name(lib, func), [t.__name__ for t in types]))
                return "taken"

        return lib.cat([lib.ones(1), Like()]), lib.stack((Like(), lib.ones(1))), seen

    assert _same_on_both(scenario)[0] == "taken"


def test_wrap_torch_function_and_has_torch_function() -> None:
    def scenario(lib: Any) -> Any:
        overrides = lib.overrides

        @overrides.wrap_torch_function(lambda a, b: (a, b))
        def combine(a: Any, b: Any) -> Any:
            return "own"

        class Like:
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                return ("handled", func is combine, len(args))

        return (combine(lib.ones(1), 1), combine(Like(), 2),
                overrides.has_torch_function((lib.ones(1),)),
                overrides.has_torch_function((Like(),)),
                overrides.has_torch_function_unary(lib.ones(1)),
                overrides.has_torch_function_variadic(lib.ones(1), Like()),
                overrides.is_tensor_like(lib.ones(1)), overrides.is_tensor_like(Like()),
                overrides.is_tensor_like(1))

    assert _same_on_both(scenario) == ("own", ("handled", True, 2), False, True, False, True,
                                       True, True, False)


# ----------------------------------------------------------------------------- Tensor subclasses
def test_subclass_results_keep_the_class() -> None:
    def scenario(lib: Any) -> Any:
        class Sub(lib.Tensor):
            pass

        s = lib.ones(2, 2).as_subclass(Sub)
        plain = lib.ones(2, 2)
        results = [s + 1, 1 + s, plain + s, plain.add(s), lib.add(s, 1), s.sum(), s[0],
                   s.t(), lib.nn.functional.relu(s), lib.linalg.matrix_norm(s),
                   lib.mm(plain, s), s.add_(1)]
        pieces = lib.split(s, 1)
        return ([type(r).__name__ for r in results], type(pieces).__name__,
                [type(p).__name__ for p in pieces], type(s.shape).__name__,
                type(s.dtype).__name__, s.tolist())

    classes, *_ = _same_on_both(scenario)
    assert set(classes) == {"Sub"}


def test_subclass_autograd_and_grad_is_plain() -> None:
    def scenario(lib: Any) -> Any:
        class Sub(lib.Tensor):
            pass

        s = lib.ones(2).as_subclass(Sub).requires_grad_()
        y = s * 2
        z = y.sum()
        z.backward()
        return (y.grad_fn.name(), y.grad_fn.next_functions[0][0].name(),
                type(z).__name__, type(s.grad).__name__, s.grad.tolist(),
                type(s.detach()).__name__, s.is_leaf)

    assert _same_on_both(scenario) == ("AliasBackward0", "MulBackward0", "Sub", "Tensor",
                                       [2.0, 2.0], "Sub", True)


def test_subclass_handler_sees_methods_properties_and_functions() -> None:
    def scenario(lib: Any) -> Any:
        seen = []

        class Logged(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                seen.append(_name(lib, func))
                return super().__torch_function__(func, types, args, kwargs)

        x = lib.ones(3).as_subclass(Logged)
        results = [x.shape, x.mul(2), lib.exp(x), x[1:], x.requires_grad]
        return seen, len(results)

    assert _same_on_both(scenario) == ([
        "torch.Tensor.shape.__get__", "torch.Tensor.mul", "torch.exp", "torch.Tensor.__getitem__",
        "torch.Tensor.requires_grad.__get__"], 5)


def test_disabled_torch_function_impl_and_parameter_opt_out() -> None:
    def scenario(lib: Any) -> Any:
        class Opted(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl

        o = lib.ones(2).as_subclass(Opted)
        p = lib.nn.Parameter(lib.ones(2))
        return (type(o + 1).__name__, type(lib.add(o, 1)).__name__, type(p * 2).__name__,
                lib.overrides.has_torch_function((o,)), lib.overrides.has_torch_function((p,)))

    assert _same_on_both(scenario) == ("Tensor", "Tensor", "Tensor", False, False)


def test_subclass_not_implemented_and_precedence() -> None:
    def scenario(lib: Any) -> Any:
        order = []

        class A(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                order.append(("A", [t.__name__ for t in types]))
                return NotImplemented

        class B(A):
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                order.append(("B", [t.__name__ for t in types]))
                return NotImplemented

        a = lib.ones(1).as_subclass(A)
        b = lib.ones(1).as_subclass(B)
        error = _outcome(lambda: lib.nn.functional.pairwise_distance(a, b))
        return order, error[0]

    assert _same_on_both(scenario) == ([("B", ["B", "A"]), ("A", ["B", "A"])], "TypeError")


# ----------------------------------------------------------------------------- modes
def test_mode_sees_every_call_and_nests() -> None:
    def scenario(lib: Any) -> Any:
        seen = []

        class Outer(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                seen.append(("outer", _name(lib, func)))
                return func(*args, **(kwargs or {}))

        class Inner(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                seen.append(("inner", _name(lib, func)))
                if func is lib.exp:
                    return "replaced"
                return func(*args, **(kwargs or {}))

        with Outer() as outer, Inner() as inner:
            stack = lib.overrides._get_current_function_mode_stack()
            current = lib.overrides._get_current_function_mode()
            x = lib.zeros(2)
            replaced = lib.exp(x)
            lib.nn.functional.relu(x)
        after = lib.exp(lib.zeros(1)).tolist()
        return (seen, replaced, stack == [outer, inner], current is inner,
                lib.overrides._get_current_function_mode(), after)

    seen, replaced, *rest = _same_on_both(scenario)
    assert replaced == "replaced" and rest == [True, True, None, [1.0]]
    assert ("inner", "torch.exp") in seen and ("outer", "torch.zeros") in seen


def test_mode_sees_tensor_methods_and_properties() -> None:
    def scenario(lib: Any) -> Any:
        seen = []

        class Watch(lib.overrides.BaseTorchFunctionMode):
            def __torch_function__(self, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                seen.append(_name(lib, func))
                return super().__torch_function__(func, types, args, kwargs)

        x = lib.ones(2)
        with Watch():
            results = [x.sum(), x.shape, x.add_(1), x.view(2, 1)]
        return seen, len(results)

    assert _same_on_both(scenario) == (["torch.Tensor.sum", "torch.Tensor.shape.__get__",
                                        "torch.Tensor.add_", "torch.Tensor.view"], 4)


def test_mode_not_implemented_falls_to_classes_and_message() -> None:
    def scenario(lib: Any) -> Any:
        class Declines(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                return NotImplemented

        with Declines():
            x = lib.ones(1)
            return _outcome(lambda: lib.nn.functional.softsign(x))

    kind, message = _outcome(lambda: scenario(autodiff))
    assert kind == "TypeError" and message.startswith(
        "Multiple dispatch failed for 'torch.ones'; all __torch_function__ handlers returned "
        "NotImplemented:\n\n  - mode object <"), message
    assert message.endswith(
        ">\n\nFor more information, try re-running with TORCH_LOGS=not_implemented")


def test_native_function_refusal_is_the_dispatchers_message() -> None:
    """torch.mul and Tensor.mul are bound in C++: its dispatcher words the refusal; a function
    PyTorch writes in Python (nn.functional's, torch.functional's) keeps handle_torch_function's
    wording."""
    def scenario(lib: Any) -> Any:
        class Declines:
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                return NotImplemented

        class DeclinesToo(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                return NotImplemented

        sub = DeclinesToo([1.0])
        return [_outcome(lambda: lib.mul(Declines(), 3)),
                _outcome(lambda: lib.add(Declines(), sub)),
                _outcome(lambda: sub.mul(2)),
                _outcome(lambda: lib.exp(sub)),
                _outcome(lambda: lib.atleast_1d(sub)),
                _outcome(lambda: sub.unflatten(0, (1, 1))),
                _outcome(lambda: lib.nn.functional.relu(sub))]

    outcomes = _same_on_both(scenario)
    assert [kind for kind, _ in outcomes] == ["TypeError"] * 7
    assert outcomes[1][1] == (
        "Multiple dispatch failed for 'torch.add'; all __torch_function__ handlers returned "
        "NotImplemented:\n\n"
        "  - tensor subclass <class 'tests.test_torch_function."
        "test_native_function_refusal_is_the_dispatchers_message.<locals>.scenario.<locals>."
        "Declines'>\n"
        "  - tensor subclass <class 'tests.test_torch_function."
        "test_native_function_refusal_is_the_dispatchers_message.<locals>.scenario.<locals>."
        "DeclinesToo'>\n\n"
        "For more information, try re-running with TORCH_LOGS=not_implemented")
    assert [message.split("'")[1] for _, message in outcomes] == [
        "torch.mul", "torch.add", "torch.Tensor.mul", "torch.exp", "torch.functional.atleast_1d",
        "torch._tensor.unflatten", "torch.nn.functional.relu"]
    assert [message.startswith("Multiple dispatch") for _, message in outcomes] == [
        True, True, True, True, False, False, False]


def test_disable_torch_function_subclass() -> None:
    def scenario(lib: Any) -> Any:
        class Sub(lib.Tensor):
            pass

        s = lib.ones(2).as_subclass(Sub)
        with lib._C.DisableTorchFunctionSubclass():
            inside = type(s + 1).__name__
        return inside, type(s + 1).__name__

    assert _same_on_both(scenario) == ("Tensor", "Sub")


def test_plain_tensors_take_no_dispatch() -> None:
    """With nothing asking for the protocol, the switch leaves Tensor's methods as written."""
    from autodiff import torch_function

    if not torch_function.switch.on:
        assert isinstance(vars(autodiff.Tensor)["add"], type(lambda: 0))
    assert autodiff.overrides.has_torch_function((autodiff.ones(1), 1.0)) is False


def test_a_handler_given_after_the_class_is_made_is_asked() -> None:
    """A class with `__torch_dispatch__` opts out of the protocol; a `__torch_function__`
    assigned later (the swap-tensors recipe) is asked from then on, by functions, methods and
    `has_torch_function`, as PyTorch looks the handler up at every call."""
    seen: list[str | None] = []

    def scenario(lib: Any) -> Any:
        class Wrapper(lib.Tensor):
            @classmethod
            def __torch_dispatch__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                raise NotImplementedError

        def handler(cls: Any, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            seen.append(_name(lib, func))
            return "handled"

        w = lib.Tensor._make_wrapper_subclass(Wrapper, (2,), dtype=lib.float32)
        before = lib.overrides.has_torch_function((w,))
        Wrapper.__torch_function__ = classmethod(handler)
        return (before, lib.overrides.has_torch_function((w,)), lib.add(w, 1), w.sum(),
                w.module_load(lib.ones(2)))

    assert _same_on_both(scenario) == (False, True, "handled", "handled", "handled")
    assert seen[:3] == ["torch.add", "torch.Tensor.sum", "torch.Tensor.module_load"]


def _naming_handler(lib: Any, seen: list[str | None]) -> Any:
    def handler(cls: Any, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        seen.append(_name(lib, func))
        return "handled"

    return classmethod(handler)


def _refused(call: Callable[[], Any]) -> bool:
    try:
        call()
    except Exception:
        return True
    return False


def test_a_handler_given_to_a_class_after_its_first_use_is_asked() -> None:
    """A class that took no call over, and was seen so, takes calls over once a handler is
    assigned to it, and stops when it is deleted: a class that is no Tensor, an opted-out
    Tensor subclass and its subclass, and a subclass whose handler comes from a mixin that is
    no Tensor."""
    seen: list[str | None] = []

    def scenario(lib: Any) -> Any:
        seen.clear()
        x = lib.ones(2)

        class Like:
            pass

        class Opted(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl

        class Derived(Opted):
            pass

        class Mixin:
            __torch_function__ = lib._C._disabled_torch_function_impl

        class Mixed(Mixin, lib.Tensor):
            pass

        like = Like()
        opted, derived, mixed = (x.as_subclass(kind) for kind in (Opted, Derived, Mixed))
        before = (_refused(lambda: lib.add(x, like)), _refused(lambda: lib.cat([x, like])),
                  type(lib.add(opted, 1)).__name__, type(derived.mul(2)).__name__,
                  type(lib.mul(mixed, 2)).__name__, type(mixed.sum()).__name__,
                  lib.overrides.has_torch_function((opted, derived, mixed)))
        for kind in (Like, Opted, Mixin):
            kind.__torch_function__ = _naming_handler(lib, seen)
        after = (lib.add(x, like), lib.cat([x, like]), lib.add(opted, 1), derived.mul(2),
                 lib.mul(mixed, 2), mixed.sum(), lib.overrides.has_torch_function((opted,)))
        del Opted.__torch_function__  # Tensor's default handler: results of its class
        deleted = (type(lib.add(opted, 1)).__name__, type(derived.mul(2)).__name__)
        return before, after, deleted

    assert _same_on_both(scenario) == (
        (True, True, "Tensor", "Tensor", "Tensor", "Tensor", False),
        ("handled",) * 6 + (True,),
        ("Opted", "Derived"))
    assert seen == ["torch.add", "torch.cat", "torch.add", "torch.Tensor.mul", "torch.mul",
                    "torch.Tensor.sum"]


def test_no_default_or_table_of_autodiff_holds_an_unwrapped_public_function() -> None:
    """Every public function a module of autodiff binds at import time (a default argument, a
    class attribute, a table) is the `__torch_function__` wrapper users get: identity checks
    (`activation is F.relu`) and calls through the protocol then hold for it."""
    import sys
    import types

    from autodiff import torch_function

    originals = {id(public._torch_function_of): public._torch_function_of
                 for public in torch_function._wrapped.values()}

    def unwrapped(value: Any) -> bool:
        return id(value) in originals and originals[id(value)] is value

    found: list[str] = []

    def look_in(where: str, value: Any, depth: int = 0) -> None:
        if unwrapped(value):
            found.append(f"{where}: {value.__name__}")
        elif isinstance(value, types.FunctionType):
            look_in_defaults(where, value)
        elif isinstance(value, (staticmethod, classmethod)):
            look_in(where, value.__func__, depth)
        elif depth < 3 and isinstance(value, dict):
            for key, item in list(value.items()):
                look_in(f"{where}[{key!r}]", key, depth + 1)
                look_in(f"{where}[{key!r}]", item, depth + 1)
        elif depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value):
                look_in(where, item, depth + 1)
        elif isinstance(value, type) and value.__module__.startswith("autodiff") and depth == 0:
            for name, item in vars(value).items():
                look_in(f"{where}.{name}", item, 1)

    def look_in_defaults(where: str, function: types.FunctionType) -> None:
        for default in (*(function.__defaults__ or ()),
                        *(function.__kwdefaults__ or {}).values()):
            look_in(f"{where} (default)", default, 1)

    # A module's own global names for functions are left alone: its calls of them need not go
    # through the protocol.
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("autodiff") and module_name != "autodiff.torch_function":
            for name, value in list(vars(module).items()):
                if isinstance(value, types.FunctionType):
                    look_in_defaults(f"{module_name}.{name}", value)
                elif not isinstance(value, types.ModuleType) and name != "__builtins__":
                    look_in(f"{module_name}.{name}", value)
    assert found == []


def test_save_and_load_keep_public_wrappers() -> None:
    """autodiff.save writes a public function's wrapper by its namespace and exported name (its
    defining module holds the function it wraps): a layer's `activation=F.relu` default and an
    alias come back as the same objects."""
    import io

    layer = autodiff.nn.TransformerEncoderLayer(8, 2)
    stream = io.BytesIO()
    autodiff.save({"layer": layer, "alias": autodiff.arctan}, stream)
    stream.seek(0)
    loaded = autodiff.load(stream, weights_only=False)
    assert loaded["layer"].activation is autodiff.nn.functional.relu
    assert loaded["layer"].activation_relu_or_gelu == 1
    assert loaded["alias"] is autodiff.arctan


def test_factories_are_ignored_yet_seen_by_modes() -> None:
    """PyTorch's ignored functions include the factories (no Tensor argument can take them
    over), which a TorchFunctionMode still sees; the overridable tables list names in order."""
    def scenario(lib: Any) -> Any:
        seen = []

        class Names(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                seen.append(lib.overrides.resolve_name(func))
                return func(*args, **(kwargs or {}))

        with Names():
            lib.tensor([1.0])
            lib.zeros(2)
            lib.rand(2)
        ignored = lib.overrides.get_ignored_functions()
        overridable = lib.overrides.get_overridable_functions()
        names = [f.__name__ for f in overridable[lib.nn.functional]]
        testing = lib.overrides.get_testing_overrides()
        return [seen, [f in ignored for f in (lib.tensor, lib.zeros, lib.rand, lib.add)],
                lib.tensor in overridable[lib], lib.add in overridable[lib],
                names[:3], lib.tensor in testing,
                testing[lib.add](1, 2)]

    assert _same_on_both(scenario) == [
        ["torch.tensor", "torch.zeros", "torch.rand"], [True, True, True, False], False, True,
        ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d"], False, -1]


def test_tensor_repr_goes_through_the_protocol() -> None:
    """Tensor.__repr__ is handed to handlers (extending.rst's LoggingTensor skips logging it,
    and its default handler prints without handing the accessors repr reads back)."""
    def scenario(lib: Any) -> Any:
        seen = []

        class Logging(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                if func is not lib.Tensor.__repr__:
                    seen.append((func.__name__, repr(args[0])))
                return super().__torch_function__(func, types, args, kwargs or {})

        value = Logging([1.0, 2.0])
        text = repr(value)
        doubled = value * 2
        return [text.startswith("Logging(["), seen, doubled.tolist()]

    result = _same_on_both(scenario)
    assert result[1][0] == ("mul", "Logging([1., 2.])")
