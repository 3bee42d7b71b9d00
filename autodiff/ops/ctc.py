"""`nn.functional.ctc_loss`: the connectionist temporal classification loss.

Each target l_1..l_L becomes the lattice blank, l_1, blank, l_2, ..., l_L, blank (S = 2L + 1
positions). In log space, alpha_t(s) is the probability of the first t + 1 frames ending at
position s and beta_t(s) that of the frames from t on starting there (both include frame t's
emission): each is one time step after another, vectorised over the batch and the positions,
every step one fused kernel (`Backend.ctc_step`: a position takes its own, its left neighbour's
and, when it holds a label different from the one two back, that one's score). The loss is
-log(alpha_{T-1}(S-1) + alpha_{T-1}(S-2)), T the sample's input length.

The gradient is PyTorch's: w.r.t. log_probs it is exp(log_probs) minus the posterior of each
class at each frame, sum over the positions s holding it of alpha_t(s) beta_t(s) / p(target)
/ p_t(class). (The derivative of the loss alone would be minus the posterior; PyTorch adds
exp(log_probs), which a log_softmax in front takes out again: its backward subtracts softmax
times the gradient's sum, which is 1 - 1 per frame. So the logits' gradient is the true one.)
Frames past a sample's input length get 0; a sample with no valid alignment has an infinite
loss and a nan gradient, or 0 for both with zero_infinity. As in PyTorch, the backward is not
differentiable again.

Difference from PyTorch: a target label outside [0, C) is refused (PyTorch's CPU kernel reads
out of bounds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..function import Function
from ..saved_fields import Computed, fields, saved, value
from ..tensor import Tensor, _wrap
from .loss import _reduction
from .selection import where

_NEG_INF = float("-inf")


class _Lattice:
    """The extended label sequences of a batch (blank, l_1, blank, ..., blank) and the masks
    the recursions use, as (N, S) arrays."""

    def __init__(self, backend: Any, targets: Any, input_lengths: Sequence[int],
                 target_lengths: Sequence[int], blank: int) -> None:
        samples = len(target_lengths)
        longest = max(target_lengths, default=0)
        size = 2 * longest + 1
        positions = backend.reshape(backend.arange(0, size, 1, "int64"), (1, size))
        is_label = backend.equal(backend.remainder(positions, 2), 1)
        if longest:
            label_index = backend.clip(backend.floor_divide(positions - 1, 2), 0, longest - 1)
            label_index = backend.broadcast_to(label_index, (samples, size))
            labels = backend.take_along_axis(targets, label_index, axis=1)
            self.labels = backend.where(is_label, labels, blank)
        else:
            self.labels = backend.full((samples, size), blank, "int64")
        lengths = backend.reshape(backend.asarray(list(target_lengths), dtype="int64"),
                                  (samples, 1))
        self.valid = backend.less(positions, 2 * lengths + 1)
        before = backend.concat([backend.full((samples, 2), blank, "int64"),
                                 self.labels[:, :-2]], axis=1) if size > 2 else self.labels
        self.skip = backend.logical_and(
            backend.logical_and(is_label, backend.greater_equal(positions, 2)),
            backend.not_equal(self.labels, before))
        # The skip into position s + 2, seen from s (the backward recursion looks ahead).
        self.skip_ahead = backend.concat([self.skip[:, 2:], backend.zeros((samples, min(
            2, size)), "bool")], axis=1) if size > 2 else backend.zeros((samples, size), "bool")
        last = 2 * lengths
        self.ends = backend.logical_or(
            backend.equal(positions, last),
            backend.logical_and(backend.equal(positions, last - 1), backend.greater(lengths, 0)))
        self.frames = backend.asarray(list(input_lengths), dtype="int64")
        self.target_lengths = lengths
        self.size = size


def _emissions(backend: Any, log_probs: Any, lattice: _Lattice) -> Any:
    """log_probs at each lattice position's class: (T, N, S)."""
    frames = log_probs.shape[0]
    index = backend.broadcast_to(backend.expand_dims(lattice.labels, axis=0),
                                 (frames, *lattice.labels.shape))
    return backend.take_along_axis(log_probs, index, axis=2)


def _shift(backend: Any, array: Any, by: int) -> Any:
    """array moved `by` positions right (left for negative `by`) along axis 1, -inf filled."""
    samples, size = array.shape
    count = min(abs(by), size)
    fill = backend.full((samples, count), _NEG_INF, backend.dtype_name(array))
    if by > 0:
        return backend.concat([fill, array[:, :size - count]], axis=1)
    return backend.concat([array[:, count:], fill], axis=1)


def _alpha(backend: Any, emissions: Any, lattice: _Lattice) -> Any:
    """The forward variables, (T, N, S)."""
    frames = emissions.shape[0]
    # A path starts with the blank or with the first label (positions 0 and 1).
    positions = backend.reshape(backend.arange(0, lattice.size, 1, "int64"), (1, -1))
    starts = backend.logical_and(lattice.valid, backend.less(positions, 2))
    first = backend.where(starts, emissions[0, ...], _NEG_INF)
    steps = [first]
    previous = first
    for t in range(1, frames):
        skipped = backend.where(lattice.skip, _shift(backend, previous, 2), _NEG_INF)
        current = backend.ctc_step(previous, _shift(backend, previous, 1), skipped,
                                   emissions[t, ...])
        previous = backend.where(lattice.valid, current, _NEG_INF)
        steps.append(previous)
    return backend.stack(steps, axis=0)


def _beta(backend: Any, emissions: Any, lattice: _Lattice) -> Any:
    """The backward variables, (T, N, S); -inf from each sample's input length on."""
    frames, samples, size = emissions.shape
    last_frame = backend.reshape(lattice.frames - 1, (samples, 1))
    following = backend.full((samples, size), _NEG_INF, backend.dtype_name(emissions))
    steps: list[Any] = [None] * frames
    for t in range(frames - 1, -1, -1):
        skipped = backend.where(lattice.skip_ahead, _shift(backend, following, -2), _NEG_INF)
        inner = backend.ctc_step(following, _shift(backend, following, -1), skipped,
                                 emissions[t, ...])
        start = backend.where(lattice.ends, emissions[t, ...], _NEG_INF)
        current = backend.where(backend.equal(last_frame, t), start,
                                backend.where(backend.greater(last_frame, t), inner, _NEG_INF))
        following = backend.where(lattice.valid, current, _NEG_INF)
        steps[t] = following
    return backend.stack(steps, axis=0)


def _log_sum(backend: Any, values: Any, axis: int, keepdims: bool = False) -> Any:
    """log(sum(exp(values))) along axis; -inf for a slice of -inf only (no warnings)."""
    peak = backend.max(values, axis=axis, keepdims=True)
    empty = backend.isinf(peak)
    base = backend.where(empty, 0.0, peak)
    total = backend.sum(backend.exp(values - base), axis=axis, keepdims=True)
    out = backend.where(empty, _NEG_INF, backend.log(backend.where(empty, 1.0, total)) + base)
    return out if keepdims else backend.squeeze(out, axis=axis)


_ALPHA = saved(2)


class CtcLoss(Function):
    """The negative log-likelihood of each sample's target, (N,)."""

    node_name = "CtcLossBackward0"
    forward_ad_name = "_ctc_loss"  # PyTorch has no forward derivative for it either
    # result1 is PyTorch's log_alpha, (N, T, S); autodiff's alpha runs time first.
    saved_fields = fields(
        log_probs=saved(0), targets=saved(1), input_lengths=value("input_lengths"),
        target_lengths=value("target_lengths"), blank=value("blank"),
        zero_infinity=value("zero_infinity"), result0=saved(4),
        result1=Computed(lambda node: _ALPHA.read(node).permute(1, 0, 2), tensor=True))

    @staticmethod
    def forward(ctx: Any, log_probs: Any, targets: Any, *, input_lengths: tuple[int, ...],
                target_lengths: tuple[int, ...], blank: int, zero_infinity: bool) -> Any:
        backend = ctx.backend
        dtype = backend.dtype_name(log_probs)
        lattice = _Lattice(backend, targets, input_lengths, target_lengths, blank)
        emissions = _emissions(backend, log_probs, lattice)
        samples = len(input_lengths)
        if log_probs.shape[0]:
            alpha = _alpha(backend, emissions, lattice)
            last = backend.reshape(backend.clip(lattice.frames - 1, 0, None), (1, samples, 1))
            final = backend.take_along_axis(
                alpha, backend.broadcast_to(last, (1, samples, lattice.size)), axis=0)[0, ...]
            log_likelihood = _log_sum(backend, backend.where(lattice.ends, final, _NEG_INF), 1)
        else:
            alpha = emissions
            log_likelihood = backend.full((samples,), _NEG_INF, dtype)
        # No frames: the empty target has probability 1, any other 0.
        no_frames = backend.equal(lattice.frames, 0)
        empty_target = backend.equal(backend.reshape(lattice.target_lengths, (-1,)), 0)
        certain = backend.where(empty_target, backend.zeros_like(log_likelihood),
                                backend.full(log_likelihood.shape, _NEG_INF, dtype))
        log_likelihood = backend.where(no_frames, certain, log_likelihood)
        nll = backend.negative(log_likelihood)
        ctx.lattice, ctx.zero_infinity = lattice, zero_infinity
        ctx.input_lengths, ctx.target_lengths, ctx.blank = input_lengths, target_lengths, blank
        ctx.save_for_backward(log_probs, targets, alpha, emissions, nll)
        return nll

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        log_probs, _, alpha, emissions, nll = ctx.saved_tensors
        return CtcLossBackward.apply(grad, log_probs, alpha, emissions, nll, lattice=ctx.lattice,
                                     zero_infinity=ctx.zero_infinity), None


class CtcLossBackward(Function):
    """exp(log_probs) - posterior, times the incoming gradient of each sample (see the module
    docstring). It takes log_probs as an input so that a recorded backward has an edge to it:
    differentiating it again raises, as in PyTorch."""

    node_name = "CtcLossBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, grad: Any, log_probs: Any, alpha: Any, emissions: Any, nll: Any, *,
                lattice: _Lattice, zero_infinity: bool) -> Any:
        backend = ctx.backend
        frames, samples, classes = log_probs.shape
        dtype = backend.dtype_name(log_probs)
        if not frames:
            return backend.zeros(log_probs.shape, dtype)
        beta = _beta(backend, emissions, lattice)
        both = backend.add(alpha, beta)
        peak = backend.max(both, axis=2, keepdims=True)
        empty = backend.isinf(peak)
        base = backend.where(empty, 0.0, peak)
        # Sum exp(alpha + beta) over the positions of each class (a scatter-add), in log space.
        sums = backend.zeros((frames, samples, classes), dtype)
        key = (backend.reshape(backend.arange(0, frames, 1, "int64"), (frames, 1, 1)),
               backend.reshape(backend.arange(0, samples, 1, "int64"), (1, samples, 1)),
               backend.expand_dims(lattice.labels, axis=0))
        backend.index_add(sums, key, backend.exp(backend.subtract(both, base)))
        present = backend.greater(sums, 0)
        log_sums = backend.log(backend.where(present, sums, 1.0)) + base
        exponent = backend.subtract(backend.add(log_sums, backend.reshape(nll, (1, -1, 1))),
                                    log_probs)
        posterior = backend.where(present, backend.exp(backend.where(present, exponent, 0.0)),
                                  0.0)
        out = backend.subtract(backend.exp(log_probs), posterior)
        times = backend.reshape(backend.arange(0, frames, 1, "int64"), (frames, 1, 1))
        inside = backend.less(times, backend.reshape(lattice.frames, (1, samples, 1)))
        impossible = backend.reshape(backend.isinf(nll), (1, samples, 1))
        out = backend.where(impossible, 0.0 if zero_infinity else float("nan"), out)
        out = backend.where(inside, out, 0.0)
        return backend.multiply(out, backend.reshape(grad, (1, samples, 1)))

    @staticmethod
    def backward(ctx: Any, outer: Tensor) -> Any:
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


# ----------------------------------------------------------------------------- arguments
def _lengths(name: str, lengths: Any) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dtype.category != 1:  # integers only (not bool, not floating)
            raise RuntimeError(f"{name} must be integral")
        return [int(value) for value in lengths.reshape(-1).tolist()]
    return [int(value) for value in lengths]


def _check(log_probs: Tensor, targets: Tensor, input_lengths: list[int],
           target_lengths: list[int], blank: int) -> None:
    """PyTorch's argument checks, in its order, with its messages."""
    where_from = " (while checking arguments for ctc_loss_allocate_outputs)"
    if log_probs._data.ndim != 3:
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {log_probs._data.ndim}-dimensional tensor "
            f"for argument #1 'log_probs'{where_from}")
    if not 1 <= targets._data.ndim <= 2:
        raise RuntimeError(
            f"Expected 1 to 2 dimensions, but got {targets._data.ndim}-dimensional tensor for "
            f"argument #2 'targets'{where_from}")
    frames, samples, classes = log_probs._data.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(input_lengths) != samples:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != samples:
        raise RuntimeError("target_lengths must be of size batch_size")
    for length in target_lengths:
        if length < 0:
            raise RuntimeError(
                f"Expected target_lengths to have value at least 0, but got value {length}"
                f"{where_from}")
    shape = targets._data.shape
    if len(shape) == 1:
        if shape[0] != sum(target_lengths):
            raise RuntimeError(
                f"Expected tensor to have size {sum(target_lengths)} at dimension 0, but got "
                f"size {shape[0]} for argument #2 'targets'{where_from}")
    else:
        if shape[0] != samples:
            raise RuntimeError(
                f"Expected tensor to have size {samples} at dimension 0, but got size "
                f"{shape[0]} for argument #2 'targets'{where_from}")
        longest = max(target_lengths, default=0)
        if shape[1] < longest:
            raise RuntimeError(
                f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                f"{shape[1]} for argument #2 'targets'{where_from}")
    for length in input_lengths:
        if length < 0:
            raise RuntimeError(
                f"Expected input_lengths to have value at least 0, but got value {length}"
                f"{where_from}")
        if length > frames:
            raise RuntimeError(
                f"Expected input_lengths to have value at most {frames}, but got value "
                f"{length}{where_from}")


def _padded(targets: Any, backend: Any, target_lengths: list[int]) -> Any:
    """The targets as a (N, max length) int64 array (concatenated targets are split)."""
    longest = max(target_lengths, default=0)
    if targets.ndim == 2:
        return targets[:, :longest]
    starts, offset = [], 0
    for length in target_lengths:
        starts.append(offset)
        offset += length
    index = [[min(start + k, max(offset - 1, 0)) for k in range(longest)] for start in starts]
    if not offset:
        return backend.zeros((len(target_lengths), longest), "int64")
    return backend.take(targets, backend.asarray(index, dtype="int64"), axis=0)


@autocast_op("ctc_loss")
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss of (T, N, C) log-probabilities (or (T, C) for one sample) against targets,
    (N, S) padded or concatenated in one dimension; lengths as tensors or sequences of ints."""
    reduction = _reduction(None, None, reduction)
    input_list = _lengths("input_lengths", input_lengths)
    target_list = _lengths("target_lengths", target_lengths)
    batched = log_probs._data.ndim == 3
    if not batched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0)
    if log_probs._data.size == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    if log_probs.dtype not in (dtypes.float32, dtypes.float64):  # PyTorch's kernels' types
        raise NotImplementedError(
            f"\"ctc_loss_{log_probs.device.type}\" not implemented for "
            f"'{dtypes.SCALAR_TYPE_NAMES[log_probs.dtype.name]}'")
    _check(log_probs, targets, input_list, target_list, blank)
    backend = log_probs._backend
    labels = targets._data
    if targets._backend is not backend:
        labels = backend.transfer(labels, targets._backend)
    labels = _padded(backend.astype(labels, "int64"), backend, target_list)
    classes = log_probs._data.shape[2]
    if labels.size:
        positions = backend.reshape(backend.arange(0, labels.shape[1], 1, "int64"), (1, -1))
        used = backend.less(positions, backend.reshape(backend.asarray(
            target_list, dtype="int64"), (-1, 1)))
        outside = backend.logical_or(backend.less(labels, 0),
                                     backend.greater_equal(labels, classes))
        if backend.any_true(backend.logical_and(used, outside)):
            raise RuntimeError(f"ctc_loss: every target must be in [0, {classes}) "
                               "(the number of classes of log_probs)")
    loss = CtcLoss.apply(log_probs, _wrap(labels, backend), input_lengths=tuple(input_list),
                         target_lengths=tuple(target_list), blank=blank,
                         zero_infinity=zero_infinity)
    if zero_infinity:
        loss = where(loss == float("inf"), _wrap(backend.zeros((), backend.dtype_name(
            loss._data)), backend), loss)
    if reduction == "mean":
        divisor = backend.asarray([max(length, 1) for length in target_list],
                                  dtype=backend.dtype_name(loss._data))
        return (loss / _wrap(divisor, backend)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)
