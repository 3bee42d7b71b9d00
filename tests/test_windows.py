"""Window functions against NumPy's symmetric windows (np.hanning, ...), their periodic forms,
and PyTorch's values and errors where torch is installed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from tests.compare import same_error

NUMPY = {"hann": np.hanning, "hamming": np.hamming, "bartlett": np.bartlett,
         "blackman": np.blackman, "kaiser": lambda n: np.kaiser(n, 12.0)}


@pytest.mark.parametrize("name", sorted(NUMPY))
@pytest.mark.parametrize("length", [0, 1, 2, 7, 16])
def test_symmetric_windows_are_numpys(name: str, length: int, device: str) -> None:
    window = getattr(autodiff, f"{name}_window")(length, periodic=False,
                                                 dtype=autodiff.float64, device=device)
    assert window.dtype is autodiff.float64 and window.shape == (length,)
    np.testing.assert_allclose(window.tolist(), NUMPY[name](length), atol=1e-12)


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_periodic_windows_drop_the_last_point(name: str, device: str) -> None:
    function = getattr(autodiff, f"{name}_window")
    periodic = function(8, device=device, dtype=autodiff.float64)
    np.testing.assert_allclose(periodic.tolist(), NUMPY[name](9)[:8], atol=1e-12)
    assert function(8).dtype is autodiff.get_default_dtype()


def test_window_options(device: str) -> None:
    window = autodiff.hamming_window(5, True, 0.6, 0.3, device=device, requires_grad=True)
    assert window.requires_grad and window.is_leaf
    np.testing.assert_allclose(window.tolist(), 0.6 - 0.3 * np.cos(2 * np.pi * np.arange(5) / 5),
                               atol=1e-7)
    np.testing.assert_allclose(autodiff.kaiser_window(6, False, 5.0, device=device).tolist(),
                               np.kaiser(6, 5.0), atol=1e-6)


@pytest.mark.parametrize("name", sorted(NUMPY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_are_pytorchs(name: str, dtype: str) -> None:
    torch = pytest.importorskip("torch")
    for length in (3, 10):
        for periodic in (True, False):
            ours = getattr(autodiff, f"{name}_window")(length, periodic,
                                                       dtype=getattr(autodiff, dtype))
            theirs = getattr(torch, f"{name}_window")(length, periodic,
                                                      dtype=getattr(torch, dtype))
            # float32 kaiser: PyTorch evaluates I0 in float32, we in float64 (a few ulps).
            np.testing.assert_allclose(ours.tolist(), theirs.numpy(),
                                       atol=1e-6 if dtype == "float32" else 1e-14)


ERRORS: dict[str, Any] = {
    "negative": lambda L: L.hann_window(-1),
    "integer": lambda L: L.blackman_window(3, dtype=L.int64),
    "integer_grad": lambda L: L.kaiser_window(3, dtype=L.int32, requires_grad=True),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    same_error(lambda: ERRORS[name](autodiff), lambda: ERRORS[name](torch))
