"""Batch norm folded into the layer before it: nn.utils.fusion (weights and eval modules) and
fx.experimental.optimization (fuse, remove_dropout) against the unfused eval model, their
errors, and the fused weights against PyTorch's where it is installed."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

import autodiff as torch
from autodiff import nn
from autodiff.fx.experimental import optimization
from autodiff.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)


def _trained_bn(bn: Any, shape: tuple[int, ...]) -> Any:
    """A batch norm with running statistics and affine parameters away from their defaults."""
    bn.train()
    for _ in range(3):
        bn(torch.randn(*shape) * 2 + 1)
    if bn.affine:
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-1, 1)
    return bn.eval()


@pytest.mark.parametrize(("conv", "bn", "shape", "transpose"), [
    (lambda: nn.Conv1d(3, 4, 3), lambda: nn.BatchNorm1d(4), (2, 3, 9), False),
    (lambda: nn.Conv2d(3, 4, 3, bias=False), lambda: nn.BatchNorm2d(4), (2, 3, 7, 7), False),
    (lambda: nn.Conv3d(2, 4, 2), lambda: nn.BatchNorm3d(4, affine=False), (1, 2, 4, 4, 4),
     False),
    (lambda: nn.ConvTranspose2d(3, 4, 3), lambda: nn.BatchNorm2d(4), (2, 3, 5, 5), True),
], ids=["conv1d", "conv2d-no-bias", "conv3d-no-affine", "conv-transpose2d"])
def test_fuse_conv_bn_eval(conv: Any, bn: Any, shape: tuple[int, ...], transpose: bool) -> None:
    torch.manual_seed(0)
    layer = conv().eval()
    x = torch.randn(*shape)
    norm = _trained_bn(bn(), tuple(layer(x).shape))
    fused = fuse_conv_bn_eval(layer, norm, transpose=transpose)
    assert fused is not layer and type(fused) is type(layer)
    assert isinstance(fused.weight, nn.Parameter) and isinstance(fused.bias, nn.Parameter)
    assert fused.bias.requires_grad is (layer.bias is not None)  # a new bias starts frozen
    with torch.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), norm(layer(x)).numpy(), atol=1e-5)


def test_fuse_linear_bn_eval_and_errors() -> None:
    torch.manual_seed(0)
    linear = nn.Linear(5, 3).eval()
    norm = _trained_bn(nn.BatchNorm1d(3), (8, 3))
    x = torch.randn(4, 5)
    fused = fuse_linear_bn_eval(linear, norm)
    with torch.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), norm(linear(x)).numpy(), atol=1e-5)
    with pytest.raises(AssertionError, match=r"^Fusion only for eval!$"):
        fuse_linear_bn_eval(nn.Linear(5, 3), norm)
    with pytest.raises(AssertionError, match=r"^Fusion only for eval!$"):
        fuse_conv_bn_eval(nn.Conv2d(1, 3, 1).eval(), nn.BatchNorm2d(3))
    with pytest.raises(AssertionError, match=r"^To fuse, linear.out_features == "
                                             r"bn.num_features or bn.num_features == 1, got "
                                             r"linear.out_features=3 and bn.num_features=4$"):
        fuse_linear_bn_eval(linear, nn.BatchNorm1d(4).eval())
    with pytest.raises(AssertionError, match="must not be None"):
        fuse_conv_bn_eval(nn.Conv2d(1, 3, 1).eval(),
                          nn.BatchNorm2d(3, track_running_stats=False).eval())


def test_fused_weights_keep_dtypes() -> None:
    weight = torch.randn(4, 2, 3, dtype=torch.float64)
    mean, var = torch.zeros(4), torch.ones(4)
    fused_w, fused_b = fuse_conv_bn_weights(weight, None, mean, var, 1e-5, None, None)
    assert fused_w.dtype is torch.float64 and fused_b.dtype is torch.float64
    assert not fused_b.requires_grad and fused_w.requires_grad is False
    w, b = fuse_linear_bn_weights(nn.Parameter(torch.ones(4, 2)), None, mean, var, 0.0,
                                  torch.full((4,), 2.0), torch.ones(4))
    assert w.requires_grad and torch.equal(w, torch.full((4, 2), 2.0))
    assert torch.equal(b, torch.ones(4))


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                       nn.Dropout(0.5))
        self.head = nn.Linear(4, 2)
        self.norm = nn.BatchNorm1d(2)

    def forward(self, x: Any) -> Any:
        return self.norm(self.head(self.features(x).mean((2, 3))))


def test_optimization_fuse() -> None:
    torch.manual_seed(0)
    model = _Net()
    x = torch.randn(4, 3, 6, 6)
    model(x)  # running statistics
    model.eval()
    fused = optimization.fuse(model)
    assert isinstance(fused, torch.fx.GraphModule)
    kinds = [type(module).__name__ for module in fused.modules()]
    assert "BatchNorm2d" not in kinds and "BatchNorm1d" not in kinds
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # a copy was fused
    with torch.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), atol=1e-5)
    without = optimization.remove_dropout(model.train())
    assert all(node.target != "features.3" for node in without.graph.nodes)
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(without(x).numpy(), model(x).numpy(), atol=1e-6)


def test_fuse_leaves_a_layer_whose_output_is_used_twice() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)
            self.bn = nn.BatchNorm2d(2)

        def forward(self, x: Any) -> Any:
            y = self.conv(x)
            return self.bn(y) + y

    model = Twice().eval()
    fused = optimization.fuse(model)
    assert any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_fused_weights_match_pytorch() -> None:
    import torch as pytorch
    from torch.nn.utils import fusion as pytorch_fusion

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in
              [(4, 3, 2, 2), (4,), (4,), (4,), (4,), (4,)]]
    arrays[3] = np.abs(arrays[3]) + 0.1  # the variance
    ours = fuse_conv_bn_weights(*(torch.tensor(a) for a in arrays[:4]), 1e-5,
                                *(torch.tensor(a) for a in arrays[4:]))
    theirs = pytorch_fusion.fuse_conv_bn_weights(*(pytorch.tensor(a) for a in arrays[:4]), 1e-5,
                                                 *(pytorch.tensor(a) for a in arrays[4:]))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-6)
