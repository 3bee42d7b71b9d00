"""The backward engine: deep chains, shared subgraphs, several roots, retain_graph and freed
buffers, accumulation into .grad (never aliased), gradient= for non-scalar outputs, the non-leaf
.grad warning and retain_grad()."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import warnings
import weakref
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import Tensor

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


def values(tensor: Tensor | None) -> np.ndarray:
    assert tensor is not None
    return np.array(tensor.tolist())


# ----------------------------------------------------------------------------- deep graphs
# The walk is the same on every device, so the deep chains run once, on the CPU (the strict
# backend would take 10 s each for nothing new).
def test_chain_of_100_000_ops_backpropagates() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(50_000):  # 100,000 nodes: a Mul and an Add per step
        y = y * 1.0 + 0.0
    y.sum().backward()
    assert values(x.grad).tolist() == [1.0, 1.0]
    # The chain is freed without recursing, too.
    del y
    gc.collect()


def test_chain_reaching_one_leaf_100_000_times() -> None:
    x = autodiff.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + x
    y.sum().backward()
    assert values(x.grad).tolist() == [100_001.0, 100_001.0]


def test_deep_graph_is_freed_without_backward() -> None:
    """Dropping a 100,000-node graph that never ran backward must not overflow the C stack
    (a crash, so it runs in a child process)."""
    code = textwrap.dedent("""
        import autodiff
        x = autodiff.ones(2, requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y * 1.0
        del y
        print("freed")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=_repo_root())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "freed\n"


def _repo_root() -> str:
    import pathlib

    return str(pathlib.Path(__file__).resolve().parent.parent)


# ----------------------------------------------------------------------------- shared subgraphs
def test_diamond_accumulates_both_branches(device: str) -> None:
    a = autodiff.tensor([0.5, -1.5, 2.0], device=device, requires_grad=True)
    b = a * 2  # used by both branches
    calls = []
    b.register_hook(lambda grad: calls.append(grad.tolist()))
    out = (b * b + b.sin()).sum()
    out.backward()
    a_np = np.array([0.5, -1.5, 2.0])
    b_np = 2 * a_np
    expected_b = 2 * b_np + np.cos(b_np)
    # b's node runs once, with the sum of both branches' gradients.
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], expected_b, rtol=1e-6)
    np.testing.assert_allclose(values(a.grad), 2 * expected_b, rtol=1e-6)


def test_one_tensor_used_twice_by_one_op(device: str) -> None:
    a = autodiff.tensor([3.0, -1.0], device=device, requires_grad=True)
    (a * a).sum().backward()
    assert values(a.grad).tolist() == [6.0, -2.0]
    a.grad = None
    (a + a).sum().backward()
    assert values(a.grad).tolist() == [2.0, 2.0]


def test_nodes_run_latest_created_first(device: str) -> None:
    """PyTorch's order: ready nodes by creation, newest first (checked against torch)."""
    order = []
    x = autodiff.ones(2, device=device, requires_grad=True)
    a = x * 2
    a.register_hook(lambda grad: order.append("a"))
    b = x * 3
    b.register_hook(lambda grad: order.append("b"))
    c = a.exp()
    c.register_hook(lambda grad: order.append("c"))
    (c + b).sum().backward()
    assert order == ["c", "b", "a"]


# ----------------------------------------------------------------------------- several roots
def test_several_roots_add_their_gradients(device: str) -> None:
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    autodiff.autograd.backward([(a * a).sum(), (a * 3).sum()])
    assert values(a.grad).tolist() == [5.0, 7.0]
    autodiff.autograd.backward([a * a, a * 3], [autodiff.ones(2, device=device),
                                                autodiff.tensor([1.0, 2.0], device=device)])
    assert values(a.grad).tolist() == [5.0 + 5.0, 7.0 + 10.0]


def test_roots_sharing_a_subgraph(device: str) -> None:
    a = autodiff.tensor([0.5, 1.0], device=device, requires_grad=True)
    h = a.exp()
    autodiff.autograd.backward([h.sum(), (h * h).sum()])
    e = np.exp([0.5, 1.0])
    np.testing.assert_allclose(values(a.grad), e + 2 * e * e, rtol=1e-6)


def test_root_upstream_of_another_root(device: str) -> None:
    """y1 is a root and also feeds y2: its node must wait for y2's gradient as well."""
    x = autodiff.ones(2, device=device, requires_grad=True)
    y1 = x * 2
    seen = []
    y1.register_hook(lambda grad: seen.append(grad.tolist()))
    y2 = y1 * 3
    autodiff.autograd.backward([y1, y2], [autodiff.ones(2, device=device),
                                          autodiff.full((2,), 10.0, device=device)])
    assert seen == [[31.0, 31.0]]
    assert values(x.grad).tolist() == [62.0, 62.0]


def test_leaf_as_root(device: str) -> None:
    a = autodiff.tensor(2.0, device=device, requires_grad=True)
    a.backward()
    assert a.grad.item() == 1.0
    b = autodiff.ones(3, device=device, requires_grad=True)
    b.backward(autodiff.tensor([1.0, 2.0, 3.0], device=device))
    assert values(b.grad).tolist() == [1.0, 2.0, 3.0]


# ----------------------------------------------------------------------------- retain_graph
def test_retain_graph_allows_repeated_backward(device: str) -> None:
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()  # the last one may free
    assert values(a.grad).tolist() == [6.0, 12.0]
    with pytest.raises(RuntimeError) as error:
        y.backward()
    assert str(error.value) == SECOND_BACKWARD
    assert values(a.grad).tolist() == [6.0, 12.0]


@pytest.mark.parametrize("op", [
    pytest.param(lambda a: (a * a).sum(), id="mul"),
    pytest.param(lambda a: (a * 2.0).sum(), id="mul-scalar"),
    pytest.param(lambda a: (a / 2.0).sum(), id="div-scalar"),
    pytest.param(lambda a: (a ** 2).sum(), id="pow"),
    pytest.param(lambda a: a.exp().sum(), id="exp"),
    pytest.param(lambda a: a.sigmoid().mean(), id="sigmoid"),
    pytest.param(lambda a: autodiff.matmul(a, a), id="dot"),
    pytest.param(lambda a: autodiff.nn.functional.binary_cross_entropy_with_logits(
        a, autodiff.zeros_like(a)), id="bce"),
])
def test_second_backward_through_freed_buffers_raises(op, device: str) -> None:
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = op(a)
    y.backward()
    before = values(a.grad)
    with pytest.raises(RuntimeError) as error:
        y.backward()
    assert str(error.value) == SECOND_BACKWARD
    np.testing.assert_array_equal(values(a.grad), before)


def test_ops_that_save_nothing_can_backward_twice(device: str) -> None:
    """As in PyTorch: add and sum keep no buffers, so nothing is freed."""
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (a + a).sum()
    y.backward()
    y.backward()
    assert values(a.grad).tolist() == [4.0, 4.0]


def test_saved_tensors_are_freed_after_backward(device: str) -> None:
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = a * 2
    h_ref = weakref.ref(h)
    y = (h * h).sum()  # MulBackward0 saves h
    del h
    gc.collect()
    assert h_ref() is not None  # held by the graph
    y.backward()
    gc.collect()
    assert h_ref() is None
    assert y.grad_fn is not None  # the graph itself stays: only its buffers go


def test_saved_outputs_are_freed_after_backward(device: str) -> None:
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = a.exp()  # ExpBackward0 saves its output's array
    array_ref = weakref.ref(h.detach().numpy()) if device == "cpu" else None
    y = (h * 2.0).sum()
    del h
    gc.collect()
    if array_ref is not None:
        assert array_ref() is not None
    y.backward()
    gc.collect()
    if array_ref is not None:
        assert array_ref() is None


def test_retain_graph_keeps_saved_tensors(device: str) -> None:
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = a * 2
    h_ref = weakref.ref(h)
    y = (h * h).sum()
    del h
    y.backward(retain_graph=True)
    gc.collect()
    assert h_ref() is not None
    y.backward()
    gc.collect()
    assert h_ref() is None


# ----------------------------------------------------------------------------- accumulation
def test_gradients_accumulate_across_backward_calls(device: str) -> None:
    w = autodiff.ones(3, device=device, requires_grad=True)
    (w * 3).sum().backward()
    grad = w.grad
    (w * 3).sum().backward()
    assert w.grad is grad  # accumulated into the same tensor, as PyTorch does
    assert values(grad).tolist() == [6.0] * 3
    w.grad.zero_()
    (w * 3).sum().backward()
    assert w.grad is grad and values(grad).tolist() == [3.0] * 3
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad is not grad and values(w.grad).tolist() == [3.0] * 3


def test_accumulation_is_seen_through_views_of_grad() -> None:
    x = autodiff.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    array = x.grad.numpy()
    detached = x.grad.detach()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]
    assert array.tolist() == [4.0, 4.0] and detached.tolist() == [4.0, 4.0]


def test_accumulation_into_an_assigned_grad(device: str) -> None:
    w = autodiff.ones(2, device=device, requires_grad=True)
    w.grad = autodiff.tensor([10.0, 20.0], device=device)
    (w * 2).sum().backward()
    assert values(w.grad).tolist() == [12.0, 22.0]


def test_grad_has_the_leaf_shape_and_dtype(device: str) -> None:
    w = autodiff.ones(3, 1, dtype=autodiff.float64, device=device, requires_grad=True)
    x = autodiff.ones(2, 3, 4, device=device)  # float32: promoted, broadcast
    (x * w).sum().backward()
    assert w.grad.shape == autodiff.Size([3, 1]) and w.grad.dtype is autodiff.float64
    assert values(w.grad).tolist() == [[8.0]] * 3


def test_backward_in_several_threads_at_once() -> None:
    """Independent graphs backpropagated concurrently do not mix (grad mode is per thread)."""
    import threading

    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for _ in range(200):
                x = autodiff.tensor([float(k), 1.0], requires_grad=True)
                (x * x * 3.0 + x).sum().backward()
                assert x.grad.tolist() == [6.0 * k + 1, 7.0]
                with autodiff.no_grad():
                    assert (x * 2).grad_fn is None
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def _run_in_threads(count: int, work: Any) -> None:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


def test_backward_in_several_threads_into_one_leaf() -> None:
    """Concurrent backward passes into one shared leaf lose no update (PyTorch locks each
    leaf's accumulation): the in-place `.grad += ...` of large arrays runs outside the GIL."""
    w = autodiff.zeros(200_000, requires_grad=True)

    def work(_: int) -> None:
        for _ in range(150):
            (w * 2).sum().backward()

    _run_in_threads(4, work)
    assert w.grad is not None
    assert int((w.grad != 1200.0).sum().item()) == 0


def test_first_grad_of_a_leaf_from_several_threads() -> None:
    """Threads that all find `.grad` None at once: every contribution lands in one `.grad`."""
    def one_round(w: Tensor, barrier: threading.Barrier) -> None:
        def work(_: int) -> None:
            loss = (w * 2).sum()
            barrier.wait()
            loss.backward()

        _run_in_threads(8, work)

    for _ in range(20):
        w = autodiff.zeros(50_000, requires_grad=True)
        one_round(w, threading.Barrier(8))
        assert w.grad is not None
        assert int((w.grad != 16.0).sum().item()) == 0


# ----------------------------------------------------------------------------- gradient=
def test_gradient_for_a_non_scalar_output(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = x * x
    v = autodiff.tensor([0.1, 1.0, 0.001], device=device)
    y.backward(v)
    np.testing.assert_allclose(values(x.grad), 2 * np.array([1.0, 2.0, 3.0]) * [0.1, 1.0, 0.001],
                               rtol=1e-6)
    assert v.tolist() == pytest.approx([0.1, 1.0, 0.001])


def test_gradient_for_a_scalar_output_may_be_given(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * x).sum().backward(autodiff.tensor(0.5, device=device))
    assert values(x.grad).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype", [autodiff.float64, autodiff.int64, autodiff.bool],
                         ids=str)
def test_gradient_is_cast_to_the_output_dtype(dtype: autodiff.dtype, device: str) -> None:
    """PyTorch casts a gradient of another dtype to the output's (validate_outputs)."""
    for make_output in (lambda x: x, lambda x: x * 1.0):
        x = autodiff.ones(3, device=device, requires_grad=True)
        make_output(x).backward(autodiff.tensor([1, 0, 1], dtype=dtype, device=device))
        assert x.grad.dtype is autodiff.float32
        assert values(x.grad).tolist() == [1.0, 0.0, 1.0]


def test_multi_dim_gradient(device: str) -> None:
    inp = autodiff.eye(3, device=device, requires_grad=True)
    out = (inp + 1).pow(2)
    out.backward(autodiff.ones_like(inp))
    np.testing.assert_array_equal(values(inp.grad), 2 * (np.eye(3) + 1))


# ----------------------------------------------------------------------------- no aliasing
def test_grad_never_aliases_the_given_gradient_or_another_leaf(device: str) -> None:
    a = autodiff.ones(3, device=device, requires_grad=True)
    b = autodiff.ones(3, device=device, requires_grad=True)
    g = autodiff.tensor([1.0, 2.0, 3.0], device=device)
    (a + b).backward(g)
    assert a.grad is not b.grad and a.grad is not g and b.grad is not g
    a.grad.mul_(10)
    assert values(b.grad).tolist() == [1.0, 2.0, 3.0]
    assert values(g).tolist() == [1.0, 2.0, 3.0]
    b.grad.add_(1)
    assert values(a.grad).tolist() == [10.0, 20.0, 30.0]
    g.zero_()
    assert values(a.grad).tolist() == [10.0, 20.0, 30.0]
    assert values(b.grad).tolist() == [2.0, 3.0, 4.0]


def test_leaf_root_grad_is_a_copy_of_the_given_gradient(device: str) -> None:
    x = autodiff.ones(3, device=device, requires_grad=True)
    g = autodiff.tensor([1.0, 2.0, 3.0], device=device)
    x.backward(g)
    assert x.grad is not g
    g.add_(1)
    assert values(x.grad).tolist() == [1.0, 2.0, 3.0]
    x.grad.add_(1)
    assert values(g).tolist() == [2.0, 3.0, 4.0]


def test_implicit_root_gradient_not_shared_between_leaves(device: str) -> None:
    a = autodiff.tensor(1.0, device=device, requires_grad=True)
    b = autodiff.tensor(2.0, device=device, requires_grad=True)
    (a + b).backward()
    assert a.grad is not b.grad
    a.grad.add_(5)
    assert b.grad.item() == 1.0


def test_grad_is_writable_after_broadcast_backward(device: str) -> None:
    """sum's backward expands the gradient (a read-only broadcast view on NumPy); the leaf's
    .grad must still be its own writable array, one per leaf."""
    a = autodiff.ones(3, device=device, requires_grad=True)
    b = autodiff.ones(3, device=device, requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1)
    assert values(a.grad).tolist() == [2.0] * 3
    assert values(b.grad).tolist() == [1.0] * 3
    w = autodiff.ones(2, 3, device=device, requires_grad=True)
    (w * autodiff.ones(3, device=device)).mean().backward()
    w.grad.mul_(6)
    assert values(w.grad).tolist() == [[1.0] * 3] * 2


def test_user_tensor_kept_by_a_hook_is_not_taken_over(device: str) -> None:
    kept = []
    x = autodiff.ones(2, device=device, requires_grad=True)
    x.register_hook(lambda grad: kept.append(grad))
    (x * 2).sum().backward()
    assert x.grad is not kept[0]
    x.grad.add_(1)
    assert values(kept[0]).tolist() == [2.0, 2.0]


def test_create_graph_grad_is_a_recorded_copy_as_torch() -> None:
    """Under create_graph a first `.grad` is a recorded copy (CopyBackwards), as in PyTorch,
    never the caller's gradient or one shared with another leaf."""
    from tests.autograd._compare import same_as_torch

    def scenario(lib: Any) -> Any:
        x = lib.ones(2, requires_grad=True)
        g = lib.tensor([1.0, 2.0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the create_graph reference-cycle warning
            x.backward(g, create_graph=True)
            given = x.grad is g
            a = lib.ones(2, requires_grad=True)
            b = lib.ones(2, requires_grad=True)
            (a * a + b).sum().backward(create_graph=True)
        shared = a.grad is b.grad
        names = (a.grad.grad_fn.name(), b.grad.grad_fn)
        (a + b).sum().backward()  # adds into both in place: they must not share memory
        return given, shared, names, x.grad, a.grad, b.grad

    same_as_torch(scenario)


def test_create_graph_grad_does_not_alias(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    g = autodiff.tensor([1.0, 2.0], device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x.backward(g, create_graph=True)
        a = autodiff.ones(2, device=device, requires_grad=True)
        b = autodiff.ones(2, device=device, requires_grad=True)
        (a * a + b).sum().backward(create_graph=True)
    assert x.grad is not g
    g.add_(1)
    assert values(x.grad).tolist() == [1.0, 2.0]
    assert a.grad is not b.grad and a.grad.grad_fn is not None
    (a + b).sum().backward()
    assert values(a.grad).tolist() == [3.0, 3.0] and values(b.grad).tolist() == [2.0, 2.0]


def test_a_gradient_only_the_engine_holds_is_taken_without_a_copy() -> None:
    """`.grad` takes the array Mul's backward made (nobody else holds it): backward allocates
    one gradient's worth, not two (the memory results of bench/nn_bench rest on this)."""
    w = autodiff.ones(1_000_000, requires_grad=True)  # 4 MB
    loss = (w * 2).sum()
    tracemalloc.start()
    try:
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 4_000_000 <= peak < 6_000_000
    assert values(w.grad).tolist() == [2.0] * 1_000_000


def _returns_its_saved_tensor(base: type) -> type:
    """An op whose backward returns a tensor it saved (exp(x) here) as the gradient."""

    class ReturnsSaved(base):  # type: ignore[misc, valid-type]
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            kept = x.exp() if isinstance(x, Tensor) else ctx.backend.exp(x)
            ctx.save_for_backward(kept)
            return x * 2 if isinstance(x, Tensor) else ctx.backend.multiply(x, 2.0)

        @staticmethod
        def backward(ctx: Any, grad: Tensor) -> Tensor:
            (kept,) = ctx.saved_tensors
            return kept

    return ReturnsSaved


@pytest.mark.parametrize("kind", ["built-in", "custom"])
def test_a_saved_tensor_returned_as_gradient_is_copied(kind: str, device: str) -> None:
    """`.grad` never takes an array a node still holds: accumulating into it in place would
    change what the next backward reads."""
    from autodiff.function import Function as BuiltinFunction

    op = _returns_its_saved_tensor(BuiltinFunction if kind == "built-in"
                                   else autodiff.autograd.Function)
    w = autodiff.tensor([0.0, 1.0], dtype=autodiff.float64, device=device, requires_grad=True)
    y = op.apply(w).sum()
    for _ in range(3):
        y.backward(retain_graph=True)
    np.testing.assert_allclose(values(w.grad), 3 * np.exp([0.0, 1.0]), rtol=1e-12)


def test_a_saved_input_returned_as_gradient_is_copied(device: str) -> None:
    """Without retain_graph too (the node frees what it saved after its backward, but the
    caller still holds the input): `.grad` must not become the input's memory."""
    from autodiff.function import Function as BuiltinFunction

    class Scale(BuiltinFunction):  # w * x, whose gradient w.r.t. w is x itself
        @staticmethod
        def forward(ctx: Any, w: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return ctx.backend.multiply(w, x)

        @staticmethod
        def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
            (x,) = ctx.saved_tensors
            return x, None

    w = autodiff.ones(2, dtype=autodiff.float64, device=device, requires_grad=True)
    x = autodiff.tensor([2.0, 3.0], dtype=autodiff.float64, device=device)
    Scale.apply(w, x).sum().backward()
    w.grad.add_(10)
    assert values(x).tolist() == [2.0, 3.0]
    assert values(w.grad).tolist() == [12.0, 13.0]


# ----------------------------------------------------------------------------- non-leaf .grad
NON_LEAF_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)


def test_reading_grad_of_a_non_leaf_warns(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning) as record:
        assert y.grad is None
    assert [str(w.message) for w in record] == [NON_LEAF_WARNING]
    assert record[0].filename == __file__  # reported at the caller's line


def test_no_warning_for_leaves_and_retained_grads(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    plain = autodiff.ones(2, device=device)
    y = x * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None and plain.grad is None and y.grad is None
        y.sum().backward()
        assert y.grad is not None and x.grad is not None


def test_retain_grad(device: str) -> None:
    x = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = x * 2
    h.retain_grad()
    assert h.retains_grad and not x.retains_grad
    y = (h * h).sum()
    y.backward(retain_graph=True)
    assert values(h.grad).tolist() == [4.0, 8.0]
    assert values(x.grad).tolist() == [8.0, 16.0]
    assert h.grad is not x.grad
    y.backward()
    assert values(h.grad).tolist() == [8.0, 16.0]  # accumulates like a leaf's
    h.grad.zero_()
    assert values(x.grad).tolist() == [16.0, 32.0]


def test_retain_grad_on_a_leaf_is_a_no_op(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    x.retain_grad()
    assert not x.retains_grad
    (x * 3).sum().backward()
    assert values(x.grad).tolist() == [3.0, 3.0]


def test_retained_grad_is_not_the_gradient_flowing_on(device: str) -> None:
    x = autodiff.ones(2, device=device, requires_grad=True)
    h = x + 0.0  # AddBackward0 passes its gradient on unchanged
    h.retain_grad()
    h.sum().backward()
    h.grad.add_(100)
    assert values(x.grad).tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------------- graph nodes
def test_graph_nodes_and_next_functions(device: str) -> None:
    a = autodiff.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (a * 2 + 1).sum()
    assert y.grad_fn.name() == "SumBackward0"
    (add_node, _), = y.grad_fn.next_functions
    assert add_node.name() == "AddBackward0"
    (mul_node, _), (none_node, _) = add_node.next_functions
    assert mul_node.name() == "MulBackward0" and none_node is None
    (accumulate, _), (none_node, _) = mul_node.next_functions
    assert accumulate.name() == "torch::autograd::AccumulateGrad"
    assert accumulate.variable is a and none_node is None
    assert (a * 3).grad_fn.next_functions[0][0] is accumulate  # one AccumulateGrad per leaf
    assert a.grad_fn is None and a.is_leaf and not y.is_leaf
