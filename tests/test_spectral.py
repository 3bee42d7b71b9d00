"""stft and istft against PyTorch: values, node names, gradients with respect to the signal and
the window, and round trips for every option (hop and window lengths, center and its padding
modes, align_to_window, normalized, onesided, complex signals and windows, the deprecated real
output); PyTorch's warnings and errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import same_error

_RNG = np.random.default_rng(0)
SIGNAL = _RNG.standard_normal((2, 50))
MONO = _RNG.standard_normal(37)
COMPLEX_SIGNAL = SIGNAL + 1j * _RNG.standard_normal((2, 50))
WINDOWS = {"w16": np.hanning(16) + 0.1, "w10": np.hanning(10) + 0.1,
           "w16c": (np.hanning(16) + 0.1) * (1 + 0.5j)}

CASES: list[tuple[np.ndarray, dict[str, Any]]] = [
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16", "return_complex": True}),
    (MONO, {"n_fft": 16, "return_complex": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 3, "win_length": 10, "window": "w10",
              "return_complex": True, "normalized": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 5, "window": "w16", "center": False,
              "return_complex": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "win_length": 10, "window": "w10",
              "center": False, "align_to_window": True, "return_complex": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16", "onesided": False,
              "return_complex": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16", "pad_mode": "constant",
              "return_complex": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16", "pad_mode": "replicate",
              "return_complex": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16", "pad_mode": "circular",
              "return_complex": True}),
    (COMPLEX_SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16"}),
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16c", "return_complex": True}),
    (SIGNAL, {"n_fft": 16, "hop_length": 4, "window": "w16", "return_complex": False}),
]


def _prepare(library: Any, data: np.ndarray, options: dict[str, Any]) -> tuple[Any, ...]:
    options = dict(options)
    inputs = [library.tensor(data, requires_grad=True)]
    if "window" in options:
        options["window"] = library.tensor(WINDOWS[options["window"]], requires_grad=True)
        inputs.append(options["window"])
    return inputs, options


def _values(tensor: Any) -> np.ndarray:
    if hasattr(tensor, "resolve_conj"):
        tensor = tensor.resolve_conj()
    return np.asarray(tensor.detach().numpy())


def _loss(library: Any, out: Any, weights: np.ndarray) -> Any:
    total = (out.real * library.tensor(weights)).sum()
    if out.is_complex():
        total = total + (out.imag * library.tensor(weights)).sum()
    return total


@pytest.mark.parametrize(("data", "options"), CASES, ids=range(len(CASES)))
def test_stft_and_istft_match_pytorch(data: np.ndarray, options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    theirs_in, theirs_options = _prepare(torch, data, options)
    ours_in, ours_options = _prepare(autodiff, data, options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.stft(theirs_in[0], **theirs_options)
        ours = autodiff.stft(ours_in[0], **ours_options)
    np.testing.assert_allclose(_values(ours), _values(theirs), rtol=1e-10, atol=1e-10)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    weights = np.random.default_rng(1).standard_normal(tuple(theirs.shape))
    for mine, reference in zip(
            autodiff.autograd.grad(_loss(autodiff, ours, weights), ours_in),
            torch.autograd.grad(_loss(torch, theirs, weights), theirs_in, retain_graph=True)):
        np.testing.assert_allclose(_values(mine), _values(reference), rtol=1e-9, atol=1e-9)
    if not theirs.is_complex() or options.get("align_to_window"):
        return
    inverse = {key: value for key, value in options.items()
               if key in ("n_fft", "hop_length", "win_length", "center", "normalized",
                          "onesided")}
    complex_output = data.dtype.kind == "c" or options.get("window") == "w16c"
    length = data.shape[-1]
    theirs_signal = torch.istft(theirs, **inverse, window=theirs_options.get("window"),
                                return_complex=complex_output, length=length)
    ours_signal = autodiff.istft(ours.detach().requires_grad_(), **inverse,
                                 window=ours_options.get("window"),
                                 return_complex=complex_output, length=length)
    np.testing.assert_allclose(_values(ours_signal), _values(theirs_signal), rtol=1e-9,
                               atol=1e-9)
    if options.get("center", True):  # the round trip (the frames cover the whole signal)
        np.testing.assert_allclose(_values(ours_signal), data, atol=1e-9)
    assert ours_signal.grad_fn.name() == theirs_signal.grad_fn.name()


def test_istft_gradients_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    spectrum = _RNG.standard_normal((2, 9, 13)) + 1j * _RNG.standard_normal((2, 9, 13))
    grads = []
    for library in (autodiff, torch):
        z = library.tensor(spectrum, requires_grad=True)
        window = library.tensor(WINDOWS["w16"], requires_grad=True)
        out = library.istft(z, 16, 4, window=window, length=60)  # longer: zero-padded
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grads.append([_values(g) for g in library.autograd.grad(
                (out * library.tensor(np.arange(60.0))).sum(), (z, window))])
        assert out.grad_fn.name() == "ConstantPadNdBackward0"
    for mine, reference in zip(*grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("call", [
    lambda L: L.stft(L.ones(50), 16),
    lambda L: L.stft(L.ones(2, 50, dtype=L.int64), 16, return_complex=True),
    lambda L: L.stft(L.ones(1, 2, 50), 16, return_complex=True),
    lambda L: L.stft(L.ones(50), 64, return_complex=True, center=False),
    lambda L: L.stft(L.ones(50), 16, hop_length=0, return_complex=True),
    lambda L: L.stft(L.ones(50), 16, win_length=20, return_complex=True),
    lambda L: L.stft(L.ones(50), 16, window=L.ones(10), return_complex=True),
    lambda L: L.stft(L.ones(50), 16, align_to_window=True, return_complex=True),
    lambda L: L.stft(L.ones(50, dtype=L.complex64), 16, onesided=True),
    lambda L: L.stft(L.ones(50), 16, pad_mode="bogus", return_complex=True),
    lambda L: L.istft(L.ones(9, 13), 16),
    lambda L: L.istft(L.ones(9, 13, dtype=L.complex64), 16, hop_length=20),
    lambda L: L.istft(L.ones(9, 13, dtype=L.complex64), 15),
    lambda L: L.istft(L.ones(9, 13, dtype=L.complex64), 16, window=L.zeros(16)),
    lambda L: L.istft(L.ones(9, 13, dtype=L.complex64), 16, window=L.ones(16),
                      return_complex=True),
    lambda L: L.istft(L.ones(9, 0, dtype=L.complex64), 16),
    lambda L: L.istft(L.ones(9, dtype=L.complex64), 16),
])
def test_errors_match_pytorch(call: Any) -> None:
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(lambda: call(autodiff), lambda: call(torch))


def test_warnings(device: str) -> None:
    x = autodiff.randn(40, device=device)
    with pytest.warns(UserWarning, match="A window was not provided"):
        spectrum = autodiff.stft(x, 16, return_complex=True)
    with pytest.warns(UserWarning, match="stft with return_complex=False is deprecated"):
        autodiff.stft(x, 16, window=autodiff.ones(16, device=device), return_complex=False)
    with pytest.warns(UserWarning, match="Please provide the same window used by stft"):
        autodiff.istft(spectrum, 16)
    with pytest.warns(UserWarning, match="Result is being padded with zeros in the tail"):
        out = autodiff.istft(spectrum, 16, window=autodiff.ones(16, device=device), length=50)
    assert tuple(out.shape) == (50,) and out.device == x.device


def test_round_trip_on_every_device(device: str) -> None:
    x = autodiff.randn(3, 64, dtype=autodiff.float64, device=device)
    window = autodiff.tensor(np.hanning(32) + 0.1, device=device)
    spectrum = x.stft(32, 8, window=window, return_complex=True)
    assert tuple(spectrum.shape) == (3, 17, 9) and spectrum.dtype is autodiff.complex128
    back = spectrum.istft(32, 8, window=window, length=64)
    np.testing.assert_allclose(back.tolist(), x.tolist(), atol=1e-12)
