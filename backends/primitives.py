"""The array-API functions the tape calls exactly as the namespace defines them, each declared
once, in `Primitives` (a base class of `Backend`).

`Backend.__init__` binds each straight from the backend's namespace onto the instance
(`self.exp = xp.exp`): one attribute lookup and no extra Python frame per op. A backend class
that defines a method of the same name keeps its own (NumPy's ufunc reductions, say). A
namespace that lacks a function leaves it unbound: calling it raises AttributeError naming the
backend and the function.

Adding a primitive is one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Array = Any
Function = Callable[..., Array]


class FromNamespace:
    """A primitive taken from the backend's array namespace under its own name."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        PRIMITIVES.append(name)

    def __get__(self, instance: Any, owner: type) -> Any:
        # Reached only when Backend.__init__ bound nothing over it: the namespace lacks it.
        if instance is None:
            return self
        raise AttributeError(
            f"{type(instance).__name__}: the array namespace {instance.xp.__name__} has no "
            f"'{self.name}'"
        )


# Every primitive's name, in declaration order (filled as the class body runs).
PRIMITIVES: list[str] = []


def from_namespace() -> Any:
    """Declare a primitive; its annotation in `Primitives` is its type for mypy."""
    return FromNamespace()


class Primitives:
    """The namespace's functions, as attributes of every `Backend`."""

    xp: Any

    # ------------------------------------------------------------------------- arithmetic
    add: Function = from_namespace()
    subtract: Function = from_namespace()
    multiply: Function = from_namespace()
    divide: Function = from_namespace()
    negative: Function = from_namespace()
    pow: Function = from_namespace()
    floor_divide: Function = from_namespace()
    remainder: Function = from_namespace()
    square: Function = from_namespace()
    # ------------------------------------------------------------------------- exp and log
    exp: Function = from_namespace()
    expm1: Function = from_namespace()
    log: Function = from_namespace()
    log1p: Function = from_namespace()
    log2: Function = from_namespace()
    log10: Function = from_namespace()
    sqrt: Function = from_namespace()
    # ------------------------------------------------------------------------- complex numbers
    real: Function = from_namespace()
    imag: Function = from_namespace()
    conj: Function = from_namespace()
    # ------------------------------------------------------------------------- signs and rounding
    abs: Function = from_namespace()
    sign: Function = from_namespace()
    floor: Function = from_namespace()
    ceil: Function = from_namespace()
    round: Function = from_namespace()
    trunc: Function = from_namespace()
    clip: Function = from_namespace()
    maximum: Function = from_namespace()
    minimum: Function = from_namespace()
    # ------------------------------------------------------------------------- trigonometry
    sin: Function = from_namespace()
    cos: Function = from_namespace()
    tan: Function = from_namespace()
    tanh: Function = from_namespace()
    sinh: Function = from_namespace()
    cosh: Function = from_namespace()
    asin: Function = from_namespace()
    acos: Function = from_namespace()
    atan: Function = from_namespace()
    atan2: Function = from_namespace()
    asinh: Function = from_namespace()
    acosh: Function = from_namespace()
    atanh: Function = from_namespace()
    hypot: Function = from_namespace()
    # ------------------------------------------------------------------------- floating point
    copysign: Function = from_namespace()
    nextafter: Function = from_namespace()
    signbit: Function = from_namespace()
    logaddexp: Function = from_namespace()
    # ------------------------------------------------------------------------- comparison and logic
    where: Function = from_namespace()
    equal: Function = from_namespace()
    not_equal: Function = from_namespace()
    greater: Function = from_namespace()
    greater_equal: Function = from_namespace()
    less: Function = from_namespace()
    less_equal: Function = from_namespace()
    logical_and: Function = from_namespace()
    logical_or: Function = from_namespace()
    logical_not: Function = from_namespace()
    logical_xor: Function = from_namespace()
    isnan: Function = from_namespace()
    isinf: Function = from_namespace()
    isfinite: Function = from_namespace()
    bitwise_and: Function = from_namespace()
    bitwise_or: Function = from_namespace()
    bitwise_xor: Function = from_namespace()
    bitwise_invert: Function = from_namespace()
    bitwise_left_shift: Function = from_namespace()
    bitwise_right_shift: Function = from_namespace()
    # ------------------------------------------------------------------------- reductions and scans
    sum: Function = from_namespace()
    prod: Function = from_namespace()
    max: Function = from_namespace()
    min: Function = from_namespace()
    mean: Function = from_namespace()
    argmax: Function = from_namespace()
    argmin: Function = from_namespace()
    any: Function = from_namespace()
    all: Function = from_namespace()
    cumulative_sum: Function = from_namespace()
    cumulative_prod: Function = from_namespace()
    # ------------------------------------------------------------------------- products
    matmul: Function = from_namespace()
    tensordot: Function = from_namespace()
    # ------------------------------------------------------------------------- shapes
    reshape: Function = from_namespace()
    permute_dims: Function = from_namespace()
    broadcast_to: Function = from_namespace()
    expand_dims: Function = from_namespace()
    squeeze: Function = from_namespace()
    concat: Function = from_namespace()
    stack: Function = from_namespace()
    flip: Function = from_namespace()
    roll: Function = from_namespace()
    tile: Function = from_namespace()
    repeat: Function = from_namespace()
    # ------------------------------------------------------------------------- gather, sort
    take: Function = from_namespace()
    take_along_axis: Function = from_namespace()
    sort: Function = from_namespace()
    argsort: Function = from_namespace()
    nonzero: Function = from_namespace()
    # ------------------------------------------------------------------------- creation
    zeros_like: Function = from_namespace()
    ones_like: Function = from_namespace()
