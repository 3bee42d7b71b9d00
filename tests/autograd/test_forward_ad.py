"""autograd.forward_ad: dual levels, make_dual/unpack_dual, PyTorch's errors, tangents through
in-place ops and views, forward-over-reverse and reverse-over-forward, custom Functions' jvp.

The per-op rules are checked over the whole op table in test_op_db_forward_ad.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import autograd
from autodiff.autograd import forward_ad as fwAD


def _tensor(values: object, device: str = "cpu", **kwargs: object) -> autodiff.Tensor:
    return autodiff.tensor(values, dtype=autodiff.float64, device=device, **kwargs)


# ----------------------------------------------------------------------------- levels
def test_dual_level_enters_and_exits_and_drops_tangents() -> None:
    x = _tensor([1.0, 2.0])
    with fwAD.dual_level() as level:
        assert level == 0
        dual = fwAD.make_dual(x, _tensor([1.0, 1.0]))
        out = dual * 3
        assert fwAD.unpack_dual(out).tangent is not None
    assert fwAD.unpack_dual(out) == (out, None)
    assert fwAD.unpack_dual(out).tangent is None
    assert fwAD.enter_dual_level() == 0  # the level is free again
    fwAD.exit_dual_level()


def test_nested_levels_are_refused() -> None:
    with fwAD.dual_level(), pytest.raises(
            RuntimeError, match=r"^Nested forward mode AD is not supported at the moment$"):
        fwAD.enter_dual_level()


def test_exit_errors() -> None:
    with pytest.raises(RuntimeError, match=r"^Dual level must be a positive number.$"):
        fwAD.exit_dual_level()
    with fwAD.dual_level(), pytest.raises(
            RuntimeError, match=r"^Trying to exit a forward AD level that was not the last one"):
        fwAD.exit_dual_level(level=3)


def test_dual_level_decorates() -> None:
    @fwAD.dual_level()
    def tangent_of_square(x: autodiff.Tensor) -> autodiff.Tensor:
        return fwAD.unpack_dual(fwAD.make_dual(x, autodiff.ones_like(x)) ** 2).tangent

    np.testing.assert_allclose(tangent_of_square(_tensor([1.0, 3.0])).numpy(), [2.0, 6.0])
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level()


# ----------------------------------------------------------------------------- make/unpack
def test_make_dual_errors_as_pytorch() -> None:
    x = _tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"^Trying to create a dual Tensor for forward AD but "
                                           r"no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, x)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"^Trying to set a forward gradient that has a "
                           r"different size .* Tensor is of size \[3\] while the given forward "
                           r"gradient is of size \[4\].$"):
            fwAD.make_dual(x, _tensor([1.0, 2.0, 3.0, 4.0]))
        with pytest.raises(ValueError, match=r"^Expected primal to be floating point or complex, "
                                             r"but got: torch.int64$"):
            fwAD.make_dual(autodiff.tensor([1, 2]), _tensor([1.0, 2.0]))
        with pytest.raises(ValueError, match=r"^Expected tangent to be floating point or "
                                             r"complex, but got: torch.int64$"):
            fwAD.make_dual(_tensor([1.0, 2.0]), autodiff.tensor([1, 2]))
        dual = fwAD.make_dual(x, x)
        with pytest.raises(RuntimeError, match=r"^Making a dual Tensor based on a Tensor that "
                           r"already has a forward gradient at the same level 0 is not"):
            fwAD.make_dual(dual, x)


def test_make_dual_is_a_view_and_unpack_returns_the_tangent_itself() -> None:
    x = _tensor([1.0, 2.0], requires_grad=True)
    tangent = _tensor([0.5, -1.0])
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, tangent)
        assert dual._base is x and dual.grad_fn.name() == "ViewBackward0"
        unpacked = fwAD.unpack_dual(dual)
        assert isinstance(unpacked, fwAD.UnpackedDualTensor)
        assert unpacked.tangent is tangent
        assert fwAD.unpack_dual(unpacked.primal).tangent is None  # the primal is not dual
        assert fwAD.unpack_dual(x).tangent is None


def test_tangent_dtype_is_kept_as_given() -> None:
    with fwAD.dual_level():
        dual = fwAD.make_dual(_tensor([1.0, 2.0]), autodiff.ones(2))
        assert fwAD.unpack_dual(dual).tangent.dtype is autodiff.float32


def test_tangents_propagate_under_no_grad(device: str) -> None:
    with fwAD.dual_level():
        dual = fwAD.make_dual(_tensor([1.0, 2.0], device), _tensor([1.0, 1.0], device))
        with autodiff.no_grad():
            out = (dual * dual).sum()
        assert float(fwAD.unpack_dual(out).tangent) == 6.0


def test_integer_outputs_get_no_tangent(device: str) -> None:
    with fwAD.dual_level():
        dual = fwAD.make_dual(_tensor([1.0, 3.0, 2.0], device), _tensor([1.0, 1.0, 1.0], device))
        assert fwAD.unpack_dual(dual.argmax()).tangent is None
        values, indices = dual.max(0)
        assert float(fwAD.unpack_dual(values).tangent) == 1.0
        assert fwAD.unpack_dual(indices).tangent is None
        assert fwAD.unpack_dual(dual > 1).tangent is None


def test_an_op_without_a_rule_raises_pytorchs_error() -> None:
    x = _tensor([1.0, 2.0, 2.0])
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, x)
        with pytest.raises(NotImplementedError, match=r"^Trying to use forward AD with _unique2 "
                           r"that does not support it because it has not been implemented yet.\n"
                           r"Please file an issue to PyTorch"):
            autodiff.unique(dual)
        with pytest.raises(NotImplementedError, match=r"^Trying to use forward AD with "
                           r"aten::floor_divide that does not support it.$"):
            autodiff.floor_divide(dual, 2.0)
        with pytest.raises(NotImplementedError, match=r"^Trying to use forward AD with "
                           r"aten::remainder that does not support it.$"):
            autodiff.remainder(2.0, dual)


def test_sampling_gives_zero_tangents_as_pytorch() -> None:
    with fwAD.dual_level():
        dual = fwAD.make_dual(_tensor([1.0, 2.0]), _tensor([1.0, 1.0]))
        for out in (autodiff.normal(dual, 1.0), autodiff.poisson(dual), dual.clone().normal_()):
            assert fwAD.unpack_dual(out).tangent.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- in place, views
def test_in_place_op_on_a_view_changes_the_base_tangent(device: str) -> None:
    with fwAD.dual_level():
        base = _tensor([[1.0, 2.0], [3.0, 4.0]], device) * 1
        dual = fwAD.make_dual(_tensor([5.0, 6.0], device), _tensor([1.0, -1.0], device))
        base[0].mul_(dual)
        np.testing.assert_allclose(fwAD.unpack_dual(base).tangent.cpu().numpy(),
                                   [[1.0, -2.0], [0.0, 0.0]])
        row = base[1]
        row.add_(dual)
        np.testing.assert_allclose(fwAD.unpack_dual(base).tangent.cpu().numpy(),
                                   [[1.0, -2.0], [1.0, -1.0]])
        np.testing.assert_allclose(fwAD.unpack_dual(row).tangent.cpu().numpy(), [1.0, -1.0])


def test_in_place_op_on_a_dual_tensor(device: str) -> None:
    with fwAD.dual_level():
        dual = fwAD.make_dual(_tensor([1.0, 2.0], device), _tensor([1.0, 1.0], device)) * 1
        dual.mul_(dual)
        np.testing.assert_allclose(fwAD.unpack_dual(dual).tangent.cpu().numpy(), [2.0, 4.0])
        dual.zero_()
        np.testing.assert_allclose(fwAD.unpack_dual(dual).tangent.cpu().numpy(), [0.0, 0.0])


# ----------------------------------------------------------------------------- composition
def test_reverse_over_forward(device: str) -> None:
    """The tangent is recorded: its gradient w.r.t. the primal is the Hessian-vector product."""
    x = _tensor([0.3, -0.7, 1.1], device, requires_grad=True)
    v = _tensor([1.0, 2.0, -1.0], device)
    with fwAD.dual_level():
        out = (fwAD.make_dual(x, v).sin() ** 2).sum()
        tangent = fwAD.unpack_dual(out).tangent
    assert tangent.requires_grad
    hvp, = autograd.grad(tangent, x)
    # f = sum(sin^2 x): H = diag(2 cos 2x)
    expected = 2 * np.cos(2 * x.detach().cpu().numpy()) * v.cpu().numpy()
    np.testing.assert_allclose(hvp.cpu().numpy(), expected, rtol=1e-12)


def test_forward_over_reverse(device: str) -> None:
    """A backward run on dual tensors carries tangents: the gradient's tangent is H v."""
    x = _tensor([0.3, -0.7, 1.1], device)
    v = _tensor([1.0, 2.0, -1.0], device)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x.detach().requires_grad_(), v)
        out = (dual.exp() * dual).sum()
        grad, = autograd.grad(out, dual, create_graph=True)
        hvp = fwAD.unpack_dual(grad).tangent
    xs = x.cpu().numpy()
    expected = (np.exp(xs) * (xs + 2)) * v.cpu().numpy()  # d2/dx2 (x e^x) = e^x (x + 2)
    np.testing.assert_allclose(hvp.detach().cpu().numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "layer_norm", "linear", "conv",
                                  "cross_entropy", "max_pool", "logsumexp"])
def test_forward_over_reverse_through_network_ops(name: str, device: str) -> None:
    """H v from forward-over-reverse equals H v from reverse-over-reverse (double backward)."""
    rng = np.random.default_rng(0)
    weight = _tensor(rng.standard_normal((3, 4)), device)
    kernel = _tensor(rng.standard_normal((2, 1, 3)), device)
    functions = {
        "softmax": lambda x: (autodiff.softmax(x, 1) ** 2).sum(),
        "log_softmax": lambda x: (autodiff.log_softmax(x, 1) ** 2).sum(),
        "layer_norm": lambda x: (autodiff.nn.functional.layer_norm(x, (4,)) ** 3).sum(),
        "linear": lambda x: (autodiff.nn.functional.linear(x, weight).tanh()).sum(),
        "conv": lambda x: (autodiff.nn.functional.conv1d(x.unsqueeze(1), kernel) ** 2).sum(),
        "cross_entropy": lambda x: autodiff.nn.functional.cross_entropy(
            x * x, autodiff.tensor([1, 3], device=device)),
        "max_pool": lambda x: (autodiff.nn.functional.max_pool1d(x.unsqueeze(0), 2) ** 3).sum(),
        "logsumexp": lambda x: (autodiff.logsumexp(x * x, 1) ** 2).sum(),
    }
    f = functions[name]
    x = _tensor(rng.standard_normal((2, 4)), device)
    v = _tensor(rng.standard_normal((2, 4)), device)
    leaf = x.detach().requires_grad_()
    grad, = autograd.grad(f(leaf), leaf, create_graph=True)
    expected, = autograd.grad(grad, leaf, v)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x.detach().requires_grad_(), v)
        grad, = autograd.grad(f(dual), dual, create_graph=True)
        hvp = fwAD.unpack_dual(grad).tangent
    np.testing.assert_allclose(hvp.detach().cpu().numpy(), expected.cpu().numpy(), rtol=1e-10,
                               atol=1e-12)


# ----------------------------------------------------------------------------- custom Function
class _Product(autograd.Function):
    @staticmethod
    def forward(ctx: object, a: autodiff.Tensor, b: autodiff.Tensor, k: float) -> autodiff.Tensor:
        ctx.save_for_forward(a, b)
        ctx.k = k
        return a * b * k

    @staticmethod
    def jvp(ctx: object, tangent_a: autodiff.Tensor, tangent_b: autodiff.Tensor,
            tangent_k: None) -> autodiff.Tensor:
        assert tangent_k is None
        a, b = ctx.saved_tensors
        return (tangent_a * b + a * tangent_b) * ctx.k


def test_custom_function_jvp_gets_zeros_for_inputs_without_tangent() -> None:
    a, b = _tensor([1.0, 2.0]), _tensor([3.0, 4.0])
    with fwAD.dual_level():
        out = _Product.apply(fwAD.make_dual(a, _tensor([1.0, 1.0])), b, 2.0)
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(), [6.0, 8.0])


def test_custom_function_without_jvp_and_bad_jvp_results() -> None:
    class NoJvp(autograd.Function):
        @staticmethod
        def forward(ctx: object, a: autodiff.Tensor) -> autodiff.Tensor:
            return a * 2

    class TwoTangents(NoJvp):
        @staticmethod
        def jvp(ctx: object, tangent: autodiff.Tensor) -> tuple[autodiff.Tensor, ...]:
            return tangent * 2, tangent

    class WrongSize(NoJvp):
        @staticmethod
        def jvp(ctx: object, tangent: autodiff.Tensor) -> autodiff.Tensor:
            return tangent[:1]

    with fwAD.dual_level():
        dual = fwAD.make_dual(_tensor([1.0, 2.0]), _tensor([1.0, 1.0]))
        with pytest.raises(NotImplementedError, match=r"^You must implement the jvp function for "
                           r"custom autograd.Function to use it with forward mode AD.$"):
            NoJvp.apply(dual)
        with pytest.raises(RuntimeError, match=r"^Function's jvp returned an invalid number of "
                           r"forward gradients \(expected 1 but got 2\)$"):
            TwoTangents.apply(dual)
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[2\] while the given forward "
                           r"gradient is of size \[1\].$"):
            WrongSize.apply(dual)


def test_save_for_forward_is_what_jvp_reads_and_backward_does_not() -> None:
    seen: dict[str, object] = {}

    class Square(autograd.Function):
        @staticmethod
        def forward(ctx: object, a: autodiff.Tensor) -> autodiff.Tensor:
            ctx.save_for_forward(a)
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def jvp(ctx: object, tangent: autodiff.Tensor) -> autodiff.Tensor:
            a, = ctx.saved_tensors
            return 2 * a * tangent

        @staticmethod
        def backward(ctx: object, grad: autodiff.Tensor) -> autodiff.Tensor:
            seen["backward"] = len(ctx.saved_tensors)
            a, = ctx.saved_tensors
            return 2 * a * grad

    x = _tensor([1.0, 3.0], requires_grad=True)
    with fwAD.dual_level():
        out = Square.apply(fwAD.make_dual(x, _tensor([1.0, 1.0])))
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.detach().numpy(), [2.0, 6.0])
    out.sum().backward()
    assert seen["backward"] == 1
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 6.0])


def test_save_for_forward_takes_tensors_only() -> None:
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx: object, a: autodiff.Tensor) -> autodiff.Tensor:
            ctx.save_for_forward(1.0)
            return a * 1

    with pytest.raises(TypeError, match=r"^save_for_forward expects all arguments to be tensors"):
        Bad.apply(_tensor([1.0]))


def test_custom_function_marked_dirty_changes_the_tangent_in_place() -> None:
    class Double(autograd.Function):
        @staticmethod
        def forward(ctx: object, a: autodiff.Tensor) -> autodiff.Tensor:
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def jvp(ctx: object, tangent: autodiff.Tensor) -> autodiff.Tensor:
            return tangent.mul_(2)

    class NotInPlace(Double):
        @staticmethod
        def jvp(ctx: object, tangent: autodiff.Tensor) -> autodiff.Tensor:
            return tangent * 2

    with fwAD.dual_level():
        tangent = _tensor([1.0, 1.0])
        dual = fwAD.make_dual(_tensor([1.0, 2.0]), tangent)
        out = Double.apply(dual)
        assert out is dual and fwAD.unpack_dual(out).tangent is tangent
        assert tangent.tolist() == [2.0, 2.0]
        with pytest.raises(RuntimeError, match=r"jvp function must modify the corresponding "
                                               r"gradient inplace"):
            NotInPlace.apply(fwAD.make_dual(_tensor([1.0, 2.0]), _tensor([1.0, 1.0])))


def test_custom_function_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as torch_fwAD

    class TorchProduct(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):  # type: ignore[no-untyped-def]
            ctx.save_for_forward(a, b)
            ctx.k = k
            return a * b * k

        @staticmethod
        def jvp(ctx, tangent_a, tangent_b, tangent_k):  # type: ignore[no-untyped-def]
            a, b = ctx.saved_tensors
            return (tangent_a * b + a * tangent_b) * ctx.k

    a, b, ta, tb = ([1.0, 2.0], [3.0, -1.0], [0.5, 1.0], [2.0, -2.0])
    with torch_fwAD.dual_level():
        out = TorchProduct.apply(torch_fwAD.make_dual(torch.tensor(a), torch.tensor(ta)),
                                 torch_fwAD.make_dual(torch.tensor(b), torch.tensor(tb)), 3.0)
        expected = torch_fwAD.unpack_dual(out).tangent.tolist()
    with fwAD.dual_level():
        out = _Product.apply(fwAD.make_dual(autodiff.tensor(a), autodiff.tensor(ta)),
                             fwAD.make_dual(autodiff.tensor(b), autodiff.tensor(tb)), 3.0)
        assert fwAD.unpack_dual(out).tangent.tolist() == pytest.approx(expected)


def test_in_place_op_under_no_grad_changes_the_tangent_in_place(device: str) -> None:
    """As PyTorch: the tangent's values change, its history stays (so a clamp outside the
    graph leaves reverse-over-forward gradients as they were)."""
    x = _tensor([0.3, 0.4, 1.2], device, requires_grad=True)
    v = _tensor([1.0, 2.0, 3.0], device)
    grads = []
    for clamp in (False, True):
        with fwAD.dual_level():
            dual = fwAD.make_dual(x, v)
            norm = dual.norm().clone()
            if clamp:
                with autodiff.no_grad():
                    norm.clamp_(min=1e-8)
            tangent = fwAD.unpack_dual(dual / norm).tangent
            grads.append(autograd.grad(tangent.sum(), x)[0].detach().cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-14)
    with fwAD.dual_level():
        copy = fwAD.make_dual(_tensor([0.3, 0.4, 1.2], device), v).clone()
        with autodiff.no_grad():
            copy.clamp_(min=0.35)
        np.testing.assert_allclose(fwAD.unpack_dual(copy).tangent.cpu().numpy(), [0.0, 2.0, 3.0])


def test_complex_tensors_get_tangents() -> None:
    """Complex primals and tangents (test_forward_ad_complex.py checks the ops)."""
    with fwAD.dual_level():
        dual = fwAD.make_dual(autodiff.tensor([1 + 2j]), autodiff.tensor([1 + 0j]))
        assert fwAD.unpack_dual(dual * 1j).tangent.tolist() == [1j]
        real = fwAD.make_dual(_tensor([1.0, 2.0]), _tensor([1.0, 1.0]))
        assert fwAD.unpack_dual(real * 1j).tangent.tolist() == [1j, 1j]


@pytest.mark.parametrize("style", ["setup_context", "ctx_in_forward"])
def test_custom_function_jvp_gives_complex_outputs_their_tangent(device: str, style: str) -> None:
    # A custom Function's own jvp is used for complex outputs too (its 3 differs from the 2 of
    # backward on purpose): PyTorch gives [3, 3j].
    def backward(ctx: object, grad: autodiff.Tensor) -> autodiff.Tensor:
        return grad * 2

    def jvp(ctx: object, tangent: autodiff.Tensor) -> autodiff.Tensor:
        return tangent * 3

    if style == "setup_context":
        members = {"forward": staticmethod(lambda x: x * 2), "backward": staticmethod(backward),
                   "setup_context": staticmethod(lambda ctx, inputs, output: None),
                   "jvp": staticmethod(jvp)}
    else:
        members = {"forward": staticmethod(lambda ctx, x: x * 2),
                   "backward": staticmethod(backward), "jvp": staticmethod(jvp)}
    Doubled = type("Doubled", (autograd.Function,), members)
    x = autodiff.tensor([1 + 1j, 2 - 1j], device=device)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, autodiff.tensor([1 + 0j, 1j], device=device))
        tangent = fwAD.unpack_dual(Doubled.apply(dual)).tangent
    assert tangent is not None and tangent.dtype is autodiff.complex64
    assert tangent.tolist() == [3 + 0j, 3j]
