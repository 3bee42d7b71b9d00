"""The orthogonal polynomials of `torch.special`: Chebyshev T, U, V, W (and their shifted forms
on [0, 1]), Hermite H and He, Laguerre L and Legendre P, of degree `n` at `input`.

Either argument may be a tensor or a number (not both); a degree is truncated to an integer, a
negative degree gives 0. Each is PyTorch's algorithm, elementwise on backend arrays: the
three-term recurrence up to the largest degree asked for (each element keeps the value at its
own degree), the closed trigonometric form for high degrees inside (-1, 1), and PyTorch's exact
values at the interval's ends. PyTorch does not differentiate them: results never require grad.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backends import broadcast_shapes

from ..batching.dispatch import elementwise_op
from ..tensor import Tensor, _wrap
from ._checks import not_implemented_for_dtype, same_device
from ._promotion import check_broadcast, float_dtype

Array = Any


class Terms:
    """What the recurrence of one polynomial family needs: its first two members, and the
    member of degree m from the two before it (x: the argument, m a Python int)."""

    def __init__(self, first: Callable[[Any, Array], Array],
                 second: Callable[[Any, Array], Array],
                 step: Callable[[Any, Array, int, Array, Array], Array]) -> None:
        self.first = first
        self.second = second
        self.step = step


def _one(b: Any, x: Array) -> Array:
    return b.ones_like(x)


def _chebyshev_step(b: Any, x: Array, m: int, previous: Array, before: Array) -> Array:
    return b.subtract(b.multiply(b.add(x, x), previous), before)


_CHEBYSHEV_T = Terms(_one, lambda b, x: x, _chebyshev_step)
_CHEBYSHEV_U = Terms(_one, lambda b, x: b.add(x, x), _chebyshev_step)
_CHEBYSHEV_V = Terms(_one, lambda b, x: b.subtract(b.add(x, x), 1.0), _chebyshev_step)
_CHEBYSHEV_W = Terms(_one, lambda b, x: b.add(b.add(x, x), 1.0), _chebyshev_step)
_HERMITE_H = Terms(
    _one, lambda b, x: b.add(x, x),
    lambda b, x, m, p, q: b.subtract(b.multiply(b.add(x, x), p), b.multiply(q, 2.0 * (m - 1))))
_HERMITE_HE = Terms(
    _one, lambda b, x: x,
    lambda b, x, m, p, q: b.subtract(b.multiply(x, p), b.multiply(q, float(m - 1))))
_LAGUERRE_L = Terms(
    _one, lambda b, x: b.subtract(1.0, x),
    lambda b, x, m, p, q: b.divide(b.subtract(
        b.multiply(b.subtract(2.0 * (m - 1) + 1.0, x), p), b.multiply(q, float(m - 1))), float(m)))
_LEGENDRE_P = Terms(
    _one, lambda b, x: x,
    lambda b, x, m, p, q: b.divide(b.subtract(
        b.multiply(b.multiply(x, 2.0 * (m - 1) + 1.0), p), b.multiply(q, float(m - 1))), float(m)))


def _recurrence(b: Any, terms: Terms, x: Array, n: Array, top: int) -> Array:
    """The member of degree n (an int64 array broadcast with x) of the family, by recurrence
    up to degree `top` (the largest in n); degrees below 0 are left to the caller."""
    before, previous = terms.first(b, x), terms.second(b, x)
    out = b.where(b.equal(n, 0), before, previous)
    for m in range(2, top + 1):
        before, previous = previous, terms.step(b, x, m, previous, before)
        out = b.where(b.equal(n, m), previous, out)
    return out


# ----------------------------------------------------------------------------- the families
# Each `values(b, x, n, nf, top)` gets x in the result dtype, n as int64 and nf (n as floats),
# all of one shape, and returns PyTorch's values.
def _odd(b: Any, n: Array) -> Array:
    return b.equal(b.remainder(n, 2), 1)


def _alternating(b: Any, n: Array, value: Array) -> Array:
    """value for even n, -value for odd n."""
    return b.where(_odd(b, n), b.negative(value), value)


def _chebyshev_t(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    out = _recurrence(b, _CHEBYSHEV_T, x, n, top)
    inside = b.logical_and(b.greater(n, 6), b.less(b.abs(x), 1.0))
    out = b.where(inside, b.cos(b.multiply(nf, b.acos(_clip(b, x)))), out)
    ends = b.equal(b.abs(x), 1.0)
    one = b.ones_like(x)
    out = b.where(ends, b.where(b.greater(x, 0), one, _alternating(b, n, one)), out)
    return out


def _clip(b: Any, x: Array) -> Array:
    """x clipped into [-1, 1], for acos where its value is then used only inside."""
    return b.clip(x, -1.0, 1.0)


def _chebyshev_u(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    out = _recurrence(b, _CHEBYSHEV_U, x, n, top)
    inside = b.logical_and(b.greater(n, 8), b.less(b.abs(x), 1.0))
    angle = b.acos(_clip(b, x))
    sine = b.sin(angle)
    nonzero = b.not_equal(sine, 0)
    by_sine = b.divide(b.sin(b.multiply(nf + 1, angle)), b.where(nonzero, sine, b.ones_like(x)))
    by_cosine = b.divide(b.multiply(nf + 1, b.cos(b.multiply(nf + 1, angle))), x)
    out = b.where(inside, b.where(nonzero, by_sine, by_cosine), out)
    ends = b.equal(b.abs(x), 1.0)
    out = b.where(ends, b.where(b.greater(x, 0), nf + 1, _alternating(b, n, nf + 1)), out)
    return out


def _chebyshev_v(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    out = _recurrence(b, _CHEBYSHEV_V, x, n, top)
    inside = b.logical_and(b.greater(n, 8), b.less(b.abs(x), 1.0))
    angle = b.acos(_clip(b, x))
    regular = b.not_equal(b.sin(b.divide(angle, 2.0)), 1.0)
    trig = b.divide(b.cos(b.multiply(nf + 0.5, angle)), b.cos(b.divide(angle, 2.0)))
    odd_even = _alternating(b, n, nf + nf + 1)
    out = b.where(inside, b.where(regular, trig, odd_even), out)
    ends = b.equal(b.abs(x), 1.0)
    out = b.where(ends, b.where(b.greater(x, 0), b.ones_like(x), odd_even), out)
    return out


def _chebyshev_w(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    out = _recurrence(b, _CHEBYSHEV_W, x, n, top)
    inside = b.logical_and(b.greater(n, 8), b.less(b.abs(x), 1.0))
    angle = b.acos(_clip(b, x))
    regular = b.not_equal(b.cos(b.divide(angle, 2.0)), 1.0)
    trig = b.divide(b.sin(b.multiply(nf + 0.5, angle)), b.sin(b.divide(angle, 2.0)))
    signs = _alternating(b, n, b.ones_like(x))
    at_one = b.where(b.greater(x, 0), nf + nf + 1, signs)
    out = b.where(inside, b.where(regular, trig, at_one), out)
    ends = b.equal(b.abs(x), 1.0)
    out = b.where(ends, at_one, out)
    return out


def _shifted(family: Terms, threshold: int, ends: Callable[..., Array],
             trig: Callable[..., Array]) -> Callable[..., Array]:
    """A shifted Chebyshev polynomial: the polynomial of 2x - 1, with PyTorch's values at 0
    and 1 and its trigonometric form above degree `threshold`."""

    def values(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
        y = b.subtract(b.add(x, x), 1.0)
        out = _recurrence(b, family, y, n, top)
        inside = b.logical_and(b.greater(n, threshold), b.less(b.abs(y), 1.0))
        out = b.where(inside, trig(b, y, n, nf), out)
        at_zero, at_one = ends(b, x, n, nf)
        out = b.where(b.equal(x, 0.0), at_zero, out)
        return b.where(b.equal(x, 1.0), at_one, out)

    return values


def _shifted_t_ends(b: Any, x: Array, n: Array, nf: Array) -> tuple[Array, Array]:
    one = b.ones_like(x)
    return _alternating(b, n, one), one


def _shifted_t_trig(b: Any, y: Array, n: Array, nf: Array) -> Array:
    return b.cos(b.multiply(nf, b.acos(_clip(b, y))))


def _shifted_u_ends(b: Any, x: Array, n: Array, nf: Array) -> tuple[Array, Array]:
    return _alternating(b, n, nf + 1), nf + 1


def _shifted_u_trig(b: Any, y: Array, n: Array, nf: Array) -> Array:
    angle = b.acos(_clip(b, y))
    sine = b.sin(angle)
    nonzero = b.not_equal(sine, 0)
    by_sine = b.divide(b.sin(b.multiply(nf + 1, angle)), b.where(nonzero, sine, b.ones_like(y)))
    by_cosine = b.divide(b.multiply(nf + 1, b.cos(b.multiply(nf + 1, angle))), y)
    return b.where(nonzero, by_sine, by_cosine)


def _shifted_v_ends(b: Any, x: Array, n: Array, nf: Array) -> tuple[Array, Array]:
    return _alternating(b, n, nf + nf + 1), b.ones_like(x)


def _shifted_v_trig(b: Any, y: Array, n: Array, nf: Array) -> Array:
    angle = b.acos(_clip(b, y))
    regular = b.not_equal(b.sin(b.divide(angle, 2.0)), 1.0)
    trig = b.divide(b.cos(b.multiply(nf + 0.5, angle)), b.cos(b.divide(angle, 2.0)))
    return b.where(regular, trig, _alternating(b, n, nf + nf + 1))


def _shifted_w_ends(b: Any, x: Array, n: Array, nf: Array) -> tuple[Array, Array]:
    return _alternating(b, n, b.ones_like(x)), nf + nf + 1


def _shifted_w_trig(b: Any, y: Array, n: Array, nf: Array) -> Array:
    angle = b.acos(_clip(b, y))
    regular = b.not_equal(b.cos(b.divide(angle, 2.0)), 1.0)
    trig = b.divide(b.sin(b.multiply(nf + 0.5, angle)), b.sin(b.divide(angle, 2.0)))
    return b.where(regular, trig, _alternating(b, n, b.ones_like(y)))


def _hermite_h(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    return _recurrence(b, _HERMITE_H, x, n, top)


def _hermite_he(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    return _recurrence(b, _HERMITE_HE, x, n, top)


def _laguerre_l(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    out = _recurrence(b, _LAGUERRE_L, x, n, top)
    return b.where(b.equal(x, 0.0), b.ones_like(x), out)


def _legendre_p(b: Any, x: Array, n: Array, nf: Array, top: int) -> Array:
    out = _recurrence(b, _LEGENDRE_P, x, n, top)
    ends = b.equal(b.abs(x), 1.0)
    one = b.ones_like(x)
    return b.where(ends, b.where(b.greater(x, 0), one, _alternating(b, n, one)), out)


# ----------------------------------------------------------------------------- evaluation
@elementwise_op
def _evaluate(name: str, values: Callable[..., Array], input: Any, n: Any) -> Tensor:
    like = input if isinstance(input, Tensor) else n
    if not isinstance(like, Tensor):
        raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(n).__name__}), but expected one of:\n"
                        " * (Tensor input, Tensor n, *, Tensor out = None)\n"
                        " * (Number x, Tensor n, *, Tensor out = None)\n"
                        " * (Tensor x, Number n, *, Tensor out = None)\n")
    same_device(*[t for t in (input, n) if isinstance(t, Tensor)])
    b = like._backend
    x_value = input._data if isinstance(input, Tensor) else input
    n_value = n._data if isinstance(n, Tensor) else n
    dtype = float_dtype(b, x_value, n_value)
    if dtype in ("float16", "bfloat16"):
        raise not_implemented_for_dtype(name, b, dtype)
    shape = _broadcast(x_value, n_value)
    x = b.broadcast_to(b.asarray(x_value, dtype=dtype) if not hasattr(x_value, "shape")
                       else b.astype(x_value, dtype), shape)
    if hasattr(n_value, "shape"):
        degrees = b.broadcast_to(b.astype(n_value, "int64"), shape)
    else:
        degrees = b.full(shape, int(n_value), "int64")
    top = int(b.max(degrees)) if degrees.size and b.holds_values else 0
    nf = b.astype(degrees, dtype)
    out = values(b, x, degrees, nf, max(top, 1))
    out = b.where(b.less(degrees, 0), b.zeros_like(out), out)
    return _wrap(b.astype(out, dtype), b)


def _broadcast(a: Any, b: Any) -> tuple[int, ...]:
    shapes = [x.shape for x in (a, b) if hasattr(x, "shape")]
    if len(shapes) == 2 and shapes[0] != shapes[1]:
        check_broadcast(shapes[0], shapes[1])
    return tuple(broadcast_shapes(*shapes))


def chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the first kind T_n."""
    return _evaluate("chebyshev_polynomial_t", _chebyshev_t, input, n)


def chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the second kind U_n."""
    return _evaluate("chebyshev_polynomial_u", _chebyshev_u, input, n)


def chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the third kind V_n."""
    return _evaluate("chebyshev_polynomial_v", _chebyshev_v, input, n)


def chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the fourth kind W_n."""
    return _evaluate("chebyshev_polynomial_w", _chebyshev_w, input, n)


def shifted_chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:
    return _evaluate("shifted_chebyshev_polynomial_t", _shifted(
        _CHEBYSHEV_T, 6, _shifted_t_ends, _shifted_t_trig), input, n)


def shifted_chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:
    return _evaluate("shifted_chebyshev_polynomial_u", _shifted(
        _CHEBYSHEV_U, 6, _shifted_u_ends, _shifted_u_trig), input, n)


def shifted_chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:
    return _evaluate("shifted_chebyshev_polynomial_v", _shifted(
        _CHEBYSHEV_V, 6, _shifted_v_ends, _shifted_v_trig), input, n)


def shifted_chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:
    return _evaluate("shifted_chebyshev_polynomial_w", _shifted(
        _CHEBYSHEV_W, 4, _shifted_w_ends, _shifted_w_trig), input, n)


def hermite_polynomial_h(input: Any, n: Any) -> Tensor:
    """The physicists' Hermite polynomial H_n."""
    return _evaluate("hermite_polynomial_h", _hermite_h, input, n)


def hermite_polynomial_he(input: Any, n: Any) -> Tensor:
    """The probabilists' Hermite polynomial He_n."""
    return _evaluate("hermite_polynomial_he", _hermite_he, input, n)


def laguerre_polynomial_l(input: Any, n: Any) -> Tensor:
    return _evaluate("laguerre_polynomial_l", _laguerre_l, input, n)


def legendre_polynomial_p(input: Any, n: Any) -> Tensor:
    return _evaluate("legendre_polynomial_p", _legendre_p, input, n)
