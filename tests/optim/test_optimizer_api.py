"""The Optimizer API around the update rules: state dicts in PyTorch's layout (a torch state
dict loads and continues identically, and back), casting on load, named parameters, step and
state-dict hooks, fused/foreach/capturable, differentiable steps, Tensor lr and PyTorch's error
messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn, optim
from autodiff.autograd import gradcheck
from autodiff.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)

# One configuration of each optimizer (torch.optim has the same names and arguments).
CATALOGUE: dict[str, dict[str, Any]] = {
    "SGD": dict(lr=0.1, momentum=0.9),
    "Adam": dict(lr=0.1, amsgrad=True, weight_decay=0.1),
    "AdamW": dict(lr=0.1),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1, initial_accumulator_value=0.1),
    "Adadelta": dict(),
    "Adamax": dict(),
    "NAdam": dict(weight_decay=0.1, decoupled_weight_decay=True),
    "RAdam": dict(),
    "ASGD": dict(t0=1.0),
    "Rprop": dict(),
    "Adafactor": dict(),
    "SparseAdam": dict(),
    "Muon": dict(),
}
SHAPES = ((3, 4), (4, 2))  # two matrices: every optimizer takes them (Muon needs 2-D)
_RNG = np.random.default_rng(7)
INITIAL = [_RNG.standard_normal(shape) for shape in SHAPES]
GRADS = [[_RNG.standard_normal(shape) for shape in SHAPES] for _ in range(6)]
for _grads in GRADS:  # SparseAdam's rows: some untouched each step
    _grads[0][_RNG.integers(0, 3)] = 0


def _torch_optimizer(torch: Any, name: str, values: list[np.ndarray]) -> tuple[Any, list[Any]]:
    params = [torch.nn.Parameter(torch.tensor(value)) for value in values]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}]
    return getattr(torch.optim, name)(groups, **CATALOGUE[name]), params


def _ours(name: str, values: list[np.ndarray], device: str = "cpu") -> tuple[Any, list[Any]]:
    params = [nn.Parameter(autodiff.tensor(value, device=device)) for value in values]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}]
    return getattr(optim, name)(groups, **CATALOGUE[name]), params


def _torch_steps(torch: Any, name: str, optimizer: Any, params: list[Any], grads: Any) -> None:
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            grad = torch.tensor(grad)
            param.grad = grad.to_sparse(sparse_dim=1) if name == "SparseAdam" else grad
        optimizer.step()


def _our_steps(optimizer: Any, params: list[Any], grads: Any) -> None:
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            grad = autodiff.tensor(grad, device=param.device)
            sparse = type(optimizer).__name__ == "SparseAdam"
            param.grad = grad.to_sparse(sparse_dim=1) if sparse else grad
        optimizer.step()


def _to_autodiff(value: Any) -> Any:
    """A torch state dict's values as autodiff's (tensors converted, structure kept)."""
    import torch

    if isinstance(value, torch.Tensor):
        return autodiff.tensor(value.numpy())
    if isinstance(value, dict):
        return {key: _to_autodiff(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_autodiff(item) for item in value)
    return value


def _to_torch(value: Any) -> Any:
    import torch

    if isinstance(value, autodiff.Tensor):
        return torch.tensor(value.numpy())
    if isinstance(value, dict):
        return {key: _to_torch(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_torch(item) for item in value)
    return value


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_state_dict_layout_and_repr_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    theirs, torch_params = _torch_optimizer(torch, name, INITIAL)
    ours, params = _ours(name, INITIAL)
    _torch_steps(torch, name, theirs, torch_params, GRADS[:2])
    _our_steps(ours, params, GRADS[:2])
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert mine["param_groups"] == reference["param_groups"]
    assert list(mine["state"]) == list(reference["state"])
    for index, torch_state in reference["state"].items():
        assert list(mine["state"][index]) == list(torch_state)  # same keys, same order
        for key, value in torch_state.items():
            our_value = mine["state"][index][key]
            if isinstance(value, torch.Tensor):
                assert isinstance(our_value, autodiff.Tensor), key
                assert str(our_value.dtype) == str(value.dtype), key
                assert tuple(our_value.shape) == tuple(value.shape), key
                np.testing.assert_allclose(our_value.numpy(), value.numpy(), rtol=1e-6,
                                           atol=1e-12)
            else:
                assert type(our_value) is type(value) and our_value == value, key
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_a_torch_state_dict_loads_and_continues_identically(name: str) -> None:
    """PyTorch's state dict (tensors converted) loads into autodiff's optimizer, which then
    takes the steps a torch optimizer that loaded it takes; and autodiff's state dict loads
    into torch. (Loading casts NAdam's and ASGD's scalar state to the parameters' dtype, in
    both.)"""
    torch = pytest.importorskip("torch")
    first, first_params = _torch_optimizer(torch, name, INITIAL)
    _torch_steps(torch, name, first, first_params, GRADS[:3])
    values = [param.detach().numpy().copy() for param in first_params]
    theirs, torch_params = _torch_optimizer(torch, name, values)
    theirs.load_state_dict(first.state_dict())
    ours, params = _ours(name, values)
    ours.load_state_dict(_to_autodiff(first.state_dict()))
    _torch_steps(torch, name, theirs, torch_params, GRADS[3:])
    _our_steps(ours, params, GRADS[3:])
    tolerance = 1e-12  # Muon's bfloat16 iterations included
    for param, torch_param in zip(params, torch_params):
        np.testing.assert_allclose(param.detach().numpy(), torch_param.detach().numpy(),
                                   rtol=tolerance, atol=tolerance)
    # And the other way round.
    back, back_params = _torch_optimizer(torch, name, [p.detach().numpy() for p in params])
    back.load_state_dict(_to_torch(ours.state_dict()))
    _torch_steps(torch, name, back, back_params, GRADS[:2])
    _our_steps(ours, params, GRADS[:2])
    for param, torch_param in zip(params, back_params):
        np.testing.assert_allclose(param.detach().numpy(), torch_param.detach().numpy(),
                                   rtol=tolerance, atol=tolerance)


def test_load_state_dict_casts_as_pytorch(device: str) -> None:
    """Floating state follows the parameter's dtype and device; 'step' is kept as saved, except
    in fused groups (float32 on the parameter's device)."""
    param = nn.Parameter(autodiff.ones(2, 3, device=device))  # float32
    saved = {"state": {0: {"step": autodiff.tensor(4.0, dtype=autodiff.float64),
                           "exp_avg": autodiff.full((2, 3), 0.5, dtype=autodiff.float64),
                           "exp_avg_sq": autodiff.full((2, 3), 2, dtype=autodiff.int64)}},
             "param_groups": [{**optim.Adam([param]).defaults, "params": [0]}]}
    for fused in (False, True):
        optimizer = optim.Adam([param], fused=fused)
        saved["param_groups"][0]["fused"] = fused
        optimizer.load_state_dict(saved)
        state = optimizer.state[param]
        assert state["exp_avg"].dtype == autodiff.float32
        assert state["exp_avg"].device == param.device
        # An integer value is cast to the parameter's floating dtype too (PyTorch's policy).
        assert state["exp_avg_sq"].dtype == autodiff.float32
        if fused:
            assert state["step"].dtype == autodiff.float32 and state["step"].device == param.device
        else:
            assert state["step"].dtype == autodiff.float64 and state["step"].device.type == "cpu"
        assert state["exp_avg"] is not saved["state"][0]["exp_avg"]  # a copy
        assert optimizer.param_groups[0]["params"] == [param]


def test_named_parameters_are_kept_in_groups_and_state_dicts() -> None:
    model = nn.Linear(3, 2)
    optimizer = optim.Adam(model.named_parameters(), lr=0.1)
    assert optimizer.param_groups[0]["param_names"] == ["weight", "bias"]
    assert optimizer.param_groups[0]["params"] == [model.weight, model.bias]
    assert optimizer.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"all optimizer param groups should be with/without "
                                         "names. cannot add param group without names"):
        optimizer.add_param_group({"params": [nn.Parameter(autodiff.ones(1))]})
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("a", nn.Parameter(autodiff.ones(1))), nn.Parameter(autodiff.ones(1))])
    torch = pytest.importorskip("torch")
    reference = torch.optim.Adam(torch.nn.Linear(3, 2).named_parameters(), lr=0.1)
    assert optimizer.state_dict()["param_groups"] == reference.state_dict()["param_groups"]


def test_step_hooks_run_in_pytorch_order_and_can_replace_arguments() -> None:
    param = nn.Parameter(autodiff.ones(2))
    optimizer = optim.SGD([param], lr=0.5)
    calls: list[str] = []

    def closure() -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        calls.append("closure")
        return loss

    def pre(opt: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        calls.append("pre")
        assert opt is optimizer and args[0] is optimizer  # args include the optimizer
        return args, {"closure": closure}  # the step runs with this closure

    handles = [register_optimizer_step_pre_hook(lambda *a: calls.append("global pre")),
               optimizer.register_step_pre_hook(pre),
               optimizer.register_step_post_hook(lambda *a: calls.append("post")),
               register_optimizer_step_post_hook(lambda *a: calls.append("global post"))]
    try:
        loss = optimizer.step()
        assert loss.item() == 2.0 and param.tolist() == [0.0, 0.0]
        assert calls == ["global pre", "pre", "closure", "post", "global post"]
    finally:
        for handle in handles:
            handle.remove()
    calls.clear()
    param.grad = autodiff.ones(2)
    optimizer.step()
    assert calls == []  # every hook removed
    optimizer.register_step_pre_hook(lambda *a: "not a pair")
    with pytest.raises(RuntimeError, match="must return None or a tuple of "
                                           r"\(new_args, new_kwargs\), but got not a pair."):
        optimizer.step()


def test_state_dict_hooks() -> None:
    param = nn.Parameter(autodiff.ones(2))
    optimizer = optim.Adam([param], lr=0.1)
    calls: list[str] = []
    optimizer.register_state_dict_pre_hook(lambda opt: calls.append("pre"))
    optimizer.register_state_dict_pre_hook(lambda opt: calls.append("first pre"), prepend=True)
    optimizer.register_state_dict_post_hook(
        lambda opt, state: {**state, "extra": 1})  # a returned dict replaces the result
    optimizer.register_state_dict_post_hook(lambda opt, state: calls.append("post"))
    state = optimizer.state_dict()
    assert calls == ["first pre", "pre", "post"] and state["extra"] == 1

    def load_pre(opt: Any, state_dict: dict[str, Any]) -> dict[str, Any]:
        state_dict = dict(state_dict)
        state_dict["param_groups"] = [{**group, "lr": 0.25}
                                      for group in state_dict["param_groups"]]
        return state_dict

    optimizer.register_load_state_dict_pre_hook(load_pre)
    handle = optimizer.register_load_state_dict_post_hook(lambda opt: calls.append("loaded"))
    optimizer.load_state_dict(state)
    assert optimizer.param_groups[0]["lr"] == 0.25 and calls[-1] == "loaded"
    assert state["param_groups"][0]["lr"] == 0.1  # the caller's dict is not changed
    handle.remove()
    optimizer.load_state_dict(state)
    assert calls.count("loaded") == 1


CAPTURABLE = ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD",
              "Rprop"]


@pytest.mark.parametrize("name", CAPTURABLE)
def test_capturable_is_refused_clearly(name: str) -> None:
    with pytest.raises(ValueError, match="capturable=True is not supported: autodiff has no "
                                         "CUDA graph capture"):
        getattr(optim, name)([nn.Parameter(autodiff.ones(2))], capturable=True)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_runs_the_same_update_and_checks_as_pytorch(name: str) -> None:
    def run(**options: Any) -> tuple[np.ndarray, Any]:
        param = nn.Parameter(autodiff.tensor([1.0, -2.0, 3.0]))
        optimizer = getattr(optim, name)([param], lr=0.1, **options)
        for scale in (1.0, -0.5, 2.0):
            param.grad = autodiff.tensor([0.3, 0.1, -0.2]) * scale
            optimizer.step()
        return param.detach().numpy(), optimizer

    plain, _ = run()
    fused, optimizer = run(fused=True)
    np.testing.assert_allclose(fused, plain, rtol=1e-6)
    if "step" in optimizer.state[optimizer.param_groups[0]["params"][0]]:
        step = optimizer.state[optimizer.param_groups[0]["params"][0]]["step"]
        assert step.dtype == autodiff.float32 and step.item() == 3
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        getattr(optim, name)([nn.Parameter(autodiff.ones(2))], fused=True, differentiable=True)
    with pytest.raises(RuntimeError, match=r"`fused` and `foreach` cannot be `True` together\."):
        getattr(optim, name)([nn.Parameter(autodiff.ones(2))], fused=True, foreach=True)
    integer = nn.Parameter(autodiff.ones(2, dtype=autodiff.int64), requires_grad=False)
    integer.grad = autodiff.ones(2, dtype=autodiff.int64)
    with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be floating "
                                           "point Tensors"):
        getattr(optim, name)([integer], fused=True).step()


FOREACH = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
           "RAdam", "ASGD", "Rprop", "Adafactor"]


@pytest.mark.parametrize("name", FOREACH)
def test_foreach_gives_the_same_numbers(name: str) -> None:
    results = []
    for foreach in (None, False, True):
        optimizer, params = _ours(name, INITIAL)
        for group in optimizer.param_groups:
            group["foreach"] = foreach
        _our_steps(optimizer, params, GRADS)
        results.append([param.detach().numpy() for param in params])
    for result in results[1:]:
        for ours, expected in zip(result, results[0]):
            np.testing.assert_array_equal(ours, expected)


MULTI_TENSOR = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.25, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.1, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.1)),
    ("Adamax", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(lr=0.5)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.1)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, maximize=True, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1)),
    ("RAdam", dict(lr=0.1, betas=(0.9, 0.9))),
    ("RAdam", dict(lr=0.1, weight_decay=0.1, maximize=True, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.1, betas=(0.5, 0.6), weight_decay=0.1)),
    ("Rprop", dict(lr=0.1)),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(0.05, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.1, t0=2)),
    ("ASGD", dict(lr=0.1, t0=1, lambd=0.01, weight_decay=0.1, maximize=True)),
    ("Adafactor", dict(lr=0.1)),
    ("Adafactor", dict(lr=0.1, weight_decay=0.1, maximize=True, eps=(1e-3, 1e-3), d=1.5)),
]


@pytest.mark.parametrize("name, options", MULTI_TENSOR,
                         ids=[f"{n}-{'-'.join(o)}" for n, o in MULTI_TENSOR])
def test_foreach_true_runs_the_foreach_ops_with_the_same_numbers(
        name: str, options: dict[str, Any], device: str, monkeypatch: Any) -> None:
    """Every optimizer that takes `foreach` steps a group with foreach=True through the
    `_foreach_*` ops (PyTorch's multi-tensor rules), bit for bit the per-parameter step; a
    parameter without a gradient in some step is left out."""
    from autodiff.optim import multi_tensor

    calls: list[str] = []
    original = multi_tensor._foreach_add_
    monkeypatch.setattr(multi_tensor, "_foreach_add_",
                        lambda *a, **k: calls.append("add_") or original(*a, **k))
    results, states = [], []
    for foreach in (False, True):
        params = [nn.Parameter(autodiff.tensor(v, device=device)) for v in INITIAL]
        params.append(nn.Parameter(autodiff.ones(2, dtype=autodiff.float32, device=device)))
        optimizer = getattr(optim, name)(params, foreach=foreach, **options)
        for index, step_grads in enumerate(GRADS):  # RAdam rectifies from step 6 (betas 0.9)
            for param, grad in zip(params, step_grads):
                param.grad = autodiff.tensor(grad, device=device)
            params[-1].grad = None if index == 1 else autodiff.full((2,), 0.5 * index,
                                                                     device=device)
            optimizer.step()
        results.append([param.detach().cpu().numpy() for param in params])
        states.append(optimizer.state_dict()["state"])
    assert calls  # the foreach=True run went through the multi-tensor rule
    for ours, expected in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, expected)
    for index, state in states[0].items():
        for key, value in state.items():
            np.testing.assert_array_equal(states[1][index][key].cpu().numpy(),
                                          value.cpu().numpy())


def test_foreach_with_differentiable_is_refused_as_pytorch_refuses_it() -> None:
    param = nn.Parameter(autodiff.ones(2))
    param.grad = autodiff.ones(2)
    with pytest.raises(AssertionError, match="_foreach ops don't support autograd"):
        optim.Adam([param], foreach=True, differentiable=True).step()


DIFFERENTIABLE = {
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    "Adam": dict(lr=0.1, weight_decay=0.1),
    "AdamW": dict(lr=0.1, amsgrad=True),
    "RMSprop": dict(lr=0.1, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.1),
    "Adadelta": dict(lr=0.5, weight_decay=0.1),
    "Adamax": dict(lr=0.1),
    "NAdam": dict(lr=0.1, weight_decay=0.1),
    "RAdam": dict(lr=0.1, betas=(0.9, 0.9)),
    "ASGD": dict(lr=0.1, t0=1),
    "Rprop": dict(lr=0.1),
}


def _differentiable_steps(module: Any, name: str, x: Any, g: Any, steps: int) -> Any:
    """`steps` steps from a copy of x (a non-leaf) with gradients g and 2 g + 0.1: the result
    is a function of x and g that autograd can differentiate."""
    param = x.clone()
    optimizer = getattr(module.optim, name)([param], differentiable=True,
                                            **DIFFERENTIABLE[name])
    for index in range(steps):
        param.grad = g if index == 0 else g * 2 + 0.1
        optimizer.step()
    return param


@pytest.fixture
def float64_default() -> Iterator[None]:
    previous = autodiff.get_default_dtype()
    autodiff.set_default_dtype(autodiff.float64)
    try:
        yield
    finally:
        autodiff.set_default_dtype(previous)


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_differentiable_steps_are_recorded(name: str, float64_default: None) -> None:
    """Two steps, differentiated with respect to the starting parameter and the gradient:
    against finite differences, and against PyTorch's differentiable optimizers (one step:
    PyTorch's own second step fails for several of them, as its state is modified in place
    after its graph saved it)."""
    x = autodiff.tensor([0.5, -1.0, 2.0], requires_grad=True)
    g = autodiff.tensor([0.3, -0.2, 0.7], requires_grad=True)
    if name != "SGD":  # PyTorch's SGD detaches the first momentum buffer (and so do we)
        assert gradcheck(lambda x, g: _differentiable_steps(autodiff, name, x, g, 2), (x, g))
    result = _differentiable_steps(autodiff, name, x, g, 2)
    assert result.grad_fn is not None
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        tx = torch.tensor(x.tolist(), requires_grad=True)
        tg = torch.tensor(g.tolist(), requires_grad=True)
        expected = torch.autograd.grad(_differentiable_steps(torch, name, tx, tg, 1).sum(),
                                       (tx, tg))
    finally:
        torch.set_default_dtype(previous)
    ours = autodiff.autograd.grad(_differentiable_steps(autodiff, name, x, g, 1).sum(), (x, g))
    for mine, theirs in zip(ours, expected):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_differentiable_allows_non_leaf_parameters_only_then() -> None:
    non_leaf = autodiff.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.Adam([non_leaf])
    optim.Adam([non_leaf], differentiable=True)
    lr = autodiff.tensor(0.1, requires_grad=True)
    optimizer = optim.Adam([non_leaf], lr=lr, differentiable=True)
    non_leaf.grad = autodiff.ones(2)
    with pytest.raises(RuntimeError, match="differentiable=True with a lr Tensor that requires "
                                           "grad is not supported"):
        optimizer.step()


def test_a_tensor_lr_is_read_at_each_step_and_schedulers_fill_it() -> None:
    lr = autodiff.tensor(0.5)
    param = nn.Parameter(autodiff.ones(1))
    optimizer = optim.SGD([param], lr=lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    for expected in (0.5, 0.25):
        param.grad = autodiff.ones(1)
        before = param.item()
        optimizer.step()
        assert before - param.item() == pytest.approx(expected)
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] is lr and lr.item() == 0.125
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD([param], lr=autodiff.ones(2))


# Each call made with autodiff or torch (`lib`) on a 2 x 2 parameter `p`.
ERRORS = [
    (lambda lib, p: lib.optim.Adagrad([p], lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda lib, p: lib.optim.Adagrad([p], lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
    (lambda lib, p: lib.optim.Adagrad([p], weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (lambda lib, p: lib.optim.Adagrad([p], initial_accumulator_value=-1.0),
     "Invalid initial_accumulator_value value: -1.0"),
    (lambda lib, p: lib.optim.Adagrad([p], eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda lib, p: lib.optim.Adadelta([p], lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda lib, p: lib.optim.Adadelta([p], rho=1.5), "Invalid rho value: 1.5"),
    (lambda lib, p: lib.optim.Adadelta([p], eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda lib, p: lib.optim.Adadelta([p], weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (lambda lib, p: lib.optim.Adamax([p], betas=(1.0, 0.9)),
     "Invalid beta parameter at index 0: 1.0"),
    (lambda lib, p: lib.optim.Adamax([p], betas=(0.9, -0.1)),
     "Invalid beta parameter at index 1: -0.1"),
    (lambda lib, p: lib.optim.NAdam([p], momentum_decay=-1.0),
     "Invalid momentum_decay value: -1.0"),
    (lambda lib, p: lib.optim.NAdam([p], lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda lib, p: lib.optim.RAdam([p], eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda lib, p: lib.optim.RAdam([p], weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (lambda lib, p: lib.optim.ASGD([p], lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda lib, p: lib.optim.ASGD([p], weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (lambda lib, p: lib.optim.Rprop([p], etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    (lambda lib, p: lib.optim.Rprop([p], lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda lib, p: lib.optim.LBFGS([p], lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda lib, p: lib.optim.LBFGS([{"params": [p]}, {"params": [lib.nn.Parameter(lib.ones(1))]}]),
     "LBFGS doesn't support per-parameter options (parameter groups)"),
    (lambda lib, p: lib.optim.Adafactor([p], lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (lambda lib, p: lib.optim.Adafactor([p], beta2_decay=0.5),
     "beta2_decay should be <= 0 but is: 0.5"),
    (lambda lib, p: lib.optim.Adafactor([p], eps=(-1.0, 1e-3)),
     "epsilon1 should be >= 0 but is: -1.0"),
    (lambda lib, p: lib.optim.Adafactor([p], eps=(None, -1.0)),
     "epsilon2 should be >= 0 but is: -1.0"),
    (lambda lib, p: lib.optim.Adafactor([p], d=0.5),
     "Clipping threshold d should be >= 1 but is: 0.5"),
    (lambda lib, p: lib.optim.Adafactor([p], weight_decay=-1.0),
     "weight_decay should be >= 0 but is: -1.0"),
    (lambda lib, p: lib.optim.SparseAdam([p], lr=0.0), "Invalid learning rate: 0.0"),
    (lambda lib, p: lib.optim.SparseAdam([p], eps=0.0), "Invalid epsilon value: 0.0"),
    (lambda lib, p: lib.optim.SparseAdam([p], betas=(0.9, 1.0)),
     "Invalid beta parameter at index 1: 1.0"),
    (lambda lib, p: lib.optim.Muon([p], lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (lambda lib, p: lib.optim.Muon([p], momentum=-1.0), "momentum should be >= 0 but is: -1.0"),
    (lambda lib, p: lib.optim.Muon([p], weight_decay=-1.0),
     "weight decay should be >= 0 but is: -1.0"),
    (lambda lib, p: lib.optim.Muon([p], adjust_lr_fn="other"),
     "Adjust learning rate function other is not supported"),
    (lambda lib, p: lib.optim.Muon([lib.nn.Parameter(lib.ones(3))]),
     "Muon only supports 2D parameters whereas we found a parameter with size: "
     "torch.Size([3])"),
    (lambda lib, p: lib.optim.Adam([p], betas=(0, 0.9)),
     "betas must be either both floats or both Tensors"),
    (lambda lib, p: lib.optim.Adam([p], lr=lib.tensor(0.1), foreach=True),
     "lr as a Tensor is not supported for capturable=False and foreach=True"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_invalid_hyperparameters_raise_pytorchs_errors(index: int) -> None:
    make, message = ERRORS[index]
    with pytest.raises(ValueError) as raised:
        make(autodiff, nn.Parameter(autodiff.ones(2, 2)))
    assert str(raised.value) == message
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as raised:  # and they are PyTorch's messages
        make(torch, torch.nn.Parameter(torch.ones(2, 2)))
    assert str(raised.value) == message


def test_muon_refuses_what_pytorch_refuses() -> None:
    from autodiff.optim.muon import zeropower_via_newtonschulz

    param = nn.Parameter(autodiff.ones(2, 2))
    backend = param._backend
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        zeropower_via_newtonschulz(backend, param._data, (1.0, 2.0, 3.0), 100, 1e-7)
    with pytest.raises(ValueError, match="Coefficients must be a tuple of exactly 3 values"):
        zeropower_via_newtonschulz(backend, param._data, (1.0, 2.0), 5, 1e-7)
    with pytest.raises(ValueError, match="Input tensor gradient must be a 2D matrix"):
        zeropower_via_newtonschulz(backend, backend.ones((2, 2, 2), "float32"), (1.0,) * 3, 5,
                                   1e-7)


@pytest.mark.parametrize("shape", [(64, 32), (32, 512)])
def test_muon_iterates_in_bfloat16_as_pytorch(shape: tuple[int, int]) -> None:
    """Each op of the iteration rounds its float32 result to bfloat16, as PyTorch's: one
    iteration is bit-identical to PyTorch's; over five, float32 summation orders inside the
    matrix products differ, so some entries land a bfloat16 step or a few apart: still far
    closer to PyTorch's than the unrounded iteration is."""
    from autodiff.optim.muon import DEFAULT_A, DEFAULT_B, DEFAULT_C, zeropower_via_newtonschulz

    from .reference_matrix import newton_schulz

    torch = pytest.importorskip("torch")
    import ml_dtypes
    from torch.optim._muon import _zeropower_via_newtonschulz

    coefficients = (DEFAULT_A, DEFAULT_B, DEFAULT_C)
    grad = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    backend = autodiff.tensor(grad)._backend
    for steps in (1, 5):
        ours = np.asarray(zeropower_via_newtonschulz(backend, grad, coefficients, steps, 1e-7))
        theirs = _zeropower_via_newtonschulz(torch.tensor(grad), coefficients, steps,
                                             1e-7).float().numpy()
        assert np.array_equal(ours, ours.astype(ml_dtypes.bfloat16).astype(np.float32))
        if steps == 1:
            np.testing.assert_array_equal(ours, theirs)
        else:
            exact = newton_schulz(grad, coefficients, steps, 1e-7, bfloat16=False)
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=2**-9)
            assert np.abs(ours - theirs).mean() < 0.1 * np.abs(exact - theirs).mean()


def test_adagrad_makes_its_state_up_front_and_for_added_groups() -> None:
    first, second = nn.Parameter(autodiff.ones(2)), nn.Parameter(autodiff.ones(3))
    optimizer = optim.Adagrad([first], initial_accumulator_value=0.5)
    assert optimizer.state[first]["sum"].tolist() == [0.5, 0.5]
    assert optimizer.state[first]["step"].item() == 0
    optimizer.add_param_group({"params": [second]})
    second.grad = autodiff.ones(3)
    optimizer.step()
    assert optimizer.state[second]["sum"].tolist() == [1.5] * 3
    assert first not in {p for p, s in optimizer.state.items() if s["step"].item() > 0}


def test_old_checkpoints_get_the_options_and_step_tensors_they_lack() -> None:
    """A state dict from before an option existed (or from when 'step' was a number) loads
    with the option's old behaviour and a tensor step, as PyTorch's __setstate__ does."""
    param = nn.Parameter(autodiff.ones(2))
    optimizer = optim.Adam([param], lr=0.1)
    param.grad = autodiff.ones(2)
    optimizer.step()
    state = optimizer.state_dict()
    old = {"state": {0: {**state["state"][0], "step": 1}},
           "param_groups": [{key: value for key, value in state["param_groups"][0].items()
                             if key not in ("maximize", "foreach", "decoupled_weight_decay")}]}
    fresh = optim.Adam([param], lr=0.5)
    fresh.load_state_dict(old)
    group = fresh.param_groups[0]
    assert (group["maximize"], group["foreach"], group["decoupled_weight_decay"]) == (
        False, None, False)
    step = fresh.state[param]["step"]
    assert isinstance(step, autodiff.Tensor) and step.item() == 1.0
    assert step.dtype == autodiff.float32
    param.grad = autodiff.ones(2)
    fresh.step()
    assert fresh.state[param]["step"].item() == 2.0


def test_an_optimizer_copies_and_pickles_without_its_hooks() -> None:
    import copy
    import pickle

    param = nn.Parameter(autodiff.ones(2))
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9)
    optimizer.register_step_post_hook(lambda *args: None)  # a lambda: not picklable
    param.grad = autodiff.ones(2)
    optimizer.step()
    for clone in (copy.deepcopy(optimizer), pickle.loads(pickle.dumps(optimizer))):
        assert clone._optimizer_step_post_hooks == []
        assert clone.param_groups[0]["lr"] == 0.1
        clone_param = clone.param_groups[0]["params"][0]
        assert clone.state[clone_param]["momentum_buffer"].tolist() == [1.0, 1.0]
        clone_param.grad = autodiff.ones(2)
        clone.step()  # still a working optimizer
