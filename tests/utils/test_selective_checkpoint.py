"""Selective activation checkpointing: the ops the policy sees (as PyTorch's aten overloads),
which ops the recomputation runs again, results and gradients equal to the unchecked run, and
PyTorch's errors; torch.ops.aten's names."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff.nn import functional as F
from autodiff.ops.matmul import Mm
from autodiff.utils.checkpoint import (
    SAC_IGNORED_OPS,
    CheckpointPolicy,
    SelectiveCheckpointContext,
    checkpoint,
    create_selective_checkpoint_contexts,
)

aten = autodiff.ops.aten


def _inputs(lib: Any, device: str = "cpu") -> tuple[Any, Any, Any]:
    kwargs = {"device": device} if lib is autodiff else {}
    x = lib.tensor(np.arange(20.0).reshape(4, 5) / 10, requires_grad=True, **kwargs)
    w = lib.tensor(np.arange(25.0).reshape(5, 5) / 20, requires_grad=True, **kwargs)
    b = lib.tensor(np.arange(5.0) / 7, requires_grad=True, **kwargs)
    return x, w, b


def _network(lib: Any, x: Any, w: Any, b: Any) -> Any:
    functional = lib.nn.functional
    h = functional.linear(x, w, b).relu()
    h = (((h + 2) * 3.0) ** 2).mean(1, keepdim=True) - x.sum()
    h = functional.layer_norm(functional.softmax(h + x, dim=-1), (5,))
    h = functional.gelu(lib.tanh(h) @ w.t()).exp().log1p()
    h = lib.cat([h, h.sin()], 0).view(-1).sqrt()
    return (h / 2).abs().max() + h.pow(3).sum()


# What PyTorch 2.13's policy is shown for `_network` (torch.ops.aten overloads, in order).
# autodiff's linear is one op (PyTorch's also shows the weight's aten.t.default first).
_NETWORK_OPS = [
    "aten.addmm.default", "aten.relu.default", "aten.add.Tensor", "aten.mul.Tensor",
    "aten.pow.Tensor_Scalar", "aten.mean.dim", "aten.sum.default", "aten.sub.Tensor",
    "aten.add.Tensor", "aten._softmax.default", "aten.native_layer_norm.default",
    "aten.tanh.default", "aten.t.default", "aten.mm.default", "aten.gelu.default",
    "aten.exp.default", "aten.log1p.default", "aten.sin.default", "aten.cat.default",
    "aten.view.default", "aten.sqrt.default", "aten.div.Tensor", "aten.abs.default",
    "aten.max.default", "aten.pow.Tensor_Scalar", "aten.sum.default", "aten.add.Tensor",
]


def _recording_policy(seen: list[str], save: tuple[Any, ...] = ()) -> Any:
    def policy(ctx: Any, op: Any, *args: Any, **kwargs: Any) -> Any:
        assert ctx.is_recompute is False
        seen.append(str(op))
        return CheckpointPolicy.MUST_SAVE if op in save else CheckpointPolicy.PREFER_RECOMPUTE
    return policy


def _checkpointed(lib: Any, policy: Any, *inputs: Any) -> Any:
    return lib.utils.checkpoint.checkpoint(
        functools.partial(_network, lib), *inputs, use_reentrant=False,
        context_fn=functools.partial(lib.utils.checkpoint.create_selective_checkpoint_contexts,
                                     policy))


def test_the_policy_sees_pytorchs_aten_overloads() -> None:
    seen: list[str] = []
    _checkpointed(autodiff, _recording_policy(seen), *_inputs(autodiff)).backward()
    assert seen == _NETWORK_OPS  # the policy is asked in the forward only
    torch = pytest.importorskip("torch")
    torch_seen: list[str] = []
    torch_policy = _recording_policy(torch_seen)
    _checkpointed(torch, lambda ctx, op, *a, **k: torch_policy(
        ctx, op, *a, **k), *_inputs(torch)).backward()
    assert [op for op in torch_seen if op != "aten.t.default"] == \
        [op for op in _NETWORK_OPS if op != "aten.t.default"]


@pytest.mark.parametrize("save", [(), (aten.mm.default, aten.addmm.default),
                                  tuple(getattr(aten, n.split(".")[1]).__getattr__(
                                      n.split(".")[2]) for n in _NETWORK_OPS)])
def test_results_and_gradients_equal_the_unchecked_run(device: str, save: tuple[Any, ...]
                                                       ) -> None:
    inputs = _inputs(autodiff, device)
    expected = _network(autodiff, *inputs)
    expected_grads = autodiff.autograd.grad(expected, inputs)
    got = _checkpointed(autodiff, _recording_policy([], save), *inputs)
    got_grads = autodiff.autograd.grad(got, inputs)
    np.testing.assert_array_equal(got.detach().cpu().numpy(), expected.detach().cpu().numpy())
    for grad, want in zip(got_grads, expected_grads, strict=True):
        np.testing.assert_array_equal(grad.cpu().numpy(), want.cpu().numpy())
    torch = pytest.importorskip("torch")
    torch_inputs = _inputs(torch)
    torch_out = _checkpointed(torch, create_policy_for_torch(torch, save), *torch_inputs)
    for grad, want in zip(got_grads, torch.autograd.grad(torch_out, torch_inputs), strict=True):
        np.testing.assert_allclose(grad.cpu().numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def create_policy_for_torch(torch: Any, save: tuple[Any, ...]) -> Any:
    names = {str(op) for op in save}
    policy = torch.utils.checkpoint.CheckpointPolicy
    return lambda ctx, op, *a, **k: (policy.MUST_SAVE if str(op) in names
                                     else policy.PREFER_RECOMPUTE)


def _count_mm(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    forward = Mm.forward

    def counted(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return forward(ctx, *args, **kwargs)

    monkeypatch.setattr(Mm, "forward", staticmethod(counted))
    return calls


def _two_matmuls(x: Any, y: Any) -> Any:
    return autodiff.sigmoid(autodiff.matmul(autodiff.matmul(x, y), y)) * y


@pytest.mark.parametrize(("policy", "recomputed"), [
    ([aten.mm.default], 0),
    ([aten.sigmoid.default], 2),
    (lambda ctx, op, *a, **k: CheckpointPolicy.PREFER_SAVE, 0),
    (lambda ctx, op, *a, **k: CheckpointPolicy.MUST_RECOMPUTE, 2),
    (lambda ctx, op, *a, **k: CheckpointPolicy.MUST_CPU_OFFLOAD, 2),  # eager: recomputed
    (lambda ctx, op, *a, **k: True, 0),  # a bool: True is MUST_SAVE, as PyTorch
    (lambda ctx, op, *a, **k: False, 2),
])
def test_saved_ops_are_not_run_again(monkeypatch: pytest.MonkeyPatch, policy: Any,
                                     recomputed: int) -> None:
    calls = _count_mm(monkeypatch)
    x, y = (autodiff.randn(4, 4, dtype=autodiff.float64, requires_grad=True) for _ in "xy")
    expected = autodiff.autograd.grad(_two_matmuls(x, y).sum(), (x, y))
    in_backward = calls[0] - 2  # the matmuls of mm's own backward
    calls[0] = 0
    out = checkpoint(_two_matmuls, x, y, use_reentrant=False,
                     context_fn=functools.partial(create_selective_checkpoint_contexts, policy))
    assert calls[0] == 2
    got = autodiff.autograd.grad(out.sum(), (x, y))
    assert calls[0] == 2 + recomputed + in_backward
    for grad, want in zip(got, expected, strict=True):
        np.testing.assert_array_equal(grad.numpy(), want.numpy())


def test_dropout_under_a_policy_draws_the_forwards_masks() -> None:
    x = autodiff.randn(6, 8, dtype=autodiff.float64, requires_grad=True)

    def fn(x: Any) -> Any:
        return F.dropout(autodiff.sin(x), 0.5).exp()

    autodiff.manual_seed(3)
    expected = autodiff.autograd.grad(fn(x).sum(), (x,))
    for policy in ([aten.sin.default], [aten.mul.Tensor], [aten.exp.default]):
        autodiff.manual_seed(3)
        out = checkpoint(fn, x, use_reentrant=False, context_fn=functools.partial(
            create_selective_checkpoint_contexts, policy))
        np.testing.assert_array_equal(autodiff.autograd.grad(out.sum(), (x,))[0].numpy(),
                                      expected[0].numpy())


def _sin_exp(x: Any) -> Any:
    return x.sin().exp()


def _save_sin(ctx: Any, op: Any, *args: Any, **kwargs: Any) -> CheckpointPolicy:
    return (CheckpointPolicy.MUST_SAVE if op == aten.sin.default
            else CheckpointPolicy.PREFER_RECOMPUTE)


def _mutates_a_kept_output(x: Any) -> Any:
    y = x.sin()
    z = y.exp()
    y.mul_(2)
    return z * y


def test_errors_match_pytorch() -> None:
    x = autodiff.randn(2, 3, dtype=autodiff.float64, requires_grad=True)

    def run(fn: Any, policy: Any, **kwargs: Any) -> Any:
        return checkpoint(fn, x, use_reentrant=False, context_fn=functools.partial(
            create_selective_checkpoint_contexts, policy, **kwargs))

    with pytest.raises(RuntimeError, match=r"^Tensor cached during selective activation "
                       r"checkpoint has been mutated$"):
        run(_mutates_a_kept_output, _save_sin).sum().backward()
    out = run(_mutates_a_kept_output, _save_sin, allow_cache_entry_mutation=True)
    out.sum().backward()
    out = run(_sin_exp, _save_sin)
    out.sum().backward(retain_graph=True)
    with pytest.raises(RuntimeError, match=r"^Trying to backward an extra time\. You are only "
                       r"allowed to backward once on any region computed under selective "
                       r"activation checkpoint\.$"):
        out.sum().backward()
    with pytest.raises(ValueError, match=r"^Expected op in `op_list` to be an OpOverload but "
                       r"got: aten\.sin of type .*OpOverloadPacket'>\. Please update the "
                       r"OpOverloadPacket to a specific OpOverload\.For example, if you have "
                       r"`torch\.ops\.aten\.mm`, change it to `torch\.ops\.aten\.mm\.default`\."):
        create_selective_checkpoint_contexts([aten.sin])
    with pytest.raises(ValueError, match=r"but got: 3 of type <class 'int'>\. $"):
        create_selective_checkpoint_contexts([3])
    with pytest.raises(TypeError, match=r"^policy_fn_or_list must be either a function or a "
                       r"list of ops\.$"):
        create_selective_checkpoint_contexts(3)  # type: ignore[arg-type]


def test_a_different_recomputation_is_reported() -> None:
    x = autodiff.randn(3, dtype=autodiff.float64, requires_grad=True)
    state = {"first": True}

    def fn(x: Any) -> Any:
        y = x.sin() if state.pop("first", False) else x.cos()
        return y.exp()

    out = checkpoint(fn, x, use_reentrant=False,
                     context_fn=functools.partial(create_selective_checkpoint_contexts,
                                                  [aten.sin.default]))
    with pytest.raises(RuntimeError, match=r"^aten\.cos\.default encountered during backward "
                       r"but not found in storage\. This can happen if the operations in the "
                       r"checkpointed region are nondeterministic"):
        out.backward(autodiff.ones(3, dtype=autodiff.float64))


def test_context_and_policy_enum() -> None:
    ctx = SelectiveCheckpointContext(is_recompute=False, op_output=3)
    assert (ctx.is_recompute, ctx.op_output) == (False, 3)
    assert [p.value for p in CheckpointPolicy] == [0, 1, 2, 3, 4, 5]
    assert [p.name for p in CheckpointPolicy] == [
        "MUST_SAVE", "PREFER_SAVE", "MUST_RECOMPUTE", "PREFER_RECOMPUTE", "MUST_CPU_OFFLOAD",
        "PREFER_CPU_OFFLOAD"]
    assert aten.detach.default in SAC_IGNORED_OPS


def test_aten_names_as_pytorch() -> None:
    op = aten.add.Tensor
    assert op is autodiff.ops.aten.add.Tensor and op in {aten.add.Tensor}
    assert (str(op), repr(op), op.name(), op._overloadname, op.__name__) == (
        "aten.add.Tensor", "<OpOverload(op='aten.add', overload='Tensor')>", "aten::add.Tensor",
        "Tensor", "add.Tensor")
    assert aten.mm.default.name() == "aten::mm"
    assert op.overloadpacket is aten.add and repr(aten.add) == "<OpOverloadPacket(op='aten.add')>"
    assert {"Tensor", "Scalar", "out"} <= set(aten.add.overloads())
    with pytest.raises(AttributeError, match=r"^'_OpNamespace' 'aten' object has no attribute "
                       r"'nosuch'$"):
        _ = aten.nosuch
    with pytest.raises(AttributeError, match=r"^The underlying op of 'aten\.mm' has no overload "
                       r"name 'Tensor'$"):
        _ = aten.mm.Tensor
    torch = pytest.importorskip("torch")
    for name in ("add", "mm", "_softmax", "native_layer_norm", "pow"):
        assert set(getattr(aten, name).overloads()) <= set(
            getattr(torch.ops.aten, name).overloads())
        for overload in getattr(aten, name).overloads():
            assert str(getattr(getattr(aten, name), overload)) == str(
                getattr(getattr(torch.ops.aten, name), overload))
            assert getattr(getattr(aten, name), overload).name() == getattr(
                getattr(torch.ops.aten, name), overload).name()
