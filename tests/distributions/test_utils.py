"""torch.distributions.utils: broadcast_all, probabilities and logits, clamp_probs,
lazy_property and the lower-triangle packing, with and without PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
from autodiff.distributions import utils


def test_broadcast_all_makes_numbers_tensors_of_the_first_tensors_dtype(device: str) -> None:
    loc = autodiff.zeros(2, 1, dtype=autodiff.float64, device=device)
    a, b, c = utils.broadcast_all(loc, 3, autodiff.ones(3, dtype=autodiff.float64,
                                                        device=device))
    assert a.shape == b.shape == c.shape == (2, 3)
    assert b.dtype is autodiff.float64 and str(b.device) == device and b.tolist()[0] == [3.0] * 3
    x, y = utils.broadcast_all(1, 2.5)
    assert x.dtype is autodiff.get_default_dtype() and x.shape == () and float(y) == 2.5
    with pytest.raises(ValueError, match=r"Input arguments must all be instances of Number, "
                                         r"torch\.Tensor or objects implementing"):
        utils.broadcast_all("a", 1.0)


def test_probabilities_and_logits() -> None:
    logits = autodiff.tensor([[0.5, -1.0, 2.0]])
    probs = utils.logits_to_probs(logits)
    np.testing.assert_allclose(probs.numpy(), np.exp([0.5, -1, 2]) / np.exp([0.5, -1, 2]).sum()
                               * np.ones((1, 3)), rtol=1e-6)
    np.testing.assert_allclose(utils.probs_to_logits(probs).exp().numpy(), probs.numpy(),
                               rtol=1e-5)
    binary = utils.logits_to_probs(autodiff.tensor([0.0, 2.0]), is_binary=True)
    np.testing.assert_allclose(binary.numpy(), [0.5, 1 / (1 + math.exp(-2))], rtol=1e-6)
    np.testing.assert_allclose(utils.probs_to_logits(binary, is_binary=True).numpy(), [0, 2],
                               atol=1e-5)
    eps = autodiff.finfo(autodiff.float32).eps
    assert utils.clamp_probs(autodiff.tensor([0.0, 1.0])).tolist() == [eps, 1 - eps]


def test_tril_packing_round_trip_and_errors() -> None:
    matrix = autodiff.arange(16.0).reshape(4, 4)
    for diag in (-2, -1, 0, 1):
        vec = utils.tril_matrix_to_vec(matrix, diag=diag)
        expected = np.arange(16.0).reshape(4, 4)[np.tril(np.ones((4, 4)), diag) > 0]
        assert vec.tolist() == expected.tolist()
        assert utils.vec_to_tril_matrix(vec, diag=diag).tolist() == np.tril(
            np.arange(16.0).reshape(4, 4), diag).tolist()
    with pytest.raises(ValueError, match=r"diag \(4\) provided is outside \[-4, 3\]\."):
        utils.tril_matrix_to_vec(matrix, diag=4)
    with pytest.raises(ValueError, match="The size of last dimension is 4 which cannot be "
                                         "expressed as the lower triangular part"):
        utils.vec_to_tril_matrix(autodiff.ones(4))  # (PyTorch misses a size below a square's)
    # Differentiable both ways.
    vec = autodiff.ones(2, 3, requires_grad=True)
    utils.vec_to_tril_matrix(vec).sum().backward()
    assert vec.grad.tolist() == [[1.0] * 3] * 2


def test_lazy_property_computes_once_with_gradients_recorded() -> None:
    calls = []

    class Holder:
        def __init__(self, x: autodiff.Tensor) -> None:
            self.x = x

        @utils.lazy_property
        def doubled(self) -> autodiff.Tensor:
            calls.append(1)
            return self.x * 2

    holder = Holder(autodiff.ones(2, requires_grad=True))
    with autodiff.no_grad():
        value = holder.doubled  # computed with grad enabled nonetheless
    assert value.requires_grad and holder.doubled is value and len(calls) == 1
    assert isinstance(Holder.doubled, property)  # documentation tools see a property


def test_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    from torch.distributions import utils as theirs

    values = np.array([[0.1, 0.0, 0.9], [1.0, 0.5, 1e-9]])
    for is_binary in (False, True):
        np.testing.assert_allclose(
            utils.probs_to_logits(autodiff.tensor(values), is_binary).numpy(),
            theirs.probs_to_logits(torch.tensor(values), is_binary).numpy())
        np.testing.assert_allclose(
            utils.logits_to_probs(autodiff.tensor(values), is_binary).numpy(),
            theirs.logits_to_probs(torch.tensor(values), is_binary).numpy())
    assert utils.euler_constant == theirs.euler_constant
    vec = np.arange(10.0)
    assert (utils.vec_to_tril_matrix(autodiff.tensor(vec), -1).tolist()
            == theirs.vec_to_tril_matrix(torch.tensor(vec), -1).tolist())
