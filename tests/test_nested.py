"""autodiff.nested (torch.nested): nested tensors of the strided and jagged layouts — making
them, their metadata (ragged dims), the ops PyTorch runs on them (elementwise, linear,
softmax, dropout, views, scaled_dot_product_attention, to_padded_tensor) and those it
refuses, with gradients reaching the components; on every device, against NumPy, and against
PyTorch where it is installed."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as F
from autodiff.autograd import gradcheck
from autodiff.nn.attention import SDPBackend, sdpa_kernel

from .helpers import raises, raises_starting

LAYOUTS = {"strided": autodiff.strided, "jagged": autodiff.jagged}
RNG = np.random.default_rng(7)
A = RNG.standard_normal((2, 6))
B = RNG.standard_normal((4, 6))


def _nested(device: str, layout: str, *arrays: np.ndarray, requires_grad: bool = False,
            dtype: Any = autodiff.float64) -> autodiff.Tensor:
    return autodiff.nested.nested_tensor(
        [autodiff.tensor(array, dtype=dtype, device=device) for array in arrays or (A, B)],
        layout=LAYOUTS[layout], requires_grad=requires_grad)


def _values(nested: autodiff.Tensor) -> list[np.ndarray]:
    return [np.asarray(component.detach().cpu().numpy()) for component in nested.unbind()]


@pytest.fixture(params=list(LAYOUTS))
def layout(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ----------------------------------------------------------------------------- making them
def test_metadata(device: str, layout: str) -> None:
    nested = _nested(device, layout, requires_grad=True)
    assert nested.is_nested and isinstance(nested, autodiff.Tensor)
    assert nested.layout is LAYOUTS[layout]
    assert nested.dim() == nested.ndim == 3
    assert nested.size(0) == 2 and nested.size(2) == nested.size(-1) == 6
    assert nested.numel() == A.size + B.size
    assert nested.dtype is autodiff.float64 and nested.device == autodiff.device(device)
    assert nested.requires_grad and nested.is_leaf and nested.grad_fn is None
    assert nested.is_contiguous()
    for got, want in zip(_values(nested), (A, B), strict=True):
        np.testing.assert_array_equal(got, want)
    if layout == "strided":
        with raises(RuntimeError, "Given dimension 1 is irregular and does not have a size."):
            nested.size(1)
        with raises(RuntimeError, "Internal error: NestedTensorImpl doesn't support sizes. "
                                  "Please file an issue."):
            _ = nested.shape
    else:
        ragged = nested.size(1)
        assert re.fullmatch(r"j\d+", repr(ragged))
        assert tuple(nested.shape) == (2, ragged, 6)
        assert (nested * 2).size(1) is ragged  # the same offsets, the same nested int
        assert _nested(device, layout).size(1) is not ragged
        np.testing.assert_array_equal(nested.offsets().cpu().numpy(), [0, 2, 6])
        assert nested.lengths() is None
        assert nested.values().shape == (6, 6)


def test_nested_tensor_copies_and_converts(device: str, layout: str) -> None:
    source = autodiff.tensor(A, device=device, requires_grad=True)
    nested = autodiff.nested.nested_tensor([source, autodiff.tensor(B, device=device)],
                                           layout=LAYOUTS[layout], dtype=autodiff.float32)
    assert nested.is_leaf and not nested.requires_grad and nested.dtype is autodiff.float32
    lists = autodiff.nested.nested_tensor([[1, 2], [3, 4, 5]], device=device)
    assert lists.dtype is autodiff.int64
    assert [c.tolist() for c in lists.unbind()] == [[1, 2], [3, 4, 5]]


@pytest.mark.parametrize(("layout_name", "tensors", "error", "message"), [
    ("jagged", [], RuntimeError, "Cannot construct a nested tensor from an empty tensor list"),
    ("strided", [np.ones((2, 3)), np.ones(3)], RuntimeError,
     "All Tensors given to nested_tensor must have the same dimension. Found dimension 1 for "
     "Tensor at index 1 and dimension 2 for Tensor at index 0."),
    ("jagged", [np.ones((2, 3)), np.ones(3)], RuntimeError,
     "When constructing a nested tensor, all tensors in list must have the same dim"),
])
def test_construction_errors(layout_name: str, tensors: list[np.ndarray],
                             error: type[Exception], message: str) -> None:
    with raises(error, message):
        autodiff.nested.nested_tensor([autodiff.tensor(t) for t in tensors],
                                      layout=LAYOUTS[layout_name])


def test_empty_strided() -> None:
    nested = autodiff.nested.nested_tensor([])
    assert nested.dim() == 1 and nested.size(0) == 0 and nested.unbind() == ()


def test_as_nested_tensor_keeps_history(device: str, layout: str) -> None:
    a = autodiff.tensor(A, device=device, requires_grad=True)
    b = autodiff.tensor(B, device=device, requires_grad=True)
    nested = autodiff.nested.as_nested_tensor([a, b], layout=LAYOUTS[layout])
    expected = ("NestedTensorFromTensorListBackward0" if layout == "strided"
                else "NestedViewFromJaggedBackward0")
    assert nested.grad_fn.name() == expected
    padded = autodiff.nested.to_padded_tensor(nested * 3, 0.0)
    padded.sum().backward()
    np.testing.assert_array_equal(a.grad.cpu().numpy(), np.full(A.shape, 3.0))
    np.testing.assert_array_equal(b.grad.cpu().numpy(), np.full(B.shape, 3.0))


# ----------------------------------------------------------------------------- elementwise
def test_elementwise(device: str, layout: str) -> None:
    nested = _nested(device, layout, requires_grad=True)
    out = (nested * 2 + 1).relu() - nested * nested
    assert out.grad_fn.name() == "SubBackward0"
    for got, x in zip(_values(out), (A, B), strict=True):
        np.testing.assert_allclose(got, np.maximum(2 * x + 1, 0) - x * x)
    out.backward(autodiff.nested.nested_tensor(
        [autodiff.ones(2, 6, dtype=autodiff.float64, device=device),
         autodiff.ones(4, 6, dtype=autodiff.float64, device=device)], layout=LAYOUTS[layout]))
    for got, x in zip(_values(nested.grad), (A, B), strict=True):
        np.testing.assert_allclose(got, 2.0 * (2 * x + 1 > 0) - 2 * x)


def test_exp_is_refused_by_the_strided_layout(device: str) -> None:
    strided = _nested(device, "strided")
    backend = "NestedTensorCUDA" if device.startswith("cuda") else "NestedTensorCPU"
    with raises_starting(NotImplementedError,
                         f"Could not run 'aten::exp' with arguments from the '{backend}' "
                         "backend."):
        strided.exp()
    jagged = _nested(device, "jagged")
    for got, x in zip(_values(jagged.exp()), (A, B), strict=True):
        np.testing.assert_allclose(got, np.exp(x))


def test_broadcasting_errors(device: str) -> None:
    strided = _nested(device, "strided")
    with raises(RuntimeError, "Expected both self and other to be nested, but got a nested "
                              "self and non-nested other"):
        strided + autodiff.ones(6, dtype=autodiff.float64, device=device)
    with raises(RuntimeError, "mul does not support broadcasting when given a NestedTensor"):
        strided * _nested(device, "strided", A, A)
    jagged = _nested(device, "jagged")
    dense = autodiff.arange(6.0, dtype=autodiff.float64, device=device)
    for got, x in zip(_values(jagged + dense), (A, B), strict=True):
        np.testing.assert_allclose(got, x + np.arange(6.0))
    with raises_starting(RuntimeError, "cannot call binary pointwise function mul.Tensor with "
                                       "inputs of shapes (2, j"):
        jagged * _nested(device, "jagged", A, A)


def test_unsupported_op_is_refused(device: str, layout: str) -> None:
    nested = _nested(device, layout)
    with pytest.raises(NotImplementedError):
        nested.cumsum(1)


# ----------------------------------------------------------------------------- views
def test_transpose_view_reshape_chunk(device: str, layout: str) -> None:
    nested = _nested(device, layout)
    q, k, _ = nested.chunk(3, -1)
    assert not q.is_contiguous()
    for got, x in zip(_values(k), (A, B), strict=True):
        np.testing.assert_array_equal(got, x[:, 2:4])
    heads = q.view(2, -1, 2, 1).transpose(1, 2)
    assert not heads.is_contiguous()
    for got, x in zip(_values(heads), (A, B), strict=True):
        np.testing.assert_array_equal(got, x[:, :2].reshape(-1, 2, 1).transpose(1, 0, 2))
    merged = heads.transpose(1, 2).reshape(2, -1, 2)
    for got, x in zip(_values(merged), (A, B), strict=True):
        np.testing.assert_array_equal(got, x[:, :2])
    packed = heads.contiguous()
    assert packed.is_contiguous()
    for got, want in zip(_values(packed), _values(heads), strict=True):
        np.testing.assert_array_equal(got, want)


def test_unflatten_flatten_clone(device: str) -> None:
    nested = _nested(device, "jagged", requires_grad=True)
    heads = nested.unflatten(-1, [3, -1])
    assert heads.size(-2) == 3 and heads.size(-1) == 2 and heads._ragged_idx == 1
    for got, x in zip(_values(heads), (A, B), strict=True):
        np.testing.assert_array_equal(got, x.reshape(-1, 3, 2))
    merged = heads.transpose(1, 2).clone().transpose(1, 2).flatten(-2)
    assert merged.is_nested and merged.size(-1) == 6
    for got, x in zip(_values(merged), (A, B), strict=True):
        np.testing.assert_array_equal(got, x)
    assert heads.flatten(2, 2) is heads
    merged.values().square().sum().backward()
    np.testing.assert_allclose(nested.grad.values().cpu().numpy(), 2 * np.concatenate([A, B]))

    def through(values: autodiff.Tensor) -> autodiff.Tensor:
        jagged = autodiff.nested.nested_tensor_from_jagged(
            values, autodiff.tensor([0, 2, 6], device=device))
        heads = jagged.unflatten(2, [2, 3]).transpose(1, 2).clone()
        return heads.transpose(1, 2).flatten(-2).values()

    values = autodiff.tensor(np.concatenate([A, B]), device=device, requires_grad=True)
    assert gradcheck(through, (values,))


def test_view_errors(device: str) -> None:
    nested = _nested(device, "strided")
    with raises(RuntimeError, "view: For now nested view cannot change or infer the implicit "
                              "batch dimension"):
        nested.view(3, -1, 6)
    with raises(RuntimeError, "shape '[2, -1]' is invalid for input of size 12"):
        nested.view(2, -1)
    with raises(RuntimeError, "reshape: For now nested reshape cannot change or infer the "
                              "implicit batch dimension"):
        nested.reshape(-1, 6)
    with raises(RuntimeError, "Nested tensor dimension 0 cannot be transposed"):
        nested.transpose(0, 1)
    with raises(RuntimeError, "Chunk for nested tensors is currently only supported for the "
                              "last dimension."):
        nested.chunk(2, 1)
    with raises(RuntimeError, "Chunk for nested tensors is only supported for nested tensors "
                              "with trailing dimension divisible by chunks, got: 6 % 4 != 0"):
        nested.chunk(4, -1)
    transposed = _nested(device, "strided", A.reshape(2, 3, 2), B.reshape(4, 3, 2))
    with raises_starting(RuntimeError, "view size is not compatible with input tensor's size "
                                       "and stride"):
        transposed.transpose(2, 3).view(2, -1, 6)
    with raises(ValueError, "Transpose is not supported on the batch dimension for jagged NT"):
        _nested(device, "jagged").transpose(0, 1)


# ----------------------------------------------------------------------------- nn ops
def test_linear_softmax_and_gradients(device: str, layout: str) -> None:
    nested = _nested(device, layout, requires_grad=True)
    weight_array = RNG.standard_normal((5, 6))
    weight = autodiff.tensor(weight_array, device=device, requires_grad=True)
    bias = autodiff.tensor(np.arange(5.0), device=device, requires_grad=True)
    out = F.linear(nested, weight, bias)
    assert out.grad_fn.name() == "LinearBackward0"
    assert out.size(-1) == 5
    probs = out.softmax(-1)
    assert probs.grad_fn.name() == "SoftmaxBackward0"
    padded = autodiff.nested.to_padded_tensor(probs, 0.0)
    assert padded.grad_fn.name() == "ToPaddedTensorBackward0"
    (padded * autodiff.arange(5.0, dtype=autodiff.float64, device=device)).sum().backward()

    grads = []
    for x in (A, B):  # each component through the dense ops
        dense = autodiff.tensor(x, device=device, requires_grad=True)
        dense_out = F.linear(dense, weight.detach(), bias.detach()).softmax(-1)
        (dense_out * autodiff.arange(5.0, dtype=autodiff.float64, device=device)).sum(
            ).backward()
        grads.append(dense.grad.cpu().numpy())
    for got, want in zip(_values(nested.grad), grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert weight.grad is not None and bias.grad is not None
    with pytest.raises(RuntimeError):  # the words per layout: test_errors_match_torch
        F.linear(nested, autodiff.ones(5, 4, dtype=autodiff.float64, device=device))


def test_softmax_errors(device: str) -> None:
    with raises(RuntimeError, "Cannot apply softmax across nested dimension 0"):
        _nested(device, "strided").softmax(0)


def test_dropout(device: str, layout: str) -> None:
    nested = _nested(device, layout, requires_grad=True)
    assert F.dropout(nested, 0.5, training=False) is nested
    autodiff.manual_seed(0)
    dropped = F.dropout(nested, 0.5)
    for got, x in zip(_values(dropped), (A, B), strict=True):
        kept = got != 0
        np.testing.assert_allclose(got[kept], 2 * x[kept])
    assert dropped.grad_fn.name() == "MulBackward0"


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    return probs / probs.sum(-1, keepdims=True) @ v


def test_scaled_dot_product_attention(device: str, layout: str) -> None:
    arrays = [RNG.standard_normal((length, 2, 4)) for length in (3, 5)]
    sources = [autodiff.tensor(array, device=device, requires_grad=True) for array in arrays]
    nested = autodiff.nested.as_nested_tensor(sources, layout=LAYOUTS[layout])
    heads = nested.transpose(1, 2)  # (N, H, L, E)
    if layout == "strided":
        with raises(RuntimeError, "scaled_dot_product_attention: If inputs are nested tensors "
                                  "they must be contiguous"):
            F.scaled_dot_product_attention(heads, heads, heads)
        heads = heads.contiguous()
    out = F.scaled_dot_product_attention(heads, heads, heads)
    for got, array in zip(_values(out), arrays, strict=True):
        x = array.transpose(1, 0, 2)
        np.testing.assert_allclose(got, _attention(x, x, x), rtol=1e-10)
    autodiff.nested.to_padded_tensor(out, 0.0).sum().backward()
    assert all(source.grad is not None and source.grad.shape == source.shape
               for source in sources)
    with raises_starting(RuntimeError, "scaled_dot_product_attention(): attn_mask is not "
                                       "supported"):
        F.scaled_dot_product_attention(heads, heads, heads,
                                       attn_mask=autodiff.ones(1, device=device))


def test_attention_flash_only_refuses_nested(device: str) -> None:
    if device.startswith("cuda"):
        pytest.skip("CPU dispatcher")
    nested = _nested(device, "strided", A.reshape(2, 2, 3), B.reshape(4, 2, 3))
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with raises(RuntimeError, "No available kernel.  Aborting execution."):
            F.scaled_dot_product_attention(nested, nested, nested)
    assert [str(w.message) for w in seen] == [
        "Flash attention kernel not used because:",
        "Both fused kernels of cpp version currently do not support Nested Tensor inputs."]


# ----------------------------------------------------------------------------- padding
def test_to_padded_tensor(device: str, layout: str) -> None:
    nested = _nested(device, layout, requires_grad=True)
    padded = autodiff.nested.to_padded_tensor(nested, -1.0, (3, 5, 7))
    want = np.full((3, 5, 7), -1.0)
    want[0, :2, :6], want[1, :4, :6] = A, B
    np.testing.assert_array_equal(padded.detach().cpu().numpy(), want)
    with raises(RuntimeError, "Value in output_size is less than NestedTensor padded size. "
                              "Truncation is not supported."):
        autodiff.nested.to_padded_tensor(nested, 0.0, (2, 3, 6))
    padded.sum().backward()
    for got, x in zip(_values(nested.grad), (A, B), strict=True):
        np.testing.assert_array_equal(got, np.ones_like(x))


def test_gradcheck_through_nested_ops(device: str, layout: str) -> None:
    """float64 gradcheck and gradgradcheck of component inputs through nesting, linear,
    elementwise ops, a view, softmax and padding."""
    weight = autodiff.tensor(RNG.standard_normal((4, 3)), device=device)

    def function(a: autodiff.Tensor, b: autodiff.Tensor) -> autodiff.Tensor:
        nested = autodiff.nested.as_nested_tensor([a, b], layout=LAYOUTS[layout])
        out = F.linear(nested, weight).tanh() * 2.0
        out = out.chunk(2, -1)[1].softmax(-1)
        return autodiff.nested.to_padded_tensor(out, 0.5)

    inputs = (autodiff.tensor(RNG.standard_normal((2, 3)), device=device, requires_grad=True),
              autodiff.tensor(RNG.standard_normal((3, 3)), device=device, requires_grad=True))
    assert gradcheck(function, inputs)
    assert autodiff.autograd.gradgradcheck(function, inputs)


# ----------------------------------------------------------------------------- jagged views
def test_nested_tensor_from_jagged(device: str) -> None:
    values = autodiff.tensor(RNG.standard_normal((6, 3)), device=device, requires_grad=True)
    offsets = autodiff.tensor([0, 2, 6], device=device)
    nested = autodiff.nested.nested_tensor_from_jagged(values, offsets)
    assert nested.layout is autodiff.jagged and nested.grad_fn.name() == \
        "NestedViewFromJaggedBackward0"
    assert [tuple(c.shape) for c in nested.unbind()] == [(2, 3), (4, 3)]
    with_lengths = autodiff.nested.nested_tensor_from_jagged(
        values, offsets, lengths=autodiff.tensor([1, 3], device=device))
    assert not with_lengths.is_contiguous()
    np.testing.assert_array_equal(with_lengths.unbind()[1].detach().cpu().numpy(),
                                  values.detach().cpu().numpy()[2:5])
    autodiff.nested.to_padded_tensor(with_lengths * 2, 0.0).sum().backward()
    np.testing.assert_array_equal(values.grad.cpu().numpy()[:, 0], [2, 0, 2, 2, 2, 0])
    from_lengths = autodiff.nested.nested_tensor_from_jagged(
        values.detach(), lengths=autodiff.tensor([2, 4], device=device))
    np.testing.assert_array_equal(from_lengths.offsets().cpu().numpy(), [0, 2, 6])
    with raises(RuntimeError, "nested_tensor_from_jagged(): At least one of offsets or lengths "
                              "is required."):
        autodiff.nested.nested_tensor_from_jagged(values)


def test_narrow(device: str) -> None:
    dense = autodiff.tensor(RNG.standard_normal((3, 5, 2)), device=device)
    starts = autodiff.tensor([0, 1, 2], device=device)
    lengths = autodiff.tensor([2, 3, 1], device=device)
    jagged = autodiff.nested.narrow(dense, 1, starts, lengths, layout=autodiff.jagged)
    strided = autodiff.nested.narrow(dense, 1, 1, 3, layout=autodiff.strided)
    array = dense.cpu().numpy()
    for index, component in enumerate(jagged.unbind()):
        start, length = [0, 1, 2][index], [2, 3, 1][index]
        np.testing.assert_array_equal(component.cpu().numpy(), array[index, start:start + length])
    for index, component in enumerate(strided.unbind()):
        np.testing.assert_array_equal(component.cpu().numpy(), array[index, 1:4])
    with raises(RuntimeError, "jagged layout only supports dim=1"):
        autodiff.nested.narrow(dense, 2, 0, 1, layout=autodiff.jagged)


# ----------------------------------------------------------------------------- PyTorch
def _torch_nested(torch: Any, layout: str, requires_grad: bool = False) -> Any:
    return torch.nested.nested_tensor([torch.tensor(A), torch.tensor(B)],
                                      layout=getattr(torch, layout), requires_grad=requires_grad)


def _normalize(text: str) -> str:
    """Without the nested ints' numbers and object addresses, which differ run to run."""
    return re.sub(r"j\d+", "j", re.sub(r" object at 0x[0-9a-f]+", "", text))


def test_repr_matches_torch(layout: str) -> None:
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for requires_grad in (False, True):
            ours = _nested("cpu", layout, requires_grad=requires_grad, dtype=autodiff.float32)
            theirs = _torch_nested(torch, layout, requires_grad).float()
            if requires_grad:
                ours, theirs = ours * 2, theirs * 2
            assert _normalize(repr(ours)) == _normalize(repr(theirs))


def test_pipeline_matches_torch() -> None:
    """The tutorial's attention block on a jagged batch: values and gradients as PyTorch's."""
    torch = pytest.importorskip("torch")
    weight_array = RNG.standard_normal((18, 6))

    def run(library: Any) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        sources = [library.tensor(x, requires_grad=True) for x in (A, B)]
        weight = library.tensor(weight_array, requires_grad=True)
        nested = library.nested.as_nested_tensor(sources, layout=library.jagged)
        q, k, v = (t.contiguous().view(2, -1, 2, 3).transpose(1, 2)
                   for t in library.nn.functional.linear(nested, weight).chunk(3, -1))
        out = library.nn.functional.scaled_dot_product_attention(q, k, v)
        out = out.transpose(1, 2).reshape(2, -1, 6).relu() * 2 - 1
        padded = library.nested.to_padded_tensor(out.softmax(-1), 0.25)
        (padded ** 2).sum().backward()
        return (padded.detach().numpy(), [s.grad.numpy() for s in sources],
                weight.grad.numpy())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = run(torch)
    ours = run(autodiff)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for got, want in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-9, atol=1e-15)


ERROR_CALLS = {
    "softmax over dim 0": lambda m, n: n.softmax(0),
    "chunk of a ragged dim": lambda m, n: n.chunk(2, 1),
    "view of another batch": lambda m, n: n.view(3, -1, 6),
    "view dropping a dim": lambda m, n: n.view(2, -1),
    "transpose of the batch dim": lambda m, n: n.transpose(0, 1),
    "unbind(1)": lambda m, n: n.unbind(1),
    "linear of the wrong width": lambda m, n: m.nn.functional.linear(
        n, m.ones(5, 4, dtype=m.float64)),
    "exp (strided)": lambda m, n: n.exp() if n.layout is m.strided else n.exp().cumsum(2),
    "unflatten": lambda m, n: n.unflatten(-1, [2, 3]).cumsum(1),
    "unflatten to sizes of another product": lambda m, n: n.unflatten(2, [5, -1]),
    "flatten of the batch dim": lambda m, n: n.flatten(0, 1),
    "flatten (strided), of the ragged dim (jagged)": lambda m, n: n.flatten(1, 2),
    "matmul with a dense vector": lambda m, n: m.matmul(n, m.ones(6, dtype=m.float64)),
    "matmul of 3-d nested tensors whose inner sizes differ": lambda m, n: n @ n,
    "matmul with a nested tensor of other batch": lambda m, n: n.unflatten(-1, [2, 3]) @ (
        m.nested.nested_tensor([m.ones(3, 3, 1, dtype=m.float64)] * 2, layout=n.layout)),
    "matmul of 2-d nested tensors": lambda m, n: m.matmul(
        m.nested.nested_tensor([m.ones(2, dtype=m.float64)] * 2),
        m.nested.nested_tensor([m.ones(2, dtype=m.float64)] * 2)),
}


@pytest.mark.parametrize("call", list(ERROR_CALLS.values()), ids=list(ERROR_CALLS))
def test_errors_match_torch(layout: str, call: Any) -> None:
    """The same exception type, and the same words (up to the nested int's number)."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            call(torch, _torch_nested(torch, layout))
    with pytest.raises(type(theirs.value)) as ours:
        call(autodiff, _nested("cpu", layout))
    if not isinstance(theirs.value, NotImplementedError) or layout == "strided":
        # PyTorch's strided "Could not run" message goes on about custom builds: a prefix
        assert _normalize(str(theirs.value)).startswith(_normalize(str(ours.value)))


def test_chunk_matches_torch(layout: str) -> None:
    """Chunks of the last dim (unequal ones in the jagged layout, as torch.chunk makes)."""
    torch = pytest.importorskip("torch")
    chunks = 4 if layout == "jagged" else 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [[c.numpy() for c in part.unbind()]
                  for part in _torch_nested(torch, layout).chunk(chunks, -1)]
    ours = [_values(part) for part in _nested("cpu", layout).chunk(chunks, -1)]
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        for got, want in zip(mine, other, strict=True):
            np.testing.assert_array_equal(got, want)


def test_device_transfer_and_autograd_grad_refusal(device: str) -> None:
    nested = _nested("cpu", "jagged", requires_grad=True)
    moved = nested.to(device)
    assert moved.device == autodiff.device(device)
    assert moved.offsets().device == autodiff.device(device)
    if device != "cpu":
        assert moved.grad_fn.name() == "ToCopyBackward0"
    padded = autodiff.nested.to_padded_tensor(moved * 2, 0.0)
    with pytest.raises(NotImplementedError, match="does not take nested tensors as inputs"):
        autodiff.autograd.grad(padded.sum(), [nested])
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        (moved * 2).backward()
    padded.sum().backward()
    for got in _values(nested.grad):
        np.testing.assert_array_equal(got, np.full_like(got, 2.0))


@pytest.mark.parametrize(("call", "layout_name", "message"), [
    (lambda n: n.sigmoid(), "strided", "Could not run 'aten::sigmoid' with arguments from the "
                                       "'NestedTensorCPU' backend."),
    (lambda n: n ** 2, "strided", "Could not run 'aten::pow.Tensor_Scalar' with arguments from "
                                  "the 'NestedTensorCPU' backend."),
    (lambda n: 1 - n, "strided", "Could not run 'aten::rsub.Scalar' with arguments from the "
                                 "'NestedTensorCPU' backend."),
    (lambda n: F.leaky_relu(n), "strided", "Could not run 'aten::leaky_relu' with arguments "
                                           "from the 'NestedTensorCPU' backend."),
])
def test_strided_refusals_name_the_overload(call: Any, layout_name: str, message: str) -> None:
    with raises_starting(NotImplementedError, message):
        call(_nested("cpu", layout_name))
    jagged = _nested("cpu", "jagged")
    assert call(jagged).is_nested  # the jagged layout has every elementwise op


def test_jagged_ragged_size_is_nested_even_when_lengths_agree() -> None:
    nested = _nested("cpu", "jagged", A, A)
    assert re.fullmatch(r"j\d+", repr(nested.size(1)))


# ----------------------------------------------------------------------------- matmul, indexing
def test_matmul(device: str, layout: str) -> None:
    """Component by component: two strided nested tensors; a jagged tensor against a dense
    matrix (on its rows) or batch; gradients reach every component."""
    nested = _nested(device, layout, requires_grad=True)
    matrix = autodiff.tensor(RNG.standard_normal((6, 3)), device=device, requires_grad=True)
    if layout == "strided":
        other = autodiff.nested.as_nested_tensor([matrix, matrix * 2])
        with raises(RuntimeError, "Expected both to be nested, but got a nested self and "
                                  "non-nested other"):
            autodiff.matmul(nested, matrix)
        with raises(RuntimeError, "matmul: For nested tensors, only inputs with >= 3 dims are "
                                  "currently supported. 1st input has rank: 2"):
            autodiff.matmul(autodiff.nested.nested_tensor([matrix[0]]),
                            autodiff.nested.nested_tensor([matrix]))
    else:
        other = matrix
    out = autodiff.matmul(nested, other)
    assert out.is_nested and out.layout is LAYOUTS[layout]
    assert out.grad_fn is not None
    scales = (1.0, 2.0) if layout == "strided" else (1.0, 1.0)
    want = [x @ (matrix.detach().cpu().numpy() * scale) for x, scale in zip((A, B), scales)]
    for got, expected in zip(_values(out), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    autodiff.nested.to_padded_tensor(out, 0.0).sum().backward()
    for got, x in zip(_values(nested.grad), (A, B), strict=True):
        assert got.shape == x.shape
    assert matrix.grad is not None and matrix.grad.shape == (6, 3)
    batch = autodiff.tensor(RNG.standard_normal((2, 6, 4)), device=device)
    if layout == "jagged":
        for part, x, dense in zip(_values(nested @ batch), (A, B), batch.cpu().numpy(),
                                  strict=True):
            np.testing.assert_allclose(part, x @ dense, rtol=1e-12)


def test_gradcheck_through_matmul(device: str, layout: str) -> None:
    weight = autodiff.tensor(RNG.standard_normal((3, 2)), device=device, requires_grad=True)

    def function(a: autodiff.Tensor, b: autodiff.Tensor, w: autodiff.Tensor) -> autodiff.Tensor:
        nested = autodiff.nested.as_nested_tensor([a, b], layout=LAYOUTS[layout])
        other = autodiff.nested.as_nested_tensor([w, w * 3.0]) if layout == "strided" else w
        return autodiff.nested.to_padded_tensor(autodiff.matmul(nested, other), 0.0)

    inputs = (autodiff.tensor(RNG.standard_normal((2, 3)), device=device, requires_grad=True),
              autodiff.tensor(RNG.standard_normal((4, 3)), device=device, requires_grad=True),
              weight)
    assert gradcheck(function, inputs)
    assert autodiff.autograd.gradgradcheck(function, inputs)


def test_matmul_matches_torch() -> None:
    """The tutorial's reshape, transpose and matmul of strided nested tensors."""
    torch = pytest.importorskip("torch")
    parts = [RNG.standard_normal((2, 6)), RNG.standard_normal((3, 6))]
    others = [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 3, 5))]
    results = []
    for module in (autodiff, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nested = module.nested.nested_tensor([module.tensor(p) for p in parts])
            other = module.nested.nested_tensor([module.tensor(p) for p in others])
            out = module.matmul(nested.reshape(2, -1, 2, 3).transpose(1, 2), other)
        results.append([component.numpy() for component in out.unbind()])
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_indexing_a_component_then_its_dims(device: str, layout: str) -> None:
    """An integer (or a 0-d integer tensor) picks a component; the rest of the key indexes it."""
    nested = _nested(device, layout, requires_grad=True)
    np.testing.assert_array_equal(nested[1, :, -1].detach().cpu().numpy(), B[:, -1])
    np.testing.assert_array_equal(nested[-1, 0].detach().cpu().numpy(), B[0])
    index = autodiff.tensor(1, device=device)
    np.testing.assert_array_equal(nested[index, 1:3].detach().cpu().numpy(), B[1:3])
    assert not nested[(0,)].is_nested and nested[(0,)].shape == A.shape
    nested[1, :, -1].sum().backward()
    grads = _values(nested.grad)
    np.testing.assert_array_equal(grads[0], np.zeros_like(A))
    expected = np.zeros_like(B)
    expected[:, -1] = 1.0
    np.testing.assert_array_equal(grads[1], expected)
    with raises(IndexError, "index 9 is out of bounds for dimension 0 with size 4"):
        nested[1, 9]


def test_format_is_the_repr(layout: str) -> None:
    nested = _nested("cpu", layout)
    assert f"{nested}" == repr(nested)


def test_compiled_function_of_a_nested_tensor_runs_eagerly(device: str, layout: str) -> None:
    """A program replays array operations; a nested argument's ops go to the nested rules."""
    weight = autodiff.tensor(RNG.standard_normal((6, 3)), device=device)

    def function(nested: autodiff.Tensor) -> autodiff.Tensor:
        return F.softmax(autodiff.matmul(nested, weight) if layout == "jagged"
                         else F.linear(nested, weight.T), -1)

    compiled = autodiff.compile(function)
    nested = _nested(device, layout)
    for _ in range(2):
        for got, want in zip(_values(compiled(nested)), _values(function(nested)), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12)
    assert compiled.stats.eager_calls == 2 and compiled.stats.traces == 0
