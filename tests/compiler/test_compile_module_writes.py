"""Every way a module's state is written between two calls of a compiled training step is seen
by the next cache hit: the step then runs as eager would, never the program traced before.

A cache hit compares the modules a step reaches only when some module was written since its
last comparison (`nn.modules.module.structure.version`); each case below writes through one
writer (attribute assignment, registration, the registries written directly, state-dict
loading, conversion, tensor swapping, parametrizations, pruning, weight norm, hooks, the
optimizer's param groups) and checks that the compiled sequence ends where eager's does, bit
for bit, and that the write made the cache hit fail at least once."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest

import autodiff
from autodiff import nn
from autodiff.nn.modules.module import Registry, structure
from autodiff.nn.utils import parametrize, prune


def _model() -> nn.Sequential:
    autodiff.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2))


def _batches(steps: int) -> list[tuple[autodiff.Tensor, autodiff.Tensor]]:
    rng = np.random.default_rng(0)
    return [(autodiff.tensor(rng.standard_normal((8, 6)), dtype=autodiff.float32),
             autodiff.tensor(rng.standard_normal((8, 2)), dtype=autodiff.float32))
            for _ in range(steps)]


def _step(model: nn.Module, optimizer: autodiff.optim.Optimizer):
    def step(x: autodiff.Tensor, y: autodiff.Tensor) -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def _numpy(tensor: autodiff.Tensor) -> np.ndarray:
    return np.asarray(tensor.detach().numpy())


def _same_state(mine: nn.Module, theirs: nn.Module) -> None:
    mine_state, theirs_state = mine.state_dict(), theirs.state_dict()
    assert list(mine_state) == list(theirs_state)
    for name in mine_state:
        np.testing.assert_array_equal(_numpy(mine_state[name]), _numpy(theirs_state[name]))


def _parameter(seed: int, *shape: int) -> nn.Parameter:
    rng = np.random.default_rng(seed)
    return nn.Parameter(autodiff.tensor(rng.standard_normal(shape), dtype=autodiff.float32))


def _linear(in_features: int, out_features: int) -> nn.Linear:
    autodiff.manual_seed(5)  # (the same layer for the model and its twin)
    return nn.Linear(in_features, out_features)


class _Double(nn.Module):
    def forward(self, weight: autodiff.Tensor) -> autodiff.Tensor:
        return weight * 2.0


def _load_assign(model: nn.Module, optimizer: autodiff.optim.Optimizer) -> None:
    autodiff.manual_seed(7)
    other = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2))
    model.load_state_dict(other.state_dict(), assign=True)


def _overwrite_on_conversion(model: nn.Module, optimizer: autodiff.optim.Optimizer) -> None:
    autodiff.__future__.set_overwrite_module_params_on_conversion(True)
    try:
        model._apply(lambda tensor: tensor * 0.5)
    finally:
        autodiff.__future__.set_overwrite_module_params_on_conversion(False)


def _swap_on_conversion(model: nn.Module, optimizer: autodiff.optim.Optimizer) -> None:
    autodiff.__future__.set_swap_module_params_on_conversion(True)
    try:
        model._apply(lambda tensor: tensor * 0.5)
    finally:
        autodiff.__future__.set_swap_module_params_on_conversion(False)


def _swap(model: nn.Module, optimizer: autodiff.optim.Optimizer) -> None:
    autodiff.utils.swap_tensors(model[3].weight, _parameter(3, 2, 5))


WRITES: dict[str, Callable[[nn.Module, autodiff.optim.Optimizer], None]] = {
    "setattr-parameter": lambda m, o: setattr(m[0], "weight", _parameter(1, 5, 6)),
    "setattr-none": lambda m, o: setattr(m[3], "bias", None),
    "setattr-constant": lambda m, o: setattr(m[1], "eps", 0.5),
    "setattr-module": lambda m, o: setattr(m, "2", nn.ReLU()),
    "delattr-and-register": lambda m, o: (delattr(m[3], "bias"),
                                          m[3].register_parameter("bias", None)),
    "register_parameter": lambda m, o: m[0].register_parameter("bias", _parameter(2, 5)),
    "register_buffer": lambda m, o: m[1].register_buffer("running_var", autodiff.ones(5) * 4),
    "add_module": lambda m, o: m.add_module("2", nn.Sigmoid()),
    "_parameters[]=": lambda m, o: m[0]._parameters.__setitem__("weight", _parameter(1, 5, 6)),
    "_parameters.update": lambda m, o: m[3]._parameters.update(bias=_parameter(2, 2)),
    "_parameters|=": lambda m, o: m[3]._parameters.__ior__({"bias": _parameter(2, 2)}),
    "_parameters.setdefault": lambda m, o: (m[3]._parameters.pop("bias"),
                                            m[3]._parameters.setdefault("bias", None)),
    "_buffers[]=": lambda m, o: m[1]._buffers.__setitem__("running_mean", autodiff.ones(5)),
    "_modules[]=": lambda m, o: m._modules.__setitem__("2", nn.ReLU()),
    "del _modules[]": lambda m, o: m._modules.__delitem__("2"),
    "_modules.popitem": lambda m, o: (m._modules.popitem(),
                                      m._modules.__setitem__("3", _linear(5, 2))),
    "_modules.pop": lambda m, o: m._modules.pop("2"),
    "_modules.clear+update": lambda m, o: (m._modules.clear(),
                                           m._modules.update({"0": _linear(6, 2)})),
    "Sequential.insert": lambda m, o: m.insert(2, nn.ReLU()),
    "Sequential.__delitem__": lambda m, o: m.__delitem__(2),
    "load_state_dict(assign=True)": _load_assign,
    "_apply(overwrite)": _overwrite_on_conversion,
    "_apply(swap)": _swap_on_conversion,
    "to(float64)+back": lambda m, o: m.to(autodiff.float64).to(autodiff.float32),
    "swap_tensors": _swap,
    "register_parametrization": lambda m, o: parametrize.register_parametrization(
        m[3], "weight", _Double()),
    "prune": lambda m, o: prune.l1_unstructured(m[0], "weight", amount=0.5),
    "weight_norm": lambda m, o: nn.utils.weight_norm(m[3]),
    "spectral_norm": lambda m, o: (autodiff.manual_seed(3), nn.utils.spectral_norm(m[3])),
    "forward_pre_hook": lambda m, o: m[0].register_forward_pre_hook(
        lambda module, args: (args[0] * 2.0,)),
    "forward_hook": lambda m, o: m[2].register_forward_hook(
        lambda module, args, output: output * 3.0),
    "train(False)": lambda m, o: m.train(False),
    "requires_grad_(False)": lambda m, o: m[0].requires_grad_(False),
    "param_groups params.pop": lambda m, o: o.param_groups[0]["params"].pop(),
    "param_groups lr": lambda m, o: o.param_groups[0].__setitem__("lr", 0.5),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_between_calls_is_seen(name: str) -> None:
    write = WRITES[name]
    model = _model()
    twin = copy.deepcopy(model)
    eager_opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_opt = autodiff.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    eager = _step(model, eager_opt)
    compiled = autodiff.compile(_step(twin, twin_opt))
    for number, (x, y) in enumerate(_batches(8)):
        if number == 4:
            assert compiled.stats.replays >= 1  # the program replayed before the write
            write(model, eager_opt)
            write(twin, twin_opt)
            entry = compiled._recent[0]
            assert entry.check((x, y), {}) is None  # the cache hit fails right after it
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        _same_state(twin, model)


def test_registries_are_dicts_that_count_writes() -> None:
    layer = nn.Linear(3, 2)
    for registry in (layer._parameters, layer._buffers, layer._modules):
        assert isinstance(registry, dict) and type(registry) is Registry
    before = structure.version
    layer._parameters["bias"] = None
    assert structure.version > before
    assert layer._parameters == {"weight": layer.weight, "bias": None}
    assert repr(layer._buffers) == "{}"


def test_copies_and_pickles_keep_counting_registries() -> None:
    import pickle

    model = _model()
    for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model)), copy.copy(model)):
        for module in copied.modules():
            assert type(module._parameters) is Registry
            assert type(module._modules) is Registry
    original = _model()
    shallow = copy.copy(original)
    assert shallow._parameters is original._parameters  # (shared, as PyTorch's)
    assert shallow[0] is original[0]
    plain = _model()
    for module in plain.modules():  # a module pickled with plain dicts, as PyTorch's
        for attribute in ("_parameters", "_buffers", "_modules"):
            object.__setattr__(module, attribute, dict(getattr(module, attribute)))
    restored = pickle.loads(pickle.dumps(plain))
    for module in restored.modules():
        assert type(module._buffers) is Registry
    # A saved module names no class but the modules' own: its registries pickle as dicts.
    assert b"Registry" not in pickle.dumps(_model(), protocol=2)


def test_plain_dict_registries_are_compared_at_every_call() -> None:
    """A module whose registry was replaced by a plain dict (which counts nothing) keeps the
    full comparison on each cache hit."""
    model = nn.Sequential(nn.Linear(3, 2))
    object.__setattr__(model[0], "_parameters", dict(model[0]._parameters))
    compiled = autodiff.compile(lambda x: model(x))
    x = autodiff.ones(4, 3)
    with autodiff.no_grad():
        compiled(x)
        compiled(x)
        model[0]._parameters["weight"] = nn.Parameter(autodiff.zeros(2, 3))
        np.testing.assert_array_equal(_numpy(compiled(x)), _numpy(model(x)))


def test_functional_call_between_calls_leaves_the_program_valid() -> None:
    model = _model()
    twin = copy.deepcopy(model)
    eager_opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_opt = autodiff.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    eager = _step(model, eager_opt)
    compiled = autodiff.compile(_step(twin, twin_opt))
    replacement = {"1.eps": 0.25, "0.weight": autodiff.zeros(5, 6)}
    for x, y in _batches(6):
        with autodiff.no_grad():
            np.testing.assert_array_equal(
                _numpy(autodiff.func.functional_call(twin.eval(), replacement, (x,))),
                _numpy(autodiff.func.functional_call(model.eval(), replacement, (x,))))
        twin.train()
        model.train()
        np.testing.assert_array_equal(_numpy(compiled(x, y)), _numpy(eager(x, y)))
        _same_state(twin, model)
    assert compiled.stats.replays >= 3
