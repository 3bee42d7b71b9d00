"""Activation checkpointing: gradients identical to the unchecked run (dropout included, both
variants, every device), memory kept by the forward, the RNG bookkeeping, errors and warnings
as PyTorch's, and the backends' RNG state API it rests on."""

from __future__ import annotations

import gc
import tracemalloc
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
import backends
from autodiff import nn
from autodiff.nn import functional as F
from autodiff.utils.checkpoint import (
    CheckpointError,
    checkpoint,
    checkpoint_sequential,
    detach_variable,
    get_device_states,
    set_checkpoint_debug_enabled,
    set_checkpoint_early_stop,
    set_device_states,
)


def _model(device: str) -> nn.Module:
    autodiff.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Dropout(0.5), nn.Linear(12, 12),
                         nn.Tanh(), nn.Dropout(0.3), nn.Linear(12, 3)).to(device).double()


def _gradients(model: nn.Module, x: autodiff.Tensor, forward: Any) -> list[np.ndarray]:
    model.zero_grad()
    x.grad = None
    autodiff.manual_seed(7)
    forward().pow(2).sum().backward()
    return [p.grad.cpu().numpy() for p in model.parameters()] + [x.grad.cpu().numpy()]


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradients_equal_the_unchecked_run_with_dropout(device: str,
                                                        use_reentrant: bool) -> None:
    model = _model(device)
    x = autodiff.randn(5, 6, dtype=autodiff.float64, device=device, requires_grad=True)
    expected = _gradients(model, x, lambda: model(x))
    for forward in (lambda: checkpoint(model, x, use_reentrant=use_reentrant),
                    lambda: checkpoint_sequential(model, 3, x, use_reentrant=use_reentrant),
                    lambda: checkpoint_sequential(list(model.children()), 2, x,
                                                  use_reentrant=use_reentrant)):
        for got, want in zip(_gradients(model, x, forward), expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_without_preserved_rng_state_the_masks_differ() -> None:
    model = _model("cpu")
    x = autodiff.randn(5, 6, dtype=autodiff.float64, requires_grad=True)
    expected = _gradients(model, x, lambda: model(x))
    got = _gradients(model, x, lambda: checkpoint(model, x, use_reentrant=False,
                                                  preserve_rng_state=False))
    assert any(not np.array_equal(a, b) for a, b in zip(got, expected))


def test_recomputation_leaves_the_generators_where_the_forward_left_them(device: str) -> None:
    model = _model(device)
    x = autodiff.randn(4, 6, dtype=autodiff.float64, device=device, requires_grad=True)
    for variant in (False, True):
        autodiff.manual_seed(3)
        model(x).sum().backward()
        expected = autodiff.rand(3, device=device).tolist()
        autodiff.manual_seed(3)
        checkpoint(model, x, use_reentrant=variant).sum().backward()
        assert autodiff.rand(3, device=device).tolist() == expected


def test_non_reentrant_supports_grad_kwargs_nesting_and_double_backward() -> None:
    w = autodiff.randn(4, 4, dtype=autodiff.float64, requires_grad=True)
    x = autodiff.randn(3, 4, dtype=autodiff.float64, requires_grad=True)

    def fn(inputs: dict[str, autodiff.Tensor], scale: float = 1.0) -> autodiff.Tensor:
        return (inputs["x"] @ inputs["w"]).sin() * scale

    expected = autodiff.autograd.grad(fn({"x": x, "w": w}, scale=2.0).sum(), (x, w))
    out = checkpoint(fn, {"x": x, "w": w}, scale=2.0, use_reentrant=False)
    got = autodiff.autograd.grad(out.sum(), (x, w))
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=0)
    assert w.grad is None  # autograd.grad touches no .grad
    # Differentiable twice through the recomputed tensors.
    (gx,) = autodiff.autograd.grad(checkpoint(fn, {"x": x, "w": w}, use_reentrant=False).sum(),
                                   (x,), create_graph=True)
    (ggx,) = autodiff.autograd.grad(gx.pow(2).sum(), (x,))
    (gx_ref,) = autodiff.autograd.grad(fn({"x": x, "w": w}).sum(), (x,), create_graph=True)
    (ggx_ref,) = autodiff.autograd.grad(gx_ref.pow(2).sum(), (x,))
    np.testing.assert_allclose(ggx.numpy(), ggx_ref.numpy(), rtol=1e-12)


def test_backward_twice_recomputes_twice() -> None:
    calls = []
    w = autodiff.ones(3, requires_grad=True)

    def fn(x: autodiff.Tensor) -> autodiff.Tensor:
        calls.append(1)
        return (x * w).exp()

    x = autodiff.arange(3.0, requires_grad=True)
    out = checkpoint(fn, x, use_reentrant=False).sum()
    out.backward(retain_graph=True)
    out.backward()
    assert len(calls) == 3  # the forward and one recomputation per backward
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.arange(3.0) * np.exp(np.arange(3.0)))


def test_the_forward_keeps_only_the_inputs() -> None:
    layers: list[nn.Module] = []
    for _ in range(8):
        layers += [nn.Linear(256, 256), nn.ReLU()]
    model = nn.Sequential(*layers)
    x = autodiff.randn(256, 256)

    def held_after(forward: Any) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            output = forward()
            gc.collect()
            held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        del output
        return held - start

    activation = 256 * 256 * 4
    plain = held_after(lambda: model(x))
    checked = held_after(lambda: checkpoint(model, x, use_reentrant=False))
    reentrant = held_after(lambda: checkpoint(model, x.requires_grad_(), use_reentrant=True))
    assert plain > 8 * activation  # every ReLU output is saved
    assert checked < 1.5 * activation and reentrant < 1.5 * activation  # the output only


def test_use_reentrant_warning_and_errors_match_pytorch() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="torch.utils.checkpoint: the use_reentrant parameter "
                      "should be passed explicitly"):
        checkpoint(lambda t: t * 2, x)
    with pytest.warns(UserWarning, match="torch.utils.checkpoint.checkpoint_sequential: the "
                      "use_reentrant parameter should be passed explicitly"):
        checkpoint_sequential([lambda t: t * 2], 1, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: a,b"):
        checkpoint(lambda t: t, x, use_reentrant=True, a=1, b=2)
    with pytest.raises(ValueError, match=r"Passing `context_fn` or `debug` is only supported "
                       r"when use_reentrant=False\."):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', "
                       r"'none'\], but got maybe"):
        checkpoint(lambda t: t * 2, x, use_reentrant=False, determinism_check="maybe")
    with pytest.warns(UserWarning, match=r"None of the inputs have requires_grad=True\. "
                      "Gradients will be None"):
        out = checkpoint(lambda t: t * 2, autodiff.ones(2), use_reentrant=True)
    assert not out.requires_grad
    torch = pytest.importorskip("torch")
    import torch.utils.checkpoint as torch_checkpoint

    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        torch_checkpoint.checkpoint(lambda t: t * 2, torch.ones(2, requires_grad=True))
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        checkpoint(lambda t: t * 2, x)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    for options in [dict(use_reentrant=True, a=1), dict(use_reentrant=True, debug=True),
                    dict(use_reentrant=False, determinism_check="maybe")]:
        with pytest.raises(ValueError) as their_error:
            torch_checkpoint.checkpoint(lambda t: t * 2, torch.ones(2, requires_grad=True),
                                        **options)
        with pytest.raises(ValueError) as our_error:
            checkpoint(lambda t: t * 2, x, **options)
        assert str(our_error.value) == str(their_error.value)


def test_reentrant_without_outputs_that_require_grad() -> None:
    # The output of the reentrant checkpoint requires grad (it is its Function's output), but
    # recomputed the function gives nothing to differentiate: PyTorch's error.
    x = autodiff.ones(2, requires_grad=True)
    out = checkpoint(lambda t: t.detach() * 2, x, use_reentrant=True)
    assert out.requires_grad and out.grad_fn.name() == "CheckpointFunctionBackward"
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True, this "
                       r"checkpoint\(\) is not necessary"):
        out.sum().backward()


def test_determinism_check_and_debug() -> None:
    state = {"calls": 0}

    def changing(x: autodiff.Tensor) -> autodiff.Tensor:
        state["calls"] += 1
        return (x * 2).exp() if state["calls"] == 1 else (x[:1] * 2).exp()

    x = autodiff.ones(3, requires_grad=True)
    out = checkpoint(changing, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="torch.utils.checkpoint: Recomputed values for "
                       "the following tensors have different metadata than during the forward "
                       r"pass.\ntensor at position 0:\nsaved metadata: \{'shape': \(3,\)"):
        out.sum().backward()
    state["calls"] = 0
    out = checkpoint(changing, x, use_reentrant=False, debug=True)
    with pytest.raises(CheckpointError, match="dumping logs of latest computation because you "
                       "passed `debug=True`") as caught:
        out.sum().backward()
    assert "ExpBackward0: shape=(3,)" in str(caught.value)
    assert "ExpBackward0: shape=(1,)" in str(caught.value)
    state["calls"] = 0
    out = checkpoint(changing, x, use_reentrant=False, determinism_check="none")
    out.sum().backward()  # no check: the mismatch goes unnoticed, as in PyTorch
    state["calls"] = 0
    with set_checkpoint_debug_enabled(True):
        out = checkpoint(changing, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="dumping logs"):
        out.sum().backward()

    def more(x: autodiff.Tensor) -> autodiff.Tensor:
        state["calls"] += 1
        y = x.exp()
        return y.exp() if state["calls"] > 1 else y

    state["calls"] = 0
    with set_checkpoint_early_stop(False):
        out = checkpoint(more, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="trying to save more tensors during "
                       "recomputation than during the original forward pass"):
        out.sum().backward()


def test_context_fn_runs_around_forward_and_recomputation() -> None:
    seen = []

    class Marker:
        def __init__(self, name: str) -> None:
            self.name = name

        def __enter__(self) -> None:
            seen.append(self.name)

        def __exit__(self, *args: object) -> None:
            pass

    x = autodiff.ones(2, requires_grad=True)
    out = checkpoint(lambda t: t.exp(), x, use_reentrant=False,
                     context_fn=lambda: (Marker("forward"), Marker("recompute")))
    assert seen == ["forward"]
    out.sum().backward()
    assert seen == ["forward", "recompute"]


def test_inputs_modified_in_place_are_detected() -> None:
    x = autodiff.ones(3, requires_grad=True)
    y = x * 1
    out = checkpoint(lambda t: t.exp(), y, use_reentrant=False)
    with autodiff.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_under_no_grad_the_function_just_runs() -> None:
    x = autodiff.ones(2, requires_grad=True)
    with autodiff.no_grad():
        out = checkpoint(lambda t: t * 3, x, use_reentrant=False)
    assert out.tolist() == [3, 3] and not out.requires_grad


def test_helpers() -> None:
    x = autodiff.ones(2, requires_grad=True)
    detached = detach_variable((x, 3))
    assert detached[1] == 3 and detached[0].requires_grad and detached[0].grad_fn is None
    assert detached[0] is not x
    with pytest.raises(RuntimeError, match=r"Only tuple of tensors is supported\. Got Unsupported "
                       "input type: list"):
        detach_variable([x])  # type: ignore[arg-type]
    assert get_device_states(x) == ([], [])
    a = autodiff.ones(1, device="strict:1")
    devices, states = get_device_states(a, x)
    assert devices == [1] and len(states) == 1
    first = autodiff.rand(2, device="strict:1").tolist()
    set_device_states(devices, states, device_type="strict")
    assert autodiff.rand(2, device="strict:1").tolist() == first


def test_default_generator_state_round_trip(device: str) -> None:
    generator = backends.get_backend(device).default_generator
    state = generator.get_state()
    first = [autodiff.rand(4, device=device).tolist(), autodiff.randn(2, device=device).tolist(),
             autodiff.randint(0, 100, (3,), device=device).tolist(),
             F.dropout(autodiff.ones(100, device=device), 0.5).tolist()]
    generator.set_state(state)
    again = [autodiff.rand(4, device=device).tolist(), autodiff.randn(2, device=device).tolist(),
             autodiff.randint(0, 100, (3,), device=device).tolist(),
             F.dropout(autodiff.ones(100, device=device), 0.5).tolist()]
    assert again == first


def _sin_of_product(w: autodiff.Tensor) -> Any:
    return lambda x: (x * w).sin()


@pytest.mark.parametrize("walk", ["grad", "backward(inputs=)"])
def test_reentrant_refuses_a_walk_limited_to_some_inputs(walk: str) -> None:
    x = autodiff.ones(3, dtype=autodiff.float64, requires_grad=True)
    w = autodiff.ones(3, dtype=autodiff.float64, requires_grad=True)
    out = checkpoint(_sin_of_product(w), x, use_reentrant=True).sum()
    message = (r"^When use_reentrant=True, torch\.utils\.checkpoint is incompatible with "
               r"\.grad\(\) or passing an `inputs` parameter to \.backward\(\)\. To resolve this "
               r"error, you can either set use_reentrant=False, or call \.backward\(\) without "
               r"passing the `inputs` argument\.$")
    with pytest.raises(RuntimeError, match=message):
        if walk == "grad":
            autodiff.autograd.grad(out, (x,))
        else:
            out.backward(inputs=[x])
    assert x.grad is None and w.grad is None  # the inner backward touched no leaf
    (gx,) = autodiff.autograd.grad(checkpoint(_sin_of_product(w), x, use_reentrant=False)
                                   .sum(), (x,))
    np.testing.assert_allclose(gx.numpy(), np.cos(1.0) * np.ones(3))
    assert w.grad is None
    out.backward()  # a full walk still serves it
    np.testing.assert_allclose(w.grad.numpy(), np.cos(1.0) * np.ones(3))


class _SquareReadingSavedTwice(autodiff.autograd.Function):
    @staticmethod
    def forward(ctx: Any, a: autodiff.Tensor) -> autodiff.Tensor:
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx: Any, grad: autodiff.Tensor) -> autodiff.Tensor:
        (a,) = ctx.saved_tensors
        (a,) = ctx.saved_tensors
        return 2 * grad * a


def test_non_reentrant_unpacks_each_saved_tensor_once_per_backward() -> None:
    x = autodiff.ones(3, dtype=autodiff.float64, requires_grad=True)
    out = checkpoint(lambda a: _SquareReadingSavedTwice.apply(a.sin()), x, use_reentrant=False)
    with pytest.raises(CheckpointError, match=r"^torch\.utils\.checkpoint: Unpack is being "
                       r"triggered for a tensor that was already unpacked once\. If you are "
                       r"calling ctx\.saved_tensors in backward, make sure to do so only once\."):
        out.sum().backward()
    assert x.grad is None


def test_the_engine_names_its_walks() -> None:
    from autodiff.engine import current_graph_task_id

    x = autodiff.ones(2, requires_grad=True)
    seen: list[tuple[int, bool]] = []

    def hook(grad: autodiff.Tensor) -> None:
        seen.append((current_graph_task_id(), autodiff.autograd._is_checkpoint_valid()))

    y = x * 2
    y.register_hook(hook)
    y.sum().backward(retain_graph=True)
    autodiff.autograd.grad(y.sum(), (x,))
    assert current_graph_task_id() == -1 and autodiff.autograd._is_checkpoint_valid()
    (first, full), (second, limited) = seen
    assert first >= 0 and second > first and full and not limited


@pytest.mark.parametrize("variant", ["unchecked", "non-reentrant", "reentrant"])
def test_backward_peak_is_what_the_forward_held_plus_one_layers_gradients(variant: str) -> None:
    """The engine keeps no gradient once it has passed it on: with each parameter's gradient
    freed as soon as it is accumulated, the backward's peak is the activations held plus one
    Linear's weight and input gradients (and the gradient flowing in), for all three runs."""
    width, batch, layers_count = 256, 64, 8
    layers: list[nn.Module] = []
    for _ in range(layers_count):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers)
    for parameter in model.parameters():
        parameter.register_post_accumulate_grad_hook(lambda p: setattr(p, "grad", None))
    x = autodiff.randn(batch, width, requires_grad=True)
    forward = {"unchecked": lambda: model(x),
               "non-reentrant": lambda: checkpoint_sequential(model, 4, x, use_reentrant=False),
               "reentrant": lambda: checkpoint_sequential(model, 4, x, use_reentrant=True)}
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        loss = forward[variant]().sum()
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    activation, weight = batch * width * 4, width * width * 4
    # The reentrant backward also holds the outer gradient while its inner one runs.
    extra = 3 if variant != "reentrant" else 4
    assert peak - held < weight + extra * activation + 64 * 1024
    assert held - start > 0
