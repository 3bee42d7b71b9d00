"""`_foreach_*` functions go through `__torch_function__` as PyTorch's do: a TorchFunctionMode
and a Tensor subclass inside the list see the call (checked against torch where installed)."""

from __future__ import annotations

from typing import Any

import pytest

import autodiff


def _seen_by_mode(library: Any) -> list[str]:
    seen: list[str] = []

    class Mode(library.overrides.TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            if func.__name__.startswith("_foreach"):
                seen.append(func.__name__)
            return func(*args, **(kwargs or {}))

    tensors = [library.ones(2), library.ones(3)]
    with Mode():
        out = library._foreach_add(tensors, 1.0)
        library._foreach_mul_(tensors, 2.0)
        library._foreach_norm(tensors)
    assert [t.tolist() for t in out] == [[2.0, 2.0], [2.0, 2.0, 2.0]]
    assert [t.tolist() for t in tensors] == [[2.0, 2.0], [2.0, 2.0, 2.0]]
    return seen


def test_mode_sees_foreach() -> None:
    assert _seen_by_mode(autodiff) == ["_foreach_add", "_foreach_mul_", "_foreach_norm"]


def test_mode_sees_foreach_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    assert _seen_by_mode(autodiff) == _seen_by_mode(torch)


def test_subclass_in_list_takes_foreach() -> None:
    calls = []

    class Logged(autodiff.Tensor):
        @classmethod
        def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            if func.__name__.startswith("_foreach"):
                calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    tensors = [autodiff.ones(2), autodiff.ones(2).as_subclass(Logged)]
    out = autodiff._foreach_exp(tensors)
    assert calls == ["_foreach_exp"]
    assert type(out[1]).__name__ == "Logged"


def test_optimizer_foreach_step_unchanged() -> None:
    weight = autodiff.ones(3, requires_grad=True)
    optimizer = autodiff.optim.SGD([weight], lr=0.5, foreach=True)
    weight.sum().backward()
    optimizer.step()
    assert weight.tolist() == [0.5, 0.5, 0.5]
