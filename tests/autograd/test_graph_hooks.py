"""autograd.graph's hooks beyond saved_tensors_hooks: register_multi_grad_hook ("all" and
"any"), disable_saved_tensors_hooks and allow_mutation_on_saved_tensors, each case run with
asserted outcomes and, where PyTorch is installed, compared with PyTorch's."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import autodiff

# ruff: noqa: E501, E702


def multi_all(t):
    a = t.rand(2, 3, requires_grad=True); b = t.rand(2, 3, requires_grad=True)
    c = a * b; d = a * b
    seen = []
    h = t.autograd.graph.register_multi_grad_hook((a, b, c, d), lambda grads: seen.append([g is not None for g in grads]))
    c.sum().backward(retain_graph=True)
    c.sum().backward(inputs=(a,), retain_graph=True)
    h.remove()
    c.sum().backward(retain_graph=True)
    return seen

def multi_all_values(t):
    a = t.tensor([1., 2.], requires_grad=True); b = t.tensor([3., 4.], requires_grad=True)
    seen = []
    t.autograd.graph.register_multi_grad_hook((a, b), lambda grads: seen.append([g.tolist() for g in grads]))
    (a * b).sum().backward()
    return seen, a.grad.tolist()

def multi_any(t):
    a = t.rand(2, requires_grad=True); b = t.rand(2, requires_grad=True)
    seen = []
    t.autograd.graph.register_multi_grad_hook((a, b, t.ones(2)), lambda g: seen.append(tuple(g.shape)), mode="any")
    (a * b).sum().backward()
    (a * 2).sum().backward()
    return seen

def multi_bad_mode(t):
    return t.autograd.graph.register_multi_grad_hook((t.ones(1, requires_grad=True),), print, mode="some")

def multi_all_no_grad_tensor(t):
    return t.autograd.graph.register_multi_grad_hook((t.ones(1, requires_grad=True), t.ones(1)), print)

def disable_then_hooks(t):
    g = t.autograd.graph
    out = []
    with g.disable_saved_tensors_hooks("no hooks here"):
        for make in (lambda: g.save_on_cpu(), lambda: g.saved_tensors_hooks(lambda x: x, lambda x: x)):
            try:
                with make():
                    pass
            except RuntimeError as e:
                out.append(str(e))
        with g.disable_saved_tensors_hooks("inner"):
            try:
                with g.saved_tensors_hooks(lambda x: x, lambda x: x):
                    pass
            except RuntimeError as e:
                out.append(str(e))
        try:
            with g.saved_tensors_hooks(lambda x: x, lambda x: x):
                pass
        except RuntimeError as e:
            out.append(str(e))
    with g.saved_tensors_hooks(lambda x: x, lambda x: x):
        try:
            with g.disable_saved_tensors_hooks("m"):
                pass
        except RuntimeError as e:
            out.append(str(e))
    with g.saved_tensors_hooks(lambda x: x, lambda x: x):
        out.append("hooks again")
    return out

def mutation_allowed(t):
    with t.autograd.graph.allow_mutation_on_saved_tensors() as ctx:
        a = t.ones(2, 3, requires_grad=True)
        b = a.clone()
        out = (b ** 2).sum()
        b.sin_()
        out.sum().backward()
        first = a.grad.tolist()
        c = a.clone(); v = c[0]
        out2 = (v * v).sum()
        with t.no_grad():
            c.mul_(3)
            c.zero_()
        a.grad = None
        out2.backward()
    return first, a.grad.tolist(), type(ctx).__name__

def mutation_without(t):
    a = t.ones(2, requires_grad=True)
    b = a.clone(); out = (b ** 2).sum(); b.sin_()
    out.backward()

def mutation_nested(t):
    graph = t.autograd.graph
    with graph.allow_mutation_on_saved_tensors(), graph.allow_mutation_on_saved_tensors():
        pass

def mutation_backward_outside(t):
    with t.autograd.graph.allow_mutation_on_saved_tensors():
        a = t.ones(2, requires_grad=True)
        out = (a.clone() ** 2).sum()
    out.backward()

def multi_all_grad_leaf(t):
    a = t.rand(2, requires_grad=True)
    b = a * 2
    t.autograd.graph.register_multi_grad_hook((a, b), print)
    t.autograd.grad(b.sum(), (a,))


def multi_all_grad_nonleaf(t):
    a = t.rand(2, requires_grad=True)
    b = a * 2
    c = b * 3
    seen = []
    t.autograd.graph.register_multi_grad_hook((b, c), lambda gs: seen.append([g.tolist() for g in gs]))
    t.autograd.grad(c.sum(), (b,))
    return seen


_SIN_MESSAGE = ("one of the variables needed for gradient computation has been modified by an "
                "inplace operation: [torch.FloatTensor [2]], which is output 0 of Sin, is at "
                "version 1; expected version 0 instead. Hint: en")

def budget_in_eager(lib: Any) -> Any:
    return lib.autograd.graph.region_activation_memory_budget(0.5)


def budget_not_a_float(lib: Any) -> Any:
    return lib.autograd.graph.region_activation_memory_budget(True)


def budget_out_of_range(lib: Any) -> Any:
    return lib.autograd.graph.region_activation_memory_budget(1.5)


_BUDGET = "torch.autograd.graph.region_activation_memory_budget"

CASES: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "memory budget in eager": (budget_in_eager, ("RuntimeError", f"{_BUDGET} can only be used inside a torch.compile region; it has no effect in eager mode.")),
    "memory budget not a float": (budget_not_a_float, ("TypeError", f"{_BUDGET}: expects a float, got bool")),
    "memory budget out of range": (budget_out_of_range, ("ValueError", f"{_BUDGET}: must be in [0, 1], got 1.5")),
    "multi all": (multi_all, [[True, True, True, False], [True, False, True, False]]),
    "multi all values": (multi_all_values, ([[[3.0, 4.0], [1.0, 2.0]]], [3.0, 4.0])),
    "multi any": (multi_any, [(2,), (2,)]),
    "multi bad mode": (multi_bad_mode, ("ValueError", "Expects mode to be one of ('all', 'any') but got some")),
    "multi all, a tensor without grad": (multi_all_no_grad_tensor, ("AssertionError", "Expected gradient function to be set")),
    "multi all, autograd.grad and a leaf": (multi_all_grad_leaf, ("RuntimeError", "A leaf node was passed to _will_engine_execute_node but we are currently running autograd.grad(). This is currently not supported.")),
    "multi all, autograd.grad": (multi_all_grad_nonleaf, [[[3.0, 3.0], [1.0, 1.0]]]),
    "disable_saved_tensors_hooks": (disable_then_hooks, ["no hooks here", "no hooks here", "inner", "no hooks here", "m", "hooks again"]),
    "allow_mutation_on_saved_tensors": (mutation_allowed, ([[2.0] * 3] * 2, [[2.0] * 3, [0.0] * 3], "_AllowMutationOnSavedContext")),
    "mutation without it": (mutation_without, ("RuntimeError", _SIN_MESSAGE)),
    "nested": (mutation_nested, ("RuntimeError", "allow_mutation_on_saved_tensors contexts cannot be nested")),
    "backward outside": (mutation_backward_outside, ("AssertionError", "Trying to backward outside of the 'allow_mutation_on_saved_tensors' contextin which the graph was originally recorded.")),
}


def _outcome(lib: Any, call: Callable[[Any], Any]) -> Any:
    try:
        return call(lib)
    except Exception as error:
        return type(error).__name__, str(error)[:200]


@pytest.mark.parametrize(("call", "expected"), list(CASES.values()), ids=list(CASES))
def test_graph_hooks(call: Callable[[Any], Any], expected: Any) -> None:
    assert _outcome(autodiff, call) == expected


@pytest.mark.parametrize("call", [case[0] for case in CASES.values()], ids=list(CASES))
def test_graph_hooks_match_pytorch(call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    assert _outcome(autodiff, call) == _outcome(torch, call)


def test_memory_budget_region_is_accepted_while_compiling() -> None:
    @autodiff.compile
    def f(x: Any) -> Any:
        with autodiff.autograd.graph.region_activation_memory_budget(0.0):
            return (x * 2).sin()

    for _ in range(2):  # traced, then replayed
        assert f(autodiff.tensor([0.5, 1.0])).tolist() == pytest.approx(
            [math.sin(1.0), math.sin(2.0)])


def test_removed_multi_grad_hooks_stay_silent() -> None:
    a = autodiff.ones(1, requires_grad=True)
    seen: list[Any] = []
    for mode in ("all", "any"):
        handle = autodiff.autograd.graph.register_multi_grad_hook((a,), seen.append, mode=mode)
        handle.remove()
    with autodiff.autograd.graph.register_multi_grad_hook((a,), seen.append):
        (a * 2).sum().backward()
    (a * 2).sum().backward()
    assert len(seen) == 1
