"""The negative log-likelihood of class indices, forward and input gradient, as composites
(`kernels.py`'s `@composite`: one backend call each, so a compiled program records each as one
step), and cross-entropy's fused forms: log_softmax and nll_loss's mean in one call, and their
input gradient from the log-probabilities in one more, which a compiled program runs in place
of the four (`autodiff/compiler/fusion.py`).

The fused gradient is eager's to the bit: eager scatters each row's coefficient c into zeros
(G), sums G along the class dim (c itself: adding zeros is exact) and computes
exp(log_probs) * -sum(G) + G; the fused form computes exp(log_probs) * -c and adds c at the
target classes. The only difference zeros make is a sign: 0.0 + -0.0 is +0.0, so c is
normalised the same way (c + 0.0) and a -0.0 product is made +0.0 where one can arise.
"""

from __future__ import annotations

from typing import Any

from .kernels import composite

Array = Any
# Below this many rows a float sum of ones is exact, so a count stands for it.
_EXACT_COUNT = 2**24


class LossKernels:
    """nll_loss's and cross-entropy's composites, as methods of every `Backend`."""

    def class_targets_in_range(backend: Any, target: Array, classes: int) -> bool:
        """Whether every entry of `target` (integers, at least one) is a class index,
        0 <= t < classes."""
        return int(backend.min(target)) >= 0 and int(backend.max(target)) < classes

    @composite
    def nll_loss_targets(backend: Any, target: Array, *, ignore_index: int,
                         classes: int) -> tuple[Array, Array, Array]:
        """Whether each target counts (valid), the target with ignored entries at class 0
        (safe), and whether any counted target is out of range (0-d: the caller reads it, so
        that a compiled program checks it as a guard before going on)."""
        valid = backend.not_equal(target, ignore_index)
        safe = backend.where(valid, target, 0)  # ignored targets look up class 0
        out_of_range = backend.any(backend.logical_or(backend.greater_equal(safe, classes),
                                                      backend.less(safe, 0)))
        return valid, safe, out_of_range

    @composite
    def nll_loss_forward(backend: Any, x: Array, safe: Array, valid: Array,
                         weight: Array | None, *, reduction: str) -> tuple[Array, ...]:
        """-weight[t] * x[t] along the class dim (1, or 0 for a 1-D x), reduced, given
        `nll_loss_targets`' valid and safe: returns the loss, each target's weight (0 where
        ignored: scale), and for 'mean' the total weight. No target counted: a nan 'mean', as
        PyTorch."""
        axis = 0 if x.ndim == 1 else 1
        index_shape = list(safe.shape)
        index_shape.insert(axis, 1)
        picked = backend.take_along_axis(x, backend.reshape(safe, tuple(index_shape)), axis=axis)
        picked = backend.reshape(picked, safe.shape)
        if weight is None:
            scale = backend.astype(valid, backend.dtype_name(x))
        else:
            scale = backend.take(weight, backend.reshape(safe, (-1,)), axis=0)
            scale = backend.where(valid, backend.reshape(scale, safe.shape), 0.0)
        # Ignored targets give (+)0 whatever their input (PyTorch skips them: a row of -inf
        # logits must not make the loss nan).
        loss = backend.where(valid, backend.negative(backend.multiply(picked, scale)), 0.0)
        if reduction == "none":
            return loss, scale
        loss = backend.sum(loss)
        if reduction == "sum":
            return loss, scale
        total = backend.sum(scale)
        if backend.all_true(backend.equal(total, 0)):  # every target ignored, or none
            return (backend.full((), float("nan"), backend.dtype_name(x)), scale,
                    backend.ones((), backend.dtype_name(x)))
        return backend.divide(loss, total), scale, total

    @composite
    def nll_loss_backward(backend: Any, grad: Array, safe: Array, scale: Array, valid: Array,
                          total: Array | None, *, axis: int,
                          shape: tuple[int, ...]) -> Array:
        """The input gradient of nll_loss: -grad * scale / total scattered to each target's
        class (one write per target, not a one-hot), 0 elsewhere and where ignored."""
        values = backend.where(valid, backend.multiply(scale, grad), 0.0)
        values = backend.negative(values if total is None else backend.divide(values, total))
        out = backend.zeros(shape, backend.dtype_name(values))
        return backend.index_add(out, _scatter_key(backend, safe, axis), values)

    @composite
    def cross_entropy_forward(backend: Any, x: Array, target: Array, weight: Array | None,
                              rows: Array, count: Array, *, ignore_index: int
                              ) -> tuple[Array, Array, tuple[Any, ...] | None]:
        """log_softmax(x, 1) and nll_loss's mean of it, for a 2-D x, computed as eager does:
        (log_probs, loss, saved), saved being what `cross_entropy_backward` reads, or None
        where a counted target is out of range (nothing else then means anything); `rows` is
        arange(len(x)) (int64) and `count` len(x) in x's dtype, made once by the caller.
        When no weight is given, ignore_index is no class and every target is in range (the
        usual batch), the target is its own safe index, every weight 1 and the total the row
        count: the mask, where and cast of the general form fall away (same values)."""
        log_probs = backend.log_softmax(x, 1)
        size, classes = x.shape
        if (weight is None and 0 < size < _EXACT_COUNT and not 0 <= ignore_index < classes
                and backend.class_targets_in_range(target, classes)):
            picked = backend.getitem(log_probs, (rows, target))
            # sum(-p) is -sum(p) exactly (rounding is symmetric, and no picked value is -0.0:
            # x - max and then - log(total) never give one)
            # (the targets are kept as they are now, as eager's saved copy: the program may
            # write into its argument's array before the gradient)
            saved = (backend.asarray(target, copy=True), None, None, count)
            return log_probs, -backend.sum(picked) / count, saved
        valid, safe, out_of_range = backend.nll_loss_targets(target, ignore_index=ignore_index,
                                                             classes=classes)
        if backend.any_true(out_of_range):
            return log_probs, log_probs, None
        loss, scale, total = backend.nll_loss_forward(log_probs, safe, valid, weight,
                                                      reduction="mean")
        return log_probs, loss, (safe, scale, valid, total)

    @composite
    def cross_entropy_backward(backend: Any, grad: Array, log_probs: Array, rows: Array,
                               safe: Array, scale: Array | None, valid: Array | None,
                               total: Array) -> Array:
        """The gradient of cross_entropy_forward's loss with respect to x, given grad (0-d)
        and what the forward saved (see the module docstring): every row's coefficient
        c = -(grad * weight / total), then exp(log_probs) * -c with c added at the target."""
        size = log_probs.shape[0]
        out = backend.exp(log_probs)
        if scale is None:  # every weight 1 and every target counted: one c for all rows
            values = -(grad / total) + 0.0
            factor = -values
            out *= factor
            if not bool(factor > 0):  # -0.0 products arise: make them +0.0
                out += 0.0
        else:
            values = backend.where(valid, backend.multiply(scale, grad), 0.0)
            values = -backend.divide(values, total) + 0.0
            out *= -backend.reshape(values, (size, 1))
            out += 0.0
        return backend.index_add(out, (rows, safe), values)  # (a 0-d values: every row's)


def _scatter_key(backend: Any, safe: Array, axis: int) -> tuple[Any, ...]:
    """Index arrays that address, for every target position, its class in the input."""
    if axis == 0:
        return (safe,)
    ndim = safe.ndim
    key = []
    for dim, size in enumerate(safe.shape):
        shape = [1] * ndim
        shape[dim] = size
        key.append(backend.reshape(backend.arange(0, size, 1, "int64"), tuple(shape)))
    key.insert(axis, safe)
    return tuple(key)
