"""Which index the selecting ops return among tied values (and where NaN goes), against
PyTorch's CPU kernels, on tie-heavy rows of every length.

Matched (and checked here): max/min/argmax/argmin (first occurrence; NaN wins), cummax/cummin
(the last occurrence so far), median/nanmedian (PyTorch breaks ties by position), stable sorts,
and unstable sorts of up to 16 elements (libstdc++'s std::sort is an insertion sort there).

Not matched, by design: topk, sort(stable=False) of more than 16 elements and mode's index run
libstdc++'s std::nth_element / std::partial_sort / std::sort (introselect, heap select,
introsort), and kthvalue PyTorch's own quickselect. Their tie orders are deterministic for one
build, but reproducing them means replaying those algorithms swap by swap on the host, a Python
loop per row, where the backend computes a vectorised sort; PyTorch documents the order as
unspecified. Here the values are PyTorch's and the indices point at them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


def _rows() -> list[np.ndarray]:
    """(4, n) rows of few distinct values, with and without NaN, for lengths around the
    thresholds of PyTorch's algorithms (16: insertion sort; 64 k: partial sort)."""
    rng = np.random.default_rng(0)
    rows = []
    for n in (1, 2, 3, 5, 16, 17, 40, 200):
        few = rng.integers(0, 3, (4, n)).astype(np.float64)
        with_nan = few.copy()
        with_nan[rng.random((4, n)) < 0.3] = np.nan
        rows += [few, with_nan, np.ones((4, n)), -np.zeros((4, n))]
    return rows


ROWS = _rows()

EXACT: dict[str, Callable[[Any], Any]] = {
    "max": lambda t: t.max(dim=1),
    "min": lambda t: t.min(dim=1),
    "max_dim0": lambda t: t.max(dim=0),
    "argmax": lambda t: t.argmax(dim=1),
    "argmin": lambda t: t.argmin(dim=1),
    "argmax_flat": lambda t: t.argmax(),
    "argmin_flat": lambda t: t.argmin(),
    "aminmax": lambda t: t.aminmax(dim=1),
    "cummax": lambda t: t.cummax(dim=1),
    "cummin": lambda t: t.cummin(dim=1),
    "median": lambda t: t.median(dim=1),
    "median_flat": lambda t: t.median(),
    "nanmedian": lambda t: t.nanmedian(dim=1),
    "sort_stable": lambda t: t.sort(dim=1, stable=True),
    "sort_stable_descending": lambda t: t.sort(dim=1, descending=True, stable=True),
    "msort": lambda t: t.t().msort(),
}


def _arrays(result: Any) -> list[np.ndarray]:
    parts = tuple(result) if isinstance(result, tuple) else (result,)
    return [np.asarray(part.cpu().numpy() if hasattr(part, "cpu") else part.numpy())
            for part in parts]


@pytest.mark.parametrize("name", list(EXACT))
def test_tie_order_is_torchs(torch: Any, device: str, name: str) -> None:
    op = EXACT[name]
    for x in ROWS:
        ours = _arrays(op(autodiff.tensor(x, device=device)))
        theirs = _arrays(op(torch.from_numpy(x)))
        for mine, reference in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(mine, reference, err_msg=f"{x.shape} {x[0]}")


@pytest.mark.parametrize("descending", [False, True])
def test_unstable_sort_of_up_to_16_elements_is_torchs(torch: Any, device: str,
                                                        descending: bool) -> None:
    for x in ROWS:
        if x.shape[1] > 16:
            continue
        ours = autodiff.tensor(x, device=device).sort(dim=1, descending=descending)
        theirs = torch.from_numpy(x).sort(dim=1, descending=descending)
        np.testing.assert_array_equal(ours.values.cpu().numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.cpu().numpy(), theirs.indices.numpy())


SELECTIONS: dict[str, Callable[[Any], Any]] = {
    "sort": lambda t: t.sort(dim=1),
    "sort_descending": lambda t: t.sort(dim=1, descending=True),
    "topk_largest": lambda t: t.topk(max(1, t.shape[1] // 2), dim=1),
    "topk_smallest": lambda t: t.topk(max(1, t.shape[1] // 3), dim=1, largest=False),
    "topk_one": lambda t: t.topk(1, dim=1),
    "kthvalue": lambda t: t.kthvalue(max(1, t.shape[1] // 2), dim=1),
}


@pytest.mark.parametrize("name", list(SELECTIONS))
def test_values_are_torchs_and_indices_point_at_them(torch: Any, device: str,
                                                     name: str) -> None:
    op = SELECTIONS[name]
    for x in ROWS:
        values, indices = op(autodiff.tensor(x, device=device))
        expected = op(torch.from_numpy(x)).values.numpy()
        np.testing.assert_array_equal(values.cpu().numpy(), expected)
        picked = np.take_along_axis(x, indices.cpu().numpy().reshape(4, -1), axis=1)
        np.testing.assert_array_equal(picked.reshape(expected.shape), expected)


def test_mode_without_nan_is_torchs_up_to_16_elements(torch: Any, device: str) -> None:
    # (PyTorch sorts with `<` alone: with NaN the order, and so the mode, is whatever its sort's
    # moves leave; here NaNs never equal each other and sort last.)
    for x in ROWS:
        if x.shape[1] > 16 or np.isnan(x).any():
            continue
        ours = autodiff.tensor(x, device=device).mode(dim=1)
        theirs = torch.from_numpy(x).mode(dim=1)
        np.testing.assert_array_equal(ours.values.cpu().numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.cpu().numpy(), theirs.indices.numpy())
