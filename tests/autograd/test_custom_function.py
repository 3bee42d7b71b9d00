"""autograd.Function: custom ops with a hand-written backward, against analytic values and
against PyTorch (names, errors, what ctx holds, which gradients backward receives)."""

from __future__ import annotations

import math
from typing import Any

import pytest

import autodiff
from autodiff import autograd
from autodiff.function import Function as BuiltinFunction
from tests.autograd._compare import error_of, same_as_torch


def _define(lib: Any) -> dict[str, Any]:
    """The same custom Functions for either library."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (result,) = ctx.saved_tensors
            return grad * result

    class ScaledProduct(lib.autograd.Function):
        """x * y * scale with a Python number among the arguments."""

        @staticmethod
        def forward(ctx: Any, x: Any, y: Any, scale: float) -> Any:
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            ctx.seen = ctx.needs_input_grad
            return x * y * scale

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            x, y = ctx.saved_tensors
            needs_x, needs_y, _ = ctx.needs_input_grad
            return (grad * y * ctx.scale if needs_x else None,
                    grad * x * ctx.scale if needs_y else None, None)

    class SplitSquare(lib.autograd.Function):
        """Two outputs: x^2 and x^3."""

        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x * x, x * x * x

        @staticmethod
        def backward(ctx: Any, grad_square: Any, grad_cube: Any) -> Any:
            (x,) = ctx.saved_tensors
            return grad_square * 2 * x + grad_cube * 3 * x * x

    class Unmaterialized(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx: Any, first: Any, second: Any) -> Any:
            ctx.log = (first, second)
            result = 0
            if first is not None:
                result = result + first * 2
            if second is not None:
                result = result + second * 3
            return result

    class WithMask(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            mask = (x > 1).double()
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        @staticmethod
        def backward(ctx: Any, grad: Any, grad_mask: Any) -> Any:
            ctx.grad_mask = grad_mask
            return grad * 2

    class AddOneInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return grad

    class Cube(lib.autograd.Function):
        """forward without ctx + setup_context (PyTorch 2 style)."""

        @staticmethod
        def forward(x: Any) -> Any:
            return x ** 3

        @staticmethod
        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    return {name: value for name, value in locals().items() if name != "lib"}


def test_values_and_node_names(device: str) -> None:
    ops = _define(autodiff)
    x = autodiff.tensor([0.5, 1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    y = ops["Exp"].apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    assert repr(y.grad_fn).startswith("<autodiff.autograd.function.ExpBackward object at 0x")
    assert "grad_fn=<ExpBackward>" in repr(y)
    assert isinstance(y.grad_fn, ops["Exp"])  # the node is the ctx
    y.sum().backward()
    assert x.grad.tolist() == pytest.approx([math.exp(0.5), math.exp(1.5)], rel=1e-14)
    assert x.grad.device == x.device


def test_one_mechanism_with_builtin_ops() -> None:
    """The user-facing class is the built-in op class with forward called on Tensors."""
    assert issubclass(autograd.Function, BuiltinFunction)
    for name in ("_record", "_run_backward", "saved_tensors", "save_for_backward",
                 "mark_non_differentiable", "set_materialize_grads", "_check_saved"):
        assert getattr(autograd.Function, name) is getattr(BuiltinFunction, name)


def test_the_array_level_op_base_is_not_a_top_level_name() -> None:
    """As in PyTorch (no `torch.Function`), custom ops subclass `autograd.Function` only: the
    built-in base runs forward on backend arrays, so a subclass written for Tensors would fail
    later with "'numpy.ndarray' object has no attribute 'exp'"."""
    assert "Function" not in vars(autodiff)
    with pytest.raises(AttributeError, match="Function"):
        autodiff.Function  # noqa: B018
    ops = _define(autodiff)
    x = autodiff.tensor([0.5], requires_grad=True)
    assert ops["Exp"].apply(x).grad_fn.name() == "ExpBackward"


def test_torch_has_no_top_level_function_either() -> None:
    torch = pytest.importorskip("torch")
    assert not hasattr(torch, "Function")
    assert hasattr(torch.autograd, "Function")


def test_second_order_through_a_saved_output(device: str) -> None:
    ops = _define(autodiff)
    x = autodiff.tensor([0.5], dtype=autodiff.float64, device=device, requires_grad=True)
    (g,) = autograd.grad(ops["Exp"].apply(x), x, create_graph=True)
    (h,) = autograd.grad(g, x, create_graph=True)
    (third,) = autograd.grad(h, x)
    assert third.item() == pytest.approx(math.exp(0.5), rel=1e-14)


def test_custom_functions_pass_gradcheck_and_gradgradcheck(device: str) -> None:
    ops = _define(autodiff)
    x = autodiff.tensor([0.3, 1.2, 2.0], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    y = autodiff.tensor([-0.7, 0.4, 1.1], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    assert autograd.gradcheck(ops["Exp"].apply, (x,))
    assert autograd.gradgradcheck(ops["Exp"].apply, (x,))
    assert autograd.gradcheck(lambda a, b: ops["ScaledProduct"].apply(a, b, 2.5), (x, y))
    assert autograd.gradgradcheck(lambda a, b: ops["ScaledProduct"].apply(a, b, 2.5), (x, y))
    assert autograd.gradcheck(ops["SplitSquare"].apply, (x,))
    assert autograd.gradgradcheck(ops["SplitSquare"].apply, (x,))
    assert autograd.gradcheck(ops["Cube"].apply, (x,))


def test_behaviour_matches_torch() -> None:
    def scenario(lib: Any) -> Any:
        ops = _define(lib)
        log = []
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([3.0, 4.0], dtype=lib.float64)
        out = ops["ScaledProduct"].apply(x, y, 2.0)
        log.append((out, out.grad_fn.name(), out.grad_fn.seen, out.grad_fn.needs_input_grad))
        out.sum().backward()
        log.append((x.grad, y.grad))
        with lib.no_grad():
            quiet = ops["ScaledProduct"].apply(x, y, 2.0)
        log.append((quiet.requires_grad, quiet.grad_fn))
        plain = ops["ScaledProduct"].apply(y, y, 2.0)
        log.append((plain.requires_grad, plain.grad_fn))
        square, cube = ops["SplitSquare"].apply(x)
        log.append((square.grad_fn is cube.grad_fn, square.grad_fn.next_functions[0][1]))
        x.grad = None
        cube.sum().backward()  # the square's gradient is materialized as zeros
        log.append(x.grad)
        first, _ = ops["Unmaterialized"].apply(x)
        first.sum().backward()
        log.append(first.grad_fn.log)
        values, mask = ops["WithMask"].apply(x)
        log.append((mask, mask.requires_grad, mask.grad_fn, values.grad_fn.name()))
        values.sum().backward()
        log.append((values.grad_fn.grad_mask, x.grad))
        cubed = ops["Cube"].apply(x)
        x.grad = None
        cubed.sum().backward()
        log.append((cubed.grad_fn.name(), x.grad))
        return log

    same_as_torch(scenario)


def test_mark_dirty_matches_torch() -> None:
    def scenario(lib: Any) -> Any:
        ops = _define(lib)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        before = h._version
        result = ops["AddOneInPlace"].apply(h)
        log = [result is h, h.grad_fn.name(), h._version - before, h]
        (h * h).sum().backward()
        log.append(x.grad)
        log.append(error_of(lambda: ops["AddOneInPlace"].apply(x)))
        return log

    same_as_torch(scenario)


def test_keyword_arguments_bind_to_forward_parameters() -> None:
    def scenario(lib: Any) -> Any:
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any, scale: float = 2.0, *, shift: float = 0.0) -> Any:
                ctx.seen = ctx.needs_input_grad
                return x * scale + shift

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return (grad * 2,) + (None,) * (len(ctx.needs_input_grad) - 1)

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        by_default = Scale.apply(x)
        by_name = Scale.apply(x, scale=3.0)
        return [by_default, by_default.grad_fn.seen, by_name, by_name.grad_fn.seen,
                error_of(lambda: Scale.apply(x, shift=1.0))]

    same_as_torch(scenario)


def test_backward_result_errors_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        def make(result: Any) -> Any:
            class Broken(lib.autograd.Function):
                @staticmethod
                def forward(ctx: Any, x: Any, y: Any) -> Any:
                    return x * y

                @staticmethod
                def backward(ctx: Any, grad: Any) -> Any:
                    return result(grad)

            return Broken

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0], requires_grad=True)
        cases = [
            lambda g: g,  # one gradient for two inputs
            lambda g: (g, g, g),  # three for two
            lambda g: (lib.ones(3), g),  # wrong shape
            lambda g: (1.0, g),  # not a Tensor
        ]
        errors = [error_of(lambda case=case: make(case).apply(x, y).sum().backward())
                  for case in cases]
        # Extra Nones are accepted; a broadcastable gradient is summed to the input's shape.
        make(lambda g: (g.expand(3, 2), g, None, None)).apply(x, y).sum().backward()
        return errors, x.grad, y.grad

    same_as_torch(scenario)


def test_non_tensor_outputs_keep_their_slot() -> None:
    def scenario(lib: Any) -> Any:
        class WithCount(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                return x * 2, 3, x * 3

            @staticmethod
            def backward(ctx: Any, *grads: Any) -> Any:
                ctx.seen = grads
                return grads[0] * 2 + grads[2] * 3

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        doubled, count, tripled = WithCount.apply(x)
        doubled.sum().backward()
        return [count, tripled.output_nr, doubled.grad_fn.seen, x.grad]

    same_as_torch(scenario)


def test_save_for_backward_refuses_non_tensors() -> None:
    def scenario(lib: Any) -> Any:
        class SavesNumber(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.save_for_backward(x, 3)
                return x * 2

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return grad

        x = lib.tensor([1.0], requires_grad=True)
        return error_of(lambda: SavesNumber.apply(x))

    same_as_torch(scenario)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_forward_runs_without_recording_and_backward_records_only_with_create_graph() -> None:
    def scenario(lib: Any) -> Any:
        log = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                log.append(("forward", lib.is_grad_enabled()))
                return x * 2

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                log.append(("backward", lib.is_grad_enabled()))
                return grad * 2

        x = lib.tensor([1.0], requires_grad=True)
        Probe.apply(x).sum().backward()
        Probe.apply(x).sum().backward(create_graph=True)
        return log

    same_as_torch(scenario)


def test_intermediate_saved_tensor_is_a_constant() -> None:
    def scenario(lib: Any) -> Any:
        class SavesIntermediate(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                three_x = x * 3
                ctx.save_for_backward(three_x, x)
                return three_x * 2

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                three_x, x = ctx.saved_tensors
                ctx.seen = (three_x.requires_grad, three_x.grad_fn, x.requires_grad)
                return grad * 6

        x = lib.tensor([1.0], requires_grad=True)
        y = SavesIntermediate.apply(x)
        y.backward()
        return y.grad_fn.seen, x.grad

    same_as_torch(scenario)


def test_once_differentiable() -> None:
    def scenario(lib: Any) -> Any:
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx: Any, grad: Any) -> Any:
                (x,) = ctx.saved_tensors
                return grad * 2 * x

        x = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        (plain,) = lib.autograd.grad(Square.apply(x), x, create_graph=True)
        seed = lib.ones(1, dtype=lib.float64, requires_grad=True)
        (recorded,) = lib.autograd.grad(Square.apply(x), x, seed, create_graph=True)
        return [plain, plain.requires_grad, recorded, recorded.requires_grad,
                error_of(lambda: recorded.backward())]

    same_as_torch(scenario)


def test_vjp_is_backward_and_both_are_refused() -> None:
    def scenario(lib: Any) -> Any:
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                return x * 2

            @staticmethod
            def vjp(ctx: Any, grad: Any) -> Any:
                return grad * 2

        class Both(Double):
            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return grad

        x = lib.tensor([1.0, 3.0], requires_grad=True)
        Double.apply(x).sum().backward()
        y = lib.tensor([1.0], requires_grad=True)
        return [x.grad, error_of(lambda: Both.apply(y).sum().backward()), y.grad]

    same_as_torch(scenario)


def test_boxed_grads_call_hands_backward_one_list() -> None:
    def scenario(lib: Any) -> Any:
        seen = []

        class Two(lib.autograd.Function):
            boxed_grads_call = True

            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                return x * 2, x * 3

            @staticmethod
            def backward(ctx: Any, grads: Any) -> Any:
                seen.append((type(grads).__name__, len(grads)))
                first, second = grads
                grads[0] = grads[1] = None  # the list is the caller's, and may be emptied
                return first * 2 + second * 3

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = Two.apply(x)
        (a.sum() + 10 * b.sum()).backward()
        z = lib.tensor([1.0], requires_grad=True)
        Two.apply(z)[0].sum().backward()  # the other output's gradient materialized as zeros
        return [seen, x.grad, z.grad]

    same_as_torch(scenario)


def test_clear_saved_tensors_on_access() -> None:
    def scenario(lib: Any) -> Any:
        class Square(lib.autograd.Function):
            clear_saved_tensors_on_access = True

            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                (x,) = ctx.saved_tensors
                return grad * 2 * x

        class ReadsTwice(Square):
            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                _ = ctx.saved_tensors
                (x,) = ctx.saved_tensors
                return grad * 2 * x

        x = lib.tensor([3.0], requires_grad=True)
        y = Square.apply(x)
        y.backward(retain_graph=True)
        first = x.grad.clone()
        again = error_of(lambda: y.backward())  # its saved tensors went on the first access
        z = lib.tensor([1.0], requires_grad=True)
        twice = error_of(lambda: ReadsTwice.apply(z).backward())
        return [first, again, twice, z.grad]

    same_as_torch(scenario)


def _cube_class(lib: Any, generate: bool) -> Any:
    class Cube(lib.autograd.Function):
        generate_vmap_rule = generate

        @staticmethod
        def forward(x: Any) -> Any:
            return x ** 3, 3 * x ** 2

        @staticmethod
        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            (x,) = inputs
            ctx.save_for_backward(x, output[1])

        @staticmethod
        def backward(ctx: Any, grad: Any, grad_dx: Any) -> Any:
            x, dx = ctx.saved_tensors
            return grad * dx + grad_dx * 6 * x

    return Cube


def test_generated_vmap_rule_composes_with_grad() -> None:
    def scenario(lib: Any) -> Any:
        cube = _cube_class(lib, True)

        def f(x: Any) -> Any:
            return cube.apply(x)[0]

        x = lib.tensor([0.5, -1.5, 2.0])
        weights = lib.tensor([1.0, 2.0, 3.0])
        return [lib.vmap(f)(x), lib.vmap(lib.func.grad(f))(x),
                lib.vmap(lib.func.grad(lib.func.grad(f)))(x), lib.func.jacrev(lib.vmap(f))(x),
                lib.vmap(lib.vmap(f))(x.reshape(3, 1)),
                lib.vmap(lambda a: cube.apply(a * weights)[0])(x),
                lib.vmap(lambda a: f(a * weights).sum(), in_dims=0)(x)]

    same_as_torch(scenario)


def test_vmap_staticmethod_and_refusals() -> None:
    def scenario(lib: Any) -> Any:
        calls = []

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x: Any, factor: float) -> Any:
                return x * factor

            @staticmethod
            def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
                ctx.factor = inputs[1]

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return grad * ctx.factor, None

            @staticmethod
            def vmap(info: Any, in_dims: Any, x: Any, factor: float) -> Any:
                # (autodiff keeps every batch dim first, PyTorch where it was: in_dims[0] says
                # which, so only whether x is batched is compared)
                calls.append((info.batch_size, info.randomness, in_dims[0] is None, in_dims[1]))
                return Scale.apply(x.movedim(in_dims[0], 0), factor), 0

        class OldStyle(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                return x * 2

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return grad * 2

        x = lib.arange(6.0).reshape(2, 3)
        scaled = lib.vmap(lambda row: Scale.apply(row, 3.0), in_dims=1)(x)
        grads = lib.vmap(lib.func.grad(lambda row: Scale.apply(row, 3.0).sum()))(x)
        return [scaled, grads, calls,
                error_of(lambda: lib.vmap(lambda row: _cube_class(lib, False).apply(row)[0])(x)),
                error_of(lambda: lib.vmap(OldStyle.apply)(x))]

    same_as_torch(scenario)
