"""Double backward for fused ops: their gradient, recorded, from their elementary-op twin.

A fused op (a whole recurrent layer, attention) computes its forward and its backward on
backend arrays, in a few large passes. When the engine runs that backward under
`create_graph=True`, the gradient must itself be a recorded function of the op's inputs. Then
the op's backward calls `recorded_gradients` instead: it runs the op's twin (the same function
written with elementary Tensor ops, each twice differentiable) on the saved inputs and
differentiates it with `autograd.grad(create_graph=True)`, as activation checkpointing does.
The twin is the op's definition; the fused path is its fast evaluation (tests hold them equal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..autograd.gradients import grad as _grad
from ..grad_mode import enable_grad
from ..tensor import Tensor


def recorded_gradients(twin: Callable[..., Sequence[Tensor]], inputs: Sequence[Any],
                       needs_input_grad: Sequence[bool],
                       grad_outputs: Sequence[Tensor | None]) -> tuple[Tensor | None, ...]:
    """Gradients of `twin(*inputs)` (a sequence of Tensors, one per output of the fused op)
    with respect to the inputs that need one, given the gradients of the outputs; recorded."""
    wanted = [index for index, need in enumerate(needs_input_grad) if need]
    with enable_grad():
        outputs = twin(*inputs)
    pairs = [(output, grad) for output, grad in zip(outputs, grad_outputs)
             if grad is not None and output.requires_grad]
    result: list[Tensor | None] = [None] * len(inputs)
    if not pairs or not wanted:
        return tuple(result)
    grads = _grad([output for output, _ in pairs], [inputs[index] for index in wanted],
                  [grad for _, grad in pairs], create_graph=True, allow_unused=True)
    for index, value in zip(wanted, grads):
        result[index] = value
    return tuple(result)
