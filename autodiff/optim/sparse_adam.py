"""SparseAdam: Adam with lazy updates, for embeddings. Only the entries a step's gradient
touches have their moments and values updated; the moments of the others are not decayed.

A sparse COO gradient (`Embedding(sparse=True)`) names its entries, as in PyTorch. A dense
gradient, which PyTorch refuses, is also taken: the rows of its first dimension that are not
all zero count as touched (so a looked-up row whose gradient is exactly zero is left alone,
where PyTorch's sparse gradient would decay its moments).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from ..grad_mode import no_grad
from .checks import check_tensor_lr
from .optimizer import Optimizer
from .sparse_grad import add_into_, coalesced, gathered, scaled, sparse_grad
from .update import bump_versions, hyperparameter


class SparseAdam(Optimizer):
    _step_is_tensor = False

    def __init__(self, params: Iterable[Any], lr: Any = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        check_tensor_lr(lr)
        if not lr > 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps > 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """On the touched rows only: m += (g - m)(1 - β1);  v += (g² - v)(1 - β2);
        p -= lr sqrt(1 - β2^t) / (1 - β1^t) * m / (sqrt(v) + eps)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = hyperparameter(group["lr"])
            for param in group["params"]:
                if param._grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = 0  # a Python int, as PyTorch keeps SparseAdam's
                    state["exp_avg"] = self._zeros_like(param)
                    state["exp_avg_sq"] = self._zeros_like(param)
                state["step"] += 1
                step = state["step"]
                step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
                sparse = sparse_grad(param)
                if sparse is not None:
                    sparse_adam_step(param, sparse, state, group, step_size)
                    continue
                xp, data = param._backend, param._data
                grad = param._grad._data
                if group.get("maximize", False):
                    grad = -grad
                touched = _touched_rows(xp, grad)
                if touched is None:
                    continue  # PyTorch skips an empty gradient (the step still counts)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                # Outside the touched rows both updates are exactly 0, so m and v keep their
                # values there; inside, m + update is the new m (PyTorch's `numer`).
                exp_avg_update = xp.where(touched, (grad - exp_avg) * (1 - beta1), 0.0)
                exp_avg_sq_update = xp.where(touched, (grad * grad - exp_avg_sq) * (1 - beta2),
                                             0.0)
                numer = exp_avg_update + exp_avg
                exp_avg[...] = numer
                exp_avg_sq += exp_avg_sq_update
                denom = xp.sqrt(exp_avg_sq)
                denom += group["eps"]
                data += xp.where(touched, -step_size * (numer / denom), 0.0)
                bump_versions(param, state["exp_avg"], state["exp_avg_sq"])
        return loss


def sparse_adam_step(param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any],
                     step_size: float) -> None:
    """The lazy update on the entries of a sparse COO gradient (coalesced first), as PyTorch's
    SparseAdam computes it."""
    backend = param._backend
    beta1, beta2 = group["betas"]
    grad = coalesced(scaled(grad, -1.0) if group["maximize"] else grad, backend)
    if grad.values.size == 0:
        return  # PyTorch skips an empty gradient (the step still counts)
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    old_exp_avg = gathered(exp_avg._data, grad, backend)
    exp_avg_update = (grad.values - old_exp_avg) * (1 - beta1)
    add_into_(exp_avg._data, grad.with_values(exp_avg_update), backend)
    old_exp_avg_sq = gathered(exp_avg_sq._data, grad, backend)
    exp_avg_sq_update = (grad.values * grad.values - old_exp_avg_sq) * (1 - beta2)
    add_into_(exp_avg_sq._data, grad.with_values(exp_avg_sq_update), backend)
    numer = exp_avg_update + old_exp_avg
    denom = backend.sqrt(exp_avg_sq_update + old_exp_avg_sq) + group["eps"]
    add_into_(param._data, grad.with_values(-step_size * (numer / denom)), backend)
    bump_versions(param, exp_avg, exp_avg_sq)


def _touched_rows(xp: Any, grad: Any) -> Any:
    """A boolean mask, broadcastable against `grad`, of the rows (first dimension) with a
    nonzero gradient; None when there is none."""
    if grad.size == 0:
        return None
    nonzero = grad != 0
    rows = (nonzero if grad.ndim == 0
            else xp.any(xp.reshape(nonzero, (grad.shape[0], -1)), axis=1))
    if not bool(xp.any(rows)):
        return None
    return xp.reshape(rows, rows.shape + (1,) * max(grad.ndim - 1, 0))
