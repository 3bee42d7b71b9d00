"""TorchDispatchMode (torch.utils._python_dispatch): a mode handed every op, forward and
backward, as its aten overload; calling the overload in the handler runs the op."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

import autodiff
from autodiff.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _dispatch_mode_class(lib: Any) -> Any:
    if lib is autodiff:
        return TorchDispatchMode
    from torch.utils._python_dispatch import TorchDispatchMode as TorchsMode

    return TorchsMode


def _libraries() -> list[Any]:
    if not HAS_TORCH:
        return [autodiff]
    import torch

    return [autodiff, torch]


def _logged(lib: Any) -> tuple[list[str], list[float]]:
    log: list[str] = []

    class Log(_dispatch_mode_class(lib)):  # type: ignore[misc]
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            log.append(str(func))
            return func(*args, **(kwargs or {}))

    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with Log():
        y = (x * 2).exp().sum()
        y.backward()
    return log, x.grad.tolist()


@pytest.mark.parametrize("lib", _libraries(), ids=lambda lib: lib.__name__)
def test_mode_sees_forward_ops_then_the_backwards(lib: Any) -> None:
    log, grad = _logged(lib)
    # PyTorch also shows the detach of exp's saved result and the engine's ones_like.
    log = [op for op in log if op not in ("aten.detach.default", "aten.ones_like.default")]
    assert log[:3] == ["aten.mul.Tensor", "aten.exp.default", "aten.sum.default"]
    assert "aten.expand.default" in log[3:]  # sum's backward
    assert grad == pytest.approx([2 * 2.718281828 ** (2 * v) for v in (1.0, 2.0, 3.0)],
                                 rel=1e-5)


@pytest.mark.parametrize("lib", _libraries(), ids=lambda lib: lib.__name__)
def test_handler_result_is_the_ops_and_arguments_can_change(lib: Any) -> None:
    class Triples(_dispatch_mode_class(lib)):  # type: ignore[misc]
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            if func is lib.ops.aten.mul.Tensor:
                return func(args[0], 3, **(kwargs or {}))
            if func is lib.ops.aten.neg.default:
                return lib.full_like(args[0], 7.0) if lib is autodiff else func(*args) * 0 + 7
            return func(*args, **(kwargs or {}))

    with Triples():
        tripled = lib.ones(2) * 2
        replaced = -lib.ones(2)
    assert tripled.tolist() == [3.0, 3.0]
    assert replaced.tolist() == [7.0, 7.0]


def test_nested_modes_and_current_mode() -> None:
    order: list[str] = []

    class Named(TorchDispatchMode):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            order.append(self.name)
            return func(*args, **(kwargs or {}))

    x = autodiff.ones(2)
    assert _get_current_dispatch_mode() is None
    with Named("outer") as outer:
        assert _get_current_dispatch_mode() is outer
        with Named("inner") as inner:
            assert _get_current_dispatch_mode() is inner
            (x + 1).tolist()
    assert order == ["inner", "outer"]
    assert _get_current_dispatch_mode() is None


def test_overload_outside_a_handler_still_refuses() -> None:
    with pytest.raises(RuntimeError, match="has no dispatcher to call them"):
        autodiff.ops.aten.mul.Tensor(autodiff.ones(1), 2)
