"""nn.utils.prune: each pruning method's mask, the reparametrization it leaves on the module
(`<name>_orig`, `<name>_mask`, the pre-hook), masks combined by PruningContainer, global pruning,
`remove`, and PyTorch's errors; against PyTorch where installed (same weights, same masks) and by
their defining properties without it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn.utils import prune

RNG = np.random.default_rng(11)


def _torch() -> Any:
    return pytest.importorskip("torch")


def _linear(weight: np.ndarray, device: str = "cpu") -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0]).to(device)
    with autodiff.no_grad():
        layer.weight.copy_(autodiff.tensor(weight, dtype=autodiff.float32, device=device))
    return layer


def test_l1_unstructured_reparametrizes_the_module(device: str) -> None:
    weight = RNG.standard_normal((4, 5))
    layer = _linear(weight, device)
    method = prune.L1Unstructured.apply(layer, "weight", amount=0.3)
    assert sorted(name for name, _ in layer.named_parameters()) == ["bias", "weight_orig"]
    assert [name for name, _ in layer.named_buffers()] == ["weight_mask"]
    assert list(layer._forward_pre_hooks.values()) == [method] and method._tensor_name == "weight"
    expected = np.ones(20)
    expected[np.argsort(np.abs(weight).ravel())[:6]] = 0  # round(0.3 * 20) smallest
    np.testing.assert_array_equal(layer.weight_mask.cpu().numpy().ravel(), expected)
    assert layer.weight_mask.device == layer.weight_orig.device
    assert not isinstance(layer.weight, nn.Parameter)
    assert autodiff.equal(layer.weight, layer.weight_orig * layer.weight_mask)
    # The hook recomputes the pruned weight before each forward: pruned entries get no gradient
    with autodiff.no_grad():
        layer.weight_orig.add_(1.0)
    layer(autodiff.ones(3, 5, device=device)).sum().backward()
    assert autodiff.equal(layer.weight, layer.weight_orig * layer.weight_mask)
    assert autodiff.equal(layer.weight_orig.grad == 0, layer.weight_mask == 0)
    assert prune.is_pruned(nn.Sequential(layer))


def test_amount_as_a_count_and_importance_scores() -> None:
    layer = _linear(RNG.standard_normal((3, 4)))
    scores = autodiff.arange(12.0).reshape(3, 4)
    prune.l1_unstructured(layer, "weight", amount=5, importance_scores=scores)
    assert layer.weight_mask.view(-1).tolist() == [0.0] * 5 + [1.0] * 7
    assert layer.weight_mask.dtype == layer.weight_orig.dtype


def test_ln_structured_prunes_whole_channels_and_keeps_earlier_masks() -> None:
    weight = RNG.standard_normal((6, 4))
    layer = _linear(weight)
    prune.l1_unstructured(layer, "weight", amount=3)
    first = layer.weight_mask.clone()
    prune.ln_structured(layer, "weight", amount=0.5, n=2, dim=0)
    container = next(iter(layer._forward_pre_hooks.values()))
    assert isinstance(container, prune.PruningContainer) and len(container) == 2
    assert [type(method).__name__ for method in container] == ["L1Unstructured", "LnStructured"]
    assert len(layer._forward_pre_hooks) == 1
    # The 3 rows of largest 2-norm among the rows the first mask left (all of them) stay
    kept_rows = np.sort(np.argsort(-np.linalg.norm(weight, axis=1))[:3])
    rows = (layer.weight_mask.sum(1) != 0).nonzero().view(-1).tolist()
    assert rows == kept_rows.tolist()
    assert autodiff.equal(layer.weight_mask, first * layer.weight_mask)


def test_random_methods_prune_the_amount_asked() -> None:
    layer = nn.Conv2d(2, 8, 3)
    prune.random_unstructured(layer, "weight", amount=0.25)
    assert int((layer.weight_mask == 0).sum()) == round(0.25 * 144)
    prune.random_structured(layer, "weight", amount=2, dim=0)
    channels_off = (layer.weight_mask.sum(dim=(1, 2, 3)) == 0).sum().item()
    assert channels_off >= 2
    prune.identity(layer, "bias")
    assert autodiff.equal(layer.bias_mask, autodiff.ones(8))


def test_global_unstructured_prunes_the_smallest_across_tensors() -> None:
    first, second = _linear(RNG.standard_normal((3, 4))), _linear(3 * RNG.standard_normal((2, 4)))
    prune.global_unstructured([(first, "weight"), (second, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    everything = np.concatenate([first.weight_orig.detach().numpy().ravel(),
                                 second.weight_orig.detach().numpy().ravel()])
    threshold = np.sort(np.abs(everything))[10]
    for layer in (first, second):
        expected = np.abs(layer.weight_orig.detach().numpy()) >= threshold
        np.testing.assert_array_equal(layer.weight_mask.numpy(), expected)
        assert isinstance(next(iter(layer._forward_pre_hooks.values())), prune.CustomFromMask)


def test_remove_makes_the_pruning_permanent() -> None:
    layer = _linear(RNG.standard_normal((3, 4)))
    prune.custom_from_mask(layer, "weight", mask=autodiff.eye(3, 4))
    pruned = layer.weight.detach().clone()
    assert prune.remove(layer, "weight") is layer
    assert isinstance(layer.weight, nn.Parameter) and autodiff.equal(layer.weight, pruned)
    assert sorted(dict(layer.named_parameters())) == ["bias", "weight"]
    assert not dict(layer.named_buffers()) and not prune.is_pruned(layer)
    with pytest.raises(ValueError, match=r"^Parameter 'weight' of module Linear\(in_features=4, "
                                         r"out_features=3, bias=True\) has to be pruned before "
                                         r"pruning can be removed$"):
        prune.remove(layer, "weight")


def test_a_custom_method_and_prune() -> None:
    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t: Any, default_mask: Any) -> Any:
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    layer = nn.Linear(2, 6)
    EveryOther.apply(layer, "bias")
    assert layer.bias_mask.tolist() == [0, 1] * 3
    EveryOther.apply(layer, "bias")  # acts on the entries still kept
    assert layer.bias_mask.tolist() == [0, 0, 0, 1, 0, 0]
    t = autodiff.arange(1.0, 5.0)
    assert EveryOther().prune(t).tolist() == [0.0, 2.0, 0.0, 4.0]


def test_errors_leave_the_module_as_it_was() -> None:
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"^amount=5 should be smaller than the number of "
                                         r"parameters to prune=2$"):
        prune.l1_unstructured(layer, "bias", amount=5)
    assert sorted(dict(layer.named_parameters())) == ["bias", "weight"]
    assert not dict(layer.named_buffers()) and not layer._forward_pre_hooks
    with pytest.raises(ValueError, match=r"^Structured pruning can only be applied to "
                                         r"multidimensional tensors. Found tensor of shape "
                                         r"torch.Size\(\[2\]\) with 1 dims$"):
        prune.ln_structured(layer, "bias", amount=1, n=2, dim=0)
    assert isinstance(layer.bias, nn.Parameter)
    with pytest.raises(TypeError, match=r"^Invalid type for amount: 0.5j. Must be int or "
                                        r"float.$"):
        prune.RandomUnstructured(0.5j)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^amount=1.5 should either be a float in the range "
                                         r"\[0, 1\] or a non-negative integer$"):
        prune.L1Unstructured(1.5)
    with pytest.raises(ValueError, match=r"^amount=-1 should either"):
        prune.L1Unstructured(-1)
    with pytest.raises(IndexError, match=r"^Invalid index 2 for tensor of size "
                                         r"torch.Size\(\[2, 3\]\)$"):
        prune.ln_structured(layer, "weight", amount=1, n=1, dim=2)
    with pytest.raises(AssertionError, match=r"^importance_scores should have the same shape as "
                                             r"parameter weight of Linear"):
        prune.l1_unstructured(layer, "weight", amount=1, importance_scores=autodiff.ones(3))
    with pytest.raises(TypeError, match=r'^Only "unstructured" PRUNING_TYPE supported for the '
                                        r"`pruning_method`. Found method "):
        prune.global_unstructured([(layer, "weight")], prune.LnStructured, amount=1, n=2)
    with pytest.raises(TypeError, match=r"^global_unstructured\(\): parameters is not an "
                                        r"Iterable$"):
        prune.global_unstructured(3, prune.L1Unstructured, amount=1)  # type: ignore[arg-type]
    assert sorted(dict(layer.named_parameters())) == ["bias", "weight"]
    assert not layer._forward_pre_hooks


def _pair(torch: Any, shape: tuple[int, ...]) -> tuple[Any, Any]:
    weight = RNG.standard_normal(shape).astype(np.float32)
    ours, theirs = nn.Conv2d(shape[1], shape[0], shape[2]), torch.nn.Conv2d(
        shape[1], shape[0], shape[2])
    with autodiff.no_grad():
        ours.weight.copy_(autodiff.tensor(weight))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
    return ours, theirs


@pytest.mark.parametrize("steps", [
    [("l1_unstructured", {"amount": 0.3})],
    [("l1_unstructured", {"amount": 7}), ("ln_structured", {"amount": 0.5, "n": 2, "dim": 0})],
    [("ln_structured", {"amount": 1, "n": 1, "dim": 1}), ("l1_unstructured", {"amount": 0.4})],
    [("ln_structured", {"amount": 2, "n": float("inf"), "dim": -1}),
     ("ln_structured", {"amount": 0.5, "n": 2, "dim": 0}), ("l1_unstructured", {"amount": 3})],
])
def test_masks_match_pytorch(steps: list[tuple[str, dict[str, Any]]]) -> None:
    torch = _torch()
    import torch.nn.utils.prune as torch_prune

    ours, theirs = _pair(torch, (4, 3, 3, 3))
    for function, kwargs in steps:
        getattr(prune, function)(ours, "weight", **kwargs)
        getattr(torch_prune, function)(theirs, "weight", **kwargs)
        np.testing.assert_array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert [type(hook).__name__ for hook in ours._forward_pre_hooks.values()] == [
        type(hook).__name__ for hook in theirs._forward_pre_hooks.values()]
    prune.remove(ours, "weight")
    torch_prune.remove(theirs, "weight")
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())


def test_global_pruning_matches_pytorch() -> None:
    torch = _torch()
    import torch.nn.utils.prune as torch_prune

    (first, torch_first), (second, torch_second) = _pair(torch, (2, 3, 3, 3)), _pair(
        torch, (5, 2, 3, 3))
    prune.l1_unstructured(first, "weight", amount=10)
    torch_prune.l1_unstructured(torch_first, "weight", amount=10)
    prune.global_unstructured([(first, "weight"), (second, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.35)
    torch_prune.global_unstructured([(torch_first, "weight"), (torch_second, "weight")],
                                    pruning_method=torch_prune.L1Unstructured, amount=0.35)
    for layer, torch_layer in ((first, torch_first), (second, torch_second)):
        np.testing.assert_array_equal(layer.weight_mask.numpy(), torch_layer.weight_mask.numpy())
