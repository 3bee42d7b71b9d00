"""The argument checks optimizers share, with PyTorch's messages, and the options autodiff
refuses by name."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


def check_tensor_lr(lr: Any) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def check_betas_eps(lr: Any, betas: tuple[float, float], eps: float,
                    weight_decay: float) -> None:
    """The argument checks NAdam, RAdam and Adamax share with Adam, in PyTorch's words."""
    check_tensor_lr(lr)
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


def refuse_capturable(capturable: bool) -> None:
    """capturable=True makes a step safe to capture in a CUDA graph (torch.cuda.graphs,
    torch.compile); autodiff has no graph capture, so the option has nothing to do."""
    if capturable:
        raise ValueError(
            "capturable=True is not supported: autodiff has no CUDA graph capture "
            "(the option only makes a step capturable by torch.cuda.graph or torch.compile); "
            "use capturable=False"
        )


def check_fused(fused: bool | None, foreach: bool | None, differentiable: bool) -> None:
    """PyTorch's checks of fused=True (which runs the backend's fused update kernel)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def check_fused_param(param: Tensor) -> None:
    if not param.is_floating_point():
        raise RuntimeError(
            "`fused=True` requires all the params to be floating point Tensors of supported "
            f"devices: ['cpu', 'cuda'] but {param.dtype} and {param.device.type}"
        )


def check_differentiable_hyperparameters(group: dict[str, Any], *names: str) -> None:
    """Hyperparameter Tensors enter the host-side scalar arithmetic as numbers, so a gradient
    with respect to one cannot be recorded: refused rather than silently dropped."""
    if not group.get("differentiable"):
        return
    for name in names:
        values = group[name] if isinstance(group[name], tuple) else (group[name],)
        if any(isinstance(value, Tensor) and value.requires_grad for value in values):
            raise RuntimeError(
                f"autodiff: differentiable=True with a {name} Tensor that requires grad is not "
                f"supported (the step is differentiated with respect to the parameters, "
                f"gradients and state, not to {name})"
            )
