"""Hooks: Tensor.register_hook, retain_grad, post-accumulate-grad hooks, node pre- and
post-hooks. Each scenario runs with PyTorch and with autodiff and must log the same events, in
the same order, with the same gradients."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff
from tests.autograd._compare import error_of, same_as_torch


def _hooked_graph(lib: Any, log: list[Any]) -> tuple[Any, Any, Any]:
    """x -> h = 2x -> y = sum(h * h), with every kind of hook along the way."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: (log.append(("h first", g)), g * 10)[1])
    h.retain_grad()
    h.register_hook(lambda g: (log.append(("h second", g)), g + 1)[1])
    h.grad_fn.register_prehook(lambda grads: log.append(("pre", grads)))
    h.grad_fn.register_hook(lambda grad_inputs, grad_outputs:
                            log.append(("post", grad_inputs, grad_outputs)))
    x.register_hook(lambda g: (log.append(("x", g)), g * 0.5)[1])
    x.register_post_accumulate_grad_hook(lambda t: log.append(("x accumulated", t.grad)))
    return x, h, (h * h).sum()


def test_order_and_replacement_in_backward() -> None:
    def scenario(lib: Any) -> Any:
        log: list[Any] = []
        x, h, y = _hooked_graph(lib, log)
        y.backward()
        return log, h.grad, x.grad

    log, _, _ = same_as_torch(scenario)
    assert [event[0] for event in log] == [
        "h first", "h second", "pre", "post", "x", "x accumulated"]


@pytest.mark.parametrize("wrt", ["h and x", "h", "x"])
def test_autograd_grad_runs_hooks_as_torch(wrt: str) -> None:
    """What autograd.grad captures (hooked or not), which hooks run, and retain_grad filling
    h.grad even under autograd.grad: PyTorch's rules, followed exactly."""

    def scenario(lib: Any) -> Any:
        log: list[Any] = []
        x, h, y = _hooked_graph(lib, log)
        inputs = {"h and x": [h, x], "h": [h], "x": [x]}[wrt]
        grads = lib.autograd.grad(y, inputs)
        return log, grads, h.grad, x.grad

    same_as_torch(scenario)


def test_backward_inputs_non_leaf_runs_its_node() -> None:
    def scenario(lib: Any) -> Any:
        log: list[Any] = []
        x, h, y = _hooked_graph(lib, log)
        y.backward(inputs=[h])
        return log, h.grad, x.grad

    same_as_torch(scenario)


def test_accumulate_grad_node_hooks() -> None:
    def scenario(lib: Any) -> Any:
        log: list[Any] = []
        x, h, y = _hooked_graph(lib, log)
        accumulate = h.grad_fn.next_functions[0][0]
        accumulate.register_prehook(lambda grads: log.append(("acc pre", grads)))
        accumulate.register_hook(lambda grad_inputs, grad_outputs:
                                 log.append(("acc post", grad_inputs, grad_outputs)))
        y.backward(retain_graph=True)
        log.append(lib.autograd.grad(y, x))  # x only captured: its node's hooks do not run
        return log, x.grad

    same_as_torch(scenario)


def test_hooks_see_none_where_no_gradient_arrives() -> None:
    """A node whose gradient is None still runs its hooks (with None), as in PyTorch."""

    def scenario(lib: Any) -> Any:
        log: list[Any] = []

        class NoGradient(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, a: Any) -> Any:
                return a * 2

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return None

        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, a: Any) -> Any:
                return a * 2, a * 3

            @staticmethod
            def backward(ctx: Any, first: Any, second: Any) -> Any:
                log.append(("pair backward", first, second))
                return first * 2 + second * 3

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.register_hook(lambda g: log.append(("h", g)))
        h.retain_grad()
        h.grad_fn.register_prehook(lambda grads: log.append(("pre", grads)))
        h.grad_fn.register_hook(lambda gi, go: log.append(("post", gi, go)))
        x.register_hook(lambda g: log.append(("x", g)))
        NoGradient.apply(h).sum().backward()
        log.append(("h.grad", h.grad, x.grad))
        a, b = Pair.apply(x)
        b.register_hook(lambda g: log.append(("b", g)))
        a.register_hook(lambda g: log.append(("a", g)))
        b.retain_grad()
        a.sum().backward()
        log.append(("b.grad", b.grad, x.grad))
        return log

    same_as_torch(scenario)


def test_tensor_hooks_run_in_registration_order_across_outputs() -> None:
    def scenario(lib: Any) -> Any:
        log: list[Any] = []

        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, a: Any) -> Any:
                return a * 2, a * 3

            @staticmethod
            def backward(ctx: Any, first: Any, second: Any) -> Any:
                return first * 2 + second * 3

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = Pair.apply(x)
        b.register_hook(lambda g: (log.append(("b", g)), g * 0)[1])
        a.register_hook(lambda g: log.append(("a", g)))
        (a + b).sum().backward()
        return log, x.grad

    same_as_torch(scenario)


def test_removed_hooks_do_not_run() -> None:
    def scenario(lib: Any) -> Any:
        log: list[Any] = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2

        def record(g: Any) -> None:
            log.append(("h", g))

        first = h.register_hook(record)
        h.register_hook(record)  # the same function twice: one handle removes one of them
        leaf = x.register_hook(lambda g: g * 100)
        node = h.grad_fn.register_prehook(lambda grads: log.append("pre"))
        accumulated = x.register_post_accumulate_grad_hook(lambda t: log.append("post acc"))
        first.remove()
        first.remove()  # removing twice is harmless
        leaf.remove()
        node.remove()
        accumulated.remove()
        h.sum().backward()
        return log, x.grad

    same_as_torch(scenario)


def test_retain_grad_under_create_graph_is_a_recorded_copy() -> None:
    def scenario(lib: Any) -> Any:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        (grad,) = lib.autograd.grad((h * h).sum(), x, create_graph=True)
        return h.grad, h.grad.grad_fn.name(), grad

    same_as_torch(scenario)


def _retain_then_inplace(lib: Any) -> Any:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    a.retain_grad()
    a.mul_(5)
    (a * a).sum().backward()
    return a.grad, x.grad


def _retain_then_inplace_on_a_view(lib: Any) -> Any:
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = x * 1
    a.retain_grad()
    a[0].mul_(5)
    (a * a).sum().backward()
    return a.grad, x.grad


def _view_retains_then_base_inplace(lib: Any) -> Any:
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = x * 1
    v = a[0]
    v.retain_grad()
    a.mul_(2)  # v catches up with its base's new history: its retain_grad follows
    (v * v).sum().backward()
    return v.grad, x.grad


def _hooks_stay_retain_grad_moves(lib: Any) -> Any:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    log: list[Any] = []
    a = x * 1
    a.retain_grad()
    a.register_hook(lambda g: log.append(("before", g)))
    a.add_(1)
    a.register_hook(lambda g: log.append(("after", g)))
    a.mul_(3)
    (a * a).sum().backward()
    return a.grad, x.grad, log


def _modified_view_retaining_grad(lib: Any) -> Any:
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = x * 1
    v = a[1]
    v.retain_grad()
    v.mul_(3)
    (a * a).sum().backward()  # v's new node is never reached: no .grad, as in PyTorch
    return v.grad is None, x.grad


RETAIN_THEN_INPLACE = {
    "inplace": _retain_then_inplace,
    "inplace_on_a_view": _retain_then_inplace_on_a_view,
    "view_retains_then_base_inplace": _view_retains_then_base_inplace,
    "hooks_stay_retain_grad_moves": _hooks_stay_retain_grad_moves,
    "modified_view_retaining_grad": _modified_view_retaining_grad,
}


@pytest.mark.parametrize("name", list(RETAIN_THEN_INPLACE))
def test_retain_grad_follows_an_inplace_op_as_torch(name: str) -> None:
    """After an in-place op, `.grad` of a tensor that retains it is the gradient of the new
    value: the retains-grad entry moves to the new node (hooks stay with the old one)."""
    same_as_torch(RETAIN_THEN_INPLACE[name])


def test_retain_grad_follows_an_inplace_op(device: str) -> None:
    """The same without PyTorch: d/da sum(a * a) at a = 5x is 10x, not the 50x it is w.r.t.
    the value before `mul_(5)`."""
    x = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    a = x * 1
    a.retain_grad()
    a.mul_(5)
    (a * a).sum().backward()
    assert a.grad.tolist() == [10.0, 20.0] and x.grad.tolist() == [50.0, 100.0]
    x = autodiff.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    a = x * 1
    a.retain_grad()
    a[0].mul_(5)
    (a * a).sum().backward()
    assert a.grad.tolist() == [[10.0, 20.0], [6.0, 8.0]]
    assert x.grad.tolist() == [[50.0, 100.0], [6.0, 8.0]]


def test_hook_errors_match_torch() -> None:
    def scenario(lib: Any) -> Any:
        def returns_number(g: Any) -> float:
            return 3.0

        def wrong_size(g: Any) -> Any:
            return lib.ones(3)

        def two_for_one(grads: Any) -> Any:
            return (grads[0], grads[0])

        def one_for_two(grad_inputs: Any, grad_outputs: Any) -> Any:
            return (grad_inputs[0],)

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        plain = lib.tensor([1.0, 2.0])
        errors = []
        for hook in (returns_number, wrong_size):
            h = x * 2
            h.register_hook(hook)
            errors.append(error_of(lambda h=h: h.sum().backward()))
        h = x * 2
        h.grad_fn.register_prehook(two_for_one)
        errors.append(error_of(lambda: h.sum().backward()))
        h = x * 2
        h.grad_fn.register_hook(one_for_two)
        errors.append(error_of(lambda: h.sum().backward()))
        errors.append(error_of(lambda: plain.register_hook(lambda g: g)))
        errors.append(error_of(lambda: (x * 2).register_post_accumulate_grad_hook(print)))
        errors.append(error_of(lambda: plain.retain_grad()))
        errors.append(x.grad)  # none of the failed backward calls changed it
        return errors

    same_as_torch(scenario)


def test_post_hook_may_replace_grad_inputs(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64, device=device, requires_grad=True)
    h = x * 2
    h.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 100, None))
    h.sum().backward()
    assert x.grad.tolist() == [200.0, 200.0]


def test_leaf_hook_replaces_captured_gradient(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], dtype=autodiff.float64, device=device, requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (g,) = autodiff.autograd.grad((x * 2).sum(), x)
    assert g.tolist() == [20.0, 20.0]
    assert x.grad is None
