"""Forward-mode AD of complex tensors, with PyTorch's convention: the tangent of y = f(z) along
a complex tangent t is the derivative of f along t as a map of the reals (f'(z) t for a
holomorphic f; abs, angle, real, conj and friends through the same real-linear map). Checked
against central differences along t and, where installed, against torch.autograd.forward_ad."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import autodiff
from autodiff.autograd import forward_ad as fwAD
from autodiff.func import jacfwd, jacrev, jvp

Op = Callable[..., autodiff.Tensor]

# name: (function of complex tensors, how many complex inputs)
OPS: dict[str, tuple[Op, int]] = {
    "exp": (lambda z: z.exp(), 1),
    "sin_mul": (lambda z, w: z.sin() * w, 2),
    "div": (lambda z, w: z / (w + 3), 2),
    "matmul": (lambda z, w: z.reshape(2, 3) @ w.reshape(3, 2), 2),
    "abs": (lambda z: z.abs(), 1),
    "angle": (lambda z: z.angle(), 1),
    "real_imag": (lambda z: z.real * z.imag, 1),
    "conj": (lambda z, w: z.conj() * w, 2),
    "sum_mean": (lambda z: z.sum() * z.mean(), 1),
    "powers": (lambda z: z ** 2.5 + z.reciprocal() + z.rsqrt() + z ** (1 + 1j), 1),
    "sqrt_log": (lambda z: (z + 4).sqrt().log(), 1),
    "trig": (lambda z: z.tan() + z.asinh() * z.cosh() + z.atan().sigmoid(), 1),
    "fft": (lambda z: autodiff.fft.fft(z * z), 1),
    "rfft_irfft": (lambda z: autodiff.fft.irfft(autodiff.fft.rfft(z.real) * z[:4], n=6), 1),
    "view_as_real": (lambda z: autodiff.view_as_real(z.tanh()), 1),
    "complex_from_parts": (lambda z: autodiff.complex(z.real.sin(), z.imag * z.real), 1),
}


def _complex(seed: int, device: str = "cpu") -> autodiff.Tensor:
    rng = np.random.default_rng(seed)
    value = rng.standard_normal(6) + 1j * rng.standard_normal(6)
    return autodiff.tensor(value, dtype=autodiff.complex128, device=device)


@pytest.mark.parametrize("name", sorted(OPS))
def test_complex_tangents_match_finite_differences(name: str, device: str) -> None:
    op, count = OPS[name]
    if device != "cpu" and name in ("fft", "rfft_irfft"):
        pytest.importorskip("numpy")  # the strict backend runs fft through NumPy as well
    primals = [_complex(seed, device) for seed in range(count)]
    tangents = [_complex(seed + 10, device) for seed in range(count)]
    with fwAD.dual_level():
        out = op(*[fwAD.make_dual(p, t) for p, t in zip(primals, tangents)])
        value, tangent = fwAD.unpack_dual(out)
    assert tangent is not None and tangent.dtype == value.dtype
    step = 1e-6
    plus = op(*[p + step * t for p, t in zip(primals, tangents)])
    minus = op(*[p - step * t for p, t in zip(primals, tangents)])
    numerical = ((plus - minus) / (2 * step)).cpu().numpy()
    np.testing.assert_allclose(tangent.cpu().numpy(), numerical, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(OPS))
def test_complex_tangents_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    op, count = OPS[name]
    primals = [_complex(seed) for seed in range(count)]
    tangents = [_complex(seed + 10) for seed in range(count)]
    with fwAD.dual_level():
        ours = fwAD.unpack_dual(op(*[fwAD.make_dual(p, t) for p, t in zip(primals, tangents)]))
    import torch.autograd.forward_ad as torch_fwAD

    torch_op = op
    if name in ("fft", "rfft_irfft"):
        torch_op = {"fft": lambda z: torch.fft.fft(z * z),
                    "rfft_irfft": lambda z: torch.fft.irfft(torch.fft.rfft(z.real) * z[:4], n=6)
                    }[name]
    elif name == "view_as_real":
        torch_op = lambda z: torch.view_as_real(z.tanh())  # noqa: E731
    elif name == "complex_from_parts":
        torch_op = lambda z: torch.complex(z.real.sin(), z.imag * z.real)  # noqa: E731
    with torch_fwAD.dual_level():
        duals = [torch_fwAD.make_dual(torch.from_numpy(p.numpy()), torch.from_numpy(t.numpy()))
                 for p, t in zip(primals, tangents)]
        theirs = torch_fwAD.unpack_dual(torch_op(*duals))
    assert str(ours.tangent.dtype) == str(theirs.tangent.dtype)
    np.testing.assert_allclose(ours.tangent.numpy(), theirs.tangent.numpy(), rtol=1e-12,
                               atol=1e-12)


def test_complex_jacfwd_matches_jacrev_of_a_real_function() -> None:
    def f(x: autodiff.Tensor) -> autodiff.Tensor:
        z = autodiff.complex(x[:3], x[3:])
        return autodiff.fft.fft(z.exp() * z).abs()

    x = _complex(1).real
    np.testing.assert_allclose(jacfwd(f)(x).numpy(), jacrev(f)(x).numpy(), rtol=1e-10,
                               atol=1e-12)


def test_complex_jvp_of_jvp() -> None:
    z, t, s = _complex(1), _complex(2), _complex(3)
    second = jvp(lambda a: jvp(autodiff.exp, (a,), (t,))[1], (z,), (s,))[1]
    np.testing.assert_allclose(second.numpy(), (z.exp() * t * s).numpy(), rtol=1e-12)


HOLOMORPHIC = ["exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan",
               "asinh", "acosh", "atanh", "sqrt", "rsqrt", "reciprocal", "expm1", "log1p", "log2",
               "log10", "sigmoid", "square"]


@pytest.mark.parametrize("name", HOLOMORPHIC)
def test_holomorphic_backward_conjugates_the_derivative_as_pytorch(name: str) -> None:
    """The complex-tangent rule is the backward's transpose, so the backward must be
    PyTorch's: grad * conj(f'(z)), and its double backward too."""
    torch = pytest.importorskip("torch")
    z, g = _complex(1), _complex(2)
    ours = z.detach().requires_grad_()
    (first,) = autodiff.autograd.grad(getattr(ours, name)(), ours, g, create_graph=True)
    (second,) = autodiff.autograd.grad(first, ours, g)
    theirs = torch.from_numpy(z.numpy()).requires_grad_()
    torch_g = torch.from_numpy(g.numpy())
    (torch_first,) = torch.autograd.grad(getattr(theirs, name)(), theirs, torch_g,
                                         create_graph=True)
    (torch_second,) = torch.autograd.grad(torch_first, theirs, torch_g)
    np.testing.assert_allclose(first.detach().numpy(),
                               torch_first.detach().resolve_conj().numpy(), rtol=1e-12)
    np.testing.assert_allclose(second.numpy(), torch_second.resolve_conj().numpy(), rtol=1e-10)
