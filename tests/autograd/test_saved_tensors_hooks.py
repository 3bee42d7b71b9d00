"""autograd.graph.saved_tensors_hooks and save_on_cpu: what the pack hook receives, what
backward gets from the unpack hook, the graph kept through them, and their scope."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import autodiff
from autodiff import autograd
from autodiff.autograd.graph import save_on_cpu, saved_tensors_hooks
from tests.autograd._compare import same_as_torch


def test_pack_and_unpack_calls_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        log: list[Any] = []

        def pack(tensor: Any) -> Any:
            log.append(("pack", tensor, tensor.requires_grad, tensor.grad_fn is not None,
                        lib.is_grad_enabled()))
            return ("packed", tensor)

        def unpack(packed: Any) -> Any:
            log.append(("unpack",))
            return packed[1]

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            exp = x.exp()
            product = x * x
            scaled = x * 2.0
            sigmoid = lib.sigmoid(x)
        (exp.sum() + product.sum() + scaled.sum() + sigmoid.sum()).backward()
        log.append(x.grad)
        return log

    same_as_torch(scenario)


def test_unpacked_value_is_used_and_keeps_the_graph() -> None:
    """The unpack hook's tensor replaces the saved one, in the saved tensor's place in the
    graph: a double backward still reaches x (and versions are not checked through hooks)."""

    def scenario(lib: Any) -> Any:
        def pack(tensor: Any) -> Any:
            return tensor.detach().clone()

        def unpack(tensor: Any) -> Any:
            return tensor * 0 + 100

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            product = x * x
        product.sum().backward(retain_graph=True)
        first = x.grad
        (grad,) = lib.autograd.grad(product.sum(), x, create_graph=True)
        (second,) = lib.autograd.grad(grad.sum(), x)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            h = x * 1
            z = h * h
        h.add_(1)  # would be refused without hooks
        x.grad = None
        z.sum().backward()
        return first, grad, grad.grad_fn is not None, second, x.grad

    same_as_torch(scenario)


def test_outputs_saved_through_hooks_rebuild_their_node(device: str) -> None:
    x = autodiff.tensor([0.5, 1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
        y = x.exp()  # saves its output
    (g,) = autograd.grad(y.sum(), x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x)
    assert h.tolist() == y.tolist()


def test_innermost_hooks_apply_and_only_inside(device: str) -> None:
    log = []
    x = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    outer = saved_tensors_hooks(lambda t: (log.append("outer"), t)[1], lambda t: t)
    inner = saved_tensors_hooks(lambda t: (log.append("inner"), t)[1], lambda t: t)
    with outer:
        a = x * x
        with inner:
            b = x * x
        c = x * x
    d = x * x
    (a + b + c + d).sum().backward()
    assert log == ["outer", "outer", "inner", "inner", "outer", "outer"]
    assert x.grad.tolist() == [8.0, 16.0]


def test_hooks_are_per_thread() -> None:
    log = []
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    products = []

    def other_thread() -> None:
        products.append(x * x)

    with saved_tensors_hooks(lambda t: (log.append("pack"), t)[1], lambda t: t):
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert log == []
    products[0].sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_custom_function_saves_go_through_hooks() -> None:
    log = []

    class Square(autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: autodiff.Tensor) -> autodiff.Tensor:
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx: Any, grad: autodiff.Tensor) -> autodiff.Tensor:
            (a,) = ctx.saved_tensors
            return grad * 2 * a

    x = autodiff.tensor([3.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: (log.append("pack"), t)[1],
                             lambda t: (log.append("unpack"), t)[1]):
        y = Square.apply(x)
    y.backward()
    assert log == ["pack", "unpack"] and x.grad.item() == 6.0


def test_save_on_cpu_round_trips_to_the_device(device: str) -> None:
    x = autodiff.tensor([0.5, 1.5, -2.0], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    w = autodiff.tensor([1.0, -1.0, 2.0], dtype=autodiff.float64, device=device,
                        requires_grad=True)
    expected_x, expected_w = autograd.grad(((x * w).sigmoid() * x.exp()).sum(), [x, w])
    hooks = save_on_cpu()
    with hooks:
        loss = ((x * w).sigmoid() * x.exp()).sum()
    grad_x, grad_w = autograd.grad(loss, [x, w])
    assert grad_x.tolist() == expected_x.tolist() and grad_w.tolist() == expected_w.tolist()
    assert grad_x.device == x.device
    # What the pack hook keeps lives in host memory; unpacking goes back to the device.
    packed = hooks.pack_hook(x)
    assert packed[1].device.type == "cpu"
    restored = hooks.unpack_hook(packed)
    assert restored.device == x.device and restored.tolist() == x.tolist()


@pytest.mark.parametrize("device_type", ["cuda", "strict", "no-such-device"])
def test_save_on_cpu_with_pinned_memory_packs_a_host_copy(device: str, device_type: str) -> None:
    """pin_memory=True packs a copy (page-locked where the accelerator is there to use it):
    what backward gets back is the same, and changing the tensor later leaves the copy."""
    x = autodiff.tensor([0.5, 1.5], dtype=autodiff.float64, device=device, requires_grad=True)
    hooks = save_on_cpu(pin_memory=True, device_type=device_type)
    with hooks:
        loss = (x.exp() * x).sum()
    (grad,) = autograd.grad(loss, [x])
    expected = (x.detach().exp() * (x.detach() + 1)).tolist()
    assert grad.tolist() == pytest.approx(expected, rel=1e-15) and grad.device == x.device
    source = x.detach() * 1
    device_of, packed = hooks.pack_hook(source)
    assert device_of == source.device and packed.device.type == "cpu"
    source.add_(1)
    assert packed.tolist() == [0.5, 1.5]
    assert hooks.unpack_hook((device_of, packed)).device == x.device


def test_inplace_op_whose_input_is_packed_keeps_the_old_values() -> None:
    """In-place ops that save the tensor's old value (pow_ saves its base, mul_ the other
    factor's partner) through pack hooks that keep the tensor itself: backward still sees the
    value before each op, as PyTorch's saved original_self."""

    def scenario(lib: Any) -> Any:
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        w = lib.tensor([3.0, -2.0], requires_grad=True)
        h = x * 1
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            h.pow_(2)
        with lib.autograd.graph.save_on_cpu():
            h.mul_(w)
        h.add_(1)
        h.sum().backward()
        return x.grad, w.grad

    same_as_torch(scenario)


def test_mul_packs_other_before_self() -> None:
    """MulBackward0 saves `other` before `self` (PyTorch's order, as the saved_tensors_hooks
    docstring example prints it): pack and unpack hooks see b, then a."""
    log: list[Any] = []
    a = autodiff.ones(2, requires_grad=True)
    b = autodiff.ones(2, requires_grad=True) * 2
    with saved_tensors_hooks(lambda t: log.append(("pack", t.tolist())) or t,
                             lambda t: log.append(("unpack", t.tolist())) or t):
        y = a * b
    assert log == [("pack", [2.0, 2.0]), ("pack", [1.0, 1.0])]
    assert y.grad_fn._saved_self.tolist() == [1.0, 1.0]
    assert y.grad_fn._saved_other.tolist() == [2.0, 2.0]
    log.clear()
    y.sum().backward()
    assert log == [("unpack", [2.0, 2.0]), ("unpack", [1.0, 1.0])]
    assert a.grad.tolist() == [2.0, 2.0]
