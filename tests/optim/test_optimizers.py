"""Each optimizer, every option combination, several steps, against a hand-written NumPy
reference of its update rule (and against torch.optim when torch is installed)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn, optim

from .reference import AdamReference, RMSpropReference, SGDReference

STEPS = 6
RNG = np.random.default_rng(1234)
# A quadratic bowl 0.5 θᵀAθ - bᵀθ: the gradient Aθ - b depends on the parameters, so any error
# in one step changes every later gradient.
A = RNG.standard_normal((5, 5))
A = A @ A.T / 5 + np.eye(5)
B = RNG.standard_normal(5)
THETA0 = RNG.standard_normal(5)
# A second, matrix-shaped parameter in another group (its own lr), with its own gradient.
W0 = RNG.standard_normal((2, 3))
W_TARGET = RNG.standard_normal((2, 3))


def _grad_theta(theta: np.ndarray) -> np.ndarray:
    return A @ theta - B


def _grad_w(w: np.ndarray) -> np.ndarray:
    return 3.0 * (w - W_TARGET)


def _run_autodiff(make: Any, device: str, dtype: Any = autodiff.float64,
                  steps: int = STEPS) -> list[tuple[np.ndarray, np.ndarray]]:
    theta = nn.Parameter(autodiff.tensor(THETA0, dtype=dtype, device=device))
    w = nn.Parameter(autodiff.tensor(W0, dtype=dtype, device=device))
    frozen = nn.Parameter(autodiff.ones(3, dtype=dtype, device=device))  # never gets a grad
    optimizer = make([{"params": [theta, frozen]}, {"params": [w], "lr": 0.05}])
    history = []
    for _ in range(steps):
        theta.grad = autodiff.tensor(_grad_theta(_host(theta)), dtype=dtype, device=device)
        w.grad = autodiff.tensor(_grad_w(_host(w)), dtype=dtype, device=device)
        optimizer.step()
        history.append((_host(theta), _host(w)))
    assert np.all(_host(frozen) == 1) and frozen not in optimizer.state
    return history


def _host(tensor: autodiff.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(np.float64)


def _run_reference(theta_rule: Any, w_rule: Any,
                   steps: int = STEPS) -> list[tuple[np.ndarray, np.ndarray]]:
    theta, w = THETA0.copy(), W0.copy()
    history = []
    for _ in range(steps):
        theta = theta_rule.step(theta, _grad_theta(theta))
        w = w_rule.step(w, _grad_w(w))
        history.append((theta.copy(), w.copy()))
    return history


def _assert_same(ours: Any, reference: Any, rtol: float) -> None:
    for step, ((theta, w), (theta_ref, w_ref)) in enumerate(zip(ours, reference), 1):
        np.testing.assert_allclose(theta, theta_ref, rtol=rtol, atol=rtol,
                                   err_msg=f"theta after step {step}")
        np.testing.assert_allclose(w, w_ref, rtol=rtol, atol=rtol, err_msg=f"w after step {step}")


def _torch_history(make: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    torch = pytest.importorskip("torch")
    theta = torch.nn.Parameter(torch.tensor(THETA0))
    w = torch.nn.Parameter(torch.tensor(W0))
    frozen = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    optimizer = make(torch.optim, [{"params": [theta, frozen]}, {"params": [w], "lr": 0.05}])
    history = []
    for _ in range(STEPS):
        theta.grad = torch.tensor(_grad_theta(theta.detach().numpy()))
        w.grad = torch.tensor(_grad_w(w.detach().numpy()))
        optimizer.step()
        history.append((theta.detach().numpy().copy(), w.detach().numpy().copy()))
    return history


SGD_OPTIONS = [
    dict(momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=wd,
         maximize=maximize)
    for momentum, dampening, nesterov, wd, maximize in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.1), (False, True))
    if not nesterov or (momentum > 0 and dampening == 0)
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_matches_reference(options: dict[str, Any], device: str) -> None:
    ours = _run_autodiff(lambda groups: optim.SGD(groups, lr=0.1, **options), device)
    reference = _run_reference(SGDReference(0.1, **options), SGDReference(0.05, **options))
    _assert_same(ours, reference, 1e-12)


ADAM_OPTIONS = [
    dict(amsgrad=amsgrad, weight_decay=wd, maximize=maximize, decoupled=decoupled)
    for amsgrad, wd, maximize, decoupled in itertools.product(
        (False, True), (0.0, 0.1), (False, True), (False, True))
]


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_and_adamw_match_reference(options: dict[str, Any], device: str) -> None:
    options = dict(options)
    decoupled = options.pop("decoupled")
    cls = optim.AdamW if decoupled else optim.Adam
    betas = (0.8, 0.95)  # non-defaults, so each beta's place in the rule is tested
    ours = _run_autodiff(lambda groups: cls(groups, lr=0.1, betas=betas, eps=1e-6, **options),
                         device)
    reference = _run_reference(
        AdamReference(0.1, betas, 1e-6, decoupled=decoupled, **options),
        AdamReference(0.05, betas, 1e-6, decoupled=decoupled, **options))
    _assert_same(ours, reference, 1e-12)


RMSPROP_OPTIONS = [
    dict(momentum=momentum, centered=centered, weight_decay=wd, maximize=maximize, alpha=alpha)
    for momentum, centered, wd, maximize, alpha in itertools.product(
        (0.0, 0.5), (False, True), (0.0, 0.1), (False, True), (0.99, 0.9))
]


@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_matches_reference(options: dict[str, Any], device: str) -> None:
    ours = _run_autodiff(lambda groups: optim.RMSprop(groups, lr=0.01, eps=1e-6, **options),
                         device)
    reference = _run_reference(RMSpropReference(0.01, eps=1e-6, **options),
                               RMSpropReference(0.05, eps=1e-6, **options))
    _assert_same(ours, reference, 1e-12)


@pytest.mark.parametrize("name", ["sgd", "sgd_nesterov", "adam", "adamw_amsgrad",
                                  "rmsprop_centered_momentum"])
def test_float32_steps_match_float64_reference(name: str, device: str) -> None:
    """float32 parameters: the updates stay in float32 and close to the exact rule."""
    makers = {
        "sgd": (lambda g: optim.SGD(g, lr=0.1, momentum=0.9, weight_decay=0.1),
                lambda lr: SGDReference(lr, momentum=0.9, weight_decay=0.1)),
        "sgd_nesterov": (lambda g: optim.SGD(g, lr=0.1, momentum=0.9, nesterov=True),
                         lambda lr: SGDReference(lr, momentum=0.9, nesterov=True)),
        "adam": (lambda g: optim.Adam(g, lr=0.1), lambda lr: AdamReference(lr)),
        "adamw_amsgrad": (lambda g: optim.AdamW(g, lr=0.1, amsgrad=True),
                          lambda lr: AdamReference(lr, weight_decay=0.01, amsgrad=True,
                                                   decoupled=True)),
        "rmsprop_centered_momentum": (
            lambda g: optim.RMSprop(g, lr=0.01, momentum=0.5, centered=True),
            lambda lr: RMSpropReference(lr, momentum=0.5, centered=True)),
    }
    make, reference_rule = makers[name]
    lr_theta = 0.01 if name.startswith("rmsprop") else 0.1
    ours = _run_autodiff(make, device, dtype=autodiff.float32)
    reference = _run_reference(reference_rule(lr_theta), reference_rule(0.05))
    _assert_same(ours, reference, 2e-5)


TORCH_CASES = {
    "sgd_momentum_dampening_wd_maximize": lambda o, g: o.SGD(
        g, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1, maximize=True),
    "sgd_nesterov": lambda o, g: o.SGD(g, lr=0.1, momentum=0.9, nesterov=True),
    "adam_amsgrad_wd": lambda o, g: o.Adam(g, lr=0.1, betas=(0.8, 0.95), weight_decay=0.1,
                                           amsgrad=True),
    "adamw_maximize": lambda o, g: o.AdamW(g, lr=0.1, weight_decay=0.1, maximize=True),
    "rmsprop_centered_momentum_wd": lambda o, g: o.RMSprop(
        g, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
    # Weights above 0.5 take lerp's other formula in PyTorch.
    "adam_small_betas": lambda o, g: o.Adam(g, lr=0.1, betas=(0.3, 0.4)),
    "adam_small_betas_amsgrad": lambda o, g: o.Adam(g, lr=0.1, betas=(0.3, 0.4), amsgrad=True),
    "rmsprop_small_alpha_centered": lambda o, g: o.RMSprop(g, lr=0.01, alpha=0.3,
                                                           centered=True),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_matches_torch_optim(case: str) -> None:
    make = TORCH_CASES[case]
    reference = _torch_history(make)
    ours = _run_autodiff(lambda groups: make(optim, groups), "cpu")
    _assert_same(ours, reference, 1e-13)
    # The state dict has PyTorch's layout: same keys, same state entries, same option values.
    torch = pytest.importorskip("torch")
    p = nn.Parameter(autodiff.ones(2))
    q = torch.nn.Parameter(torch.ones(2))
    mine, theirs = make(optim, [p]), make(torch.optim, [q])
    p.grad, q.grad = autodiff.ones(2), torch.ones(2)
    mine.step()
    theirs.step()
    ours_state, torch_state = mine.state_dict(), theirs.state_dict()
    assert ours_state["param_groups"] == torch_state["param_groups"]
    assert list(ours_state["state"]) == list(torch_state["state"])
    for key, value in torch_state["state"][0].items():
        mine_value = ours_state["state"][0][key]
        np.testing.assert_allclose(mine_value.numpy(), value.numpy(), rtol=1e-6)
        assert mine_value.shape == tuple(value.shape)
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("make", [
    lambda g: optim.SGD(g, lr=0.1, momentum=0.9),
    lambda g: optim.Adam(g, lr=0.1, amsgrad=True),
    lambda g: optim.RMSprop(g, lr=0.01, momentum=0.5, centered=True),
], ids=["sgd", "adam", "rmsprop"])
def test_state_dict_round_trip_continues_identically(make: Any, tmp_path: Any,
                                                     device: str) -> None:
    def build() -> tuple[nn.Parameter, Any]:
        theta = nn.Parameter(autodiff.tensor(THETA0, device=device))
        return theta, make([theta])

    def steps(theta: nn.Parameter, optimizer: Any, n: int) -> None:
        for _ in range(n):
            theta.grad = autodiff.tensor(_grad_theta(_host(theta)), device=device)
            optimizer.step()

    theta, optimizer = build()
    steps(theta, optimizer, 3)
    autodiff.save({"theta": theta, "optimizer": optimizer.state_dict()}, tmp_path / "ck.pt")
    checkpoint = autodiff.load(tmp_path / "ck.pt")
    resumed_theta, resumed = build()
    resumed_theta.data = checkpoint["theta"]
    resumed.load_state_dict(checkpoint["optimizer"])
    steps(theta, optimizer, 3)
    steps(resumed_theta, resumed, 3)
    np.testing.assert_array_equal(_host(resumed_theta), _host(theta))
    # Loaded state is copied: the two optimizers do not share buffers.
    for key, value in resumed.state[resumed_theta].items():
        assert value._data is not optimizer.state[theta][key]._data


def test_state_dict_format_and_load_checks() -> None:
    a, b, c = (nn.Parameter(autodiff.ones(n)) for n in (1, 2, 3))
    optimizer = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1,
                          momentum=0.9)
    for p in (a, b, c):
        p.grad = autodiff.ones(p.shape[0])
    optimizer.step()
    state = optimizer.state_dict()
    assert [group["params"] for group in state["param_groups"]] == [[0, 1], [2]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert sorted(state["state"]) == [0, 1, 2]
    assert state["state"][2]["momentum_buffer"].tolist() == [1.0, 1.0, 1.0]
    other = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict(state)
    other = optim.SGD([{"params": [a]}, {"params": [b, c]}], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(state)
    # Group options come back from the state dict; parameters stay the optimizer's own.
    fresh = optim.SGD([{"params": [a, b]}, {"params": [c]}], lr=0.01, momentum=0.1)
    fresh.load_state_dict(state)
    assert fresh.param_groups[1]["lr"] == 0.5 and fresh.param_groups[0]["momentum"] == 0.9
    assert fresh.param_groups[1]["params"][0] is c


def test_constructor_errors_match_pytorch() -> None:
    p = nn.Parameter(autodiff.ones(2))
    cases = [
        (lambda: optim.SGD(p, lr=0.1), TypeError, "params argument given to the optimizer "
         "should be an iterable of Tensors or dicts, but got torch.FloatTensor"),
        (lambda: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
        (lambda: optim.SGD([p], lr=-1), ValueError, "Invalid learning rate: -1"),
        (lambda: optim.SGD([p], lr=0.1, momentum=-1), ValueError, "Invalid momentum value: -1"),
        (lambda: optim.SGD([p], lr=0.1, weight_decay=-1), ValueError,
         "Invalid weight_decay value: -1"),
        (lambda: optim.SGD([p], lr=0.1, nesterov=True), ValueError,
         "Nesterov momentum requires a momentum and zero dampening"),
        (lambda: optim.SGD([p, p * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda: optim.SGD([p, 1], lr=0.1), TypeError,
         "optimizer can only optimize Tensors, but one of the params is int"),
        (lambda: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError,
         "some parameters appear in more than one parameter group"),
        (lambda: optim.SGD([{"params": {p}}], lr=0.1), TypeError,
         "optimizer parameters need to be organized in ordered collections"),
        (lambda: optim.Adam([p], betas=(1.0, 0.9)), ValueError,
         "Invalid beta parameter at index 0: 1.0"),
        (lambda: optim.Adam([p], betas=(0.9, 1.0)), ValueError,
         "Invalid beta parameter at index 1: 1.0"),
        (lambda: optim.Adam([p], eps=-1), ValueError, "Invalid epsilon value: -1"),
        (lambda: optim.RMSprop([p], alpha=-1), ValueError, "Invalid alpha value: -1"),
    ]
    for make, error, message in cases:
        with pytest.raises(error) as raised:
            make()
        assert str(raised.value) == message or str(raised.value).startswith(message)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_zero_grad_closure_and_add_param_group() -> None:
    p = nn.Parameter(autodiff.ones(2))
    q = nn.Parameter(autodiff.ones(3))
    optimizer = optim.SGD([p], lr=0.5)
    optimizer.add_param_group({"params": q, "lr": 0.1})
    assert optimizer.param_groups[1]["params"] == [q]
    assert optimizer.param_groups[1]["momentum"] == 0  # filled in from the defaults

    def closure() -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = (p * p).sum() + (q * 2).sum()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert loss.item() == 8.0
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])  # 1 - 0.5 * 2
    np.testing.assert_allclose(q.detach().numpy(), [0.8] * 3)  # 1 - 0.1 * 2
    grad = p.grad
    optimizer.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert p.grad is None and q.grad is None


def test_step_updates_in_place_and_bumps_the_version() -> None:
    p = nn.Parameter(autodiff.ones(2))
    alias = p.detach()  # shares p's array
    version = p._version
    optimizer = optim.Adam([p], lr=0.1)
    p.grad = autodiff.ones(2)
    optimizer.step()
    assert p._version == version + 1
    np.testing.assert_allclose(alias.numpy(), [0.9, 0.9], rtol=1e-6)
    # A graph that saved p before the step refuses to backward through the stale value.
    p.grad = None
    y = (p * p).sum()
    p.grad = autodiff.ones(2)
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
