"""The `foreach=True` steps: the update rules written over whole lists of tensors with the
`_foreach_*` ops (PyTorch's `_multi_tensor_<optimizer>` functions, in their order), so each
operation is one call over the group instead of one per parameter. The numbers are the
per-parameter rules' (the same operations, element by element).

Used where a group asks for `foreach=True` and the step is not differentiated (PyTorch's
multi-tensor rules refuse autograd), has no sparse gradient and is not being traced by
autodiff.compile (whose tracer follows the per-parameter arrays); otherwise the optimizer runs
its per-parameter rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backends import kernels

from ..compiler.tracing import current as current_tracer
from ..creation import tensor as _tensor
from ..dtypes import finfo
from ..foreach import FUNCTIONS
from ..ops.selection import where
from ..tensor import Tensor
from .sparse_grad import sparse_grad
from .update import norm_value, scalar_state

if TYPE_CHECKING:
    from .optimizer import Optimizer

_foreach_abs = FUNCTIONS["_foreach_abs"]
_foreach_add = FUNCTIONS["_foreach_add"]
_foreach_add_ = FUNCTIONS["_foreach_add_"]
_foreach_addcdiv_ = FUNCTIONS["_foreach_addcdiv_"]
_foreach_addcmul_ = FUNCTIONS["_foreach_addcmul_"]
_foreach_div = FUNCTIONS["_foreach_div"]
_foreach_div_ = FUNCTIONS["_foreach_div_"]
_foreach_lerp_ = FUNCTIONS["_foreach_lerp_"]
_foreach_maximum_ = FUNCTIONS["_foreach_maximum_"]
_foreach_mul_ = FUNCTIONS["_foreach_mul_"]
_foreach_addcmul = FUNCTIONS["_foreach_addcmul"]
_foreach_clamp_max_ = FUNCTIONS["_foreach_clamp_max_"]
_foreach_clamp_min_ = FUNCTIONS["_foreach_clamp_min_"]
_foreach_copy_ = FUNCTIONS["_foreach_copy_"]
_foreach_mul = FUNCTIONS["_foreach_mul"]
_foreach_sign = FUNCTIONS["_foreach_sign"]
_foreach_neg = FUNCTIONS["_foreach_neg"]
_foreach_sqrt = FUNCTIONS["_foreach_sqrt"]
_foreach_rsqrt_ = FUNCTIONS["_foreach_rsqrt_"]
_foreach_sqrt_ = FUNCTIONS["_foreach_sqrt_"]
_foreach_sub = FUNCTIONS["_foreach_sub"]
_foreach_sub_ = FUNCTIONS["_foreach_sub_"]


def use_foreach(group: dict[str, Any]) -> bool:
    """Whether `group` steps through the multi-tensor rule."""
    if not group.get("foreach") or group.get("differentiable") or group.get("fused"):
        return False
    if current_tracer() is not None:
        return False
    return all(sparse_grad(param) is None for param in group["params"])


def with_grads(group: dict[str, Any]) -> list[Tensor]:
    return [param for param in group["params"] if param._grad is not None]


def decayed_grads(group: dict[str, Any], params: list[Tensor]) -> list[Tensor]:
    """The gradients a step uses: negated to maximize, plus L2 weight decay (new tensors when
    either applies: the parameters' .grad are never changed)."""
    grads: list[Tensor] = [param._grad for param in params]  # type: ignore[misc]
    if group["maximize"]:
        grads = list(_foreach_neg(grads))
    if group["weight_decay"] != 0:
        grads = list(_foreach_add(grads, params, alpha=group["weight_decay"]))
    return grads


def first_state(optimizer: Optimizer, params: list[Tensor], **makers: Any) -> list[Any]:
    """Each parameter's state, made as the per-parameter step makes it where it is empty
    (`makers`: key -> function of the parameter)."""
    for param in params:
        state = optimizer.state[param]
        if not state:
            for key, make in makers.items():
                if make is not None:
                    state[key] = make(param)
    return [optimizer.state[param] for param in params]


def sgd_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_sgd; the gradients themselves are never written to."""
    params = with_grads(group)
    if not params:
        return
    grads = decayed_grads(group, params)
    momentum = group["momentum"]
    if momentum != 0:
        dampening = group["dampening"]
        states = [optimizer.state[param] for param in params]
        buffers = [state.get("momentum_buffer") for state in states]
        if all(buffer is not None for buffer in buffers):
            _foreach_mul_(buffers, momentum)
            _foreach_add_(buffers, grads, alpha=1 - dampening)
        else:  # the first step of some: their buffer starts as the gradient
            for index, (state, buffer) in enumerate(zip(states, buffers)):
                if buffer is None:
                    buffer = state["momentum_buffer"] = grads[index].detach().clone()
                    buffers[index] = buffer
                else:
                    buffer.mul_(momentum).add_(grads[index], alpha=1 - dampening)
        filled: list[Tensor] = buffers  # type: ignore[assignment]  # every one set above
        grads = list(_foreach_add(grads, filled, alpha=momentum)) if group["nesterov"] else filled
    _foreach_add_(params, grads, alpha=-lr)


def adam_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float, beta1: float,
                 beta2: float) -> None:
    """PyTorch's _multi_tensor_adam (AdamW's with decoupled weight decay), state made as the
    per-parameter step makes it."""
    params = with_grads(group)
    if not params:
        return
    amsgrad = group["amsgrad"]
    zeros = optimizer._zeros_like
    states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                         exp_avg=zeros, exp_avg_sq=zeros,
                         max_exp_avg_sq=zeros if amsgrad else None)
    grads: list[Tensor] = [param._grad for param in params]  # type: ignore[misc]
    exp_avgs = [state["exp_avg"] for state in states]
    exp_avg_sqs = [state["exp_avg_sq"] for state in states]
    steps = [state["step"] for state in states]
    if group["maximize"]:
        grads = list(_foreach_neg(grads))
    _foreach_add_(steps, 1)
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if group["decoupled_weight_decay"]:
            _foreach_mul_(params, 1 - lr * weight_decay)
        else:
            grads = list(_foreach_add(grads, params, alpha=weight_decay))
    _foreach_lerp_(exp_avgs, grads, 1 - beta1)
    _foreach_mul_(exp_avg_sqs, beta2)
    _foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
    counts = [scalar_state(step) for step in steps]
    step_sizes = [-(lr / (1 - beta1**count)) for count in counts]
    bias_corrections2_sqrt = [(1 - beta2**count) ** 0.5 for count in counts]
    if amsgrad:
        maxima = [state["max_exp_avg_sq"] for state in states]
        _foreach_maximum_(maxima, exp_avg_sqs)
        denominators = list(_foreach_sqrt(maxima))
    else:
        denominators = list(_foreach_sqrt(exp_avg_sqs))
    _foreach_div_(denominators, bias_corrections2_sqrt)
    _foreach_add_(denominators, group["eps"])
    _foreach_addcdiv_(params, exp_avgs, denominators, step_sizes)


def rmsprop_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_rmsprop (centered, momentum)."""
    params = with_grads(group)
    if not params:
        return
    momentum, centered, alpha = group["momentum"], group["centered"], group["alpha"]
    zeros = optimizer._zeros_like
    states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                         square_avg=zeros, momentum_buffer=zeros if momentum > 0 else None,
                         grad_avg=zeros if centered else None)
    _foreach_add_([state["step"] for state in states], 1)
    grads = decayed_grads(group, params)
    square_avgs = [state["square_avg"] for state in states]
    _foreach_mul_(square_avgs, alpha)
    _foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
    if centered:
        grad_avgs = [state["grad_avg"] for state in states]
        _foreach_lerp_(grad_avgs, grads, 1 - alpha)
        averages = list(_foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1))
        _foreach_sqrt_(averages)
    else:
        averages = list(_foreach_sqrt(square_avgs))
    _foreach_add_(averages, group["eps"])
    if momentum > 0:
        buffers = [state["momentum_buffer"] for state in states]
        _foreach_mul_(buffers, momentum)
        _foreach_addcdiv_(buffers, grads, averages)
        _foreach_add_(params, buffers, alpha=-lr)
    else:
        _foreach_addcdiv_(params, grads, averages, value=-lr)


def adagrad_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_adagrad (its state is made up front, by the optimizer)."""
    params = with_grads(group)
    if not params:
        return
    for param in params:
        if not optimizer.state[param]:  # a parameter added with add_param_group
            optimizer._init_state(param, False)  # type: ignore[attr-defined]
    states = [optimizer.state[param] for param in params]
    steps = [state["step"] for state in states]
    _foreach_add_(steps, 1)
    grads = decayed_grads(group, params)
    sums = [state["sum"] for state in states]
    _foreach_addcmul_(sums, grads, grads, value=1)
    deviations = list(_foreach_sqrt(sums))
    _foreach_add_(deviations, group["eps"])
    decay = group["lr_decay"]
    rates = [-lr / (1 + (scalar_state(step) - 1) * decay) for step in steps]
    _foreach_addcdiv_(params, grads, deviations, rates)


def adamax_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_adamax."""
    params = with_grads(group)
    if not params:
        return
    beta1, beta2 = group["betas"]
    zeros = optimizer._zeros_like
    states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                         exp_avg=zeros, exp_inf=zeros)
    steps = [state["step"] for state in states]
    _foreach_add_(steps, 1)
    grads = decayed_grads(group, params)
    exp_avgs = [state["exp_avg"] for state in states]
    exp_infs = [state["exp_inf"] for state in states]
    _foreach_lerp_(exp_avgs, grads, 1 - beta1)
    _foreach_mul_(exp_infs, beta2)
    norms = list(_foreach_abs(grads))
    _foreach_add_(norms, group["eps"])
    _foreach_maximum_(exp_infs, norms)
    rates = [-(lr / (1 - beta1 ** scalar_state(step))) for step in steps]
    _foreach_addcdiv_(params, exp_avgs, exp_infs, rates)


def adadelta_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_adadelta."""
    params = with_grads(group)
    if not params:
        return
    rho, eps = group["rho"], group["eps"]
    zeros = optimizer._zeros_like
    states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                         square_avg=zeros, acc_delta=zeros)
    _foreach_add_([state["step"] for state in states], 1)
    grads = decayed_grads(group, params)
    square_avgs = [state["square_avg"] for state in states]
    acc_deltas = [state["acc_delta"] for state in states]
    _foreach_mul_(square_avgs, rho)
    _foreach_addcmul_(square_avgs, grads, grads, value=1 - rho)
    deviations = list(_foreach_add(square_avgs, eps))
    _foreach_sqrt_(deviations)
    deltas = list(_foreach_add(acc_deltas, eps))
    _foreach_sqrt_(deltas)
    _foreach_div_(deltas, deviations)
    _foreach_mul_(deltas, grads)
    _foreach_mul_(acc_deltas, rho)
    _foreach_addcmul_(acc_deltas, deltas, deltas, value=1 - rho)
    _foreach_add_(params, deltas, alpha=-lr)


def _adam_family_moments(group: dict[str, Any], params: list[Tensor], grads: list[Tensor],
                         states: list[Any], lr: float, beta1: float, beta2: float
                         ) -> list[Tensor]:
    """Weight decay (decoupled or L2), then exp_avg.lerp_(grad, 1 - beta1) and
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2), over the lists; returns the
    gradients the update uses."""
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if group["decoupled_weight_decay"]:
            _foreach_mul_(params, 1 - lr * weight_decay)
        else:
            grads = list(_foreach_add(grads, params, alpha=weight_decay))
    _foreach_lerp_([state["exp_avg"] for state in states], grads, 1 - beta1)
    exp_avg_sqs = [state["exp_avg_sq"] for state in states]
    _foreach_mul_(exp_avg_sqs, beta2)
    _foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
    return grads


def nadam_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_nadam."""
    params = with_grads(group)
    if not params:
        return
    beta1, beta2 = group["betas"]
    zeros = optimizer._zeros_like
    states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                         mu_product=lambda _: optimizer._step_tensor(1.0), exp_avg=zeros,
                         exp_avg_sq=zeros)
    steps = [state["step"] for state in states]
    _foreach_add_(steps, 1)
    counts = [scalar_state(step) for step in steps]
    decay = group["momentum_decay"]
    mus = [beta1 * (1.0 - 0.5 * (0.96 ** (count * decay))) for count in counts]
    mus_next = [beta1 * (1.0 - 0.5 * (0.96 ** ((count + 1) * decay))) for count in counts]
    mu_products = [state["mu_product"] for state in states]
    _foreach_mul_(mu_products, mus)
    grads: list[Tensor] = [param._grad for param in params]  # type: ignore[misc]
    if group["maximize"]:
        grads = list(_foreach_neg(grads))
    grads = _adam_family_moments(group, params, grads, states, lr, beta1, beta2)
    scalars = [kernels.nadam_scalars(
        lr=lr, beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"], step=count,
        decoupled=group["decoupled_weight_decay"], mu=mu, mu_next=mu_next,
        mu_product=scalar_state(product))[0][-3:]
        for count, mu, mu_next, product in zip(counts, mus, mus_next, mu_products)]
    denominators = list(_foreach_div([state["exp_avg_sq"] for state in states],
                                     [bias_correction2 for bias_correction2, _, _ in scalars]))
    _foreach_sqrt_(denominators)
    _foreach_add_(denominators, group["eps"])
    _foreach_addcdiv_(params, grads, denominators, [value for _, value, _ in scalars])
    _foreach_addcdiv_(params, [state["exp_avg"] for state in states], denominators,
                      [value for _, _, value in scalars])


def radam_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_radam: bias-corrected momentum, scaled by the rectification
    term for the tensors whose step has a tractable variance."""
    params = with_grads(group)
    if not params:
        return
    beta1, beta2 = group["betas"]
    zeros = optimizer._zeros_like
    states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                         exp_avg=zeros, exp_avg_sq=zeros)
    steps = [state["step"] for state in states]
    _foreach_add_(steps, 1)
    grads: list[Tensor] = [param._grad for param in params]  # type: ignore[misc]
    if group["maximize"]:
        grads = list(_foreach_neg(grads))
    _adam_family_moments(group, params, grads, states, lr, beta1, beta2)
    scalars = [kernels.radam_scalars(
        lr=lr, beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
        step=scalar_state(step), decoupled=group["decoupled_weight_decay"]) for step in steps]
    # (bias_correction1, lr, sqrt(bias_correction2), rect) and whether to rectify
    corrections = [(values[-4:], flags["rectify"]) for values, flags in scalars]
    updates = list(_foreach_div([state["exp_avg"] for state in states],
                                [values[0] for values, _ in corrections]))
    _foreach_mul_(updates, lr)
    rectified = [index for index, (_, rectify) in enumerate(corrections) if rectify]
    if rectified:
        adaptive = list(_foreach_sqrt([states[index]["exp_avg_sq"] for index in rectified]))
        _foreach_add_(adaptive, group["eps"])
        scaled = [updates[index] for index in rectified]
        # sqrt(bias_correction2) / adaptive, divided (a number over a Tensor would be the
        # reciprocal times the number, rounded differently from the per-parameter kernel)
        numerators = [_tensor(corrections[index][0][2], dtype=rate.dtype, device=rate.device)
                      for index, rate in zip(rectified, adaptive)]
        _foreach_mul_(scaled, _foreach_div(numerators, adaptive))
        _foreach_mul_(scaled, [corrections[index][0][3] for index in rectified])
    _foreach_sub_(params, updates)


def rprop_foreach(optimizer: Optimizer, group: dict[str, Any]) -> None:
    """PyTorch's _multi_tensor_rprop: the sign tests and masks per tensor (no foreach op holds
    them), the products and the update over the lists."""
    params = with_grads(group)
    if not params:
        return
    etaminus, etaplus = group["etas"]
    step_size_min, step_size_max = group["step_sizes"]
    lr = group["lr"]
    states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                         prev=optimizer._zeros_like,
                         step_size=lambda param: optimizer._full_like(param, float(lr)))
    _foreach_add_([state["step"] for state in states], 1)
    grads: list[Tensor] = [param._grad for param in params]  # type: ignore[misc]
    if group["maximize"]:
        grads = list(_foreach_neg(grads))
    prevs = [state["prev"] for state in states]
    step_sizes = [state["step_size"] for state in states]
    signs = list(_foreach_sign(_foreach_mul(grads, prevs)))
    # etaplus where the sign held, etaminus where it flipped, 1 where a factor was zero (a NaN
    # product stays NaN)
    factors = [where(sign > 0, etaplus, where(sign < 0, etaminus, where(sign == 0, 1.0, sign)))
               for sign in signs]
    _foreach_mul_(step_sizes, factors)
    _foreach_clamp_min_(step_sizes, step_size_min)
    _foreach_clamp_max_(step_sizes, step_size_max)
    grads = [where(sign < 0, 0.0, grad) for sign, grad in zip(signs, grads)]
    _foreach_addcmul_(params, list(_foreach_sign(grads)), step_sizes, value=-1)
    _foreach_copy_(prevs, grads)


def asgd_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_asgd: decay and step with each parameter's eta, average into ax
    with its mu (a copy while mu is 1), then the new eta and mu, each rounded to the default
    dtype before it is stored (as torch.as_tensor rounds them)."""
    params = with_grads(group)
    if not params:
        return
    lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
    states = first_state(optimizer, params,
                         step=lambda param: optimizer._step_tensor(0.0, param),
                         eta=lambda param: optimizer._step_tensor(lr, param),
                         mu=lambda param: optimizer._step_tensor(1.0, param),
                         ax=optimizer._zeros_like)
    steps = [state["step"] for state in states]
    _foreach_add_(steps, 1)
    grads = decayed_grads(group, params)
    etas = [scalar_state(state["eta"]) for state in states]
    mus = [scalar_state(state["mu"]) for state in states]
    _foreach_mul_(params, [1 - lambd * eta for eta in etas])
    _foreach_sub_(params, _foreach_mul(grads, etas))
    averaged = [index for index, mu in enumerate(mus) if mu != 1]
    if averaged:
        axes = [states[index]["ax"] for index in averaged]
        moves = list(_foreach_sub([params[index] for index in averaged], axes))
        _foreach_mul_(moves, [mus[index] for index in averaged])
        _foreach_add_(axes, moves)
    copied = [index for index, mu in enumerate(mus) if mu == 1]
    if copied:
        _foreach_copy_([states[index]["ax"] for index in copied],
                       [params[index] for index in copied])
    counts = [scalar_state(step) for step in steps]
    _foreach_copy_([state["eta"] for state in states],
                   [_tensor(lr / ((1 + lambd * lr * count) ** alpha)) for count in counts])
    _foreach_copy_([state["mu"] for state in states],
                   [_tensor(1 / max(1, count - t0)) for count in counts])


def adafactor_foreach(optimizer: Optimizer, group: dict[str, Any], lr: float) -> None:
    """PyTorch's _multi_tensor_adafactor: the factored (row and column) second moment for
    matrices, the full one for vectors, each kind over its own lists; the norms that scale
    each update are per tensor (numbers on the host, as PyTorch's `.item()`)."""
    params = with_grads(group)
    for matrices in (True, False):
        chosen = [param for param in params if (param.dim() > 1) == matrices]
        if chosen:
            _adafactor_lists(optimizer, group, lr, chosen, matrices)


def _norm(tensor: Tensor) -> float:
    return norm_value(tensor._backend, tensor._data)


def _adafactor_lists(optimizer: Optimizer, group: dict[str, Any], lr: float,
                     params: list[Tensor], matrices: bool) -> None:
    eps1, eps2 = group["eps"]
    zeros_of = type(optimizer)._zeros_of  # type: ignore[attr-defined]
    if matrices:
        states = first_state(
            optimizer, params, step=lambda _: optimizer._step_tensor(),
            row_var=lambda p: zeros_of(p._grad, (*p._grad.shape[:-1], 1)),
            col_var=lambda p: zeros_of(p._grad, (*p._grad.shape[:-2], 1, p._grad.shape[-1])))
    else:
        states = first_state(optimizer, params, step=lambda _: optimizer._step_tensor(),
                             variance=optimizer._zeros_like)
    steps = [state["step"] for state in states]
    _foreach_add_(steps, 1)
    counts = [scalar_state(step) for step in steps]
    grads: list[Tensor] = [param._grad for param in params]  # type: ignore[misc]
    if group["maximize"]:
        grads = list(_foreach_neg(grads))
    epsilons = [float(eps1) if eps1 is not None else finfo(param.dtype).eps for param in params]
    weights = [count ** group["beta2_decay"] for count in counts]
    alphas = [max(eps2, _norm(param) / (param.numel() ** 0.5)) * min(lr, 1 / (count**0.5))
              for param, count in zip(params, counts)]
    if group["weight_decay"] != 0:
        _foreach_mul_(params, 1 - lr * group["weight_decay"])
    if matrices:
        row_vars = [state["row_var"] for state in states]
        col_vars = [state["col_var"] for state in states]
        for variances, dim in ((row_vars, -1), (col_vars, -2)):
            means = [(grad * grad).sum(dim, keepdim=True).sqrt() for grad in grads]
            _foreach_mul_(means, means)
            _foreach_div_(means, [grad.shape[dim] for grad in grads])
            _foreach_lerp_(variances, means, weights)
        estimates = [row @ col for row, col in zip(row_vars, col_vars)]
        row_means = [row.mean(-2, keepdim=True) for row in row_vars]
        _foreach_clamp_min_(row_means, epsilons)
        _foreach_div_(estimates, row_means)
    else:
        variances = [state["variance"] for state in states]
        _foreach_lerp_(variances, list(_foreach_mul(grads, grads)), weights)
        estimates = [variance.clone() for variance in variances]
    _foreach_clamp_min_(estimates, [eps * eps for eps in epsilons])
    _foreach_rsqrt_(estimates)
    _foreach_mul_(estimates, grads)
    scales = [-alpha / max(1.0, _norm(update) / ((update.numel() ** 0.5) * group["d"]))
              for alpha, update in zip(alphas, estimates)]
    _foreach_mul_(estimates, scales)
    _foreach_add_(params, estimates)
