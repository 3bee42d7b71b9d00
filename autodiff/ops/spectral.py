"""The short-time Fourier transform and its inverse: stft and istft, as PyTorch computes them
(center padding, windowing, framing, one FFT per frame; overlap-add and division by the
window's envelope to invert), with PyTorch's options, warnings and errors.

Frames are cut with `Frames` (Tensor.unfold along the last dim) and put back with `OverlapAdd`
(unfold's backward); each is the other's backward, so both transforms are differentiable
twice, through the signal and the window alike.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..autocast_state import autocast_op
from ..creation import ones
from ..function import Function
from ..jvp_rules import auto_linear
from ..tensor import Tensor
from ..user_warnings import warn
from .complex import view_as_real
from .fft import FftC2C, FftC2R, FftR2C
from .indexing import narrow
from .padding import ConstantPadNd, pad

_NO_WINDOW_STFT = (
    "A window was not provided. A rectangular window will be applied,which is known to cause "
    "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
    "recommended to reduce spectral leakage.To suppress this warning and use a rectangular "
    "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
_NO_WINDOW_ISTFT = (
    "A window was not provided. A rectangular window will be applied.Please provide the same "
    "window used by stft to make the inversion lossless.To suppress this warning and use a "
    "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
_REAL_OUTPUT_DEPRECATED = (
    "stft with return_complex=False is deprecated. In a future pytorch release, stft will "
    "return complex tensors for all inputs, and return_complex=False will raise an error.\n"
    "Note: you can still call torch.view_as_real on the complex output to recover the old "
    "return format.")


# ----------------------------------------------------------------------------- framing
def _frame_positions(backend: Any, count: int, size: int, step: int) -> Any:
    """The signal position of each element of each frame: (count * size,) int64."""
    starts = backend.multiply(backend.arange(0, count, 1, "int64"), step)
    offsets = backend.arange(0, size, 1, "int64")
    return backend.reshape(backend.add(backend.expand_dims(starts, 1), offsets), (-1,))


class Frames(Function):
    """The frames x[..., i * step : i * step + size] for i < count: (..., count, size)
    (Tensor.unfold on the last dim)."""

    node_name = "UnfoldBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any, *, count: int, size: int, step: int) -> Any:
        backend = ctx.backend
        ctx.length, ctx.count, ctx.size, ctx.step = a.shape[-1], count, size, step
        positions = _frame_positions(backend, count, size, step)
        return backend.reshape(backend.take(a, positions, axis=-1),
                               (*a.shape[:-1], count, size))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return OverlapAdd.apply(grad, length=ctx.length, step=ctx.step)


class OverlapAdd(Function):
    """The inverse arrangement of Frames: frames (..., count, size) added into a signal of
    `length` at multiples of `step` (unfold's backward)."""

    node_name = "UnfoldBackwardBackward0"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, frames: Any, *, length: int, step: int) -> Any:
        backend = ctx.backend
        *batch, count, size = frames.shape
        ctx.count, ctx.size, ctx.step = count, size, step
        rows = 1
        for extent in batch:
            rows *= extent
        positions = _frame_positions(backend, count, size, step)
        # One flat scatter-add: row r of the batch writes at r * length + position.
        offsets = backend.multiply(backend.arange(0, rows, 1, "int64"), length)
        flat = backend.reshape(backend.add(backend.expand_dims(offsets, 1), positions), (-1,))
        out = backend.zeros((rows * length,), backend.dtype_name(frames))
        backend.index_add(out, (flat,), backend.reshape(frames, (-1,)))
        return backend.reshape(out, (*batch, length))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Frames.apply(grad, count=ctx.count, size=ctx.size, step=ctx.step)


class FrequencyMajor(Function):
    """Frames by frequency (batch, frames, freq) as PyTorch returns them, (batch, freq,
    frames): its in-place transpose_ (TransposeBackward1)."""

    node_name = "TransposeBackward1"

    jvp = auto_linear

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.permute_dims(a, (0, 2, 1))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.transpose(1, 2)


class FrequencyMajorSqueezed(FrequencyMajor):
    """The same for a 1-D signal, whose batch dim of 1 PyTorch then drops with squeeze_."""

    node_name = "SqueezeBackward4"

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return ctx.backend.permute_dims(a, (0, 2, 1))[0, ...]

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.transpose(0, 1).unsqueeze(0)


# ----------------------------------------------------------------------------- messages
def _type_string(tensor: Tensor) -> str:
    """Tensor::toString(): "torch.DoubleTensor", "torch.cuda.FloatTensor",
    "CPUComplexDoubleType" (complex types keep their older names)."""
    device = tensor.device.type
    if tensor.dtype.is_complex:
        prefix = "CUDA" if device == "cuda" else "CPU"
        return f"{prefix}{dtypes.SCALAR_TYPE_NAMES[tensor.dtype.name]}Type"
    cuda = "cuda." if device == "cuda" else ""
    return f"torch.{cuda}{dtypes.LEGACY_NAMES[tensor.dtype.name]}"


def _optional(value: Any) -> str:
    return "None" if value is None else str(int(value)) if isinstance(value, bool) else str(value)


def _window_string(window: Tensor | None) -> str:
    return "None" if window is None else f"{_type_string(window)}{{{list(window.shape)}}}"


# ----------------------------------------------------------------------------- stft
@autocast_op("stft")
def stft(input: Tensor, n_fft: int, hop_length: int | None = None,
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
    """The short-time Fourier transform: (B?, N, T) complex, N = n_fft // 2 + 1 (onesided) or
    n_fft frequencies, T frames."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    signal = input
    if center:
        extra = 3 - input.ndim
        half = n_fft // 2
        shaped = input.reshape([1] * max(extra, 0) + list(input.shape))
        shaped = pad(shaped, [half, half], pad_mode)
        signal = shaped.reshape(list(shaped.shape[max(extra, 0):]))
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length

    def message(text: str) -> RuntimeError:
        return RuntimeError(
            f"stft({_type_string(signal)}{list(signal.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win}, window={_window_string(window)}, normalized={int(normalized)}, "
            f"onesided={_optional(onesided)}, return_complex={_optional(return_complex)}, "
            f"align_to_window={_optional(align_to_window)}) : {text}")

    if window is not None and window._backend is not signal._backend:
        raise RuntimeError("stft input and window must be on the same device but got self on "
                           f"{signal.device} and window on {window.device}")
    complex_input = signal.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if return_complex is None:
        if not complex_input:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will "
                "further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if not return_complex:
        warn(_REAL_OUTPUT_DEPRECATED, UserWarning, stacklevel=2)
    if not (signal.dtype.is_floating_point or signal.dtype.is_complex):
        raise message("expected a tensor of floating point or complex values")
    if signal.ndim not in (1, 2):
        raise message("expected a 1D or 2D tensor")
    frames_input = signal.unsqueeze(0) if signal.ndim == 1 else signal
    length = frames_input.shape[1]
    if n_fft <= 0 or n_fft > length:
        raise message(f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise message(f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise message(f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        raise message(f"expected a 1D window tensor of size equal to win_length={win}, but got "
                      f"window with size {list(window.shape)}")
    if window is None:
        warn(_NO_WINDOW_STFT, UserWarning, stacklevel=2)
    left = (n_fft - win) // 2
    if align_to_window and win < n_fft:
        # The window starts each frame: frames of win_length, zero-padded to n_fft around it.
        count = 1 + (length - win) // hop
        frames = Frames.apply(frames_input, count=count, size=win, step=hop)
        if window is not None:
            frames = frames * window
        frames = ConstantPadNd.apply(frames, pad=(left, n_fft - win - left), value=0)
    else:
        count = 1 + (length - n_fft) // hop
        frames = Frames.apply(frames_input, count=count, size=n_fft, step=hop)
        if window is not None or win < n_fft:
            full = window if window is not None else ones(
                win, dtype=signal.dtype, device=signal.device)
            if win < n_fft:
                full = ConstantPadNd.apply(full, pad=(left, n_fft - win - left), value=0)
            frames = frames * full
    if frames.dtype in (dtypes.float16, dtypes.bfloat16) and frames.device.type != "cuda":
        # PyTorch's CPU transforms (MKL's or pocketfft's) take float32 and float64 only.
        raise RuntimeError("MKL FFT doesn't support tensors of type: "
                           f"{dtypes.SCALAR_TYPE_NAMES[frames.dtype.name]}")
    complex_fft = frames.dtype.is_complex
    one_sided = (not complex_fft) if onesided is None else onesided
    scale = "sqrt" if normalized else "none"
    if complex_fft:
        if one_sided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        spectrum = FftC2C.apply(frames, dims=(2,), scale=scale, forward=True)
    else:
        spectrum = FftR2C.apply(frames, dims=(2,), scale=scale, onesided=one_sided)
    out = (FrequencyMajorSqueezed if signal.ndim == 1 else FrequencyMajor).apply(spectrum)
    return out if return_complex else view_as_real(out)


# ----------------------------------------------------------------------------- istft
def istft(input: Tensor, n_fft: int, hop_length: int | None = None,
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The inverse of stft: overlap-add of the inverse transforms of the frames, divided by
    the squared window's envelope."""
    input._backend.needs_values("aten::equal")  # (PyTorch's check of the envelope)
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length

    def message(text: str) -> RuntimeError:
        return RuntimeError(
            f"istft({_type_string(input)}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win}, window={_window_string(window)}, center={int(center)}, "
            f"normalized={int(normalized)}, onesided={_optional(onesided)}, "
            f"length={_optional(length)}, return_complex={int(return_complex)}) {text}")

    if window is not None and window._backend is not input._backend:
        raise RuntimeError(
            "istft input and window must be on the same device but got self on "
            f"{input.device} and window on {window.device}")
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    if window is None:
        warn(_NO_WINDOW_ISTFT, UserWarning, stacklevel=2)
    ndim = input.ndim + 1  # as PyTorch counts it: the view as real numbers
    if ndim < 3:  # PyTorch reads the frame and frequency sizes first
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got -3)")
    if input.numel() == 0:
        raise message(": input tensor cannot be empty.")
    if ndim not in (3, 4):
        raise message(f": expected a tensor with 3 or 4 dimensions, but got {ndim}")
    fft_size, count = input.shape[-2], input.shape[-1]
    one_sided = fft_size != n_fft if onesided is None else onesided
    if one_sided and n_fft // 2 + 1 != fft_size:
        raise message(": expected the frequency dimension (3rd to the last) of the input tensor "
                      f"to match n_fft / 2 + 1 when onesided=True, but got {fft_size}")
    if not one_sided and n_fft != fft_size:
        raise message(": expected the frequency dimension (3rd to the last) of the input tensor "
                      f"to match n_fft when onesided=False, but got {fft_size}")
    if not 0 < hop <= win:
        raise message(": expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise message(": expected 0 < win_length <= n_fft")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        raise message(": Invalid window shape. window has to be 1D and length of `win_length`")
    real_kind = input.dtype.to_real()
    full = window if window is not None else ones(win, dtype=real_kind, device=input.device)
    if win != n_fft:
        left = (n_fft - win) // 2
        full = ConstantPadNd.apply(full, pad=(left, n_fft - win - left), value=0)
    frames = input.unsqueeze(0) if ndim == 3 else input
    frames = frames.transpose(1, 2)  # (channel, frames, fft_size)
    scale = "sqrt" if normalized else "n"
    if return_complex:
        if one_sided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = FftC2C.apply(frames, dims=(2,), scale=scale, forward=False)
    else:
        if window is not None and window.dtype.is_complex:
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not one_sided:
            frames = narrow(frames, -1, 0, n_fft // 2 + 1)
        frames = FftC2R.apply(frames, dims=(2,), scale=scale, last_size=n_fft)
    expected = n_fft + hop * (count - 1)
    signal = OverlapAdd.apply(frames * full.reshape(1, 1, n_fft), length=expected, step=hop)
    squares = (full * full).reshape(1, 1, n_fft).expand(1, count, n_fft)
    envelope = OverlapAdd.apply(squares, length=expected, step=hop)
    start = n_fft // 2 if center else 0
    kept = length
    if kept is None:  # the centre padding off the end too
        kept = expected - n_fft // 2 - start if center else expected - start
    end = start + kept
    stop = min(end, expected)
    signal = narrow(signal, 1, start, max(stop - start, 0))
    envelope = narrow(envelope, 1, start, max(stop - start, 0))
    backend = envelope._backend
    lowest = backend.min(backend.abs(envelope._data)) if envelope.numel() else None
    if lowest is not None and backend.any_true(backend.less(lowest, 1e-11)):
        prefix = "CUDA" if input.device.type == "cuda" else "CPU"
        raise message(f"window overlap add min: 1\n[ {prefix}BoolType{{}} ]")
    signal = signal / envelope
    if ndim == 3:
        signal = signal.squeeze(0)
    if end > expected:
        warn("The length of signal is shorter than the length parameter. Result is "
             "being padded with zeros in the tail. Please check your center and "
             "hop_length settings.", UserWarning, stacklevel=2)
        signal = ConstantPadNd.apply(signal, pad=(0, end - expected), value=0)
    return signal

