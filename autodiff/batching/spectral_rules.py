"""Batching rules of the Fourier transforms and the short-time transforms built on them: the
transforms take their dims explicitly, so the vmap dim is one more dim they leave alone."""

from __future__ import annotations

from ..ops import fft
from .rules import _dims, _register

_register(_dims("dims"), fft.FftC2C, fft.FftR2C, fft.FftC2R)
