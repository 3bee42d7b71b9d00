"""torch.library against PyTorch: custom ops (schemas from type hints, kernels, fake impls,
autograd, mutation, vmap), the Library/define/impl API, torch.ops namespaces and opcheck.

Each scenario is written once against a `torch`-like module and run on autodiff and, where it
is installed, on PyTorch, in a namespace of its own (PyTorch keeps its registrations for the
process); what each run observed (values, gradients, node names, errors) must agree.
"""

import itertools
import typing
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import autodiff

_counter = itertools.count()


def _namespace() -> str:
    return f"adtest{next(_counter)}"


def _observe(value: Any) -> Any:
    """What a run saw, comparable across the libraries."""
    if isinstance(value, BaseException):
        return (type(value).__name__, str(value))
    if hasattr(value, "detach") and hasattr(value, "shape"):
        array = np.asarray(value.detach().cpu().numpy() if value.device.type != "meta" else
                           np.zeros(tuple(value.shape)), dtype=float)
        return ("tensor", tuple(value.shape), str(value.dtype).rpartition(".")[2],
                np.round(array, 6).tolist())
    if isinstance(value, (list, tuple)):
        return type(value)(_observe(item) for item in value)
    if isinstance(value, dict):
        return {key: _observe(item) for key, item in value.items()}
    return value


def _raises(function: Callable[[], Any]) -> Any:
    try:
        return function()
    except Exception as exc:
        return exc


def run_both(scenario: Callable[[Any, str], Any]) -> Any:
    """The scenario's observations on autodiff, checked against PyTorch's where installed."""
    namespace = _namespace()
    ours = _observe(scenario(autodiff, namespace))
    try:
        import torch
    except ImportError:
        return ours
    theirs = _observe(scenario(torch, namespace))
    assert ours == theirs
    return ours


# ----------------------------------------------------------------------------- custom_op
def _numpy_sin(torch: Any, ns: str, *, autograd: bool = True) -> Any:
    Tensor = torch.Tensor

    @torch.library.custom_op(f"{ns}::numpy_sin", mutates_args=())
    def numpy_sin(x: Tensor) -> Tensor:
        return torch.from_numpy(np.sin(x.detach().cpu().numpy())).to(x.device)

    @numpy_sin.register_fake
    def _(x: Any) -> Any:
        return torch.empty_like(x)

    if autograd:
        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            (x,) = inputs
            ctx.save_for_backward(x)

        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return grad * x.cos()

        numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


def _tensor_edges(node: Any) -> int:
    # autodiff's custom Function nodes also keep a (None, 0) edge for each non-Tensor argument
    # (here the generated node's metadata argument), where PyTorch's have none.
    return sum(1 for function, _ in node.next_functions if function is not None)


def test_custom_op_values_gradients_and_node() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        numpy_sin = _numpy_sin(torch, ns)
        x = torch.tensor([0.5, 1.0, -2.0], dtype=torch.float64, requires_grad=True)
        y = numpy_sin(x)
        y.sum().backward()
        packet = getattr(torch.ops, ns).numpy_sin
        return [y, x.grad, y.grad_fn.name(), _tensor_edges(y.grad_fn), repr(numpy_sin),
                str(packet), repr(packet.default), packet.default.name(), packet.overloads(),
                str(packet.default._schema), packet(x.detach()), packet.default(x.detach()),
                numpy_sin(x.detach()).requires_grad]

    observed = run_both(scenario)
    assert observed[2].startswith("GeneratedBackwardFor_adtest")


def test_gradcheck_through_custom_op() -> None:
    numpy_sin = _numpy_sin(autodiff, _namespace())
    x = autodiff.randn(4, dtype=autodiff.float64, requires_grad=True)
    assert autodiff.autograd.gradcheck(numpy_sin, (x,))


def test_backward_without_formula_raises() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        numpy_sin = _numpy_sin(torch, ns, autograd=False)
        x = torch.tensor([0.5, 1.0], requires_grad=True)
        y = numpy_sin(x)
        return [y.grad_fn.name(), _raises(lambda: y.sum().backward()), x.grad]

    run_both(scenario)


def test_keyword_only_arguments_and_setup_context() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::scale", mutates_args=())
        def scale(x: Tensor, *, val: float = 2.0) -> Tensor:
            return x * val

        def setup_context(ctx: Any, inputs: Any, keyword_only_inputs: Any, output: Any) -> None:
            ctx.val = keyword_only_inputs["val"]

        scale.register_autograd(lambda ctx, grad: grad * ctx.val, setup_context=setup_context)
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = scale(x, val=3.0)
        y.sum().backward()
        return [y, x.grad, scale(x.detach())]

    run_both(scenario)


def test_tensor_list_inputs_and_outputs() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::weighted", mutates_args=())
        def weighted(tensors: Sequence[Tensor], weights: list[float]) -> list[Tensor]:
            return [t * w for t, w in zip(tensors, weights)]

        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            ctx.weights = inputs[1]

        def backward(ctx: Any, grads: Any) -> Any:
            return [g * w for g, w in zip(grads, ctx.weights)], None

        weighted.register_autograd(backward, setup_context=setup_context)
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([3.0], requires_grad=True)
        out = weighted([a, b], [0.5, 4.0])
        (out[0].sum() + out[1].sum() * 2).backward()
        return [type(out).__name__, out, a.grad, b.grad]

    run_both(scenario)


def test_multiple_outputs_share_one_node() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::pair", mutates_args=())
        def pair(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
            return x * 2, y + 1

        pair.register_autograd(lambda ctx, ga, gb: (ga * 2, gb))
        x = torch.ones(2, requires_grad=True)
        a, b = pair(x, x)
        (a + b).sum().backward()
        return [a.grad_fn is b.grad_fn, a, b, x.grad, _tensor_edges(a.grad_fn)]

    run_both(scenario)


def test_mutated_argument_bumps_version() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::sin_out", mutates_args={"out"})
        def sin_out(x: Tensor, out: Tensor) -> None:
            np.sin(x.numpy(), out=out.numpy())

        x = torch.tensor([0.1, 0.2])
        out = torch.zeros(2)
        before = (x._version, out._version)
        result = sin_out(x, out)
        return [result, out, x._version - before[0], out._version - before[1],
                _raises(lambda: sin_out.register_autograd(lambda ctx, g: g))]

    run_both(scenario)


def test_aliasing_output_is_refused() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::same", mutates_args=())
        def same(x: Tensor) -> Tensor:
            return x

        @torch.library.custom_op(f"{ns}::view", mutates_args=())
        def view(x: Tensor) -> Tensor:
            return x.view(-1)

        errors = [_raises(lambda: same(torch.ones(2))), _raises(lambda: view(torch.ones(2)))]
        # The message names the kernel's module, which differs: compare what follows it.
        return [(type(e).__name__, str(e).partition("): ")[2]) for e in errors]

    run_both(scenario)


def test_call_argument_errors() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::f", mutates_args=())
        def f(x: Tensor, n: int = 2) -> Tensor:
            return x * n

        return [_raises(lambda: f()), _raises(lambda: f(torch.ones(1), 2, 3)),
                _raises(lambda: f(torch.ones(1), foo=1)), f(torch.ones(1), torch.tensor(3)),
                _raises(lambda: f(3.0)), f(x=torch.ones(2)), f(torch.ones(2), n=3)]

    run_both(scenario)


def test_device_types_and_register_kernel() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::f", mutates_args=(), device_types="cpu")
        def f(x: Tensor) -> Tensor:
            return x + 1

        @torch.library.custom_op(f"{ns}::g", mutates_args=(), device_types="cuda")
        def g(x: Tensor) -> Tensor:
            return x + 1

        first = f(torch.zeros(1))

        @f.register_kernel("cpu")
        def _(x: Any) -> Any:
            return x + 10

        second = f(torch.zeros(1))
        with f.set_kernel_enabled("cpu", enabled=False):
            third = f(torch.zeros(1))
        error = _raises(lambda: g(torch.zeros(1)))
        return [first, second, third, f(torch.zeros(1)), type(error).__name__,
                str(error).partition(". ")[0]]

    run_both(scenario)


def test_meta_runs_the_fake_impl() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::crop", mutates_args=())
        def crop(pic: Tensor, box: Sequence[int]) -> Tensor:
            x0, y0, x1, y1 = box
            return pic[:, y0:y1, x0:x1].clone()

        no_fake = _raises(lambda: crop(torch.empty(3, 8, 8, device="meta"), [0, 0, 2, 2]))

        @crop.register_fake
        def _(pic: Any, box: Any) -> Any:
            x0, y0, x1, y1 = box
            return pic.new_empty(pic.shape[0], y1 - y0, x1 - x0)

        made = crop(torch.empty(3, 8, 8, device="meta"), (1, 2, 5, 4))
        return [no_fake, tuple(made.shape), made.device.type]

    run_both(scenario)


# ----------------------------------------------------------------------------- schemas
def test_infer_schema() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        def many(a: Tensor, b: typing.Optional[Tensor], c: Sequence[Tensor], d: int,  # noqa: UP045
                 e: float, f: bool, g: list[int], h: typing.Optional[int] = None,  # noqa: UP045
                 i: float = 2.0, *, k: bool = True, s: str = "hi") -> tuple[Tensor, Tensor]:
            return a, a

        def lists(a: list[Tensor]) -> list[Tensor]:
            return a

        def one(a: Tensor) -> tuple[Tensor]:
            return (a,)

        def nothing(x: Tensor, y: list[typing.Optional[Tensor]]) -> None:  # noqa: UP045
            pass

        infer = torch.library.infer_schema
        return [infer(many, mutates_args=()), infer(many, mutates_args="unknown"),
                infer(lists, mutates_args={"a"}, op_name="lists"), infer(one, mutates_args=()),
                infer(nothing, mutates_args=["x"])]

    run_both(scenario)


def _prefix(error: Any) -> Any:
    """An error up to the list of valid types (which names each library's classes)."""
    if not isinstance(error, BaseException):
        return error
    return type(error).__name__, str(error).partition("The valid types")[0].partition(
        " Got func")[0]


def test_infer_schema_errors() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        def plain(x: Tensor) -> Tensor:
            return x

        def with_int(x: Tensor, n: int) -> Tensor:
            return x

        def no_annotation(x):  # type: ignore[no-untyped-def]
            return x

        def no_return(x: Tensor):  # type: ignore[no-untyped-def]
            return x

        def bad_type(x: dict) -> Tensor:  # type: ignore[type-arg]
            return x  # type: ignore[return-value]

        def tuple_input(x: tuple[int, int]) -> Tensor:
            return x  # type: ignore[return-value]

        def bad_return(x: Tensor) -> dict:  # type: ignore[type-arg]
            return x  # type: ignore[return-value]

        def varargs(*x: Tensor) -> Tensor:
            return x[0]

        infer = torch.library.infer_schema
        attempts = [(plain, ("y",)), (plain, "x"), (with_int, ("n",)), (no_annotation, ()),
                    (no_return, ()), (bad_type, ()), (tuple_input, ()), (bad_return, ()),
                    (varargs, ())]
        return [_prefix(_raises(lambda f=f, m=m: infer(f, mutates_args=m)))
                for f, m in attempts]

    run_both(scenario)


def test_custom_op_definition_errors() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        def plain(x: Tensor) -> Tensor:
            return x.clone()

        def keyword_tensor(a: Tensor, *, b: Tensor) -> Tensor:
            return a.clone()

        custom_op = torch.library.custom_op
        return [
            _raises(lambda: custom_op("nonamespace", mutates_args=())(plain)),
            _raises(lambda: custom_op("a::b::c", mutates_args=())(plain)),
            _raises(lambda: custom_op(f"{ns}::kw", mutates_args=())(keyword_tensor)),
            _raises(lambda: custom_op(f"{ns}::sm", mutates_args=(),
                                      schema="(Tensor(a!) x) -> Tensor")(plain)),
            repr(custom_op(f"{ns}::ok", mutates_args=(), schema="(Tensor x) -> Tensor")(plain)),
            _raises(lambda: torch.library.register_fake(f"{ns}::nothere", plain)),
        ]

    run_both(scenario)


# ----------------------------------------------------------------------------- Library API
def test_library_define_and_impl() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        lib = torch.library.Library(ns, "DEF")
        name = lib.define("double(Tensor x) -> Tensor")
        lib.impl("double", lambda x: torch.from_numpy(x.detach().numpy() * 2), "CPU")
        x = torch.tensor([1.0, 2.0])
        first = getattr(torch.ops, ns).double(x)
        torch.library.define(f"{ns}::triple", "(Tensor x) -> Tensor")

        @torch.library.impl(f"{ns}::triple", "default")
        def _(x: Any) -> Any:
            return x * 3

        second = getattr(torch.ops, ns).triple.default(x)
        lib.define("nokernel(Tensor x) -> Tensor")
        no_kernel = _raises(lambda: getattr(torch.ops, ns).nokernel(x))
        duplicate = _raises(lambda: lib.define("double(Tensor x) -> Tensor"))
        return [name, first, second, str(duplicate).partition(" Duplicate registration")[0],
                str(_raises(lambda: torch.library.Library(ns, "DEF"))).partition("  Previous")[0],
                _raises(lambda: torch.library.Library(ns, "XYZ")),
                _raises(lambda: getattr(torch.ops, ns).missing),
                type(no_kernel).__name__, str(no_kernel).partition(". ")[0],
                _raises(lambda: torch.library.define(f"{ns}::bad", "Tensor x -> Tensor"))]

    run_both(scenario)


def test_library_op_without_autograd_warns_at_backward() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        lib = torch.library.Library(ns, "FRAGMENT")
        lib.define("sin(Tensor x) -> Tensor")
        lib.impl("sin", lambda x: torch.from_numpy(np.sin(x.detach().numpy())), "CPU")
        x = torch.tensor([0.5, 1.0], requires_grad=True)
        y = getattr(torch.ops, ns).sin(x)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y.sum().backward()
        messages = [str(w.message).partition(" (Triggered")[0] for w in caught]
        return [y.requires_grad, y.grad_fn.name(), x.grad, messages]

    run_both(scenario)


def test_register_autograd_for_library_op() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        torch.library.define(f"{ns}::cube", "(Tensor x) -> Tensor")
        torch.library.impl(f"{ns}::cube", "cpu",
                           lambda x: torch.from_numpy(x.detach().numpy() ** 3))

        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            ctx.save_for_backward(inputs[0])

        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

        torch.library.register_autograd(f"{ns}::cube", backward, setup_context=setup_context)
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = getattr(torch.ops, ns).cube(x)
        y.sum().backward()
        return [y, x.grad, y.grad_fn.name()]

    run_both(scenario)


def test_impl_abstract_warns_and_registers() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        torch.library.define(f"{ns}::f", "(Tensor x) -> Tensor")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.library.impl_abstract(f"{ns}::f", lambda x: torch.empty_like(x))
        made = getattr(torch.ops, ns).f(torch.empty(2, device="meta"))
        return [[w.category.__name__ for w in caught], tuple(made.shape)]

    run_both(scenario)


# ----------------------------------------------------------------------------- vmap
def test_vmap_rule_and_fallback() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::mul", mutates_args=())
        def mul(x: Tensor, y: Tensor) -> Tensor:
            return torch.from_numpy(x.numpy() * y.numpy())

        seen = []

        @mul.register_vmap
        def _(info: Any, in_dims: Any, x: Any, y: Any) -> Any:
            seen.append((info.batch_size, info.randomness, in_dims))
            x = x.movedim(in_dims[0], -1) if in_dims[0] is not None else x.unsqueeze(-1)
            y = y.movedim(in_dims[1], -1) if in_dims[1] is not None else y.unsqueeze(-1)
            return (x * y).movedim(-1, 0), 0

        @torch.library.custom_op(f"{ns}::plain", mutates_args=())
        def plain(x: Tensor) -> Tensor:
            return torch.from_numpy(np.sin(x.numpy()))

        x = torch.arange(6.0).reshape(2, 3)
        batched = torch.vmap(mul, in_dims=(0, None))(x, torch.ones(3) * 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            looped = torch.vmap(plain)(x)
        return [batched, seen, looped]

    run_both(scenario)


# ----------------------------------------------------------------------------- opcheck
def _opcheck_summary(result: dict[str, Any]) -> dict[str, Any]:
    return {name: outcome if isinstance(outcome, str) else type(outcome).__name__
            for name, outcome in result.items()}


def test_opcheck_results() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor
        custom_op = torch.library.custom_op
        opcheck = torch.library.opcheck

        def fresh(x: Any) -> Any:
            return torch.from_numpy(np.sin(x.detach().numpy()))

        good = _numpy_sin(torch, ns)
        @custom_op(f"{ns}::nofake", mutates_args=())
        def no_fake(x: Tensor) -> Tensor:
            return fresh(x)

        @custom_op(f"{ns}::wrong_shape", mutates_args=())
        def wrong_shape(x: Tensor) -> Tensor:
            return fresh(x)

        wrong_shape.register_fake(lambda x: x.new_empty(x.shape[0] + 1))

        @custom_op(f"{ns}::wrong_dtype", mutates_args=())
        def wrong_dtype(x: Tensor) -> Tensor:
            return x.clone()

        wrong_dtype.register_fake(lambda x: x.new_empty(x.shape, dtype=torch.float64))

        @custom_op(f"{ns}::undeclared", mutates_args=())
        def undeclared(x: Tensor) -> Tensor:
            x.add_(1)
            return x.clone()

        undeclared.register_fake(lambda x: torch.empty_like(x))

        @custom_op(f"{ns}::writes", mutates_args={"y"})
        def writes(x: Tensor, y: Tensor) -> None:
            y.copy_(x)

        x = torch.randn(3)
        x_grad = torch.randn(3, requires_grad=True)
        results = [
            opcheck(good, (x_grad,), raise_exception=False),
            opcheck(good, (x_grad,), test_utils="ALL", raise_exception=False),
            opcheck(no_fake, (x,), raise_exception=False),
            opcheck(no_fake, (x_grad,), raise_exception=False),
            opcheck(wrong_shape, (x,), raise_exception=False),
            opcheck(wrong_dtype, (x,), raise_exception=False),
            opcheck(undeclared, (x,), raise_exception=False),
            opcheck(writes, (x, torch.zeros(3)), raise_exception=False),
        ]
        messages = [str(results[2]["test_faketensor"]),
                    str(results[3]["test_aot_dispatch_dynamic"]),
                    str(results[4]["test_faketensor"]), str(results[5]["test_faketensor"]),
                    str(results[6]["test_schema"])]
        raised = _raises(lambda: opcheck(no_fake, (x,)))
        return [[_opcheck_summary(result) for result in results], messages,
                type(raised).__name__, str(raised),
                _raises(lambda: opcheck(lambda x: x, (x,))),
                _raises(lambda: opcheck(good, (x,), test_utils="nope")),
                _raises(lambda: opcheck(good, (x,), atol=1.0))]

    run_both(scenario)


def test_opcheck_library_op_registered_below_autograd() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        lib = torch.library.Library(ns, "FRAGMENT")
        lib.define("sin(Tensor x) -> Tensor")
        lib.impl("sin", lambda x: x.sin(), "CPU")
        torch.library.register_fake(f"{ns}::sin", lambda x: torch.empty_like(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = torch.library.opcheck(
                getattr(torch.ops, ns).sin.default, (torch.randn(3, requires_grad=True),),
                test_utils=("test_schema", "test_autograd_registration", "test_faketensor"),
                raise_exception=False)
        return [_opcheck_summary(result), str(result["test_autograd_registration"])]

    run_both(scenario)


# ----------------------------------------------------------------------------- compile
def test_compile_replays_the_kernel() -> None:
    numpy_sin = _numpy_sin(autodiff, _namespace())
    calls = []

    def f(x: Any) -> Any:
        calls.append(1)
        y = numpy_sin(x * 2).sum()
        return autodiff.autograd.grad(y, x)[0]

    compiled = autodiff.compile(f, fullgraph=True)
    autodiff.reset_compile_stats()
    for _ in range(3):
        x = autodiff.randn(4, dtype=autodiff.float64, requires_grad=True)
        np.testing.assert_allclose(compiled(x).numpy(), (2 * (2 * x).cos()).detach().numpy())
    stats = autodiff.compile_stats()
    assert stats["traces"] == 1 and stats["replays"] == 2 and stats["graph_breaks"] == 0
    assert len(calls) == 1  # the Python ran once; the replays called the kernel


def test_ops_namespace_is_not_made_by_lookup() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'never_defined_here'"):
        autodiff.ops.never_defined_here  # noqa: B018
    with pytest.raises(NotImplementedError, match="namespace 'aten'"):
        autodiff.library.Library("aten", "IMPL")


def test_modes_around_a_custom_op() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::double", mutates_args=())
        def double(x: Tensor, b: typing.Optional[Tensor]) -> Tensor:  # noqa: UP045
            return x * 2 if b is None else x * b

        double.register_autograd(lambda ctx, grad: (grad * 2, None))
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            no_grad = double(x, None).requires_grad
        second = torch.autograd.grad(
            torch.autograd.grad(double(x, None).pow(2).sum(), x, create_graph=True)[0].sum(), x)
        forward_ad = torch.autograd.forward_ad
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(torch.tensor([1.0, 2.0]), torch.ones(2))
            tangent = forward_ad.unpack_dual(double(dual, None)).tangent  # opaque: none
        return [no_grad, second, tangent, double(x.detach(), torch.tensor([3.0, 3.0]))]

    run_both(scenario)


def test_custom_op_on_every_device(device: str) -> None:
    ns = _namespace()
    Tensor = autodiff.Tensor

    @autodiff.library.custom_op(f"{ns}::scaled_sin", mutates_args=())
    def scaled_sin(x: Tensor, scale: float) -> Tensor:
        return x.sin() * scale

    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_backward(inputs[0])
        ctx.scale = inputs[1]

    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * x.cos() * ctx.scale, None

    scaled_sin.register_autograd(backward, setup_context=setup_context)

    @autodiff.library.custom_op(f"{ns}::fill_", mutates_args={"out"})
    def fill_(out: Tensor, value: float) -> None:
        out.fill_(value)

    x = autodiff.tensor([0.5, 1.0, 2.0], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    y = scaled_sin(x, 3.0)
    assert y.device == x.device
    y.sum().backward()
    expected = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(y.detach().cpu().numpy(), np.sin(expected) * 3)
    np.testing.assert_allclose(x.grad.cpu().numpy(), np.cos(expected) * 3)
    assert autodiff.autograd.gradcheck(lambda t: scaled_sin(t, 3.0), (x,))
    out = autodiff.zeros(2, device=device)
    version = out._version
    fill_(out, 4.0)
    assert out._version == version + 2  # fill_'s own write and the op's
    np.testing.assert_allclose(out.cpu().numpy(), [4.0, 4.0])


def test_factory_op_takes_its_device_argument() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::ones3", mutates_args={}, device_types="cpu")
        def ones3(device: torch.device) -> Tensor:
            return torch.ones(3)

        def no_device(n: int) -> Tensor:
            return torch.ones(n)

        refused = _raises(lambda: torch.library.custom_op(
            f"{ns}::bad", mutates_args=(), device_types="cpu")(no_device))
        return [ones3("cpu"), ones3(torch.device("cpu")), str(ones3._opoverload._schema),
                refused]

    run_both(scenario)


def test_number_outputs_registration_by_name_and_defaults() -> None:
    def scenario(torch: Any, ns: str) -> Any:
        Tensor = torch.Tensor

        @torch.library.custom_op(f"{ns}::count", mutates_args=())
        def count(x: Tensor) -> int:
            return int((x > 0).sum())

        @torch.library.custom_op(f"{ns}::mixed", mutates_args=())
        def mixed(x: Tensor) -> tuple[Tensor, int]:
            return x * 2, 3

        @torch.library.custom_op(f"{ns}::plus", mutates_args=())
        def plus(x: Tensor) -> Tensor:
            return x + 1

        torch.library.register_kernel(f"{ns}::plus", "cpu", lambda x: x + 100)
        torch.library.register_autograd(f"{ns}::plus", lambda ctx, grad: grad * 7)
        x = torch.tensor([1.0, -1.0, 2.0], requires_grad=True)
        plus(x).sum().backward()

        cpu = torch.device("cpu")

        def defaults(x: Tensor, b: typing.Optional[Tensor] = None, s: str = "a",  # noqa: UP045
                     d: torch.dtype = torch.float32,
                     dev: torch.device = cpu) -> Tensor:
            return x

        return [count(x), mixed(x), mixed(x)[0].grad_fn.name(),
                _raises(lambda: mixed(torch.empty(2, device="meta"))), x.grad,
                torch.library.opcheck(getattr(torch.ops, ns).plus, (torch.zeros(2),),
                                      test_utils="test_schema"),
                torch.library.infer_schema(defaults, mutates_args=())]

    run_both(scenario)


def test_operator_calls_go_through_torch_function() -> None:
    """A torch.ops call offers itself to `__torch_function__` modes and arguments first (as
    PyTorch's do), as the packet or the overload that was called: fx records it with a Proxy
    argument, and generated code names it torch.ops.<namespace>.<op>[.<overload>]."""
    import autodiff.fx
    from autodiff.overrides import TorchFunctionMode

    @autodiff.library.custom_op("tfmode_test::double", mutates_args=())
    def double(x: autodiff.Tensor) -> autodiff.Tensor:
        return x * 2

    seen = []

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    x = autodiff.ones(2)
    with Record():
        autodiff.ops.tfmode_test.double(x)
        autodiff.ops.tfmode_test.double.default(x)
    assert seen == [autodiff.ops.tfmode_test.double, autodiff.ops.tfmode_test.double.default]

    gm = autodiff.fx.symbolic_trace(lambda x: autodiff.ops.tfmode_test.double.default(x) + 1)
    assert "torch.ops.tfmode_test.double.default(x)" in gm.code
    assert autodiff.equal(gm(x), x * 2 + 1)
