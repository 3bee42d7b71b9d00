"""Op table entries: torch.fft. Complex results are read back with view_as_real and complex
inputs built with `complex` from pairs of real inputs, so values, gradients (PyTorch's complex
convention) and second derivatives are checked on real tensors, on every device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
import autodiff.fft as FFT

from .info import OpInfo, Sample

_ONE = (Sample(((4, 6),)), Sample(((5,),)), Sample(((2, 3, 4),)))
_PAIR = (Sample(((4, 6), (4, 6))), Sample(((5,), (5,))), Sample(((2, 3, 4), (2, 3, 4))))


def _out(x: autodiff.Tensor) -> autodiff.Tensor:
    return autodiff.view_as_real(x) if x.is_complex() else x


def _np_out(x: np.ndarray) -> np.ndarray:
    return np.stack([x.real, x.imag], -1) if np.iscomplexobj(x) else x


def _real_input(name: str, ours: Callable[..., Any], numpy: Callable[..., Any],
                samples: tuple[Sample, ...] = _ONE, grad_fn: str | None = None) -> OpInfo:
    return OpInfo(f"fft.{name}", lambda a: _out(ours(a)), lambda a: _np_out(numpy(a)), samples,
                  grad_fn)


def _complex_input(name: str, ours: Callable[..., Any], numpy: Callable[..., Any],
                   samples: tuple[Sample, ...] = _PAIR, grad_fn: str | None = None) -> OpInfo:
    return OpInfo(f"fft.{name}", lambda a, b: _out(ours(autodiff.complex(a, b))),
                  lambda a, b: _np_out(numpy(a + 1j * b)), samples, grad_fn)


FFT_OPS: list[OpInfo] = [
    _complex_input("fft", FFT.fft, np.fft.fft, grad_fn="ViewAsRealBackward0"),
    _complex_input("fft_n_ortho", lambda z: FFT.fft(z, n=8, dim=0, norm="ortho"),
                   lambda z: np.fft.fft(z, n=8, axis=0, norm="ortho"), _PAIR[:1]),
    _real_input("fft_real", lambda x: FFT.fft(x, n=3), lambda x: np.fft.fft(x, n=3)),
    _complex_input("ifft", lambda z: FFT.ifft(z, norm="forward"),
                   lambda z: np.fft.ifft(z, norm="forward")),
    _real_input("ifft_real", FFT.ifft, np.fft.ifft),
    _real_input("rfft", FFT.rfft, np.fft.rfft),
    _real_input("rfft_n", lambda x: FFT.rfft(x, n=7, norm="ortho"),
                lambda x: np.fft.rfft(x, n=7, norm="ortho")),
    _complex_input("irfft", FFT.irfft, np.fft.irfft),
    _complex_input("irfft_n", lambda z: FFT.irfft(z, n=5, dim=0),
                   lambda z: np.fft.irfft(z, n=5, axis=0), _PAIR[:1]),
    _complex_input("hfft", lambda z: FFT.hfft(z, norm="forward"),
                   lambda z: np.fft.hfft(z, norm="forward")),
    _real_input("ihfft", FFT.ihfft, np.fft.ihfft),
    _complex_input("fft2", FFT.fft2, np.fft.fft2, (_PAIR[0], _PAIR[2])),
    _real_input("ifft2", lambda x: FFT.ifft2(x, s=(3, 8)), lambda x: np.fft.ifft2(x, s=(3, 8)),
                (_ONE[0], _ONE[2])),
    _real_input("rfft2", FFT.rfft2, np.fft.rfft2, (_ONE[0], _ONE[2])),
    _complex_input("irfft2", FFT.irfft2, np.fft.irfft2, (_PAIR[0], _PAIR[2])),
    _complex_input("hfft2", FFT.hfft2, lambda z: np.fft.irfft2(np.conj(z)) * z.shape[-2]
                   * 2 * (z.shape[-1] - 1), (_PAIR[0], _PAIR[2])),
    _real_input("ihfft2", FFT.ihfft2, lambda x: np.conj(np.fft.rfft2(x)) / (
        x.shape[-2] * x.shape[-1]), (_ONE[0], _ONE[2])),
    _complex_input("fftn", FFT.fftn, np.fft.fftn),
    _complex_input("ifftn", lambda z: FFT.ifftn(z, s=(5, -1), dim=(1, 0)),
                   lambda z: np.fft.ifftn(z, s=(5, z.shape[0]), axes=(1, 0)), _PAIR[:1]),
    _real_input("rfftn", lambda x: FFT.rfftn(x, norm="ortho"),
                lambda x: np.fft.rfftn(x, norm="ortho")),
    _complex_input("irfftn", FFT.irfftn, np.fft.irfftn),
    _complex_input("hfftn", lambda z: FFT.hfftn(z, dim=(0,)),
                   lambda z: np.fft.hfft(z, axis=0), _PAIR),
    _real_input("ihfftn", lambda x: FFT.ihfftn(x, dim=(0,)), lambda x: np.fft.ihfft(x, axis=0)),
    _real_input("fftshift", FFT.fftshift, np.fft.fftshift, grad_fn="RollBackward0"),
    _real_input("ifftshift", lambda x: FFT.ifftshift(x, dim=0),
                lambda x: np.fft.ifftshift(x, axes=0), grad_fn="RollBackward0"),
    OpInfo("fft.fftfreq", lambda a: FFT.fftfreq(a.shape[0], 0.5, dtype=a.dtype, device=a.device),
           lambda a: np.fft.fftfreq(a.shape[0], 0.5), (Sample(((5,),)), Sample(((6,),))),
           differentiable=False),
    OpInfo("fft.rfftfreq", lambda a: FFT.rfftfreq(a.shape[0], dtype=a.dtype, device=a.device),
           lambda a: np.fft.rfftfreq(a.shape[0]), (Sample(((5,),)), Sample(((6,),))),
           differentiable=False),
]


def _window(n: int, like: autodiff.Tensor) -> autodiff.Tensor:
    return autodiff.tensor(np.hanning(n) + 0.1, dtype=like.dtype, device=like.device)


def _np_window(n: int) -> np.ndarray:
    return np.hanning(n) + 0.1


def _np_stft(x: np.ndarray, n_fft: int, hop: int, window: np.ndarray) -> np.ndarray:
    """A centred, reflect-padded, one-sided STFT, frames along the last dim."""
    half = n_fft // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="reflect")
    count = 1 + (padded.shape[-1] - n_fft) // hop
    frames = np.stack([padded[..., i * hop:i * hop + n_fft] for i in range(count)], -2)
    return np.swapaxes(np.fft.rfft(frames * window, axis=-1), -1, -2)


def _np_istft(z: np.ndarray, n_fft: int, hop: int, window: np.ndarray) -> np.ndarray:
    frames = np.fft.irfft(np.swapaxes(z, -1, -2), n=n_fft, axis=-1) * window
    count = frames.shape[-2]
    length = n_fft + hop * (count - 1)
    signal = np.zeros((*frames.shape[:-2], length))
    envelope = np.zeros(length)
    for i in range(count):
        signal[..., i * hop:i * hop + n_fft] += frames[..., i, :]
        envelope[i * hop:i * hop + n_fft] += window ** 2
    half = n_fft // 2
    return signal[..., half:length - half] / envelope[half:length - half]


SPECTRAL: list[OpInfo] = [
    OpInfo("stft", lambda x: autodiff.view_as_real(autodiff.stft(
        x, 16, 4, window=_window(16, x), return_complex=True)),
        lambda x: _np_out(_np_stft(x, 16, 4, _np_window(16))),
        (Sample(((40,),)), Sample(((2, 33),))), "ViewAsRealBackward0"),
    OpInfo("istft", lambda a, b: autodiff.istft(autodiff.complex(a, b), 16, 4,
                                                window=_window(16, a)),
           lambda a, b: _np_istft(a + 1j * b, 16, 4, _np_window(16)),
           (Sample(((2, 9, 5), (2, 9, 5))), Sample(((9, 7), (9, 7)))), "DivBackward0"),
]
