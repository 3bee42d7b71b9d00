"""Functions the array API does not have, each declared once, in `SpecialFunctions` (a base
class of `Backend`): NumPy's own (fmod, frexp, gcd, ...) and SciPy's special functions
(`scipy.special`: gammaln, erfinv, the Bessel functions, ...).

Each is bound the first time a backend is asked for it (`Backend.bind_special`), so nothing
imports SciPy until a special function is used:

- the NumPy backend binds NumPy's function or `scipy.special`'s;
- the CuPy backend binds CuPy's or `cupyx.scipy.special`'s, and computes on the host what
  CuPy lacks (a warning-free round trip through NumPy/SciPy);
- any other backend (array-api-strict) computes on the host with NumPy/SciPy and moves the
  result back onto its own device (`Backend.on_host`).

Results keep NumPy's dtype rules (a float32 input gives float32 where the library has a float32
loop); the tape casts to PyTorch's dtype itself.

Adding one is one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

Array = Any
Function = Callable[..., Array]

# Every declared function's name, and the library that has it ("numpy" or "scipy.special").
SPECIAL_FUNCTIONS: dict[str, str] = {}


class Declared:
    """A function of `library` under its own name, bound on first use (then an instance
    attribute shadows this descriptor)."""

    def __init__(self, library: str) -> None:
        self.library = library
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        SPECIAL_FUNCTIONS[name] = self.library

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        function = instance.bind_special(self.name, self.library)
        setattr(instance, self.name, function)
        return function


def numpy_function() -> Any:
    return Declared("numpy")


def scipy_special() -> Any:
    return Declared("scipy.special")


def host_function(name: str, library: str) -> Function:
    """The function as NumPy or SciPy has it (imported here, on first use)."""
    return getattr(importlib.import_module(library), name)


def on_host(backend: Any, function: Function) -> Function:
    """`function` (NumPy's or SciPy's) run on host copies of a backend's arrays, its results
    moved back onto the backend's device. Python numbers pass through as they are."""
    import numpy

    def call(*args: Any, **kwargs: Any) -> Any:
        host = [backend.host_operand(arg) if hasattr(arg, "dtype") else arg for arg in args]
        result = function(*host, **kwargs)
        if isinstance(result, tuple):
            return tuple(backend.host_result(numpy.asarray(item)) for item in result)
        return backend.host_result(numpy.asarray(result))

    call.__name__ = getattr(function, "__name__", "on_host")
    return call


class SpecialFunctions:
    """Functions outside the array API, as attributes of every `Backend`."""

    # ------------------------------------------------------------------------- NumPy's own
    fmod: Function = numpy_function()
    frexp: Function = numpy_function()  # (mantissa, exponent as int32)
    ldexp: Function = numpy_function()
    gcd: Function = numpy_function()
    lcm: Function = numpy_function()
    exp2: Function = numpy_function()
    sinc: Function = numpy_function()
    logaddexp2: Function = numpy_function()
    # ------------------------------------------------------------------------- scipy.special
    # gamma and zeta
    gammaln: Function = scipy_special()
    psi: Function = scipy_special()
    polygamma: Function = scipy_special()
    gammainc: Function = scipy_special()
    gammaincc: Function = scipy_special()
    zeta: Function = scipy_special()
    # error function and the normal distribution
    erfc: Function = scipy_special()
    erfcx: Function = scipy_special()
    erfinv: Function = scipy_special()
    ndtr: Function = scipy_special()
    ndtri: Function = scipy_special()
    log_ndtr: Function = scipy_special()
    # logarithms
    xlogy: Function = scipy_special()
    xlog1py: Function = scipy_special()
    entr: Function = scipy_special()
    # Bessel functions
    i0: Function = scipy_special()
    i0e: Function = scipy_special()
    i1: Function = scipy_special()
    i1e: Function = scipy_special()
    j0: Function = scipy_special()
    j1: Function = scipy_special()
    y0: Function = scipy_special()
    y1: Function = scipy_special()
    k0: Function = scipy_special()
    k0e: Function = scipy_special()
    k1: Function = scipy_special()
    k1e: Function = scipy_special()
    airy: Function = scipy_special()  # (Ai, Ai', Bi, Bi')
