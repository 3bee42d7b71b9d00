"""Muon (Jordan et al., 2024), PyTorch's version: SGD momentum (Nesterov by default) whose update
of each 2-D parameter is orthogonalised by a few Newton-Schulz iterations, with decoupled weight
decay and an lr adjusted to the matrix's shape.

PyTorch runs the Newton-Schulz iterations in bfloat16, and so does autodiff where the backend
holds bfloat16 (NumPy, through ml_dtypes): each op computes in float32 and rounds its result to
bfloat16, as PyTorch's CPU kernels do. A backend without bfloat16 (CuPy, array-api-strict) runs
them in float32 (float64 for float64 parameters): there the update is the unrounded iteration,
within bfloat16's resolution (about 1%) of PyTorch's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from ..grad_mode import no_grad
from .checks import check_tensor_lr
from .optimizer import Optimizer
from .sparse_grad import refuse_sparse_grads
from .update import bump_versions, hyperparameter, lerp_

DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.775, 2.0315
DEFAULT_NS_STEPS = 5
EPS = 1e-07


class Muon(Optimizer):
    def __init__(self, params: Iterable[Any], lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS,
                 adjust_lr_fn: str | None = None) -> None:
        check_tensor_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not momentum >= 0.0:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                if param.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {param.size()}")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """buf = lerp(buf, g, 1 - μ);  O = NS(lerp(g, buf, μ) if nesterov else buf);
        p = p (1 - lr wd) - lr_adjusted O."""
        loss = self._closure_loss(closure)
        refuse_sparse_grads(self, "Muon does not support sparse gradients")
        for group in self.param_groups:
            lr = hyperparameter(group["lr"])
            momentum = group["momentum"]
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = self._zeros_like(param._grad)
                xp, data, grad = param._backend, param._data, param._grad._data
                if grad.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                buffer = state["momentum_buffer"]._data
                lerp_(buffer, grad, 1 - momentum)
                if group["nesterov"]:
                    update = xp.asarray(grad, copy=True)  # grad.lerp(buf, momentum)
                    lerp_(update, buffer, momentum)
                else:
                    update = buffer
                update = zeropower_via_newtonschulz(xp, update, group["ns_coefficients"],
                                                    group["ns_steps"], group["eps"])
                adjusted_lr = adjust_lr(lr, group["adjust_lr_fn"], tuple(data.shape))
                data *= 1 - lr * group["weight_decay"]
                data -= adjusted_lr * update  # add_(update, alpha=-adjusted_lr)
                bump_versions(param, state["momentum_buffer"])
        return loss


def zeropower_via_newtonschulz(xp: Any, grad: Any, ns_coefficients: tuple[float, float, float],
                               ns_steps: int, eps: float) -> Any:
    """An approximately orthogonal matrix with `grad`'s singular vectors (its singular values
    pushed towards 1) by the quintic iteration X <- a X + (b A + c A²) X, A = X Xᵀ, on the
    wider orientation of the matrix."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    name = xp.dtype_name(grad)
    if xp.has_dtype("bfloat16"):
        def rounded(x: Any) -> Any:  # an op's result, as a bfloat16 tensor holds it
            return xp.astype(xp.astype(x, "bfloat16"), "float32")
        ortho = rounded(grad)  # grad.bfloat16()
    else:
        def rounded(x: Any) -> Any:
            return x
        ortho = xp.astype(grad, "float32" if name == "float16" else name, copy=True)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        ortho = xp.permute_dims(ortho, (1, 0))
    norm = rounded(xp.sqrt(xp.sum(ortho * ortho)))
    ortho = rounded(ortho / rounded(xp.clip(norm, min=eps)))  # div_(norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram = rounded(xp.matmul(ortho, xp.permute_dims(ortho, (1, 0))))
        # addmm(gram, gram, gram, beta=b, alpha=c), then addmm(ortho, update, ortho, beta=a)
        gram_update = rounded(b * gram + c * xp.matmul(gram, gram))
        ortho = rounded(a * ortho + xp.matmul(gram_update, ortho))
    if tall:
        ortho = xp.permute_dims(ortho, (1, 0))
    return xp.astype(ortho, name)


def adjust_lr(lr: float, adjust_lr_fn: str | None, param_shape: tuple[int, ...]) -> float:
    """The lr for a matrix of this shape: scaled by sqrt(max(1, rows / cols)) ("original",
    Keller Jordan's), or by 0.2 sqrt(max(rows, cols)) to match AdamW's update RMS
    ("match_rms_adamw", Moonshot's)."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        adjusted_ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        adjusted_ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        adjusted_ratio = 1.0
    return lr * adjusted_ratio
