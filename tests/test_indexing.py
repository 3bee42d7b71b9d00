"""Indexing with random keys against NumPy: values, and gradients that accumulate over repeated
indices (the gradient of `(x[key] * w).sum()` is `np.add.at(zeros, key, w)`).

PyTorch and NumPy agree on keys made of slices and index arrays, and on keys without index
arrays; they differ where ints and index arrays meet (PyTorch applies the ints first), which is
checked against PyTorch itself at the end.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff

SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def shapes(draw: st.DrawFn) -> tuple[int, ...]:
    return tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))


@st.composite
def slices(draw: st.DrawFn, size: int) -> slice:
    start = draw(st.none() | st.integers(-size - 2, size + 2))
    stop = draw(st.none() | st.integers(-size - 2, size + 2))
    step = draw(st.none() | st.integers(1, 3))
    return slice(start, stop, step)


@st.composite
def basic_keys(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """ints, slices, None and at most one Ellipsis."""
    used = draw(st.integers(0, len(shape)))
    # With a leading Ellipsis the entries index the last dims.
    leading_ellipsis = used < len(shape) and draw(st.booleans())
    key: list[Any] = [Ellipsis] if leading_ellipsis else []
    for size in (shape[len(shape) - used:] if leading_ellipsis else shape[:used]):
        key.append(draw(st.integers(-size, size - 1) | slices(size)))
        if draw(st.booleans()) and draw(st.booleans()):
            key.append(None)
    if not leading_ellipsis and used < len(shape) and draw(st.booleans()):
        key.append(Ellipsis)
    return tuple(key)


@st.composite
def advanced_keys(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """Index arrays (repeats and negatives included; broadcasting together), boolean masks and
    slices; at least one index array or mask."""
    used = draw(st.integers(1, len(shape)))
    index_shape = draw(st.sampled_from([(0,), (1,), (3,), (6,), (2, 1), (2, 3)]))
    key: list[Any] = []
    for size in shape[:used]:
        kind = draw(st.sampled_from(["array", "array", "mask", "slice"]))
        if kind == "slice" or (kind == "mask" and any(isinstance(k, np.ndarray) and
                                                       k.dtype == bool for k in key)):
            key.append(draw(slices(size)))
        elif kind == "mask":
            key.append(np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))))
        else:
            # A length-1 dim broadcasts against the others, as NumPy and PyTorch allow.
            own_shape = index_shape if draw(st.booleans()) else index_shape[-1:]
            values = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(own_shape)),
                                   max_size=int(np.prod(own_shape))))
            key.append(np.array(values, dtype=np.int64).reshape(own_shape))
    if not any(isinstance(k, np.ndarray) for k in key):
        key[0] = np.array([draw(st.integers(-shape[0], shape[0] - 1))], dtype=np.int64)
    return tuple(key)


def _as_autodiff_key(key: tuple[Any, ...], device: str) -> tuple[Any, ...]:
    """The same key with index arrays as autodiff tensors (lists for some, as users write)."""
    out: list[Any] = []
    for position, entry in enumerate(key):
        if isinstance(entry, np.ndarray):
            if entry.dtype == bool or position % 2:
                out.append(autodiff.tensor(entry, device=device))
            else:
                out.append(entry.tolist())
        else:
            out.append(entry)
    return tuple(out)


def _numpy_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """NumPy's np.add.at wants masks as the index arrays of their True elements."""
    out: list[Any] = []
    for entry in key:
        if isinstance(entry, np.ndarray) and entry.dtype == bool:
            out.extend(np.nonzero(entry))
        else:
            out.append(entry)
    return tuple(out)


def _broadcastable(key: tuple[Any, ...]) -> bool:
    arrays = [np.nonzero(k)[0] if k.dtype == bool else k for k in key if isinstance(k, np.ndarray)]
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        return False
    return True


def _check_values_and_grads(shape: tuple[int, ...], key: tuple[Any, ...], device: str,
                            seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape)
    expected = values[_numpy_key(key)]
    x = autodiff.tensor(values, device=device, requires_grad=True)
    out = x[_as_autodiff_key(key, device)]
    assert tuple(out.shape) == expected.shape
    np.testing.assert_array_equal(np.array(out.tolist()).reshape(expected.shape), expected)

    weights = rng.standard_normal(expected.shape)
    (out * autodiff.tensor(weights, device=device)).sum().backward()
    grad = np.zeros(shape)
    # Repeated indices accumulate: np.add.at, not grad[key] += weights.
    np.add.at(grad, _numpy_key(key), weights)
    np.testing.assert_allclose(np.array(x.grad.tolist()), grad, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(data=st.data())
def test_basic_keys_match_numpy(data: st.DataObject, device: str) -> None:
    shape = data.draw(shapes())
    key = data.draw(basic_keys(shape))
    _check_values_and_grads(shape, key, device, seed=len(key))


@SETTINGS
@given(data=st.data())
def test_advanced_keys_match_numpy(data: st.DataObject, device: str) -> None:
    shape = data.draw(shapes())
    key = data.draw(advanced_keys(shape))
    if not _broadcastable(key):
        with pytest.raises(IndexError, match=r"^shape mismatch: indexing tensors could not be "
                                             r"broadcast together with shapes "):
            autodiff.zeros(shape, device=device)[_as_autodiff_key(key, device)]
        return
    _check_values_and_grads(shape, key, device, seed=len(key))


@SETTINGS
@given(data=st.data())
def test_index_put_accumulate_matches_numpy(data: st.DataObject, device: str) -> None:
    shape = data.draw(shapes())
    size = shape[0]
    index = np.array(data.draw(st.lists(st.integers(-size, size - 1), max_size=8)),
                     dtype=np.int64)
    rng = np.random.default_rng(index.size)
    base = rng.standard_normal(shape)
    values = rng.standard_normal((index.size, *shape[1:]))
    expected = base.copy()
    np.add.at(expected, (index,), values)

    a = autodiff.tensor(base, device=device, requires_grad=True)
    v = autodiff.tensor(values, device=device, requires_grad=True)
    out = (a * 1).index_put_((autodiff.tensor(index, device=device),), v, accumulate=True)
    np.testing.assert_allclose(np.array(out.tolist()), expected, rtol=1e-12)
    weights = rng.standard_normal(shape)
    (out * autodiff.tensor(weights, device=device)).sum().backward()
    np.testing.assert_allclose(np.array(a.grad.tolist()), weights)
    np.testing.assert_allclose(np.array(v.grad.tolist()).reshape(values.shape),
                               weights[index])


@SETTINGS
@given(data=st.data())
def test_setitem_matches_numpy(data: st.DataObject, device: str) -> None:
    """x[key] = v on a tensor in the graph: values as NumPy; the old values under the key get
    no gradient and v gets the gradient of every place it was written to."""
    shape = data.draw(shapes())
    key = data.draw(basic_keys(shape) | advanced_keys(shape))
    if not _broadcastable(key):
        return
    rng = np.random.default_rng(len(key))
    base = rng.standard_normal(shape)
    target_shape = base[_numpy_key(key)].shape
    # Repeated indices in an assignment leave it to the backend which value wins: unique only.
    flat = np.zeros(shape)
    np.add.at(flat, _numpy_key(key), 1)
    if flat.max(initial=0) > 1:
        return
    values = rng.standard_normal(target_shape[data.draw(st.integers(0, len(target_shape))):])
    expected = base.copy()
    expected[_numpy_key(key)] = values

    a = autodiff.tensor(base, device=device, requires_grad=True)
    v = autodiff.tensor(values, device=device, requires_grad=True)
    x = a * 1
    x[_as_autodiff_key(key, device)] = v
    np.testing.assert_array_equal(np.array(x.tolist()), expected)
    weights = rng.standard_normal(shape)
    (x * autodiff.tensor(weights, device=device)).sum().backward()
    grad_a = weights.copy()
    grad_a[_numpy_key(key)] = 0
    np.testing.assert_allclose(np.array(a.grad.tolist()), grad_a)
    np.testing.assert_allclose(np.array(v.grad.tolist()).reshape(values.shape),
                               _sum_to(weights[_numpy_key(key)], values.shape))


def _sum_to(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and array.shape[lead + i] != 1)
    return array.sum(axis=axes, keepdims=True).reshape(shape)


# ----------------------------------------------------------------------------- against PyTorch
MIXED_KEYS = [
    (0, slice(None), [1, 2, 2]),           # PyTorch: select first, then index -> (3, 3)
    ([1, 0], slice(None), 0),
    (slice(None), 1, [0, 0, 3]),
    (None, [0, 1], Ellipsis, [1, 2]),
    (1, [[0], [2]], [3, 1]),
    (Ellipsis, [True, False, True, True]),
    (-1, slice(1, None, 2), [2, 0]),
]


@pytest.mark.parametrize("key", MIXED_KEYS, ids=str)
def test_mixed_int_and_array_keys_match_torch(key: tuple[Any, ...], device: str) -> None:
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    expected_leaf = torch.tensor(values, requires_grad=True)
    expected = expected_leaf[key]
    x = autodiff.tensor(values, device=device, requires_grad=True)
    out = x[key]
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(np.array(out.tolist()), expected.detach().numpy())
    assert out.grad_fn.name() == expected.grad_fn.name()
    weights = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    (expected * torch.tensor(weights)).sum().backward()
    (out * autodiff.tensor(weights, device=device)).sum().backward()
    np.testing.assert_allclose(np.array(x.grad.tolist()), expected_leaf.grad.numpy())


@pytest.mark.parametrize(("key", "error", "message"), [
    (5, IndexError, "index 5 is out of bounds for dimension 0 with size 2"),
    ((slice(None), -4), IndexError, "index -4 is out of bounds for dimension 1 with size 3"),
    (([0, 2],), IndexError, "index 2 is out of bounds for dimension 0 with size 2"),
    ((0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    (1.5, IndexError, "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                      "Variables are valid indices (got float)"),
    ((Ellipsis, Ellipsis), IndexError, "an index can only have a single ellipsis ('...')"),
])
def test_bad_keys_raise_pytorch_errors(key: Any, error: type, message: str,
                                       device: str) -> None:
    x = autodiff.zeros(2, 3, device=device)
    with pytest.raises(error) as info:
        x[key]
    assert str(info.value) == message


def test_bad_masks_and_index_dtypes(device: str) -> None:
    x = autodiff.zeros(2, 3, device=device)
    with pytest.raises(IndexError) as info:
        x[autodiff.tensor([True, False, True], device=device)]
    assert str(info.value) == ("The shape of the mask [3] at index 0 does not match the shape "
                               "of the indexed tensor [2, 3] at index 0")
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or "
                                         "bool tensors"):
        x[autodiff.tensor([1.0], device=device)]
    with pytest.raises(IndexError) as info:
        autodiff.tensor(1.0, device=device)[0]
    assert str(info.value).startswith("invalid index of a 0-dim tensor.")


def test_a_range_indexes_as_the_sequence_it_is(device: str) -> None:
    # PyTorch reads any Python sequence as an index (nn_tutorial: `x[range(n), y]`).
    x = autodiff.arange(12.0, device=device).reshape(3, 4)
    picked = x[range(3), autodiff.tensor([0, 1, 2], device=device)]
    assert picked.tolist() == [0.0, 5.0, 10.0]
    assert x[range(1, 3)].tolist() == x[1:3].tolist()
    assert tuple(x[:, range(0, 4, 2)].shape) == (3, 2)
    assert tuple(x[range(0)].shape) == (0, 4)
    x[range(2)] = 0.0
    assert x.sum().item() == 38.0
