"""torch.fft against PyTorch itself: every transform on real and complex inputs with each norm,
`n`/`s` cropping and padding, and chosen dims: values, dtypes, node names, gradients of a real
loss and second derivatives; PyTorch's errors; and the dtype rules without PyTorch."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.fft as FFT
from tests.compare import same_error

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "fftn", "ifftn", "rfftn",
       "irfftn", "hfftn", "ihfftn"]
ONE_D_OPTIONS: list[dict[str, Any]] = [{}, {"norm": "ortho"}, {"norm": "forward"}, {"n": 8},
                                       {"n": 3, "dim": 0}]
N_D_OPTIONS: list[dict[str, Any]] = [{}, {"norm": "ortho"}, {"norm": "forward"},
                                     {"s": (3, 8)}, {"s": (5, -1), "dim": (1, 0)},
                                     {"dim": (0,)}]
CASES = [
    pytest.param(name, options, kind, id=f"{name}-{index}-{kind}")
    for names, option_list in ((ONE_D, ONE_D_OPTIONS), (N_D, N_D_OPTIONS))
    for name in names
    for (index, options), kind in itertools.product(enumerate(option_list),
                                                    ("real", "complex"))
]


def _data(kind: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    real = rng.standard_normal((4, 6))
    return real + 1j * rng.standard_normal((4, 6)) if kind == "complex" else real


def _numpy(tensor: Any) -> np.ndarray:
    if hasattr(tensor, "resolve_conj"):
        tensor = tensor.resolve_conj()
    return np.asarray(tensor.detach().numpy())


@pytest.mark.parametrize(("name", "options", "kind"), CASES)
def test_matches_pytorch(name: str, options: dict[str, Any], kind: str) -> None:
    torch = pytest.importorskip("torch")
    data = _data(kind)
    theirs_in = torch.tensor(data, requires_grad=True)
    ours_in = autodiff.tensor(data, requires_grad=True)
    try:
        theirs = getattr(torch.fft, name)(theirs_in, **options)
    except RuntimeError:  # e.g. rfft of a complex tensor: the same error here
        same_error(lambda: getattr(FFT, name)(ours_in, **options),
                   lambda: getattr(torch.fft, name)(theirs_in, **options))
        return
    ours = getattr(FFT, name)(ours_in, **options)
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-10, atol=1e-12)
    assert str(ours.dtype) == str(theirs.dtype)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    weights = np.random.default_rng(1).standard_normal((*theirs.shape, 2))

    def loss(library: Any, out: Any) -> Any:
        total = (out.real * library.tensor(weights[..., 0])).sum()
        if out.is_complex():
            total = total + (out.imag * library.tensor(weights[..., 1])).sum()
        return total

    first_theirs, = torch.autograd.grad(loss(torch, theirs), theirs_in, create_graph=True)
    first_ours, = autodiff.autograd.grad(loss(autodiff, ours), ours_in, create_graph=True)
    np.testing.assert_allclose(_numpy(first_ours), _numpy(first_theirs), rtol=1e-9, atol=1e-10)
    if first_theirs.requires_grad:
        second_theirs, = torch.autograd.grad((first_theirs.abs() ** 2).sum(), theirs_in)
        second_ours, = autodiff.autograd.grad((first_ours.abs() ** 2).sum(), ours_in)
        np.testing.assert_allclose(_numpy(second_ours), _numpy(second_theirs), rtol=1e-8,
                                   atol=1e-9)


@pytest.mark.parametrize("call", [
    lambda L: L.fft.fft(L.ones(4), norm="bad"),
    lambda L: L.fft.fft(L.ones(4), n=0),
    lambda L: L.fft.fft(L.ones(4), dim=1),
    lambda L: L.fft.fft(L.tensor(1.0)),
    lambda L: L.fft.fft(L.ones(4, dtype=L.float16)),
    lambda L: L.fft.rfft(L.ones(4, dtype=L.complex64)),
    lambda L: L.fft.irfft(L.ones(1)),
    lambda L: L.fft.fftn(L.ones(4, 4), s=(2, 2, 2)),
    lambda L: L.fft.fftn(L.ones(4, 4), s=(2, 2), dim=(0,)),
    lambda L: L.fft.fftn(L.ones(4, 4), dim=(0, 0)),
    lambda L: L.fft.fftn(L.ones(4, 4), s=(0, 2)),
    lambda L: L.fft.rfftn(L.ones(4, 4), dim=()),
    lambda L: L.fft.ihfft2(L.ones(4, 4, dtype=L.complex64)),
])
def test_errors_match_pytorch(call: Any) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: call(autodiff), lambda: call(torch))


def test_dtypes(device: str) -> None:
    ints = autodiff.arange(6, device=device)
    assert FFT.fft(ints).dtype is autodiff.complex64  # integers: the default float dtype
    assert FFT.rfft(ints.double()).dtype is autodiff.complex128
    assert FFT.irfft(FFT.rfft(ints)).dtype is autodiff.float32
    assert FFT.fftfreq(4, device=device).tolist() == [0.0, 0.25, -0.5, -0.25]
    assert FFT.rfftfreq(5, d=0.5, dtype=autodiff.float64, device=device).tolist() == \
        pytest.approx([0.0, 0.4, 0.8])
    x = autodiff.arange(10.0, device=device).reshape(2, 5)
    assert FFT.ifftshift(FFT.fftshift(x)).tolist() == x.tolist()
    assert FFT.fftshift(x, dim=1).tolist()[0] == [3.0, 4.0, 0.0, 1.0, 2.0]


def test_round_trips(device: str) -> None:
    x = autodiff.randn(3, 8, dtype=autodiff.float64, device=device)
    np.testing.assert_allclose(FFT.irfft(FFT.rfft(x), n=8).tolist(), x.tolist(), atol=1e-12)
    np.testing.assert_allclose(FFT.ifftn(FFT.fftn(x)).real.tolist(), x.tolist(), atol=1e-12)
    np.testing.assert_allclose(FFT.hfft(FFT.ihfft(x), n=8).tolist(), x.tolist(), atol=1e-12)
