"""Fused kernels for hot composite ops, written once as Python over an array namespace `xp`.

NumPy runs these as they are; the CuPy backend compiles the same math into single kernels.
In-place operators on temporaries the kernel made itself (`t *= -1`) are part of the array API
and save NumPy a fresh allocation (and its page faults) per step.
"""

from __future__ import annotations

from typing import Any

Array = Any


def sigmoid(xp: Any, x: Array) -> Array:
    # 0.5 * tanh(x / 2) + 0.5 is exact to rounding and never overflows, unlike 1 / (1 + exp(-x)).
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
    out += xp.maximum(x, xp.zeros_like(x))
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
    out = sigmoid(xp, z)
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


def log_softmax(xp: Any, x: Array, axis: int) -> Array:
    """x - logsumexp(x) along axis, shifted by the max for stability."""
    out = x - xp.max(x, axis=axis, keepdims=True)
    # The exponentials are a temporary; the log-sum is subtracted in place (one array less).
    out -= xp.log(xp.sum(xp.exp(out), axis=axis, keepdims=True))
    return out


def log_softmax_backward(xp: Any, grad: Array, output: Array, axis: int) -> Array:
    """grad - softmax * sum(grad) along axis."""
    out = xp.exp(output)
    out *= -xp.sum(grad, axis=axis, keepdims=True)  # negate the small sum, not the big array
    out += grad
    return out
