"""Module hooks: forward pre-hooks and hooks (with kwargs, prepended, always called), full
backward pre-hooks and hooks (grad_input/grad_output tuples, replacement, the in-place error),
the deprecated non-full backward hooks, the global `register_module_*` hooks and the
load_state_dict hooks. Each scenario runs the same code on autodiff and on PyTorch and the logs
must be equal; the checks without PyTorch come first."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn.modules import module as module_module


def _torch() -> Any:
    return pytest.importorskip("torch")


def _values(tensors: Any) -> Any:
    return [None if t is None else np.round(t.detach().numpy(), 6).tolist() for t in tensors]


def _linear(lib: Any, N: Any) -> Any:
    layer = N.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        layer.bias.zero_()
    return layer


# ----------------------------------------------------------------------------- without PyTorch
def test_full_backward_hooks_see_and_replace_the_gradients(device: str) -> None:
    layer = _linear(autodiff, nn).to(device)
    seen: list[Any] = []
    layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)) or (gi[0] + 1,))
    x = autodiff.ones(1, 3, device=device, requires_grad=True)
    layer(x).sum().backward()
    (grad_input,), (grad_output,) = seen[0]
    assert grad_output.tolist() == [[2.0, 2.0]]  # the pre-hook's doubled grad_output
    assert grad_input.tolist() == [[10.0, 14.0, 18.0]]  # W^T (2, 2)
    assert x.grad.tolist() == [[11.0, 15.0, 19.0]]  # the hook's replacement


def test_forward_hooks_order_kwargs_prepend_and_removal() -> None:
    calls: list[str] = []

    class Scale(nn.Module):
        def forward(self, x: Any, *, factor: float = 1.0) -> Any:
            calls.append(f"forward {factor}")
            return x * factor

    layer = Scale()
    first = layer.register_forward_pre_hook(lambda m, a: calls.append("pre"))
    layer.register_forward_pre_hook(
        lambda m, a, k: calls.append("pre kwargs") or (a, {"factor": 3.0}), with_kwargs=True)
    layer.register_forward_hook(lambda m, a, o: calls.append("post"))
    layer.register_forward_hook(lambda m, a, k, o: calls.append(f"first {k}") or o + 1,
                                with_kwargs=True, prepend=True)
    out = layer(autodiff.ones(1), factor=2.0)
    assert out.tolist() == [4.0]
    assert calls == ["pre", "pre kwargs", "forward 3.0", "first {'factor': 3.0}", "post"]
    first.remove()
    calls.clear()
    layer(autodiff.ones(1))
    assert calls[0] == "pre kwargs"
    with first:  # a handle is a context manager (removing twice is harmless)
        pass


def test_always_called_forward_hooks_run_when_forward_raises() -> None:
    layer = nn.Linear(3, 2)
    calls: list[Any] = []
    layer.register_forward_hook(lambda m, a, o: calls.append(o), always_call=True)
    layer.register_forward_hook(lambda m, a, o: calls.append("never"))
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        layer(autodiff.ones(2))
    assert calls == [None]
    failing = nn.Identity()
    failing.register_forward_hook(lambda m, a, o: 1 / 0, always_call=True)
    failing.register_forward_pre_hook(lambda m, a: 1 / 0)
    with (pytest.warns(UserWarning, match="with ``always_call=True`` raised an exception"),
          pytest.raises(ZeroDivisionError)):
        failing(autodiff.ones(1))


def test_global_hooks_run_first_and_are_removable() -> None:
    calls: list[str] = []
    handles = [
        module_module.register_module_forward_pre_hook(lambda m, a: calls.append("global pre")),
        module_module.register_module_forward_hook(lambda m, a, o: calls.append("global post")),
        module_module.register_module_full_backward_hook(
            lambda m, gi, go: calls.append("global backward")),
    ]
    try:
        layer = nn.Linear(2, 2)
        layer.register_forward_pre_hook(lambda m, a: calls.append("pre"))
        layer.register_full_backward_hook(lambda m, gi, go: calls.append("backward"))
        layer(autodiff.ones(1, 2, requires_grad=True)).sum().backward()
        assert calls == ["global pre", "pre", "global post", "global backward", "backward"]
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full "
                                               "backward hooks as a global Module hook"):
            module_module.register_module_backward_hook(lambda *a: None)
    finally:
        for handle in handles:
            handle.remove()
        module_module._GlobalState.is_full_backward_hook = None
    calls.clear()
    nn.Linear(2, 2)(autodiff.ones(1, 2))
    assert calls == []


def test_registration_hooks_may_replace_what_is_registered() -> None:
    seen: list[tuple[str, str]] = []
    replacements: dict[str, Any] = {}

    def on_parameter(module: Any, name: str, param: Any) -> Any:
        seen.append(("parameter", name))
        replacements[name] = nn.Parameter(param.detach().clone())
        return replacements[name]

    handles = [
        module_module.register_module_parameter_registration_hook(on_parameter),
        module_module.register_module_buffer_registration_hook(
            lambda m, n, b: seen.append(("buffer", n))),
        module_module.register_module_module_registration_hook(
            lambda m, n, s: seen.append(("module", n))),
    ]
    try:
        model = nn.Sequential(nn.Linear(2, 2))
        model.register_buffer("step", autodiff.zeros(1))
        model.extra = nn.ReLU()
    finally:
        for handle in handles:
            handle.remove()
    assert ("parameter", "weight") in seen and ("parameter", "bias") in seen
    assert ("module", "0") in seen and ("module", "extra") in seen and ("buffer", "step") in seen
    assert model[0].weight is replacements["weight"]  # the hook's replacement


def test_load_state_dict_hooks_edit_the_state_dict_and_the_keys() -> None:
    layer = nn.Linear(2, 2)
    source = {"w": autodiff.ones(2, 2), "bias": autodiff.zeros(2), "junk": autodiff.ones(1)}

    def rename(module: Any, state_dict: Any, prefix: str, *rest: Any) -> None:
        state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    def forgive(module: Any, keys: Any) -> None:
        keys.unexpected_keys.clear()

    layer.register_load_state_dict_pre_hook(rename)
    layer.register_load_state_dict_post_hook(forgive)
    result = layer.load_state_dict(source)
    assert layer.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert result.unexpected_keys == [] and "w" in source  # the caller's dict is untouched
    layer.register_load_state_dict_post_hook(lambda m, keys: keys)
    with pytest.raises(RuntimeError, match="not expected to return new values"):
        layer.load_state_dict(source)


def test_module_without_hooks_calls_forward_directly() -> None:
    layer = nn.Linear(2, 2)
    assert not layer._forward_hooks and not layer._backward_hooks
    out = layer(autodiff.ones(1, 2, requires_grad=True))
    assert out.grad_fn.name() == "AddmmBackward0"  # no BackwardHookFunction in between


# ----------------------------------------------------------------------------- against PyTorch
def _scenario_full_hooks(lib: Any, N: Any, log: list[Any]) -> None:
    layer = _linear(lib, N)
    layer.register_full_backward_hook(
        lambda m, gi, go: log.append(("backward", _values(gi), _values(go))))
    layer.register_full_backward_pre_hook(
        lambda m, go: log.append(("pre", _values(go))) or (go[0] * 2,))
    layer.register_forward_pre_hook(
        lambda m, a, k: log.append(("forward pre", sorted(k))) or ((a[0] * 1,), k),
        with_kwargs=True)
    x = lib.tensor([[1.0, 1.0, 1.0]], requires_grad=True)
    out = layer(x)
    log.append((out.grad_fn.name(), [n[0].name() if n[0] else None
                                     for n in out.grad_fn.next_functions]))
    out.sum().backward()
    log.append(("x.grad", _values([x.grad])))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer(lib.ones(1, 3)).sum().backward()  # no input requires grad
    log.append(("warnings", [str(w.message)[:80] for w in caught]))


def _scenario_tuples_and_non_tensors(lib: Any, N: Any, log: list[Any]) -> None:
    class Two(N.Module):
        def forward(self, a: Any, scale: float, b: Any) -> Any:
            return a * scale + b * 2, a.sum()

    module = Two()
    module.register_full_backward_hook(lambda m, gi, go: log.append(
        ("two", [None if g is None else list(g.shape) for g in gi],
         [None if g is None else list(g.shape) for g in go])))
    a, b = lib.ones(2, requires_grad=True), lib.ones(2)
    first, second = module(a, 3.0, b)
    (first.sum() + second).backward()
    log.append(("a.grad", _values([a.grad])))
    only = Two()
    only.register_full_backward_hook(lambda m, gi, go: log.append(("first only", _values(go))))
    out, _ = only(a, 1.0, b)
    out.sum().backward()


def _scenario_errors(lib: Any, N: Any, log: list[Any]) -> None:
    relu = N.ReLU(inplace=True)
    relu.register_full_backward_hook(lambda *a: None)
    x = lib.ones(1, 3, requires_grad=True)
    attempts: list[Callable[[], Any]] = [
        lambda: relu(x * 1),
        lambda: _with(N.Linear(3, 2), "full", lambda m, gi, go: (gi[0], gi[0]))(x).sum()
        .backward(),
        lambda: _with(N.Linear(3, 2), "pre", lambda m, go: (go[0], go[0]))(x).sum().backward(),
        lambda: _with(N.Linear(3, 2), "old", lambda *a: None).register_full_backward_hook(
            lambda *a: None),
        lambda: _with(N.Linear(3, 2), "full", lambda *a: None).register_backward_hook(
            lambda *a: None),
        lambda: _with(N.Identity(), "kwargs pre", lambda m, a, k: 5)(lib.ones(1)),
        lambda: _with(N.Linear(3, 2), "full", lambda m, gi, go: (lib.ones(1),))(
            lib.ones(1, 3)).sum().backward(),
    ]
    for attempt in attempts:
        try:
            with warnings.catch_warnings():  # the last one also warns (no input needs grad)
                warnings.simplefilter("ignore", UserWarning)
                attempt()
            log.append("no error")
        except RuntimeError as error:
            log.append(str(error))


def _with(module: Any, kind: str, hook: Any) -> Any:
    if kind == "full":
        module.register_full_backward_hook(hook)
    elif kind == "pre":
        module.register_full_backward_pre_hook(hook)
    elif kind == "old":
        module.register_backward_hook(hook)
    else:
        module.register_forward_pre_hook(hook, with_kwargs=True)
    return module


def _scenario_non_full_hooks(lib: Any, N: Any, log: list[Any]) -> None:
    class Scale(N.Module):  # one output node (MulBackward0) whose inputs are the same in both
        def __init__(self) -> None:
            super().__init__()
            self.w = N.Parameter(lib.tensor([1.0, 2.0, 3.0]))

        def forward(self, x: Any) -> Any:
            return x * self.w

    layer = Scale()
    layer.register_backward_hook(lambda m, gi, go: log.append(
        ("old", _values(gi), _values(go))))
    x = lib.ones(1, 3, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer(x).sum().backward()
    log.append(("warnings", [f"{w.category.__name__}: {str(w.message)[:70]}" for w in caught]))


def _scenario_forward_hooks(lib: Any, N: Any, log: list[Any]) -> None:
    layer = N.Linear(3, 2)
    layer.register_forward_hook(lambda m, a, o: log.append("second"))
    layer.register_forward_hook(lambda m, a, k, o: log.append(("first", sorted(k))),
                                prepend=True, with_kwargs=True)
    layer.register_forward_pre_hook(lambda m, a: log.append("pre 2"))
    layer.register_forward_pre_hook(lambda m, a: log.append("pre 1") or a[0] * 2, prepend=True)
    layer(lib.ones(1, 3))
    layer.register_forward_hook(lambda m, a, o: log.append(("always", o)), always_call=True)
    try:
        layer(lib.ones(2))
    except RuntimeError as error:
        log.append(str(error))


SCENARIOS = {
    "full hooks": _scenario_full_hooks,
    "tuples and non-tensors": _scenario_tuples_and_non_tensors,
    "errors": _scenario_errors,
    "non-full hooks": _scenario_non_full_hooks,
    "forward hooks": _scenario_forward_hooks,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_hooks_as_pytorch(name: str) -> None:
    torch = _torch()
    ours: list[Any] = []
    theirs: list[Any] = []
    SCENARIOS[name](autodiff, nn, ours)
    SCENARIOS[name](torch, torch.nn, theirs)
    assert ours == theirs
