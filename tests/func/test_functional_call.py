"""functional_call (dicts of parameters and buffers, tied weights, strict) and
stack_module_state with vmap (ensembling), against running each module."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.func import functional_call, grad, stack_module_state, vmap


def _np(x: autodiff.Tensor) -> np.ndarray:
    return np.array(x.tolist()).reshape(tuple(x.shape))


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 3)
        self.second = nn.Linear(3, 3)
        self.second.weight = self.first.weight
        self.register_buffer("scale", autodiff.tensor(2.0))

    def forward(self, x: autodiff.Tensor) -> autodiff.Tensor:
        return self.second(self.first(x)) * self.scale


def test_functional_call_replaces_for_the_call_only() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = autodiff.randn(5, 4)
    before = {name: _np(p).copy() for name, p in model.named_parameters()}
    params = {name: autodiff.zeros_like(p) for name, p in model.named_parameters()}
    params["2.bias"] = autodiff.tensor([1.0, -1.0])
    out = functional_call(model, params, (x,))
    np.testing.assert_array_equal(_np(out), np.tile([1.0, -1.0], (5, 1)))
    for name, p in model.named_parameters():  # the module is as it was
        np.testing.assert_array_equal(_np(p), before[name])
        assert isinstance(p, nn.Parameter)
    # One argument that is not a tuple; kwargs; several dicts.
    np.testing.assert_array_equal(_np(functional_call(model, [params, {}], x)), _np(out))
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(model, [params, {"2.bias": params["2.bias"]}], (x,))


def test_tied_weights_and_strict() -> None:
    model = Tied()
    x = autodiff.randn(2, 3)
    weight = autodiff.randn(3, 3)
    out = functional_call(model, {"first.weight": weight}, (x,))
    expected = ((_np(x) @ _np(weight).T + _np(model.first.bias)) @ _np(weight).T
                + _np(model.second.bias)) * 2
    np.testing.assert_allclose(_np(out), expected, rtol=1e-5)
    untied = functional_call(model, {"first.weight": weight}, (x,), tie_weights=False)
    expected_untied = ((_np(x) @ _np(weight).T + _np(model.first.bias))
                       @ _np(model.second.weight).T + _np(model.second.bias)) * 2
    np.testing.assert_allclose(_np(untied), expected_untied, rtol=1e-5)
    with pytest.raises(ValueError, match=r"which are tied\. Consider using tie_weights=False"):
        functional_call(model, {"first.weight": weight, "second.weight": weight * 2}, (x,))
    with pytest.raises(RuntimeError, match=r"Error\(s\) in reparametrizing for Tied:\n\t"
                                           r"Unexpected key\(s\): 'nope'.\n\tMissing key\(s\)"):
        functional_call(model, {"nope": weight}, (x,), strict=True)
    scaled = functional_call(model, {"scale": autodiff.tensor(3.0)}, (x,))
    np.testing.assert_allclose(_np(scaled), _np(model(x)) * 1.5, rtol=1e-5)


class Relisted(nn.Linear):
    """Lists its parameters itself (functional_call then asks it rather than walking)."""

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Any:
        yield from reversed(list(super().named_parameters(prefix, recurse, remove_duplicate)))


@pytest.mark.parametrize("layer", [nn.Linear, Relisted])
def test_shared_submodule_by_every_path(layer: type[nn.Linear]) -> None:
    # One module reached under two names: a value given under one name replaces it under
    # both; strict counts every name (PyTorch's message, checked against torch.func).
    shared = layer(3, 3)
    model = shared if layer is Relisted else nn.Sequential(shared, nn.Tanh(), shared)
    prefix = "" if layer is Relisted else "0."
    x = autodiff.randn(2, 3)
    weight = autodiff.randn(3, 3)
    given = {f"{prefix}weight": weight, f"{prefix}bias": shared.bias.detach()}
    out = functional_call(model, given, (x,), strict=True)
    hidden = _np(x) @ _np(weight).T + _np(shared.bias)
    expected = hidden if layer is Relisted else \
        np.tanh(hidden) @ _np(weight).T + _np(shared.bias)
    np.testing.assert_allclose(_np(out), expected, rtol=1e-5, atol=1e-6)
    assert shared.weight is not weight and isinstance(shared.weight, nn.Parameter)
    if layer is nn.Linear:
        with pytest.raises(RuntimeError, match=r"Missing key\(s\): '0.bias', '2.bias'\.$"):
            functional_call(model, {"0.weight": weight}, (x,), strict=True)


def test_grad_through_functional_call() -> None:
    model = nn.Linear(3, 1)
    params = {name: p.detach() for name, p in model.named_parameters()}
    x = autodiff.randn(4, 3)
    g = grad(lambda p: functional_call(model, p, (x,)).sum())(params)
    np.testing.assert_allclose(_np(g["weight"]), _np(x).sum(0, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(_np(g["bias"]), [4.0])
    assert model.weight.grad is None


def test_stack_module_state_and_ensemble(device: str) -> None:
    models = [nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)
              for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert tuple(params["0.weight"].shape) == (3, 8, 4)
    assert params["0.weight"].requires_grad and params["0.weight"].is_leaf
    x = autodiff.randn(5, 4, device=device)
    out = vmap(lambda p, b, x: functional_call(models[0], (p, b), (x,)),
               in_dims=(0, 0, None))(params, buffers, x)
    expected = autodiff.stack([m(x) for m in models])
    np.testing.assert_allclose(_np(out), _np(expected), rtol=1e-5, atol=1e-6)
    models[1].eval()
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state(models)


def test_module_changed_between_calls() -> None:
    """A call after the module was written (a parameter replaced, a submodule added, weights
    tied) sees the module as it is then, not as an earlier call found it."""
    model = nn.Sequential(nn.Linear(2, 2, bias=False))
    x = autodiff.ones(1, 2)
    functional_call(model, {}, (x,))
    with autodiff.no_grad():
        model[0].weight = nn.Parameter(autodiff.full((2, 2), 3.0))
    np.testing.assert_array_equal(_np(functional_call(model, {}, (x,))), [[6.0, 6.0]])
    model.append(nn.Linear(2, 2, bias=False))
    params = {"1.weight": autodiff.eye(2) * 2}
    np.testing.assert_array_equal(_np(functional_call(model, params, (x,))), [[12.0, 12.0]])
    model[1].weight = model[0].weight  # tied: a value for one name replaces both
    params = {"0.weight": autodiff.eye(2)}
    np.testing.assert_array_equal(_np(functional_call(model, params, (x,))), [[1.0, 1.0]])


def test_called_module_is_freed() -> None:
    import gc
    import weakref

    model = nn.Linear(2, 2)  # its own parameters: the walk must not hold it
    functional_call(model, dict(model.named_parameters()), (autodiff.ones(1, 2),))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_modules_equal_by_value_keep_their_own_walk() -> None:
    class Equal(nn.Linear):  # equal to any module, and so unhashable
        def __eq__(self, other: object) -> bool:
            return True

    first, second = Equal(2, 3), nn.Sequential(Equal(2, 2), Equal(2, 1))
    x = autodiff.ones(1, 2)
    assert tuple(functional_call(first, {}, (x,)).shape) == (1, 3)
    params = {"1.bias": autodiff.tensor([5.0])}
    out = functional_call(second, params, (x,))
    assert tuple(out.shape) == (1, 1)
    with autodiff.no_grad():
        expected = second[1].weight @ second[0](x)[0] + 5.0
    np.testing.assert_allclose(_np(out)[0], _np(expected), rtol=1e-6)
