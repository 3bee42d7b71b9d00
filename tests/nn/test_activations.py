"""Activations against PyTorch: values, gradients, second derivatives and node names at kinks,
in both tails and at NaN; the in-place forms (their own nodes, their refusals); errors with
PyTorch's messages; the modules' reprs and parameters; rrelu's and gumbel_softmax's randomness.
(The op table checks every function against NumPy on every device, without PyTorch.)"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F
from tests.compare import compare, same_error

KINKS = np.array([-30.0, -3.0, -2.5, -1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0, 2.5, 3.0, 6.0, 30.0])

# name -> call on (functional namespace, x); every input above, float64, first and second order.
FUNCTIONS: dict[str, Any] = {
    "elu": lambda F, x: F.elu(x, 0.7),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, 1.5),
    "hardtanh": lambda F, x: F.hardtanh(x, -0.5, 2.5),
    "relu6": lambda F, x: F.relu6(x),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x),
    "hardswish": lambda F, x: F.hardswish(x),
    "silu": lambda F, x: F.silu(x),
    "mish": lambda F, x: F.mish(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "softplus": lambda F, x: F.softplus(x, 2.0, 4.0),
    "softshrink": lambda F, x: F.softshrink(x, 0.5),
    "hardshrink": lambda F, x: F.hardshrink(x, 0.5),
    "tanhshrink": lambda F, x: F.tanhshrink(x),
    "softsign": lambda F, x: F.softsign(x),
    "threshold": lambda F, x: F.threshold(x, 0.5, -4.0),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2),
    "rrelu_eval": lambda F, x: F.rrelu(x, 0.1, 0.3),
    "glu": lambda F, x: F.glu(x.reshape(2, 7), 0),
    "softmin": lambda F, x: F.softmin(x.reshape(2, 7), 1),
    "softmin_dtype": lambda F, x: F.softmin(x.reshape(7, 2), 0, dtype=x.dtype),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
}

# In place on a copy of x: name -> call; the node is the in-place op's own.
IN_PLACE: dict[str, Any] = {
    "elu_": lambda F, x: F.elu_(x, 0.7),
    "elu_inplace": lambda F, x: F.elu(x, 2.0, inplace=True),
    "selu_": lambda F, x: F.selu_(x),
    "celu_": lambda F, x: F.celu_(x, 0.5),
    "leaky_relu_": lambda F, x: F.leaky_relu_(x, 0.3),
    "hardtanh_": lambda F, x: F.hardtanh_(x, -2.0, 2.0),
    "relu6_inplace": lambda F, x: F.relu6(x, inplace=True),
    "relu_": lambda F, x: F.relu_(x),
    "threshold_": lambda F, x: F.threshold_(x, 0.5, 2.0),
    "threshold_inplace": lambda F, x: F.threshold(x, -0.5, 2.0, inplace=True),
    "rrelu_": lambda F, x: F.rrelu_(x, 0.2, 0.4),
    "hardsigmoid_inplace": lambda F, x: F.hardsigmoid(x, inplace=True),
    "hardswish_inplace": lambda F, x: F.hardswish(x, inplace=True),
    "silu_inplace": lambda F, x: F.silu(x, inplace=True),
    "mish_inplace": lambda F, x: F.mish(x, inplace=True),
}


# PyTorch has no derivative of hardsigmoid_backward (ours is twice differentiable: the op
# table's gradgradcheck covers it).
NOT_TWICE_IN_PYTORCH = {"hardsigmoid"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_against_pytorch_at_kinks_and_tails(name: str) -> None:
    torch = pytest.importorskip("torch")
    call = FUNCTIONS[name]
    compare(torch, lambda x: call(F, x), lambda x: call(torch.nn.functional, x), [KINKS],
            second_order=name not in NOT_TWICE_IN_PYTORCH)


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_forms_against_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    call = IN_PLACE[name]

    def run(functional: Any) -> Any:
        def op(x: Any) -> Any:
            copy = x * 1
            result = call(functional, copy)
            assert result is copy
            return copy
        return op

    compare(torch, run(F), run(torch.nn.functional), [KINKS],
            second_order=name.split("_")[0] not in NOT_TWICE_IN_PYTORCH)


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid",
                                  "hardswish", "silu", "mish", "logsigmoid", "softplus",
                                  "softshrink", "hardshrink", "threshold", "leaky_relu"])
def test_nan_and_float32_as_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    call = FUNCTIONS[name]
    values = np.array([np.nan, -1.5, 0.25, 4.0])
    for dtype in ("float32", "float16"):
        ours = call(F, autodiff.tensor(values, dtype=getattr(autodiff, dtype),
                                       requires_grad=True))
        theirs = call(torch.nn.functional, torch.tensor(values, dtype=getattr(torch, dtype),
                                                        requires_grad=True))
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(ours.detach().double().numpy(),
                                   theirs.detach().double().numpy(), rtol=2e-3, equal_nan=True)
    compare(torch, lambda x: call(F, x), lambda x: call(torch.nn.functional, x), [values])


def test_prelu_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for x_shape, w_shape in [((3, 4), (4,)), ((3, 4), (1,)), ((2, 3, 5), (3,)), ((5,), (1,)),
                             ((), (1,)), ((3, 4), ()), ((2, 3, 2, 2), (3,))]:
        compare(torch, F.prelu, torch.nn.functional.prelu,
                [rng.standard_normal(x_shape), rng.uniform(-1, 1, w_shape)], second_order=True)


@pytest.mark.parametrize("case", [
    "celu_alpha_0", "hardtanh_bounds", "softshrink_negative", "softshrink_negative_double",
    "glu_odd", "glu_scalar", "glu_dim", "prelu_channels", "prelu_ndim", "prelu_dtype",
    "prelu_scalar_input", "rrelu_bounds", "elu_long", "selu_bool", "hardsigmoid_long",
    "hardswish_long", "mish_long", "logsigmoid_long", "hardshrink_long", "softshrink_long",
    "threshold_bool", "leaky_relu_long", "rrelu_long", "rrelu_training_long", "glu_long",
    "hardtanh_bool", "relu6_bool", "softplus_long", "silu_long", "softsign_bool",
])
def test_errors_as_pytorch(case: str) -> None:
    torch = pytest.importorskip("torch")
    calls = {
        "celu_alpha_0": lambda F, t: F.celu(t.ones(3), 0.0),
        "hardtanh_bounds": lambda F, t: F.hardtanh(t.ones(3), 2.0, 1.0),
        "softshrink_negative": lambda F, t: F.softshrink(t.ones(3), -1.0),
        "softshrink_negative_double": lambda F, t: F.softshrink(
            t.ones(3, dtype=t.float64), -0.25),
        "glu_odd": lambda F, t: F.glu(t.ones(2, 3)),
        "glu_scalar": lambda F, t: F.glu(t.tensor(1.0)),
        "glu_dim": lambda F, t: F.glu(t.ones(2, 4), 2),
        "prelu_channels": lambda F, t: F.prelu(t.ones(2, 3), t.ones(4)),
        "prelu_ndim": lambda F, t: F.prelu(t.ones(2, 4), t.ones(2, 2)),
        "prelu_dtype": lambda F, t: F.prelu(t.ones(2, 3), t.ones(3, dtype=t.float64)),
        "prelu_scalar_input": lambda F, t: F.prelu(t.tensor(1.0), t.ones(3)),
        "rrelu_bounds": lambda F, t: F.rrelu(t.ones(3), 0.5, 0.1),
        "elu_long": lambda F, t: F.elu(t.ones(3, dtype=t.int64)),
        "selu_bool": lambda F, t: F.selu(t.ones(3, dtype=t.bool)),
        "hardsigmoid_long": lambda F, t: F.hardsigmoid(t.ones(3, dtype=t.int64)),
        "hardswish_long": lambda F, t: F.hardswish(t.ones(3, dtype=t.int64)),
        "mish_long": lambda F, t: F.mish(t.ones(3, dtype=t.int64)),
        "logsigmoid_long": lambda F, t: F.logsigmoid(t.ones(3, dtype=t.int64)),
        "hardshrink_long": lambda F, t: F.hardshrink(t.ones(3, dtype=t.int64)),
        "softshrink_long": lambda F, t: F.softshrink(t.ones(3, dtype=t.int64)),
        "threshold_bool": lambda F, t: F.threshold(t.ones(3, dtype=t.bool), 0.5, 1.0),
        "leaky_relu_long": lambda F, t: F.leaky_relu(t.ones(3, dtype=t.int64)),
        "rrelu_long": lambda F, t: F.rrelu(t.ones(3, dtype=t.int64)),
        "rrelu_training_long": lambda F, t: F.rrelu(t.ones(3, dtype=t.int64), training=True),
        "glu_long": lambda F, t: F.glu(t.ones(2, dtype=t.int64)),
        "hardtanh_bool": lambda F, t: F.hardtanh(t.ones(3, dtype=t.bool)),
        "relu6_bool": lambda F, t: F.relu6(t.ones(3, dtype=t.bool)),
        "softplus_long": lambda F, t: F.softplus(t.ones(3, dtype=t.int64)),
        "silu_long": lambda F, t: F.silu(t.ones(3, dtype=t.int64)),
        "softsign_bool": lambda F, t: F.softsign(t.ones(3, dtype=t.bool)),
    }
    call = calls[case]
    same_error(lambda: call(F, autodiff), lambda: call(torch.nn.functional, torch))


@pytest.mark.parametrize("case", ["leaky_relu_", "elu_", "celu_", "rrelu_eval_"])
def test_in_place_with_a_negative_slope_fails_in_backward(case: str) -> None:
    torch = pytest.importorskip("torch")
    calls = {
        "leaky_relu_": lambda F, y: F.leaky_relu_(y, -0.1),
        "elu_": lambda F, y: F.elu_(y, -0.5),
        "celu_": lambda F, y: F.celu_(y, -0.5),
        "rrelu_eval_": lambda F, y: F.rrelu_(y, -0.5, -0.1),
    }

    def run(library: Any, functional: Any) -> Any:
        x = library.tensor([-1.0, 2.0], requires_grad=True)
        out = calls[case](functional, x * 1)  # the forward is fine
        return lambda: out.sum().backward()

    same_error(run(autodiff, F), run(torch, torch.nn.functional))


def test_integer_inputs_of_hardtanh_and_threshold_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    values = [-3, -1, 0, 1, 2, 3, 7]
    for call in (lambda F, x: F.hardtanh(x, -0.5, 2.5), lambda F, x: F.hardtanh(x, -1.5, 1.5),
                 lambda F, x: F.relu6(x), lambda F, x: F.threshold(x, 0.5, 2.5),
                 lambda F, x: F.threshold(x, -1.5, -7.9), lambda F, x: F.hardtanh(x, -2.5, 0.5)):
        ours = call(F, autodiff.tensor(values))
        theirs = call(torch.nn.functional, torch.tensor(values))
        assert ours.dtype is autodiff.int64
        assert ours.tolist() == theirs.tolist()


def test_module_reprs_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    builds = [
        lambda n: n.RReLU(), lambda n: n.RReLU(0.1, 0.2, True), lambda n: n.Hardtanh(),
        lambda n: n.Hardtanh(-2, 3, inplace=True), lambda n: n.ReLU6(inplace=True),
        lambda n: n.ReLU6(), lambda n: n.Threshold(0.1, 20), lambda n: n.Threshold(1, 2, True),
        lambda n: n.CELU(), lambda n: n.CELU(2.0, True), lambda n: n.ELU(alpha=2.0, inplace=True),
        lambda n: n.ELU(), lambda n: n.SELU(), lambda n: n.SELU(True), lambda n: n.GLU(),
        lambda n: n.GLU(1), lambda n: n.PReLU(), lambda n: n.PReLU(3, init=0.1),
        lambda n: n.Softplus(), lambda n: n.Softplus(2, 10), lambda n: n.Softshrink(),
        lambda n: n.Softshrink(0.25), lambda n: n.Hardshrink(), lambda n: n.LeakyReLU(),
        lambda n: n.LeakyReLU(0.2, True), lambda n: n.Softmin(1), lambda n: n.Softmin(),
        lambda n: n.Softmax2d(), lambda n: n.Hardsigmoid(), lambda n: n.Hardsigmoid(True),
        lambda n: n.Hardswish(), lambda n: n.SiLU(), lambda n: n.SiLU(inplace=True),
        lambda n: n.Mish(), lambda n: n.Mish(True), lambda n: n.LogSigmoid(),
        lambda n: n.Tanhshrink(), lambda n: n.Softsign(), lambda n: n.GELU("tanh"),
        lambda n: n.Softmax(), lambda n: n.LogSoftmax(1), lambda n: n.ReLU(True),
    ]
    for build in builds:
        assert repr(build(nn)) == repr(build(torch.nn))


def test_hardtanh_module_checks_and_deprecated_names() -> None:
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(1\)"):
        nn.Hardtanh(1, 1)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        layer = nn.Hardtanh(min_value=-2.0)
    assert layer.min_val == -2.0


def test_modules_compute_their_functions(device: str) -> None:
    x = autodiff.tensor(np.linspace(-4, 4, 24).reshape(2, 3, 2, 2), device=device)
    data = x.cpu().numpy()
    pairs = [
        (nn.ELU(0.5), np.where(data > 0, data, 0.5 * np.expm1(data))),
        (nn.ReLU6(), np.clip(data, 0, 6)),
        (nn.Hardtanh(-2, 2), np.clip(data, -2, 2)),
        (nn.Threshold(0.5, 9.0), np.where(data > 0.5, data, 9.0)),
        (nn.Softsign(), data / (1 + np.abs(data))),
        (nn.Tanhshrink(), data - np.tanh(data)),
        (nn.LeakyReLU(0.3), np.where(data > 0, data, 0.3 * data)),
        (nn.GLU(), data[..., :1] / (1 + np.exp(-data[..., 1:]))),
        (nn.Softmax2d(), np.exp(data) / np.exp(data).sum(1, keepdims=True)),
        (nn.Softmin(2), np.exp(-data) / np.exp(-data).sum(2, keepdims=True)),
        (nn.Softplus(), np.logaddexp(0, data)),
    ]
    for layer, expected in pairs:
        np.testing.assert_allclose(layer(x).cpu().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_prelu_module(device: str) -> None:
    layer = nn.PReLU(3, init=0.1).to(device)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.tolist() == pytest.approx([0.1] * 3)
    x = autodiff.tensor([[[-1.0, 2.0]] * 3], device=device)
    out = layer(x)
    assert out.grad_fn.name() == "PreluKernelBackward0"
    out.sum().backward()
    assert layer.weight.grad.tolist() == pytest.approx([-1.0] * 3)
    copy = nn.PReLU(3)
    copy.load_state_dict(layer.state_dict())
    assert copy.weight.tolist() == pytest.approx([0.1] * 3)


def test_prelu_state_dict_loads_into_pytorch_and_back() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.nn.PReLU(4, init=0.3)
    ours = nn.PReLU(4)
    ours.load_state_dict({key: autodiff.tensor(value.numpy())
                          for key, value in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(autodiff.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy())
    back = torch.nn.PReLU(4)
    back.load_state_dict({key: torch.tensor(value.numpy())
                          for key, value in ours.state_dict().items()})
    assert back.weight.tolist() == pytest.approx([0.3] * 4)


def test_softmax2d_and_softmin_dims() -> None:
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(autodiff.ones(2, 2))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = nn.Softmin()(autodiff.ones(2, 3))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)


def test_rrelu_draws_a_slope_per_negative_element_while_training(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.RReLU(0.1, 0.4)
    x = autodiff.full((200, 100), -1.0, device=device, requires_grad=True)
    out = layer(x)
    assert out.grad_fn.name() == "RreluWithNoiseBackward0"
    slopes = -out.detach().cpu().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4
    assert abs(slopes.mean() - 0.25) < 0.01 and abs(slopes.std() - 0.3 / math.sqrt(12)) < 0.01
    out.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), slopes, rtol=1e-6)  # grad * noise
    positive = layer(autodiff.ones(10, device=device))
    assert positive.tolist() == [1.0] * 10
    autodiff.manual_seed(0)
    again = layer(-autodiff.ones(200, 100, device=device))
    np.testing.assert_array_equal(-again.cpu().numpy(), slopes)  # the seed repeats them
    layer.eval()
    np.testing.assert_allclose(layer(-autodiff.ones(3, device=device)).cpu().numpy(),
                               [-0.25] * 3, rtol=1e-6)


def test_rrelu_in_place_while_training(device: str) -> None:
    autodiff.manual_seed(1)
    x = autodiff.full((50,), -2.0, device=device, requires_grad=True)
    y = x * 1
    F.rrelu_(y, 0.2, 0.3, training=True)
    assert y.grad_fn.name() == "RreluWithNoiseBackward1"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), y.detach().cpu().numpy() / -2.0)


def test_in_place_on_a_leaf_is_refused() -> None:
    x = autodiff.ones(3, requires_grad=True)
    for call in (F.elu_, F.selu_, F.relu_, F.leaky_relu_, F.rrelu_, F.hardtanh_,
                 lambda t: F.threshold_(t, 0.1, 0.0), lambda t: F.hardswish(t, inplace=True)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            call(x)
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_gumbel_softmax_samples_the_softmax_distribution(device: str) -> None:
    autodiff.manual_seed(0)
    logits = autodiff.tensor([[1.0, 0.0, -1.0, 2.0]], device=device).expand(4000, 4)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    counts = hard.sum(0).cpu().numpy()
    assert set(np.unique(hard.cpu().numpy())) == {0.0, 1.0} and counts.sum() == 4000
    probabilities = np.exp([1.0, 0.0, -1.0, 2.0]) / np.exp([1.0, 0.0, -1.0, 2.0]).sum()
    # The Gumbel-max trick: argmax(logits + g) is distributed as softmax(logits).
    np.testing.assert_allclose(counts / 4000, probabilities, atol=0.03)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).cpu().numpy(), np.ones(4000), rtol=1e-5)


def test_gumbel_softmax_hard_passes_the_soft_gradient(device: str) -> None:
    logits = autodiff.tensor([[0.3, -0.2, 1.1]], device=device, requires_grad=True)
    weights = autodiff.tensor([[1.0, 2.0, 3.0]], device=device)
    autodiff.manual_seed(3)
    hard = F.gumbel_softmax(logits, hard=True)
    (hard * weights).sum().backward()
    hard_grad = logits.grad.cpu().numpy()
    logits.grad = None
    autodiff.manual_seed(3)
    soft = F.gumbel_softmax(logits)
    (soft * weights).sum().backward()
    np.testing.assert_allclose(hard_grad, logits.grad.cpu().numpy(), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="`eps` parameter is deprecated"):
            F.gumbel_softmax(logits, eps=1e-5)
