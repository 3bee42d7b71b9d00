"""`where(condition, 0.0, right)` for NumPy's compiled replays, bit for bit, as a mask of
right's bits (a ReLU's or a threshold's backward).

np.where's loop branches per element and costs several times a ufunc pass on a mask like a
ReLU's. Where the left operand is a 0-d +0.0 (every bit zero) of right's dtype and the
condition has right's shape, the result is right's bits AND a word that is all ones where the
condition is False and zero where it is True: NaN payloads, infinities and -0.0 of right
kept, +0.0 picked, as np.where gives. That word is the condition cast to an unsigned integer
of the element's width, minus one (a direct cast: a ufunc given the bool itself would cast it
through its buffers, slower than the whole where).

A `MaskedZero` belongs to one step of one program (`NumpyBackend.replay_function`): it keeps
that word's array between replays and takes `out=` (`out_argument` calls it elementwise), so
a replay writes the result over right where right dies there and allocates nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any

BITS: dict[Any, Any] = {np.dtype(np.float32): np.dtype(np.uint32),
                        np.dtype(np.float64): np.dtype(np.uint64)}


def masks_with_zero(condition: Any = None, left: Any = None, right: Any = None,
                    *rest: Any) -> bool:
    """Whether where(condition, left, right) picks between a 0-d +0.0 and a float array of
    its dtype and of the condition's shape."""
    if rest or type(condition) is not np.ndarray or type(left) is not np.ndarray \
            or type(right) is not np.ndarray:
        return False
    bits = BITS.get(right.dtype)
    return (bits is not None and condition.dtype == np.bool_ and left.ndim == 0
            and left.dtype == right.dtype and condition.shape == right.shape
            and not left.view(bits))


class MaskedZero:
    """np.where(condition, left, right) for arrays like the ones it was made for (see the
    module docstring); other values (a left that is not +0.0 at replay, another shape) take
    np.where itself. A replay passes the same arrays every time (its buffers): their bit views
    are made once."""

    __slots__ = ("__name__", "bits", "keep", "last", "one", "views")

    def __init__(self, right: Array) -> None:
        self.__name__ = "masked_zero"  # (the name a program's listing shows)
        self.bits = BITS[right.dtype]
        self.keep = np.empty(right.shape, self.bits)  # the mask word of every element
        self.one = np.ones((), self.bits)
        self.last: tuple[Array, ...] = ()  # the condition, left, right and out last seen
        self.views: tuple[Array, ...] = ()  # left's, right's and out's bits

    def __call__(self, condition: Array, left: Array, right: Array,
                 out: Array | None = None) -> Array:
        last = self.last
        if (last and condition is last[0] and left is last[1] and right is last[2]
                and out is last[3]):
            left_bits, right_bits, out_bits = self.views
            if not left_bits:  # (read now: left may hold another value than last time)
                np.copyto(self.keep, condition)  # 1 where +0.0 is picked
                np.subtract(self.keep, self.one, out=self.keep)  # 0 there, else all ones
                np.bitwise_and(right_bits, self.keep, out=out_bits)
                return out
        return self._call(condition, left, right, out)

    def _call(self, condition: Array, left: Array, right: Array, out: Array | None) -> Array:
        bits = self.bits
        shape = right.shape
        if (left.view(bits) or condition.shape != shape or condition.dtype != np.bool_
                or right.dtype.itemsize != bits.itemsize):
            result = np.where(condition, left, right)
            if out is None:
                return result
            np.copyto(out, result)
            return out
        keep = self.keep
        if keep.shape != shape:  # a block of leading rows (compiler/blocking.py), or a test
            keep = keep.reshape(-1)[:right.size].reshape(shape) \
                if right.size <= keep.size else np.empty(shape, bits)
        np.copyto(keep, condition)
        np.subtract(keep, self.one, out=keep)
        written: Array = np.empty(shape, right.dtype) if out is None else out
        views = (left.view(bits), right.view(bits), written.view(bits))
        np.bitwise_and(views[1], keep, out=views[2])
        if out is not None and keep is self.keep:  # (a replay's buffers: the next call is alike)
            self.last, self.views = (condition, left, right, out), views
        return written
