"""SparseAdam: Adam with lazy updates, for embeddings. Only the entries a step's gradient
touches have their moments and values updated; the moments of the others are not decayed.

The gradients must be sparse COO (what `Embedding(sparse=True)` gives), whose indices name
the touched entries; a dense gradient is refused, as PyTorch refuses it.
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
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for position, param in enumerate(group["params"]):
                if param.is_sparse:
                    sparse_params.append([index, position])
                if param.is_complex():
                    complex_params.append([index, position])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires "
                             "dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """On the touched rows only: m += (g - m)(1 - β1);  v += (g² - v)(1 - β2);
        p -= lr sqrt(1 - β2^t) / (1 - β1^t) * m / (sqrt(v) + eps)."""
        loss = self._closure_loss(closure)
        # Every gradient is checked before any update, so a refusal leaves all untouched.
        for group in self.param_groups:
            for param in group["params"]:
                if param._grad is not None and sparse_grad(param) is None:
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
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
                sparse_adam_step(param, sparse_grad(param), state, group, step_size)
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

