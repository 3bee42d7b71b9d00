"""Rprop (Riedmiller & Braun, 1993): each coordinate moves by its own step size, grown by
etaplus while the gradient keeps its sign and shrunk by etaminus when it flips (a flip also
skips that coordinate's update and forgets its gradient)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .checks import check_tensor_lr, refuse_capturable
from .multi_tensor import rprop_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import (
    bump_versions,
    hyperparameter,
    increment_step,
    operands,
    saved,
    use_grad_for_differentiable,
)


class Rprop(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_tensor_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        refuse_capturable(capturable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """s = clamp(s * (etaplus if g g_prev > 0, etaminus if < 0, else 1), min, max);
        g = 0 where the sign flipped;  p -= sign(g) s;  g_prev = g."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "Rprop does not support sparse gradients")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            if use_foreach(group):
                rprop_foreach(self, group)
                continue
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = self._step_tensor()
                    state["prev"] = self._zeros_like(param)
                    state["step_size"] = self._full_like(param, hyperparameter(group["lr"]))
                increment_step(state["step"])
                xp, data, grad, prev, step_size = operands(
                    differentiable, param, param._grad, state["prev"], state["step_size"])
                if group["maximize"]:
                    grad = -grad
                sign = xp.sign(grad * saved(prev))
                flipped = sign < 0
                factor = xp.where(sign > 0, etaplus,
                                  xp.where(flipped, etaminus, xp.where(sign == 0, 1.0, sign)))
                # step_size.mul_(sign).clamp_(min, max)
                new_step_size = xp.clip(saved(step_size) * factor, step_size_min, step_size_max)
                step_size[...] = new_step_size
                grad = xp.where(flipped, 0.0, grad)  # grad.clone()[sign.eq(etaminus)] = 0
                # param.addcmul_(grad.sign(), step_size, value=-1)
                data -= xp.sign(grad) * new_step_size
                prev[...] = grad
                if not differentiable:
                    bump_versions(param, state["prev"], state["step_size"])
        return loss
