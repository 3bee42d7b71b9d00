"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019), with amsgrad, maximize and
weight decay (L2 for Adam, decoupled for AdamW), in PyTorch's formulation.

The update is the backend's `adam_update` (one fused kernel on CuPy, in place on NumPy);
with `differentiable=True` the same kernel function (`backends.kernels`) runs on the Tensors.
amsgrad keeps a running maximum of the second moment and runs the same operations around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from backends import kernels

from ..tensor import Tensor
from .checks import (
    check_differentiable_hyperparameters,
    check_fused,
    check_fused_param,
    refuse_capturable,
)
from .multi_tensor import adam_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import (
    bump_versions,
    hyperparameter,
    increment_step,
    operands,
    saved,
    update_on_tensors,
    use_grad_for_differentiable,
)


def check_adam_options(lr: Any, betas: tuple[Any, Any], eps: float, weight_decay: float,
                       foreach: bool | None, capturable: bool) -> None:
    """PyTorch's argument checks of Adam and AdamW, in its order and words."""
    if isinstance(lr, Tensor):
        if foreach and not capturable:
            raise ValueError(
                "lr as a Tensor is not supported for capturable=False and foreach=True")
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for index, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{index}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{index}] must be 1-element")
    refuse_capturable(capturable)


class Adam(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "amsgrad": False, "maximize": False, "foreach": None, "capturable": False, "differentiable":
        False, "fused": None, "decoupled_weight_decay": False}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-3,
                 betas: tuple[Any, Any] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        check_adam_options(lr, betas, eps, weight_decay, foreach, capturable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """m = β1 m + (1 - β1) g;  v = β2 v + (1 - β2) g²;
        p -= lr / (1 - β1^t) * m / (sqrt(v) / sqrt(1 - β2^t) + eps)."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "Adam does not support sparse gradients, please consider "
                                      "SparseAdam instead")
        for group in self.param_groups:
            refuse_capturable(group["capturable"])
            check_differentiable_hyperparameters(group, "lr", "betas")
            options = dict(lr=hyperparameter(group["lr"]),
                           beta1=hyperparameter(group["betas"][0]),
                           beta2=hyperparameter(group["betas"][1]),
                           weight_decay=group["weight_decay"],
                           decoupled=group["decoupled_weight_decay"])
            if group["foreach"] and group["differentiable"]:
                raise AssertionError("_foreach ops don't support autograd")
            if use_foreach(group):
                adam_foreach(self, group, options["lr"], options["beta1"], options["beta2"])
                continue
            amsgrad = group["amsgrad"]
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    if group["fused"]:
                        check_fused_param(param)
                    fused = bool(group["fused"])
                    state["step"] = self._step_tensor(param=param if fused else None,
                                                      fused=fused)
                    state["exp_avg"] = self._zeros_like(param)
                    state["exp_avg_sq"] = self._zeros_like(param)
                    if amsgrad:
                        state["max_exp_avg_sq"] = self._zeros_like(param)
                step = increment_step(state["step"])
                moments = (state["exp_avg"], state["exp_avg_sq"])
                maximum = state["max_exp_avg_sq"] if amsgrad else None
                xp, data, grad, exp_avg, exp_avg_sq, max_exp_avg_sq = operands(
                    differentiable, param, param._grad, *moments, maximum)
                if group["maximize"]:
                    grad = -grad
                if amsgrad:
                    amsgrad_update(xp, data, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
                                   eps=group["eps"], step=step, **options)
                elif differentiable:
                    update_on_tensors("adam", data, grad, exp_avg, exp_avg_sq,
                                      eps=group["eps"], step=step, **options)
                else:  # the backend's kernel (one launch on a GPU)
                    param._backend.adam_update(data, grad, exp_avg, exp_avg_sq,
                                               eps=group["eps"], step=step, **options)
                if not differentiable:
                    bump_versions(param, *moments, maximum)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""

    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        **Adam._option_defaults_on_load, "decoupled_weight_decay": True}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-3,
                 betas: tuple[Any, Any] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


def amsgrad_update(xp: Any, param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any,
                   max_exp_avg_sq: Any, *, lr: float, beta1: float, beta2: float, eps: float,
                   weight_decay: float, step: float, decoupled: bool) -> None:
    """One amsgrad Adam step, in place: Adam's operations with the running maximum of the
    second moment in the denominator (PyTorch's single-tensor Adam, in its order)."""
    (lerp_weight, lerp_complement, _, one_minus_beta2), flags = kernels.moment_scalars(
        lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, decoupled=decoupled)
    kernels.decay_and_moments(param, grad, exp_avg, exp_avg_sq, lerp_weight, lerp_complement,
                              beta2, one_minus_beta2, weight_decay, 1 - lr * weight_decay,
                              **flags)
    step_size = lr / (1 - beta1**step)
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    maximum = xp.maximum(saved(max_exp_avg_sq), saved(exp_avg_sq))
    max_exp_avg_sq[...] = maximum
    denom = xp.sqrt(maximum) / bias_correction2_sqrt
    denom += eps
    param -= step_size * exp_avg / denom  # addcdiv_(exp_avg, denom, value=-step_size)
