"""What optimizers' update rules share: their operands (backend arrays, or Tensors when the
step is to be differentiated), the step count, hyperparameters as numbers, and the in-place
pieces PyTorch's rules are made of."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backends import kernels
from backends.kernels import Kernels

from ..compiler.tracing import current as current_tracer
from ..grad_mode import set_grad_enabled
from ..tensor import Tensor
from . import _tensor_xp

if TYPE_CHECKING:
    from .optimizer import Optimizer


def use_grad_for_differentiable(step: Callable[..., Any]) -> Callable[..., Any]:
    """Run `step` with grad mode set to the optimizer's `differentiable` default, as PyTorch's
    optimizers do (off unless the step itself is to be differentiated)."""
    @functools.wraps(step)
    def wrapper(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        with set_grad_enabled(bool(self.defaults.get("differentiable", False))):
            return step(self, *args, **kwargs)

    return wrapper


def operands(differentiable: bool, param: Tensor, *tensors: Tensor | None) -> tuple[Any, ...]:
    """(xp, param, *others) for an update rule: the parameter's backend and the backend
    arrays, or with `differentiable` the Tensors and their functions (`_tensor_xp`), so the
    rule's operations are recorded by autograd. None stays None."""
    if differentiable:
        return (_tensor_xp, param, *tensors)
    tracer = current_tracer()
    if tracer is not None:  # autodiff.compile checks it reaches what the rule writes
        tracer.note_updated(param, *tensors)
    arrays = [param._backend, param._data]
    for tensor in tensors:  # a loop, not a generator: no generator made per parameter
        arrays.append(None if tensor is None else tensor._data)
    return tuple(arrays)


def bump_versions(*tensors: Tensor | None) -> None:
    """Record that an array rule changed these tensors in place (a graph that saved one of
    them before the step then refuses to backward through it)."""
    for tensor in tensors:
        if tensor is not None:
            tensor._bump_version()


def increment_step(step: Tensor) -> float:
    """state['step'] += 1 on its 0-d tensor; the new count as a Python float."""
    step._data += 1
    step._bump_version()
    return scalar_state(step)


def scalar_state(scalar: Tensor) -> float:
    """The number in a 0-d state tensor (a step count, NAdam's running product). While
    autodiff.compile traces, a value of its program that each replay reads again (so the steps
    after the first compile) instead of a constant."""
    tracer = current_tracer()
    if tracer is not None:
        return tracer.scalar(scalar._backend, scalar._data)  # type: ignore[return-value]
    return float(scalar._backend.item(scalar._data))


def hyperparameter(value: Any) -> Any:
    """A 1-element Tensor hyperparameter (lr, betas) as its Python number, for the host-side
    scalar arithmetic; numbers pass through."""
    return value.item() if isinstance(value, Tensor) else value


def gradient_with_decay(xp: Any, grad: Any, param: Any, maximize: bool,
                        weight_decay: float) -> Any:
    """The gradient a step uses: negated to maximize, plus L2 weight decay (a new array when
    either applies: the parameter's .grad is never changed)."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param  # grad.add(param, alpha=weight_decay)
    return grad


def saved(value: Any) -> Any:
    """`value` for an operation that saves its inputs for backward: with differentiable=True a
    copy, because the rule later writes that state tensor in place (which would invalidate
    what the graph saved); on arrays the array itself."""
    return value.clone() if isinstance(value, Tensor) else value


def lerp_(start: Any, end: Any, weight: float) -> None:
    """start.lerp_(end, weight) on arrays (or Tensors), in place, from the nearer end as
    PyTorch computes it."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start -= end
        start *= 1 - weight
        start += end


def update_on_tensors(name: str, param: Tensor, grad: Tensor, exp_avg: Tensor,
                      exp_avg_sq: Tensor, *, eps: float, **options: Any) -> None:
    """What the backend's `<name>_update` ("adam", "nadam", "radam") does, on Tensors: the
    scalars of `kernels.<name>_scalars`, then the kernel `Kernels.<name>_step` run over
    `_tensor_xp`, so autograd records each of its operations (differentiable=True)."""
    scalars, flags = getattr(kernels, f"{name}_scalars")(**options)
    step = getattr(Kernels, f"{name}_step")
    step(_tensor_xp, param, grad, exp_avg, exp_avg_sq, eps, *scalars, **flags)


def norm_value(xp: Any, array: Any) -> float:
    """The 2-norm of all elements, as a Python float (PyTorch's `.norm(2).item()`)."""
    return float(xp.item(xp.sqrt(xp.sum(array * array))))
