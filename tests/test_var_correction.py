"""var and std for every correction, as PyTorch: sum((x - mean)^2) / max(0, N - correction),
so a correction of N or more gives inf, or nan where every deviation is 0 (and no elements give
nan); gradients likewise, with PyTorch's two cases (over every element: inf or nan; over given
dims: the factor 2 / (N - correction) as it is, negative or inf).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autodiff
from tests.helpers import leaf

INF, NAN = math.inf, math.nan


def run(name: str, values: object, correction: float, dim: object, device: str
        ) -> tuple[list[float] | float, list[float]]:
    x = leaf(values, device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # degrees of freedom <= 0
        out = getattr(autodiff, name)(x, dim=dim, correction=correction)
    out.sum().backward()
    return out.tolist(), x.grad.tolist()


def same(ours: object, expected: object) -> bool:
    a, b = np.asarray(ours, dtype=float), np.asarray(expected, dtype=float)
    numbers = ~np.isnan(b)  # a nan's sign bit means nothing
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True) and \
        np.array_equal(np.signbit(a[numbers]), np.signbit(b[numbers]))


@pytest.mark.parametrize(("name", "values", "correction", "dim", "value", "grad"), [
    ("var", [1.0, 3.0], 3, None, INF, [INF, INF]),        # N - correction < 0: inf
    ("var", [1.0, 3.0], 2, None, INF, [INF, INF]),        # N - correction = 0
    ("var", [1.0, 3.0], 3, 0, INF, [2.0, -2.0]),          # over a dim: 2 / (2 - 3)
    ("var", [1.0, 3.0], 2, 0, INF, [-INF, INF]),
    ("var", [1.0], 1, None, NAN, [NAN]),                  # one element, correction 1: nan
    ("var", [1.0], 2, 0, NAN, [-0.0]),
    ("var", [2.0, 2.0], 3, None, NAN, [NAN, NAN]),        # no deviation: 0 / 0
    ("var", [2.0, 2.0], 1.5, None, 0.0, [0.0, 0.0]),
    ("var", [], -1, None, NAN, []),                       # no elements: nan whatever
    ("var", [1.0, 3.0], -1, None, 2 / 3, [-2 / 3, 2 / 3]),
    ("var", [1.0, 2.0, 4.0], 1.5, None, 28 / 9, [-16 / 9, -4 / 9, 20 / 9]),
    ("std", [1.0, 3.0], 3, None, INF, [NAN, NAN]),
    ("std", [1.0, 3.0], 3, 0, INF, [0.0, -0.0]),
    ("std", [1.0], 1, None, NAN, [NAN]),
    ("std", [1.0, 3.0], 0, None, 1.0, [-0.5, 0.5]),
    ("var", [[1.0, 3.0], [2.0, 2.0]], 2, -1, [INF, NAN], [[-INF, INF], [NAN, NAN]]),
    ("var", [[1.0, 3.0], [2.0, 2.0]], 3, -1, [INF, NAN], [[2.0, -2.0], [-0.0, -0.0]]),
    ("var", [[1.0, 3.0], [2.0, 2.0]], 3, None, 2.0, [[-2.0, 2.0], [0.0, 0.0]]),
])
def test_var_std_for_every_correction(name: str, values: object, correction: float,
                                      dim: object, value: object, grad: object,
                                      device: str) -> None:
    ours, ours_grad = run(name, values, correction, dim, device)
    assert same(ours, value), (ours, value)
    assert same(ours_grad, grad), (ours_grad, grad)


def test_no_negative_variance_for_large_corrections(device: str) -> None:
    x = leaf(np.random.default_rng(0).standard_normal((4, 5)), device)
    for correction in (5, 6, 10, 100.5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert np.all(x.var(1, correction=correction).detach().cpu().numpy() == INF)
            assert np.all(x.std(correction=correction).detach().cpu().numpy() >= 0)


def test_var_std_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    grids = ([], [1.0], [2.0, 2.0], [1.0, 3.0], [1.0, 2.0, 4.0], [[1.0, 3.0], [2.0, 2.0]],
             [[[1.0, 3.0], [2.0, 2.0]], [[0.0, 5.0], [1.0, 1.0]]], 3.0)
    for values in grids:
        for correction in (0, 1, 2, 3, 5, 1.5, 0.5, -1):
            for name in ("var", "std"):
                for dim in (None, 0, -1, (0, 1)):
                    for dtype in ("float64", "float32"):
                        results = []
                        for library in (autodiff, torch):
                            x = library.tensor(values, dtype=getattr(library, dtype),
                                               requires_grad=True)
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore", UserWarning)
                                try:
                                    out = getattr(library, name)(x, dim=dim,
                                                                 correction=correction)
                                except (IndexError, RuntimeError) as error:
                                    results.append(type(error))
                                    continue
                            out.sum().backward()
                            results.append((out.detach().numpy(), x.grad.numpy()))
                        ours, theirs = results
                        if isinstance(theirs, type):
                            assert ours is theirs
                            continue
                        np.testing.assert_array_equal(ours[0], theirs[0])
                        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6,
                                                   equal_nan=True)
                        inf = np.isinf(theirs[1])
                        np.testing.assert_array_equal(np.signbit(ours[1][inf]),
                                                      np.signbit(theirs[1][inf]))
