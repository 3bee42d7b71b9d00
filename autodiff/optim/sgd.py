"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay
(PyTorch's formulation: the momentum buffer starts as the first gradient)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from ..sparse_coo import SparseCOO
from ..tensor import _wrap
from .checks import (
    check_differentiable_hyperparameters,
    check_fused,
    check_fused_param,
    check_tensor_lr,
)
from .multi_tensor import sgd_foreach, use_foreach
from .optimizer import Optimizer
from .sparse_grad import add_into_, concatenated, refuse_sparse_grads, scaled, sparse_grad
from .update import (
    bump_versions,
    gradient_with_decay,
    hyperparameter,
    operands,
    use_grad_for_differentiable,
)


class SGD(Optimizer):
    _option_defaults_on_load: ClassVar[dict[str, Any]] = {
        "nesterov": False, "maximize": False, "foreach": None, "differentiable": False, "fused":
        False}

    def __init__(self, params: Iterable[Any], lr: Any = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_tensor_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    @use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient:
        g = ±grad + weight_decay * p;  buf = momentum * buf + (1 - dampening) * g;
        p -= lr * (g + momentum * buf if nesterov else buf)."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "`_fused_sgd` does not support sparse gradients",
                            fused_only=True)
        for group in self.param_groups:
            check_differentiable_hyperparameters(group, "lr")
            lr = hyperparameter(group["lr"])
            if use_foreach(group):
                sgd_foreach(self, group, lr)
                continue
            momentum = group["momentum"]
            differentiable = group["differentiable"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                if group["fused"]:
                    check_fused_param(param)
                state = self.state[param]
                sparse = sparse_grad(param)
                if sparse is not None:
                    sparse_sgd_step(param, sparse, state, group, lr)
                    continue
                buffer = state.get("momentum_buffer") if momentum != 0 else None
                xp, data, grad, buffer_data = operands(differentiable, param, param._grad, buffer)
                grad = gradient_with_decay(xp, grad, data, group["maximize"],
                                           group["weight_decay"])
                if momentum != 0:
                    if buffer is None:
                        # buf = grad.detach().clone(): the first step's gradient, owned
                        if differentiable:
                            buffer = grad.detach().clone()
                        else:
                            backend = param._backend
                            buffer = _wrap(backend.asarray(grad, copy=True), backend)
                        state["momentum_buffer"] = buffer
                        buffer_data = buffer if differentiable else buffer._data
                    else:
                        sgd_momentum_(buffer_data, grad, momentum, group["dampening"])
                    grad = grad + momentum * buffer_data if group["nesterov"] else buffer_data
                data -= lr * grad  # param.add_(grad, alpha=-lr)
                if not differentiable:
                    bump_versions(param, buffer)
        return loss


def sparse_sgd_step(param: Any, grad: SparseCOO, state: dict[str, Any], group: dict[str, Any],
                    lr: float) -> None:
    """SGD's rule for a sparse COO gradient, as PyTorch runs it on sparse tensors: the momentum
    buffer is sparse too (its entries grow by the gradient's each step), and the parameter
    takes a scatter-add of the touched rows. Weight decay would add the dense parameter to
    the sparse gradient, which PyTorch refuses."""
    if group["weight_decay"] != 0:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    backend = param._backend
    if group["maximize"]:
        grad = scaled(grad, -1.0)
    momentum = group["momentum"]
    buffer = None
    if momentum != 0:
        buffer = state.get("momentum_buffer")
        if buffer is None:
            buffer = _wrap(grad.copied(backend), backend)
            state["momentum_buffer"] = buffer
        else:
            buffer._data = concatenated(scaled(buffer._data, momentum),
                                        scaled(grad, 1 - group["dampening"]), backend)
        grad = concatenated(grad, scaled(buffer._data, momentum), backend) \
            if group["nesterov"] else buffer._data
    add_into_(param._data, grad, backend, -lr)
    bump_versions(param, buffer)


def sgd_momentum_(buffer: Any, grad: Any, momentum: float, dampening: float) -> None:
    """buf.mul_(momentum).add_(grad, alpha=1 - dampening), in place."""
    buffer *= momentum
    if dampening == 0:
        buffer += grad
    else:
        buffer += (1 - dampening) * grad
