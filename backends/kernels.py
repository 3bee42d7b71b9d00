"""Fused kernels for hot composite ops, written once as Python over an array namespace `xp`.

NumPy (and array-api-strict) run these as they are. The CuPy backend compiles the same functions
with `cupy.fuse`, so each elementwise function here becomes one kernel launch: only array
arithmetic, ufuncs (`xp.exp`, `xp.maximum(x, 0.0)`, ...), in-place operators and Python-level
branches on arguments that are known before the call (None or not, keyword flags) appear in them.
A reduction splits a kernel: `log_softmax_sum` ends in one (fused with the elementwise work in
front of it) and `log_softmax_finish` is the elementwise work after it.

In-place operators on temporaries the kernel made itself (`t *= -1`) are part of the array API
and save NumPy a fresh allocation (and its page faults) per step.
"""

from __future__ import annotations

import math
from typing import Any

Array = Any


def sigmoid(xp: Any, x: Array) -> Array:
    """1 / (1 + exp(-x)): accurate relative to the result even far in the left tail
    (sigmoid(-20) = 2.06e-9, so log(sigmoid(x)) stays finite). exp(-x) overflows to inf for very
    negative x, which gives the correct 0; the NumPy backend silences that warning."""
    out = xp.exp(-x)
    out += 1
    return 1.0 / out


def _sigmoid_absolute(xp: Any, x: Array) -> Array:
    """0.5 * tanh(x / 2) + 0.5: never overflows and is twice as fast on NumPy, but accurate only
    in absolute terms (about 1e-8 near 0 in the left tail). Right for gradients such as
    sigmoid(z) - y, not for sigmoid as an output."""
    out = xp.tanh(x * 0.5)
    out *= 0.5
    out += 0.5
    return out


def softplus(xp: Any, x: Array) -> Array:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    out = xp.abs(x)
    out *= -1
    out = xp.exp(out)
    out = xp.log1p(out)
    out += xp.maximum(x, 0.0)
    return out


def bce_with_logits(
    xp: Any, z: Array, y: Array, weight: Array | None, pos_weight: Array | None
) -> Array:
    """Elementwise binary cross-entropy on logits z against targets y (unreduced)."""
    # loss = (1 - y) * z + l * softplus(-z),  l = 1 + (pos_weight - 1) * y
    #      = softplus(z) - z * y                      when there is no pos_weight.
    if pos_weight is None:
        out = softplus(xp, z)
        out -= z * y
    else:
        log_weight = (pos_weight - 1) * y
        log_weight += 1
        out = softplus(xp, -z)
        out *= log_weight
        out += (1 - y) * z
    if weight is not None:
        out = out * weight
    return out


def bce_with_logits_backward(
    xp: Any,
    grad: Array,
    z: Array,
    y: Array,
    weight: Array | None,
    pos_weight: Array | None,
) -> Array:
    """d loss / d z times grad, for the unreduced loss (grad may be a 0-d scale)."""
    out = _sigmoid_absolute(xp, z)
    if pos_weight is None:
        out -= y  # sigmoid(z) - y
    else:
        # l * sigmoid(z) - pos_weight * y,  l = 1 + (pos_weight - 1) * y
        log_weight = (pos_weight - 1) * y
        log_weight += 1
        out *= log_weight
        out -= pos_weight * y
    if weight is not None:
        out = out * weight
    # grad is 0-d (a reduced loss, its 1/n folded in by the caller) or of z's shape.
    out *= grad
    return out


# ----------------------------------------------------------------------------- log-softmax
def log_softmax(xp: Any, x: Array, axis: int) -> Array:
    """x - logsumexp(x) along axis, shifted by the max for stability:
    (x - peak) - log(sum(exp(x - peak)))."""
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    total = xp.sum(xp.exp(shifted), axis=axis, keepdims=True)
    shifted -= xp.log(total)
    return shifted


# The same math split at its reduction, for a kernel compiler: `log_softmax_sum` is one fused
# reduction (x - peak and exp happen in registers), `log_softmax_finish` one elementwise kernel
# that recomputes x - peak instead of storing it. With the max, three launches.
def log_softmax_sum(xp: Any, x: Array, peak: Array, axis: int) -> Array:
    """sum(exp(x - peak)) along axis (the axis dropped); peak is the max with keepdims."""
    return xp.sum(xp.exp(x - peak), axis=axis)


def log_softmax_finish(xp: Any, x: Array, peak: Array, total: Array) -> Array:
    """(x - peak) - log(total); total is log_softmax_sum's result with the axis kept."""
    out = x - peak
    out -= xp.log(total)
    return out


def log_softmax_backward(xp: Any, grad: Array, output: Array, axis: int) -> Array:
    """grad - softmax * sum(grad) along axis."""
    return log_softmax_backward_finish(xp, grad, output, xp.sum(grad, axis=axis, keepdims=True))


def log_softmax_backward_finish(xp: Any, grad: Array, output: Array, grad_sum: Array) -> Array:
    """The elementwise part of log_softmax_backward: grad - exp(output) * grad_sum."""
    out = xp.exp(output)
    out *= -grad_sum  # negate the small sum, then add grad in place: no third array
    out += grad
    return out


# ----------------------------------------------------------------------------- Adam family
# Adam, NAdam and RAdam share their first half (weight decay and the two moments); each ends in
# its own update of param. Every scalar-only expression is worked out on the host, in double
# precision, by the *_scalars functions: inside a compiled kernel an expression of scalars alone
# may be given the smallest type that holds them. Each scalar then meets an array directly, so it
# takes the arrays' precision, as in PyTorch.
def adam_update(
    xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, *, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, step: float, decoupled: bool,
) -> None:
    """One Adam step (AdamW's when `decoupled`), in place on param, exp_avg and exp_avg_sq.

    PyTorch's single-tensor Adam, operation for operation: `step` is the count after this step
    (1 on the first). The scalars are worked out here on the host; `adam_step` is the kernel.
    """
    scalars, flags = adam_scalars(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                                  step=step, decoupled=decoupled)
    adam_step(xp, param, grad, exp_avg, exp_avg_sq, eps, *scalars, **flags)


def moment_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float,
                   decoupled: bool) -> tuple[tuple[float, ...], dict[str, bool]]:
    """The scalars and flags of `decay_and_moments`, which open every Adam-family kernel's
    arguments: (lerp weight, its complement, beta2, 1 - beta2, weight_decay, 1 - lr * wd)."""
    lerp_weight = 1 - beta1
    scalars = (lerp_weight, 1 - lerp_weight, beta2, 1 - beta2, weight_decay,
               1 - lr * weight_decay)
    flags = {
        "l2": weight_decay != 0 and not decoupled,
        "decay": weight_decay != 0 and decoupled,
        # PyTorch's lerp computes from the nearer end: start + w (end - start) for |w| < 0.5.
        "lerp_from_start": abs(lerp_weight) < 0.5,
    }
    return scalars, flags


def decay_and_moments(
    xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, lerp_weight: Any,
    lerp_complement: Any, beta2: Any, one_minus_beta2: Any, weight_decay: Any,
    decay_factor: Any, *, l2: bool, decay: bool, lerp_from_start: bool,
) -> Array:
    """Weight decay (decoupled: param.mul_(1 - lr * wd); L2: grad + wd * param), then
    exp_avg.lerp_(grad, 1 - beta1) and exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2).
    Returns the gradient the update uses."""
    if decay:
        param *= decay_factor
    if l2:
        grad = grad + weight_decay * param  # grad.add(param, alpha=weight_decay)
    if lerp_from_start:
        exp_avg += lerp_weight * (grad - exp_avg)
    else:  # grad - (grad - exp_avg) * (1 - weight), rounded the same way
        exp_avg -= grad
        exp_avg *= lerp_complement
        exp_avg += grad
    exp_avg_sq *= beta2
    exp_avg_sq += one_minus_beta2 * grad * grad
    return grad


def adam_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float, step: float,
                 decoupled: bool) -> tuple[tuple[float, ...], dict[str, bool]]:
    """adam_step's scalar arguments (after eps) and its flags, which pick the kernel variant."""
    scalars, flags = moment_scalars(lr=lr, beta1=beta1, beta2=beta2,
                                    weight_decay=weight_decay, decoupled=decoupled)
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    return (*scalars, step_size, bias_correction2_sqrt), flags


def adam_step(
    xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, eps: Any,
    lerp_weight: Any, lerp_complement: Any, beta2: Any, one_minus_beta2: Any, weight_decay: Any,
    decay_factor: Any, step_size: Any, bias_correction2_sqrt: Any, *, l2: bool, decay: bool,
    lerp_from_start: bool,
) -> None:
    """The elementwise Adam update, in place (no return value: one kernel, no output array)."""
    decay_and_moments(xp, param, grad, exp_avg, exp_avg_sq, lerp_weight, lerp_complement, beta2,
                      one_minus_beta2, weight_decay, decay_factor, l2=l2, decay=decay,
                      lerp_from_start=lerp_from_start)
    # denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt
    denom += eps
    # param.addcdiv_(exp_avg, denom, value=-step_size): p + (-s m) / d, which is p - (s m) / d
    param -= step_size * exp_avg / denom


def nadam_update(
    xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, *, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, step: float, decoupled: bool,
    mu: float, mu_next: float, mu_product: float,
) -> None:
    """One NAdam step, in place on param, exp_avg and exp_avg_sq (PyTorch's single-tensor
    NAdam; `mu_product` already includes this step's `mu`)."""
    scalars, flags = nadam_scalars(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                                   step=step, decoupled=decoupled, mu=mu, mu_next=mu_next,
                                   mu_product=mu_product)
    nadam_step(xp, param, grad, exp_avg, exp_avg_sq, eps, *scalars, **flags)


def nadam_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float, step: float,
                  decoupled: bool, mu: float, mu_next: float, mu_product: float,
                  ) -> tuple[tuple[float, ...], dict[str, bool]]:
    """nadam_step's scalars (after eps). `mu_product` is the product of the momentum
    coefficients up to this step's `mu` (the state, already multiplied)."""
    scalars, flags = moment_scalars(lr=lr, beta1=beta1, beta2=beta2,
                                    weight_decay=weight_decay, decoupled=decoupled)
    bias_correction2 = 1 - beta2 ** step
    mu_product_next = mu_product * mu_next
    grad_value = -lr * (1.0 - mu) / (1.0 - mu_product)
    exp_avg_value = (-lr * mu_next) / (1.0 - mu_product_next)
    return (*scalars, bias_correction2, grad_value, exp_avg_value), flags


def nadam_step(
    xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, eps: Any,
    lerp_weight: Any, lerp_complement: Any, beta2: Any, one_minus_beta2: Any, weight_decay: Any,
    decay_factor: Any, bias_correction2: Any, grad_value: Any, exp_avg_value: Any, *, l2: bool,
    decay: bool, lerp_from_start: bool,
) -> None:
    """The elementwise NAdam update (Dozat, 2016), in place: the Nesterov step mixes this step's
    gradient and the next step's momentum, each with its own coefficient."""
    grad = decay_and_moments(xp, param, grad, exp_avg, exp_avg_sq, lerp_weight, lerp_complement,
                             beta2, one_minus_beta2, weight_decay, decay_factor, l2=l2,
                             decay=decay, lerp_from_start=lerp_from_start)
    # denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
    # Out of place: with differentiable=True this runs on Tensors, and sqrt saves its output.
    denom = xp.sqrt(exp_avg_sq / bias_correction2) + eps
    param += grad_value * grad / denom  # param.addcdiv_(grad, denom, value=grad_value)
    param += exp_avg_value * exp_avg / denom  # param.addcdiv_(exp_avg, denom, value=...)


def radam_update(
    xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, *, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, step: float, decoupled: bool,
) -> None:
    """One RAdam step, in place on param, exp_avg and exp_avg_sq (PyTorch's single-tensor
    RAdam)."""
    scalars, flags = radam_scalars(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                                   step=step, decoupled=decoupled)
    radam_step(xp, param, grad, exp_avg, exp_avg_sq, eps, *scalars, **flags)


def radam_scalars(*, lr: float, beta1: float, beta2: float, weight_decay: float, step: float,
                  decoupled: bool) -> tuple[tuple[float, ...], dict[str, bool]]:
    """radam_step's scalars (after eps) and flags; `rectify` is False while the variance of
    the adaptive rate is intractable (rho_t <= 5: a plain momentum step)."""
    scalars, flags = moment_scalars(lr=lr, beta1=beta1, beta2=beta2,
                                    weight_decay=weight_decay, decoupled=decoupled)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    rectify = rho_t > 5.0
    rect = (((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            ** 0.5 if rectify else 1.0)
    return ((*scalars, bias_correction1, lr, bias_correction2 ** 0.5, rect),
            {**flags, "rectify": rectify})


def radam_step(
    xp: Any, param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, eps: Any,
    lerp_weight: Any, lerp_complement: Any, beta2: Any, one_minus_beta2: Any, weight_decay: Any,
    decay_factor: Any, bias_correction1: Any, lr: Any, bias_correction2_sqrt: Any, rect: Any, *,
    l2: bool, decay: bool, lerp_from_start: bool, rectify: bool,
) -> None:
    """The elementwise RAdam update (Liu et al., 2020), in place: Adam's step scaled by the
    rectification term, or plain bias-corrected momentum before the variance is tractable."""
    decay_and_moments(xp, param, grad, exp_avg, exp_avg_sq, lerp_weight, lerp_complement, beta2,
                      one_minus_beta2, weight_decay, decay_factor, l2=l2, decay=decay,
                      lerp_from_start=lerp_from_start)
    update = exp_avg / bias_correction1
    update *= lr
    if rectify:
        # adaptive lr = bias_correction2 ** 0.5 / (exp_avg_sq.sqrt() + eps)
        adaptive = xp.sqrt(exp_avg_sq) + eps
        update *= bias_correction2_sqrt / adaptive
        update *= rect
    param -= update  # param.add_(update, alpha=-1)


def erf(xp: Any, x: Array) -> Array:
    """The error function to double precision (about 1e-15 absolute), from two expansions that
    never cancel: below |x| = 2.5 the series erf(a) = 2/sqrt(pi) exp(-a^2) sum 2^n a^(2n+1) /
    (2n+1)!!, above it the continued fraction of erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) /
    (a + 1 / (a + (3/2) / (a + ...)))). Both are evaluated everywhere on clipped inputs (no
    overflow, no warnings) and the right one is picked per element."""
    split = 2.5
    magnitude = xp.abs(x)
    # Series on [0, split]: every term positive, 35 terms reach double precision at split.
    small = xp.minimum(magnitude, split)
    small_sq = small * small
    twice_sq = small_sq * 2
    term = small * 1  # a fresh array: updated in place below
    total = small * 1
    for n in range(35):
        term *= twice_sq
        term /= 2 * n + 3
        total += term
    series = xp.exp(-small_sq)
    series *= total
    series *= _TWO_OVER_SQRT_PI
    # Continued fraction on [split, inf), evaluated from the tail; 25 levels suffice there.
    large = xp.maximum(magnitude, split)
    fraction = large * 1
    for k in range(25, 0, -1):
        fraction = large + (k / 2) / fraction
    complement = xp.exp(-(large * large))
    complement /= fraction
    complement *= _ONE_OVER_SQRT_PI
    out = xp.where(magnitude < split, series, 1 - complement)
    return xp.copysign(out, x)


_TWO_OVER_SQRT_PI = 1.1283791670955126
_ONE_OVER_SQRT_PI = 0.5641895835477563
