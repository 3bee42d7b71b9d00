"""torch.utils.swap_tensors, torch.__future__'s module-conversion switches (Module._apply,
load_state_dict, Tensor.module_load), __torch_function__ for module_load, and
__torch_dispatch__ wrapper subclasses (Tensor._make_wrapper_subclass). Each scenario is a
function of the library; where PyTorch is installed it runs on both and the outcomes (values,
types, identities kept, exception types and messages) must agree."""

from __future__ import annotations

import importlib.util
import weakref
from collections.abc import Callable
from typing import Any

import pytest

import autodiff
from tests.helpers import raises

LIBRARIES = ["autodiff", "torch"] if importlib.util.find_spec("torch") else ["autodiff"]


def _library(name: str) -> Any:
    return autodiff if name == "autodiff" else pytest.importorskip("torch")


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as error:
        return type(error).__name__, str(error)


def _same_on_both(scenario: Callable[[Any], Any]) -> Any:
    """The scenario's outcome on autodiff, checked against PyTorch's where it is installed."""
    ours = _outcome(lambda: scenario(autodiff))
    if "torch" in LIBRARIES:
        theirs = _outcome(lambda: scenario(_library("torch")))
        assert ours == theirs
    return ours


@pytest.fixture(autouse=True)
def _future_flags_restored() -> Any:
    yield
    autodiff.__future__.set_swap_module_params_on_conversion(False)
    autodiff.__future__.set_overwrite_module_params_on_conversion(False)


# ----------------------------------------------------------------------------- swap_tensors
def test_swap_exchanges_contents_class_and_attributes() -> None:
    def scenario(lib: Any) -> Any:
        parameter = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        parameter.sum().backward()
        plain = lib.tensor([[3, 4, 5]])
        plain.note = "mine"
        ids = id(parameter), id(plain)
        lib.utils.swap_tensors(parameter, plain)
        return (ids == (id(parameter), id(plain)), type(parameter).__name__,
                type(plain).__name__, parameter.tolist(), plain.tolist(), parameter.note,
                hasattr(plain, "note"), parameter.requires_grad, plain.requires_grad,
                parameter.grad, plain.grad.tolist(), str(parameter.dtype), str(plain.dtype))

    assert _same_on_both(scenario) == (
        True, "Tensor", "Parameter", [[3, 4, 5]], [1.0, 2.0], "mine", False, False, True, None,
        [1.0, 1.0], "torch.int64", "torch.float32")


def test_weak_references_forbid_a_swap() -> None:
    a, b = autodiff.ones(2), autodiff.zeros(2)
    reference = weakref.ref(a)
    with raises(RuntimeError, "Cannot swap t1 because it has weakref associated with it"):
        autodiff.utils.swap_tensors(a, b)
    with raises(RuntimeError, "Cannot swap t2 because it has weakref associated with it"):
        autodiff.utils.swap_tensors(b, a)
    assert reference() is a and a.tolist() == [1.0, 1.0] and b.tolist() == [0.0, 0.0]


def test_classes_with_different_slots_are_refused() -> None:
    def scenario(lib: Any) -> Any:
        class Slotted(lib.Tensor):
            __slots__ = ("extra",)

            @classmethod
            def __torch_dispatch__(cls: Any, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                raise NotImplementedError

        slotted = lib.Tensor._make_wrapper_subclass(Slotted, (2,), dtype=lib.float32)
        return lib.utils.swap_tensors(slotted, lib.ones(2))

    assert _same_on_both(scenario) == (
        "RuntimeError", "Cannot swap t1 and t2 if they have different slots")


def test_holders_of_a_tensor_forbid_a_swap() -> None:
    def saved_by_a_graph(lib: Any) -> Any:
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2, requires_grad=True)
        product = a * b  # its node saves a
        return lib.utils.swap_tensors(a, lib.zeros(2)), product

    def viewed(lib: Any) -> Any:
        base = lib.ones(2, 2)
        view = base.t()
        return lib.utils.swap_tensors(base, lib.zeros(2)), view

    def viewed_leaf_that_requires_grad(lib: Any) -> Any:
        base = lib.ones(2, 2, requires_grad=True)
        view = base.t()
        return lib.utils.swap_tensors(lib.zeros(2), base), view

    def saved_without_grad(lib: Any) -> Any:
        a = lib.ones(2)
        product = a * lib.ones(2, requires_grad=True)
        return lib.utils.swap_tensors(a, lib.zeros(2)), product

    assert _same_on_both(saved_by_a_graph) == (
        "RuntimeError", "Expected use_count of t1 to be 1 or 2 with an AccumulateGrad node but "
        "got 3 make sure you are not holding references to the tensor in other places.")
    assert _same_on_both(viewed) == (
        "RuntimeError", "It is not possible to get the gradient edge for a Tensor that does not "
        "require gradients")
    assert _same_on_both(viewed_leaf_that_requires_grad) == (
        "RuntimeError", "Expected use_count of t2 to be 1 or 2 with an AccumulateGrad node but "
        "got 3 make sure you are not holding references to the tensor in other places.")
    assert _same_on_both(saved_without_grad)[0] == "RuntimeError"


def test_a_swapped_leaf_poisons_the_graph_recorded_before() -> None:
    def scenario(lib: Any) -> Any:
        a = lib.ones(2, requires_grad=True)
        loss = (a * 2).sum()  # a's AccumulateGrad node is its only holder
        lib.utils.swap_tensors(a, lib.zeros(2))
        return _outcome(loss.backward), a.grad

    outcome, grad = _same_on_both(scenario)
    assert grad is None and outcome == (
        "RuntimeError", "Trying to execute AccumulateGrad node that was poisoned by swap_tensors "
        "this can happen when you try to run backward on a tensor that was swapped. For a module "
        "m with `torch.__future__.set_swap_module_params_on_conversion(True)` you should not "
        "change the device or dtype of the module (e.g. `m.cpu()` or `m.half()`) between "
        "running forward and backward. To resolve this, please only change the device/dtype "
        "before running forward (or after both forward and backward).")


def test_a_swap_with_itself_or_a_non_tensor() -> None:
    a = autodiff.tensor([1.0, 2.0])
    autodiff.utils.swap_tensors(a, a)
    assert a.tolist() == [1.0, 2.0]
    with raises(AttributeError, "'int' object has no attribute '_use_count'"):
        autodiff.utils.swap_tensors(a, 3)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- torch.__future__
def test_future_flags() -> None:
    future = autodiff.__future__
    assert not future.get_swap_module_params_on_conversion()
    assert not future.get_overwrite_module_params_on_conversion()
    future.set_swap_module_params_on_conversion(True)
    future.set_overwrite_module_params_on_conversion(True)
    assert future.get_swap_module_params_on_conversion()
    assert future.get_overwrite_module_params_on_conversion()


@pytest.mark.parametrize("mode", ["set_data", "overwrite", "swap"])
def test_module_conversion(mode: str) -> None:
    def scenario(lib: Any) -> Any:
        lib.__future__.set_overwrite_module_params_on_conversion(mode == "overwrite")
        lib.__future__.set_swap_module_params_on_conversion(mode == "swap")
        try:
            module = lib.nn.Linear(2, 3)
            module.register_buffer("counts", lib.zeros(3))
            module(lib.ones(1, 2)).sum().backward()
            weight, grad = module.weight, module.weight.grad
            optimizer = lib.optim.SGD(module.parameters(), lr=0.1)
            module.double()
            kept = optimizer.param_groups[0]["params"][0]
            return (module.weight is weight, kept is module.weight, module.weight.grad is grad,
                    str(kept.dtype), str(module.weight.dtype), str(module.weight.grad.dtype),
                    type(module.weight).__name__, module.weight.requires_grad,
                    str(module.counts.dtype))
        finally:
            lib.__future__.set_overwrite_module_params_on_conversion(False)
            lib.__future__.set_swap_module_params_on_conversion(False)

    same = mode != "overwrite"
    assert _same_on_both(scenario) == (
        same, same, same, "torch.float64" if same else "torch.float32", "torch.float64",
        "torch.float64", "Parameter", True, "torch.float64")


def test_a_failed_swap_in_apply_names_the_parameter() -> None:
    autodiff.__future__.set_swap_module_params_on_conversion(True)
    module = autodiff.nn.Linear(2, 2)
    reference = weakref.ref(module.weight)
    with raises(RuntimeError, "_apply(): Couldn't swap Linear.weight") as raised:
        module.double()
    assert str(raised.value.__cause__) == ("Cannot swap t1 because it has weakref associated "
                                           "with it")
    assert reference() is module.weight and module.weight.dtype is autodiff.float32


# ----------------------------------------------------------------------------- load_state_dict
@pytest.mark.parametrize("assign", [False, True])
def test_load_state_dict_by_swap(assign: bool) -> None:
    def scenario(lib: Any) -> Any:
        lib.__future__.set_swap_module_params_on_conversion(True)
        try:
            module = lib.nn.Linear(2, 1)
            ids = id(module.weight), id(module.bias)
            state = {"weight": lib.tensor([[1.0, 2.0]], dtype=lib.float64),
                     "bias": lib.tensor([3.0], dtype=lib.float64)}
            module.load_state_dict(state, assign=assign)
            state["weight"][0, 0] = -1.0  # assign: the module's weight is the state's
            return ((id(module.weight), id(module.bias)) == ids, module.weight.tolist(),
                    str(module.weight.dtype), type(module.weight).__name__,
                    module.weight.requires_grad)
        finally:
            lib.__future__.set_swap_module_params_on_conversion(False)

    assert _same_on_both(scenario) == (
        True, [[-1.0, 2.0]] if assign else [[1.0, 2.0]],
        "torch.float64" if assign else "torch.float32", "Parameter", True)


def test_module_load() -> None:
    def scenario(lib: Any) -> Any:
        target, source = lib.zeros(2), lib.tensor([1.0, 2.0])
        assigned = target.module_load(source, assign=True)
        copied = target.module_load(source)
        return (assigned is source, assigned.tolist(), copied is target, copied.tolist(),
                target.tolist())

    assert _same_on_both(scenario) == (False, [1.0, 2.0], False, [1.0, 2.0], [1.0, 2.0])


def test_module_load_returning_an_input_is_refused() -> None:
    class Returns(autodiff.Tensor):
        @classmethod
        def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            if func is autodiff.Tensor.module_load:
                return args[1]  # `other` itself
            return super().__torch_function__(func, types, args, kwargs)

    autodiff.__future__.set_swap_module_params_on_conversion(True)
    module = autodiff.nn.Linear(2, 1)
    module.weight = autodiff.nn.Parameter(module.weight)
    module.weight.__class__ = type("ReturnsParameter", (Returns, autodiff.nn.Parameter), {})
    with raises(RuntimeError, "Error(s) in loading state_dict for Linear:\n\tWhile swapping the "
                "parameter named \"weight\", whose dimensions in the model are "
                "torch.Size([1, 2]) and whose dimensions in the checkpoint are "
                "torch.Size([1, 2]), an exception occurred : ('module_load returned one of "
                "self or other, please .detach() the result if returning one of the inputs in "
                "module_load',)."):
        module.load_state_dict({"weight": autodiff.ones(1, 2), "bias": autodiff.ones(1)})


def test_torch_function_takes_module_load_over() -> None:
    calls = []

    class Tracked(autodiff.Tensor):
        @classmethod
        def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            calls.append((func, types, kwargs))
            with autodiff._C.DisableTorchFunctionSubclass():
                return func(*args, **(kwargs or {}))

    target = autodiff.zeros(2).as_subclass(Tracked)
    loaded = target.module_load(autodiff.ones(2), assign=True)
    [(func, types, kwargs)] = calls
    assert func is autodiff.Tensor.module_load and kwargs == {"assign": True}
    assert len(types) == 1 and issubclass(types[0], Tracked)
    assert loaded.tolist() == [1.0, 1.0]

    class Declines(autodiff.Tensor):
        @classmethod
        def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            return NotImplemented

    declines = autodiff.zeros(2).as_subclass(Declines)
    with raises(TypeError, "no implementation found for 'torch._tensor.module_load' on "
                           f"types that implement __torch_function__: [{Declines!r}]"):
        declines.module_load(autodiff.ones(2))


# ----------------------------------------------------------------------------- wrapper subclasses
def _wrapper_class(lib: Any, log: list[Any]) -> Any:
    class Wrapper(lib.Tensor):
        @staticmethod
        def __new__(cls: Any, elem: Any) -> Any:
            return lib.Tensor._make_wrapper_subclass(
                cls, elem.shape, dtype=elem.dtype, device=elem.device,
                requires_grad=elem.requires_grad, strides=elem.stride(),
                storage_offset=elem.storage_offset())

        def __init__(self, elem: Any) -> None:
            self.elem = elem

        @classmethod
        def __torch_dispatch__(cls: Any, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            log.append((str(func), [type(arg).__name__ for arg in args], args[1:],
                        {key: str(value) for key, value in (kwargs or {}).items()}))
            if func in (lib.ops.aten.detach.default, lib.ops.aten._to_copy.default):
                return cls(func(args[0].elem, *args[1:], **(kwargs or {})))
            raise NotImplementedError(f"Unsupported function {func}")

    return Wrapper


def test_wrapper_subclass_metadata_and_dispatch() -> None:
    def scenario(lib: Any) -> Any:
        log: list[Any] = []
        wrapper_class = _wrapper_class(lib, log)
        wrapper = wrapper_class(lib.ones(2, 3, requires_grad=True))
        metadata = (tuple(wrapper.shape), wrapper.stride(), str(wrapper.dtype),
                    str(wrapper.device), wrapper.requires_grad, wrapper.is_leaf,
                    type(wrapper).__name__)
        converted = [wrapper.bfloat16(), wrapper.to(lib.float64), wrapper.to("cpu"),
                     wrapper.detach(), wrapper.to("meta", lib.float16), wrapper.to("meta"),
                     wrapper.to(lib.float32, copy=True), wrapper.to(lib.float64,
                                                                   non_blocking=True),
                     wrapper.double(), wrapper.to("cpu", copy=True)]
        results = [(type(result).__name__, str(result.dtype), str(result.elem.dtype),
                    str(result.device)) for result in converted]
        failure = _outcome(lambda: wrapper + 1)
        return metadata, results, log, failure

    metadata, results, log, failure = _same_on_both(scenario)
    assert metadata == ((2, 3), (3, 1), "torch.float32", "cpu", True, True, "Wrapper")
    assert [entry[0] for entry in log] == [
        "aten._to_copy.default", "aten._to_copy.default", "aten.detach.default",
        "aten._to_copy.default", "aten._to_copy.default", "aten._to_copy.default",
        "aten._to_copy.default", "aten._to_copy.default", "aten._to_copy.default",
        "aten.add.Tensor"]
    assert log[3][3] == {"dtype": "torch.float16", "device": "meta"}
    assert log[4][3] == {"dtype": "torch.float32", "layout": "torch.strided", "device": "meta"}
    assert results[0] == ("Wrapper", "torch.bfloat16", "torch.bfloat16", "cpu")
    assert failure == ("NotImplementedError", "Unsupported function aten.add.Tensor")


def test_parameters_of_wrapper_subclasses() -> None:
    def scenario(lib: Any) -> Any:
        wrapper_class = _wrapper_class(lib, [])
        parameter = lib.nn.Parameter(wrapper_class(lib.ones(2)))
        frozen = lib.nn.Parameter(wrapper_class(lib.ones(2)), requires_grad=False)
        module = lib.nn.Linear(2, 1)
        module.weight = lib.nn.Parameter(wrapper_class(module.weight))
        return (type(parameter).__name__, isinstance(parameter, lib.nn.Parameter),
                parameter.requires_grad, frozen.requires_grad, parameter._is_param,
                [name for name, _ in module.named_parameters()],
                isinstance(lib.ones(2), lib.nn.Parameter))

    assert _same_on_both(scenario) == (
        "Wrapper", True, True, False, True, ["weight", "bias"], False)


def test_wrapper_subclass_errors() -> None:
    def scenario(lib: Any) -> Any:
        class Plain(lib.Tensor):
            pass

        class Detaches(lib.Tensor):
            @classmethod
            def __torch_dispatch__(cls: Any, func: Any, types: Any, args: Any = (),
                                   kwargs: Any = None) -> Any:
                return lib.zeros(2)

        return (_outcome(lambda: lib.Tensor._make_wrapper_subclass(Plain, (2,))),
                _outcome(lambda: lib.Tensor._make_wrapper_subclass(Detaches, (2,), bad=1)),
                _outcome(lambda: lib.nn.Parameter(lib.Tensor._make_wrapper_subclass(
                    Detaches, (2,), dtype=lib.float32))))

    assert _same_on_both(scenario) == (
        ("TypeError", "Plain must define __torch_dispatch__"),
        ("TypeError", "_make_wrapper_subclass() got an unexpected keyword argument 'bad'"),
        ("RuntimeError", "Creating a Parameter from an instance of type Detaches requires that "
                         "detach() returns an instance of the same type, but return type Tensor "
                         "was found instead. To use the type as a Parameter, please correct the "
                         "detach() semantics defined by its __torch_dispatch__() "
                         "implementation."))


def test_traceable_wrapper_subclasses_are_swapped_on_conversion() -> None:
    class Traceable(_wrapper_class(autodiff, [])):  # type: ignore[misc]
        def __tensor_flatten__(self) -> Any:
            return ["elem"], None

        @staticmethod
        def __tensor_unflatten__(inner: Any, context: Any, size: Any, stride: Any) -> Any:
            return Traceable(inner["elem"])

    module = autodiff.nn.Linear(2, 1, bias=False)
    module.weight = autodiff.nn.Parameter(Traceable(module.weight.detach()))
    weight = module.weight
    module.double()  # no __future__ switch: a traceable wrapper is swapped all the same
    assert module.weight is weight and module.weight.elem.dtype is autodiff.float64
