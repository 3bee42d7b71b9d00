"""Reductions where the op table's random inputs never go: zeros in products, ties in max/min,
PyTorch's choices at kinks, named-tuple results, dims, errors and warnings.

Expected values were produced by PyTorch 2.13 (test_torch_parity.py checks the same cases
against torch itself when it is installed).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import autodiff
from autodiff import autograd
from tests.helpers import grad_of, leaf, raises, raises_containing


# ----------------------------------------------------------------------------- prod with zeros
@pytest.mark.parametrize(("values", "expected"), [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),      # one zero: it gets the product of the others
    ([2.0, 0.0, 0.0], [0.0, 0.0, 0.0]),      # two zeros: every product of others has a zero
    ([2.0, 5.0, 3.0], [15.0, 6.0, 10.0]),
    ([0.0], [1.0]),
])
def test_prod_gradient_with_zeros(values: list[float], expected: list[float],
                                  device: str) -> None:
    assert grad_of(lambda x: x.prod(), values, device) == expected


def test_prod_dim_gradient_with_zeros(device: str) -> None:
    values = [[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]
    assert grad_of(lambda x: x.prod(1), values, device) == [
        [0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]]
    assert grad_of(lambda x: x.prod(0, keepdim=True), values, device) == [
        [0.0, 0.0, 3.0], [2.0, 0.0, 9.0], [0.0, 0.0, 3.0]]


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_with_zeros_matches_numerical_gradient(dim: int | None, device: str) -> None:
    values = autodiff.tensor([[0.0, 1.5, -2.0, 0.0], [0.5, 0.0, 3.0, 1.0], [2.0, -1.0, 0.5, 0.0]],
                             dtype=autodiff.float64, device=device, requires_grad=True)
    assert autograd.gradcheck(lambda x: x.prod() if dim is None else x.prod(dim), (values,))


# ----------------------------------------------------------------------------- cumprod, cumsum
def test_cumprod_gradient_with_zeros(device: str) -> None:
    assert grad_of(lambda x: x.cumprod(0), [2.0, 0.0, 3.0, 0.0, 5.0], device) == [
        1.0, 8.0, 0.0, 0.0, 0.0]
    assert grad_of(lambda x: x.cumprod(0), [0.0, 0.0, 2.0], device) == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_with_zeros_matches_numerical_gradient(dim: int, device: str) -> None:
    values = autodiff.tensor([[0.0, 1.5, -2.0, 0.0], [0.5, 0.0, 3.0, 1.0], [2.0, -1.0, 0.0, 0.0]],
                             dtype=autodiff.float64, device=device, requires_grad=True)
    weights = autodiff.tensor(np.linspace(-1, 2, 12).reshape(3, 4), dtype=autodiff.float64,
                              device=device)
    assert autograd.gradcheck(lambda x: x.cumprod(dim) * weights, (values,))


def test_cumsum_and_cumprod_keep_integer_semantics() -> None:
    ints = autodiff.tensor([1, 2, 3], dtype=autodiff.int32)
    assert ints.cumsum(0).dtype is autodiff.int64
    assert ints.cumprod(0).tolist() == [1, 2, 6]
    assert autodiff.tensor([True, False, True]).cumsum(0).tolist() == [1, 1, 2]
    assert ints.cumsum(0, dtype=autodiff.float64).dtype is autodiff.float64
    with pytest.raises(TypeError):
        ints.cumsum()  # type: ignore[call-arg]  # dim is required, as in PyTorch


# ----------------------------------------------------------------------------- max/min ties
def test_full_max_and_min_split_the_gradient_among_ties(device: str) -> None:
    assert grad_of(lambda x: x.max(), [1.0, 3.0, 3.0, 2.0], device) == [0.0, 0.5, 0.5, 0.0]
    assert grad_of(lambda x: x.min(), [1.0, 1.0, 3.0, 2.0], device) == [0.5, 0.5, 0.0, 0.0]
    nan = math.nan
    assert grad_of(lambda x: x.max(), [1.0, nan, nan], device) == [0.0, 0.5, 0.5]


def test_max_dim_gives_the_gradient_to_the_returned_index(device: str) -> None:
    values = [[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]
    result = leaf(values, device).max(0)
    assert result.indices.tolist() == [1, 0]  # the first of the ties
    assert grad_of(lambda x: x.max(0).values, values, device) == [[0.0, 1.0], [1.0, 0.0],
                                                                  [0.0, 0.0]]
    assert grad_of(lambda x: x.min(1, keepdim=True)[0], values, device) == [
        [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]


def test_amax_amin_split_ties_evenly(device: str) -> None:
    values = [[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]]
    assert grad_of(lambda x: x.amax(0), values, device) == [[0.0, 0.5], [0.5, 0.5], [0.5, 0.0]]
    assert grad_of(lambda x: x.amin((0, 1)), [[1.0, 1.0], [2.0, 1.0]], device) == [
        [1 / 3, 1 / 3], [0.0, 1 / 3]]


def test_max_propagates_nan_and_its_index() -> None:
    x = autodiff.tensor([1.0, math.nan, 3.0, math.nan])
    values, indices = x.max(0)
    assert math.isnan(values.item()) and indices.item() == 1
    assert math.isnan(x.amax().item()) and x.argmax().item() == 1


def test_max_dim_result_is_a_named_tuple() -> None:
    x = leaf([[1.0, 5.0], [4.0, 2.0]])
    result = autodiff.max(x, dim=1, keepdim=True)
    assert isinstance(result, tuple) and isinstance(result, autodiff.return_types.max)
    values, indices = result
    assert values is result.values is result[0] and indices is result.indices
    assert values.shape == (2, 1) and indices.tolist() == [[1], [0]]
    assert values.grad_fn.name() == "MaxBackward0"
    assert indices.dtype is autodiff.int64 and not indices.requires_grad
    assert indices.grad_fn is None
    assert repr(result).startswith("torch.return_types.max(\nvalues=tensor(")
    assert "\nindices=tensor(" in repr(result)
    assert result.n_fields == 2
    restored = pickle.loads(pickle.dumps(autodiff.return_types.min((1.5, 0))))
    assert type(restored) is autodiff.return_types.min
    assert restored.values == 1.5 and restored.indices == 0


def test_max_with_a_tensor_is_maximum() -> None:
    x, y = leaf([1.0, 4.0]), leaf([3.0, 2.0])
    out = autodiff.max(x, y)
    assert out.tolist() == [3.0, 4.0] and out.grad_fn.name() == "MaximumBackward0"
    assert x.min(y).grad_fn.name() == "MinimumBackward0"


def test_zero_dim_max_and_argmax() -> None:
    x = leaf(2.5)
    values, indices = x.max(0)
    assert values.item() == 2.5 and indices.item() == 0
    values.backward()
    assert x.grad.item() == 1.0
    assert autodiff.tensor(3.0).argmax(0).item() == 0


def test_argmax_argmin() -> None:
    x = autodiff.tensor([[1.0, 3.0, 3.0], [4.0, 0.0, 4.0]])
    assert x.argmax().item() == 3  # flattened
    assert x.argmax(keepdim=True).shape == (1, 1)
    assert x.argmax(1).tolist() == [1, 0] and x.argmin(-1, keepdim=True).tolist() == [[0], [1]]
    assert autodiff.tensor([3, 1, 2]).argmin().item() == 1
    with pytest.raises(RuntimeError, match=r"^argmax\(\): does not support bool input$"):
        autodiff.tensor([True, False]).argmax()


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: x.max(), RuntimeError,
     "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
     "reduction dim with the 'dim' argument."),
    (lambda x: x.min(0), IndexError, "min(): Expected reduction dim 0 to have non-zero size."),
    (lambda x: x.amax(), RuntimeError,
     "amax(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
     "reduction dim with the 'dim' argument."),
    (lambda x: x.amin(0), IndexError, "amin(): Expected reduction dim 0 to have non-zero size."),
    (lambda x: x.argmax(), IndexError,
     "argmax(): Expected reduction dim to be specified for input.numel() == 0."),
    (lambda x: x.argmax(0), IndexError,
     "argmax(): Expected reduction dim 0 to have non-zero size."),
    (lambda x: x.norm(float("inf")), RuntimeError,
     "linalg.vector_norm cannot compute the inf norm on an empty tensor because the operation "
     "does not have an identity"),
])
def test_reductions_without_identity_refuse_empty_inputs(call: object, error: type,
                                                         message: str) -> None:
    empty = autodiff.ones(0, 3)
    with pytest.raises(error) as raised:
        call(empty)  # type: ignore[operator]
    assert str(raised.value) == message


def test_reductions_over_empty_dims_follow_pytorch() -> None:
    empty = autodiff.ones(0, 3)
    assert empty.max(1).values.shape == (0,) and empty.amax(1).shape == (0,)
    assert empty.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert empty.prod(0).tolist() == [1.0, 1.0, 1.0]
    assert empty.logsumexp(0).tolist() == [-math.inf] * 3
    assert empty.norm(dim=0).tolist() == [0.0, 0.0, 0.0]
    assert autodiff.ones(0).prod().item() == 1.0


# ----------------------------------------------------------------------------- dims
def test_dims_int_tuple_negative_and_empty() -> None:
    x = autodiff.arange(24, dtype=autodiff.float64).reshape(2, 3, 4)
    expected = np.arange(24.0).reshape(2, 3, 4)
    assert x.sum((-1, 0)).tolist() == expected.sum((2, 0)).tolist()
    assert x.amax((0, 2), keepdim=True).shape == (1, 3, 1)
    assert x.var(-2).shape == (2, 4)
    assert x.sum(()).item() == expected.sum()  # an empty dim list means all dims, as PyTorch
    assert x.mean(()).item() == expected.mean()
    assert x.amax(()).item() == 23.0
    assert x.logsumexp((0, 1, 2)).item() == pytest.approx(np.log(np.exp(expected).sum()))
    with raises_containing(RuntimeError, 'dim 0 appears multiple times in the list of dims'):
        x.sum((0, -3))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-3, 2\], but got 3\)"):
        x.prod(3)
    with pytest.raises(TypeError, match=r"^prod\(\) received an invalid combination"):
        x.prod((0, 1))
    with pytest.raises(TypeError, match=r"^max\(\) received an invalid combination"):
        x.max((0, 1))


def test_node_names_follow_how_dim_is_given() -> None:
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.sum(()).grad_fn.name() == "SumBackward1"
    assert x.prod().grad_fn.name() == "ProdBackward0"
    assert x.prod(1).grad_fn.name() == "ProdBackward1"
    assert x.max().grad_fn.name() == "MaxBackward1"
    assert x.min(0).values.grad_fn.name() == "MinBackward0"
    assert x.norm(dim=1).grad_fn.name() == "LinalgVectorNormBackward0"


# ----------------------------------------------------------------------------- var, std
def test_var_std_correction_and_legacy_unbiased() -> None:
    data = [[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]]
    x, array = autodiff.tensor(data, dtype=autodiff.float64), np.array(data)
    assert x.var().item() == pytest.approx(array.var(ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(array.var())
    assert autodiff.var(x, False).item() == pytest.approx(array.var())
    assert x.std(1, correction=0).tolist() == pytest.approx(array.std(1).tolist())
    assert x.var(0, True, True).tolist()[0] == pytest.approx(array.var(0, ddof=1).tolist())
    assert x.var(correction=1.5).item() == pytest.approx(array.var(ddof=1.5))
    with pytest.raises(TypeError):
        x.var(0, unbiased=True, correction=0)


def test_var_with_no_degrees_of_freedom_warns_and_gives_nan() -> None:
    with pytest.warns(UserWarning, match=r"^var\(\): degrees of freedom is <= 0\. Correction "
                                         r"should be strictly less than the reduction factor"):
        out = autodiff.ones(1).var()
    assert math.isnan(out.item())
    with pytest.warns(UserWarning, match=r"^std\(\): degrees of freedom is <= 0"):
        assert math.isnan(autodiff.ones(0).std().item())
    with pytest.warns(UserWarning):
        assert autodiff.tensor([1.0, 2.0]).var(correction=2).item() == math.inf


def test_std_gradient_is_zero_where_std_is_zero(device: str) -> None:
    assert grad_of(lambda x: x.std(), [1.0, 1.0], device) == [0.0, 0.0]
    assert grad_of(lambda x: x.std(1), [[2.0, 2.0], [1.0, 3.0]], device) == [
        [0.0, 0.0], [-1 / math.sqrt(2), 1 / math.sqrt(2)]]


def test_integer_inputs_are_refused_where_pytorch_refuses_them() -> None:
    ints = autodiff.tensor([1, 2, 3])
    with raises(RuntimeError, 'std and var only support floating point and complex dtypes'):
        ints.var()
    with pytest.raises(RuntimeError, match=r"^mean\(\): could not infer output dtype\. Input "
                                           r"dtype must be either a floating point or complex "
                                           r"dtype\. Got: Long$"):
        ints.mean()
    with raises(RuntimeError, 'linalg.vector_norm: Expected a floating point or complex tensor '
                              'as input. Got Long'):
        ints.norm()
    assert ints.logsumexp(0).dtype is autodiff.float32
    assert ints.prod().dtype is autodiff.int64 and ints.prod().item() == 6
    assert ints.max().dtype is autodiff.int64 and ints.sum().dtype is autodiff.int64


# ----------------------------------------------------------------------------- logsumexp, norm
def test_logsumexp_is_stable() -> None:
    x = autodiff.tensor([[1000.0, 1000.0], [-math.inf, -math.inf]], dtype=autodiff.float64)
    out = x.logsumexp(1)
    assert out.tolist()[0] == pytest.approx(1000 + math.log(2))
    assert out.tolist()[1] == -math.inf
    with pytest.raises(TypeError):
        x.logsumexp()  # type: ignore[call-arg]  # dim is required, as in PyTorch


def test_norm_choices_at_zero(device: str) -> None:
    assert grad_of(lambda x: x.norm(), [0.0, 0.0], device) == [0.0, 0.0]
    assert grad_of(lambda x: x.norm(1), [0.0, -1.0], device) == [0.0, -1.0]
    assert grad_of(lambda x: x.norm(3), [0.0, 0.0], device) == [0.0, 0.0]
    assert grad_of(lambda x: x.norm(float("inf")), [1.0, -3.0, 3.0], device) == [
        0.0, -0.5, 0.5]
    x = leaf([0.0, 2.0], device)
    x.norm(0).backward()
    assert x.grad is None  # p = 0 has no gradient


def test_norm_orders_and_strings() -> None:
    x = autodiff.tensor([[3.0, -4.0], [0.0, 12.0]], dtype=autodiff.float64)
    assert x.norm().item() == 13.0
    assert autodiff.norm(x, "fro", dim=(0, 1)).item() == 13.0
    assert x.norm(p=None).item() == 13.0
    assert x.norm(dim=1).tolist() == [5.0, 12.0]
    assert x.norm(1).item() == 19.0 and x.norm(0).item() == 3.0
    assert x.norm(float("-inf"), dim=1).tolist() == [3.0, 0.0]
    assert x.float().norm(dtype=autodiff.float64).dtype is autodiff.float64
    with raises(RuntimeError, 'linalg.matrix_norm: Order abc not supported.'):
        x.norm("abc")


# ----------------------------------------------------------------------------- any, all
def test_any_all() -> None:
    x = autodiff.tensor([[0.0, 2.0], [0.0, 0.0]])
    assert x.any().item() is True and x.all().item() is False
    assert x.any(1).tolist() == [True, False] and x.all(0, keepdim=True).shape == (1, 2)
    assert autodiff.tensor([1, 2], dtype=autodiff.uint8).all().dtype is autodiff.uint8


# ----------------------------------------------------------------------------- second order
@pytest.mark.parametrize("reduce", [
    lambda x: x.prod(1), lambda x: x.prod(), lambda x: x.var(0), lambda x: x.std(1),
    lambda x: x.norm(dim=0), lambda x: x.norm(3), lambda x: x.logsumexp(1),
    lambda x: x.cumsum(1), lambda x: x.cumprod(0), lambda x: x.amax(1), lambda x: x.max(),
    lambda x: x.max(0).values, lambda x: x.mean((0, 1)),
], ids=["prod_dim", "prod", "var", "std", "norm", "norm3", "logsumexp", "cumsum", "cumprod",
        "amax", "max", "max_dim", "mean"])
def test_second_order_gradients(reduce: object, device: str) -> None:
    """The backward formulas are Tensor ops, so differentiating them again is exact."""
    values = autodiff.tensor([[0.5, -1.2, 2.0], [1.5, 0.7, -0.4]], dtype=autodiff.float64,
                             device=device, requires_grad=True)
    shape = tuple(reduce(values).shape)  # type: ignore[operator]
    scale = autodiff.tensor(np.linspace(-1.0, 1.5, math.prod(shape)).reshape(shape),
                            dtype=autodiff.float64, device=device)
    assert autograd.gradgradcheck(reduce, (values,), (scale,))  # type: ignore[arg-type]


def test_mean_of_nothing_is_nan_without_warnings() -> None:
    x = autodiff.ones(0, 3, requires_grad=True)
    with np.errstate(all="raise"):
        out = x.mean(0)
        out.sum().backward()
    assert all(math.isnan(v) for v in out.tolist()) and math.isnan(autodiff.ones(0).mean().item())
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "dim", "keepdim"), [
    ((64, 256), None, False), ((7, 11, 3), None, False), ((7, 11, 3), (0, 2), True),
    ((5, 13), 1, False), ((1000,), 0, True)])
def test_mean_is_one_division_of_the_sum_in_its_dtype(dtype: str, shape: tuple[int, ...],
                                                      dim: object, keepdim: bool) -> None:
    """The CPU's mean, bit for bit: the sum, then one division by the count in the dtype."""
    values = np.random.default_rng(7).standard_normal(shape).astype(dtype)
    x = autodiff.tensor(values)
    got = x.mean() if dim is None else x.mean(dim=dim, keepdim=keepdim)
    axis = None if dim is None else dim
    total = np.add.reduce(values, axis=axis, keepdims=keepdim)
    count = values.size // max(np.asarray(total).size, 1) if dim is not None else values.size
    expected = np.true_divide(total, count, dtype=dtype)
    assert np.asarray(got.numpy()).tobytes() == np.asarray(expected).tobytes()
