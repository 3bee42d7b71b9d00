"""The library's layers: forward values against NumPy, gradients flowing to their parameters,
node names, modes, and the losses as thin wrappers over nn.functional."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn import functional as F


def _np(tensor: autodiff.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def test_linear_forward_backward_and_node_name(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.Linear(4, 3).to(device)
    x = autodiff.randn(5, 4, device=device)
    out = layer(x)
    assert out.grad_fn.name() == "AddmmBackward0" and out.device == layer.weight.device
    w, b = _np(layer.weight), _np(layer.bias)
    np.testing.assert_allclose(_np(out), _np(x) @ w.T + b, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(_np(layer.weight.grad), np.ones((5, 3)).T @ _np(x), rtol=1e-5)
    np.testing.assert_allclose(_np(layer.bias.grad), np.full(3, 5.0))
    no_bias = nn.Linear(4, 3, bias=False).to(device)
    assert no_bias(x).grad_fn.name() == "MmBackward0"
    assert [name for name, _ in no_bias.named_parameters()] == ["weight"]


def test_sequential_mlp_matches_numpy(device: str) -> None:
    autodiff.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2), nn.Tanh()).to(device)
    x = autodiff.randn(3, 6, device=device)
    w1, b1, w2, b2 = (_np(p) for p in model.parameters())
    hidden = np.maximum(_np(x) @ w1.T + b1, 0)
    np.testing.assert_allclose(_np(model(x)), np.tanh(hidden @ w2.T + b2), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("layer, reference", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU(approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
    (nn.Identity(54, unused=True), lambda x: x),
], ids=["relu", "sigmoid", "tanh", "gelu", "gelu_tanh", "softmax", "log_softmax", "identity"])
def test_activations_match_numpy(layer: nn.Module, reference: object, device: str) -> None:
    x = autodiff.tensor(np.linspace(-3, 3, 24).reshape(4, 6), device=device)
    np.testing.assert_allclose(_np(layer(x)), reference(_np(x).astype(np.float64)),  # type: ignore[operator]
                               rtol=1e-5, atol=1e-6)


def test_dropout_modes(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.Dropout(p=0.25)
    x = autodiff.ones(200, 100, device=device)
    out = _np(layer(x))
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    layer.eval()
    assert np.all(_np(layer(x)) == 1)
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, "
                       r"but got 1\.5"):
        nn.Dropout(1.5)


def test_embedding_lookup_and_gradient(device: str) -> None:
    autodiff.manual_seed(0)
    layer = nn.Embedding(10, 3, padding_idx=0).to(device)
    indices = autodiff.tensor([[1, 0, 4], [4, 4, 9]], device=device)
    out = layer(indices)
    table = _np(layer.weight)
    np.testing.assert_allclose(_np(out), table[[[1, 0, 4], [4, 4, 9]]])
    out.sum().backward()
    counts = np.zeros(10)
    for index in (1, 4, 4, 4, 9):  # the padding row gets no gradient
        counts[index] += 1
    np.testing.assert_allclose(_np(layer.weight.grad), np.repeat(counts[:, None], 3, 1))


def test_layer_norm_matches_numpy(device: str) -> None:
    layer = nn.LayerNorm((2, 3), eps=1e-5).to(device)
    with autodiff.no_grad():
        layer.weight.data = autodiff.tensor(np.arange(1.0, 7.0).reshape(2, 3),
                                            dtype=autodiff.float32, device=device)
    x = autodiff.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)),
                        dtype=autodiff.float32, device=device)
    data = _np(x).astype(np.float64)
    mean = data.mean(axis=(1, 2), keepdims=True)
    var = data.var(axis=(1, 2), keepdims=True)
    expected = (data - mean) / np.sqrt(var + 1e-5) * np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-4, atol=1e-5)
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (2, 3) and layer.bias.grad.shape == (2, 3)


def test_flatten(device: str) -> None:
    x = autodiff.zeros(2, 3, 4, 5, device=device)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)


def test_losses_are_the_functional_forms(device: str) -> None:
    rng = np.random.default_rng(0)
    logits = autodiff.tensor(rng.standard_normal((6, 4)), dtype=autodiff.float32,
                             device=device)
    classes = autodiff.tensor([0, 3, 1, 1, 2, 0], device=device)
    probabilities = autodiff.tensor(rng.random((6, 4)), dtype=autodiff.float32, device=device)
    targets = autodiff.tensor(rng.random((6, 4)) > 0.5, dtype=autodiff.float32, device=device)
    weight = autodiff.tensor([1.0, 2.0, 0.5, 1.0], device=device)
    cases = [
        (nn.CrossEntropyLoss(), F.cross_entropy(logits, classes)),
        (nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1, reduction="sum"),
         F.cross_entropy(logits, classes, weight=weight, label_smoothing=0.1, reduction="sum")),
        (nn.CrossEntropyLoss(ignore_index=1), F.cross_entropy(logits, classes, ignore_index=1)),
        (nn.NLLLoss(weight=weight), F.nll_loss(F.log_softmax(logits, 1), classes,
                                               weight=weight)),
        (nn.MSELoss(reduction="none"), F.mse_loss(probabilities, targets, reduction="none")),
        (nn.L1Loss(), F.l1_loss(probabilities, targets)),
        (nn.BCELoss(weight=weight), F.binary_cross_entropy(probabilities, targets,
                                                           weight=weight)),
        (nn.BCEWithLogitsLoss(pos_weight=weight), F.binary_cross_entropy_with_logits(
            logits, targets, pos_weight=weight)),
    ]
    inputs = {"CrossEntropyLoss": (logits, classes), "NLLLoss": (F.log_softmax(logits, 1),
                                                                 classes),
              "MSELoss": (probabilities, targets), "L1Loss": (probabilities, targets),
              "BCELoss": (probabilities, targets), "BCEWithLogitsLoss": (logits, targets)}
    for module, expected in cases:
        out = module(*inputs[type(module).__name__])
        np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-6)
    # A class weight is a buffer: it moves with the module and is not a parameter.
    loss = nn.CrossEntropyLoss(weight=autodiff.ones(4))
    assert list(loss.state_dict()) == ["weight"] and not list(loss.parameters())
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="please use reduction='none' instead"):
        assert nn.L1Loss(reduce=False).reduction == "none"


def test_train_step_lowers_the_loss(device: str) -> None:
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.GELU(), nn.LayerNorm(16), nn.Dropout(0.1),
                          nn.Linear(16, 3)).to(device)
    optimizer = autodiff.optim.Adam(model.parameters(), lr=0.03)
    x = autodiff.randn(32, 4, device=device)
    y = autodiff.randint(0, 3, (32,), device=device)
    losses = []
    for _ in range(80):
        loss = nn.CrossEntropyLoss()(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.4 * losses[0]  # random labels: memorised (about 0.2 at the end)
    assert all(p.grad is not None and p.grad.device == p.device for p in model.parameters())


def test_linear_dtype_mismatch_messages() -> None:
    """PyTorch words the refusal by path: addmm (with a bias) and mm (without)."""
    x, weight = autodiff.ones(2, 4, dtype=autodiff.float16), autodiff.ones(3, 4)
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 must have the same dtype, but got "
                       r"Half and Float$"):
        F.linear(x, weight, autodiff.ones(3))
    with pytest.raises(RuntimeError, match=r"^expected m1 and m2 to have the same dtype, but "
                       r"got: c10::Half != float$"):
        F.linear(x, weight)
