"""kernels.py's Adam-family updates for NumPy, in place.

NumPy cannot fuse: run as written, each expression of kernels.py makes a full-size temporary,
and a fresh temporary of a large parameter costs a page-faulting pass of its own (glibc maps
every allocation above 32 MiB afresh). These versions make the same updates with ufuncs writing
`out=` into one scratch array per call (two for NAdam), so a step is the passes the arithmetic
needs and nothing more. The scratch arrays are views of one workspace per thread and dtype,
kept between calls and grown to the largest request (two parameter-sized arrays at most), as
GPU libraries keep theirs: a new one each step would add a page-faulting pass per step.
`release_workspace()` gives the memory back. The operations are kernels.py's, in its order,
except where one scratch array forces a reordering of a product and a quotient (noted below):
the results agree with the generic kernels to the last bit or to one rounding.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

Array = Any

# From this many elements on, the backend runs these in-place versions (below it, kernels.py's
# expressions: a temporary of a small array costs less than the extra ufunc calls).
IN_PLACE_FROM = 1 << 16

_workspaces = threading.local()


def _scratch(like: Array, count: int = 1) -> list[Array]:
    """`count` scratch arrays of `like`'s shape and dtype, views of this thread's workspace
    (their contents are garbage)."""
    size = like.size
    buffers = _workspaces.__dict__.setdefault("buffers", {})
    buffer = buffers.get(like.dtype)
    if buffer is None or buffer.size < count * size:
        buffer = buffers[like.dtype] = np.empty(count * size, like.dtype)
    return [buffer[index * size:(index + 1) * size].reshape(like.shape)
            for index in range(count)]


def release_workspace() -> None:
    """Free this thread's scratch arrays (the next kernel call allocates them again)."""
    _workspaces.__dict__.pop("buffers", None)


def _decay_and_moments(
    param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, scratch: Array,
    lerp_weight: Any, lerp_complement: Any, beta2: Any, one_minus_beta2: Any, weight_decay: Any,
    decay_factor: Any, *, l2: bool, decay: bool, lerp_from_start: bool,
) -> Array:
    """kernels.decay_and_moments, writing its temporaries into `scratch`."""
    if decay:
        param *= decay_factor
    if l2:  # grad + wd * param (addition commutes exactly)
        decayed = np.multiply(param, weight_decay)
        decayed += grad
        grad = decayed
    if lerp_from_start:
        np.subtract(grad, exp_avg, out=scratch)
        scratch *= lerp_weight
        exp_avg += scratch
    else:
        exp_avg -= grad
        exp_avg *= lerp_complement
        exp_avg += grad
    exp_avg_sq *= beta2
    np.multiply(grad, one_minus_beta2, out=scratch)
    scratch *= grad
    exp_avg_sq += scratch
    return grad


def adam_step(
    param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, eps: Any, lerp_weight: Any,
    lerp_complement: Any, beta2: Any, one_minus_beta2: Any, step_size: Any,
    bias_correction2_sqrt: Any, weight_decay: Any, decay_factor: Any, *, l2: bool, decay: bool,
    lerp_from_start: bool,
) -> None:
    (scratch,) = _scratch(param)
    _decay_and_moments(param, grad, exp_avg, exp_avg_sq, scratch, lerp_weight, lerp_complement,
                       beta2, one_minus_beta2, weight_decay, decay_factor, l2=l2, decay=decay,
                       lerp_from_start=lerp_from_start)
    np.sqrt(exp_avg_sq, out=scratch)
    scratch /= bias_correction2_sqrt
    scratch += eps
    # s * (m / d) where kernels.py has (s * m) / d: the quotient goes into the denominator's array.
    np.divide(exp_avg, scratch, out=scratch)
    scratch *= step_size
    param -= scratch


def nadam_step(
    param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, eps: Any, lerp_weight: Any,
    lerp_complement: Any, beta2: Any, one_minus_beta2: Any, weight_decay: Any, decay_factor: Any,
    bias_correction2: Any, grad_value: Any, exp_avg_value: Any, *, l2: bool, decay: bool,
    lerp_from_start: bool,
) -> None:
    denom, scratch = _scratch(param, 2)
    grad = _decay_and_moments(param, grad, exp_avg, exp_avg_sq, denom, lerp_weight,
                              lerp_complement, beta2, one_minus_beta2, weight_decay,
                              decay_factor, l2=l2, decay=decay, lerp_from_start=lerp_from_start)
    np.divide(exp_avg_sq, bias_correction2, out=denom)
    np.sqrt(denom, out=denom)
    denom += eps
    np.multiply(grad, grad_value, out=scratch)
    scratch /= denom
    param += scratch
    # The denominator's last use: the second quotient overwrites it (v * (m / d) order).
    np.divide(exp_avg, denom, out=denom)
    denom *= exp_avg_value
    param += denom


def radam_step(
    param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, eps: Any, lerp_weight: Any,
    lerp_complement: Any, beta2: Any, one_minus_beta2: Any, weight_decay: Any, decay_factor: Any,
    bias_correction1: Any, lr: Any, bias_correction2_sqrt: Any, rect: Any, *, l2: bool,
    decay: bool, lerp_from_start: bool, rectify: bool,
) -> None:
    (update,) = _scratch(param)
    _decay_and_moments(param, grad, exp_avg, exp_avg_sq, update, lerp_weight, lerp_complement,
                       beta2, one_minus_beta2, weight_decay, decay_factor, l2=l2, decay=decay,
                       lerp_from_start=lerp_from_start)
    if rectify:
        # kernels.py multiplies ((m / bc1) * lr) * adaptive * rect; here the adaptive factor
        # bc2_sqrt / (sqrt(v) + eps) is made in the scratch array and the rest multiplied into
        # it, the three scalars folded into one (a rounding or two apart).
        np.sqrt(exp_avg_sq, out=update)
        update += eps
        np.divide(bias_correction2_sqrt, update, out=update)
        update *= exp_avg
        update *= lr * rect / bias_correction1
    else:
        np.divide(exp_avg, bias_correction1, out=update)
        update *= lr
    param -= update
