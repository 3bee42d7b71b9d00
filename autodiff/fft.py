"""autodiff.fft (torch.fft): discrete Fourier transforms, imported from `ops/fft.py`."""

from __future__ import annotations

from .ops.fft import (
    fft,
    fft2,
    fftfreq,
    fftn,
    fftshift,
    hfft,
    hfft2,
    hfftn,
    ifft,
    ifft2,
    ifftn,
    ifftshift,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftfreq,
    rfftn,
)
from .tensor import Tensor
from .torch_function import make_namespace_overridable as _make_namespace_overridable

__all__ = [
    "Tensor", "fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft",
    "ifft2", "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2", "irfftn",
    "rfft", "rfft2", "rfftfreq", "rfftn",
]

# Last: the public functions become their `__torch_function__` wrappers (torch_function.py)
# now, so the modules importing this one bind the wrappers, in defaults too (an
# `activation=F.relu` default is then the `F.relu` a user passes).
_make_namespace_overridable(globals(), __name__)
