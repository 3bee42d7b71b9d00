"""Discrete Fourier transforms for `Backend`, over the array API's `fft` extension (`xp.fft`:
numpy.fft, cupy.fft, array_api_strict.fft), bound into it as methods.

The three transforms PyTorch builds its `torch.fft` from, each over several axes at once:
complex to complex (either direction), real to complex (forward; the full spectrum or its
non-redundant half) and complex to real (inverse, from the non-redundant half). `scale` is
PyTorch's normalization of the result: "none", "sqrt" (1/sqrt(n)) or "n" (1/n), n the number
of points transformed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Array = Any

# The array API's `norm` that gives each scale, for a forward and for an inverse transform.
_FORWARD_NORM = {"none": "backward", "sqrt": "ortho", "n": "forward"}
_INVERSE_NORM = {"none": "forward", "sqrt": "ortho", "n": "backward"}


def fft_c2c(self: Any, a: Array, axes: Sequence[int], scale: str, forward: bool) -> Array:
    """The complex DFT of `a` (complex) over `axes`: exp(-2 pi i ...) forward, + inverse."""
    fft = self.xp.fft
    if forward:
        return fft.fftn(a, axes=tuple(axes), norm=_FORWARD_NORM[scale])
    return fft.ifftn(a, axes=tuple(axes), norm=_INVERSE_NORM[scale])


def fft_r2c(self: Any, a: Array, axes: Sequence[int], scale: str, onesided: bool) -> Array:
    """The forward DFT of real `a` over `axes`; `onesided`: the last axis only up to n/2 + 1."""
    fft = self.xp.fft
    norm = _FORWARD_NORM[scale]
    if onesided:
        return fft.rfftn(a, axes=tuple(axes), norm=norm)
    kind = "complex128" if self.dtype_name(a) == "float64" else "complex64"
    return fft.fftn(self.astype(a, kind), axes=tuple(axes), norm=norm)


def fft_c2r(self: Any, a: Array, axes: Sequence[int], scale: str, last_size: int) -> Array:
    """The real inverse DFT over `axes` of a Hermitian-symmetric signal given by its
    non-redundant half `a`; the last axis of the result has `last_size` points."""
    shape = (*(a.shape[axis] for axis in axes[:-1]), last_size)
    return self.xp.fft.irfftn(a, s=shape, axes=tuple(axes), norm=_INVERSE_NORM[scale])
