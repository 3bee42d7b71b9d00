"""L-BFGS: step by step against a hand-written NumPy L-BFGS (fixed step length), against
torch.optim.LBFGS with and without the strong-Wolfe line search, the Wolfe conditions at every
accepted step, its state and its errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff
from autodiff import nn, optim

from .reference_matrix import LBFGSReference

START = np.array([-1.2, 1.0, 0.5, -0.3, 0.8])
_RNG = np.random.default_rng(5)
_M = _RNG.standard_normal((5, 5))
_A = _M @ _M.T / 5 + 0.5 * np.eye(5)  # eigenvalues about 0.5 to 3
_B = _RNG.standard_normal(5)


def bowl(x: Any) -> Any:
    """0.5 xᵀAx - bᵀx + 0.1 Σ x⁴: smooth and well conditioned, so rounding differences stay
    at rounding level over many iterations (autodiff, torch or NumPy arrays)."""
    return 0.5 * (x * (x @ _matrix(x))).sum() - (x * _vector(x)).sum() + 0.1 * (x**4).sum()


def _matrix(x: Any) -> Any:
    return _A if isinstance(x, np.ndarray) else _like(x, _A)


def _vector(x: Any) -> Any:
    return _B if isinstance(x, np.ndarray) else _like(x, _B)


def _like(x: Any, value: np.ndarray) -> Any:
    if isinstance(x, autodiff.Tensor):
        return autodiff.tensor(value, device=x.device)
    import torch

    return torch.tensor(value)


def bowl_numpy(x: np.ndarray) -> tuple[float, np.ndarray]:
    return float(bowl(x)), _A @ x - _B + 0.4 * x**3


def rosenbrock(x: Any) -> Any:
    """The Rosenbrock function (autodiff, torch or NumPy arrays)."""
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def _run(module: Any, steps: int = 4, device: str = "cpu", function: Any = bowl,
         start: np.ndarray = START, **options: Any) -> tuple[Any, ...]:
    """Two parameters (the first 2 and the last 3 coordinates), `steps` step() calls."""
    tensor = module.tensor
    parameter = nn.Parameter if module is autodiff else module.nn.Parameter
    kwargs = {"device": device} if module is autodiff else {}
    head = parameter(tensor(start[:2], **kwargs))
    tail = parameter(tensor(start[2:], **kwargs))
    optimizer = module.optim.LBFGS([head, tail], **options)
    losses, trajectory = [], []
    for _ in range(steps):
        def closure() -> Any:
            optimizer.zero_grad()
            loss = function(module.cat([head, tail]))
            loss.backward()
            return loss

        losses.append(float(optimizer.step(closure).detach()))
        trajectory.append(np.concatenate([head.detach().cpu().numpy(),
                                          tail.detach().cpu().numpy()]))
    return np.array(losses), np.array(trajectory), optimizer, head


@pytest.mark.parametrize("options", [dict(lr=1, max_iter=4), dict(lr=0.5, max_iter=7),
                                     dict(lr=1, max_iter=6, history_size=2),
                                     dict(lr=0.1, max_iter=3, max_eval=2)], ids=str)
def test_matches_numpy_reference(options: dict[str, Any], device: str) -> None:
    losses, trajectory, _, _ = _run(autodiff, device=device, **options)
    reference = LBFGSReference(bowl_numpy, **options)
    x = START.copy()
    for step in range(len(losses)):
        x, loss = reference.step(x)
        np.testing.assert_allclose(trajectory[step], x, rtol=1e-12, atol=1e-12,
                                   err_msg=f"after step {step + 1}")
        assert losses[step] == pytest.approx(loss, rel=1e-12)


@pytest.mark.parametrize("options", [
    dict(), dict(history_size=3), dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=2, max_iter=10),
    dict(lr=0.3, tolerance_grad=1e-3, tolerance_change=1e-4),
], ids=str)
def test_matches_torch(options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    losses, trajectory, optimizer, head = _run(autodiff, **options)
    torch_losses, torch_trajectory, torch_optimizer, torch_head = _run(torch, **options)
    np.testing.assert_allclose(trajectory, torch_trajectory, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-12)
    ours, theirs = optimizer.state[head], torch_optimizer.state[torch_head]
    assert list(ours) == list(theirs)  # func_evals, n_iter, d, t, old_dirs, ... in order
    for key, value in theirs.items():
        mine = ours[key]
        if isinstance(value, torch.Tensor):
            assert isinstance(mine, autodiff.Tensor), key
            np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-10, atol=1e-12)
        elif isinstance(value, list):
            assert len(mine) == len(value), key
            assert [type(item).__name__ for item in mine] == [
                type(item).__name__ for item in value], key
        else:
            assert type(mine) is type(value) and mine == pytest.approx(value), key


def test_converges_on_rosenbrock_with_strong_wolfe() -> None:
    losses, trajectory, _, _ = _run(autodiff, steps=10, function=rosenbrock,
                                    start=np.zeros(5), line_search_fn="strong_wolfe",
                                    max_iter=20)
    np.testing.assert_allclose(trajectory[-1], np.ones(5), atol=1e-4)  # tolerance_change stops
    assert losses[-1] < 1e-8 and np.all(np.diff(losses) <= 0)


def test_strong_wolfe_steps_satisfy_the_wolfe_conditions() -> None:
    """Every accepted line-search step decreases the loss enough (Armijo, c1 = 1e-4) and
    flattens the slope (|g(x + t d)·d| <= 0.9 |g(x)·d|)."""
    from autodiff.optim import lbfgs

    accepted: list[tuple[float, float, float, float, float]] = []
    search = lbfgs._strong_wolfe

    def recording(obj_func: Any, x: Any, t: Any, d: Any, f: float, g: Any, gtd: Any,
                  **kwargs: Any) -> Any:
        f_new, g_new, t_new, evaluations = search(obj_func, x, t, d, f, g, gtd, **kwargs)
        accepted.append((f, float(gtd), f_new, float(g_new.dot(d)), float(t_new)))
        return f_new, g_new, t_new, evaluations

    lbfgs._strong_wolfe = recording  # type: ignore[assignment]
    try:
        _run(autodiff, steps=3, function=rosenbrock, line_search_fn="strong_wolfe", max_iter=8)
    finally:
        lbfgs._strong_wolfe = search  # type: ignore[assignment]
    assert len(accepted) > 10
    for f, gtd, f_new, gtd_new, t in accepted:
        assert f_new <= f + 1e-4 * t * gtd + 1e-12
        assert abs(gtd_new) <= 0.9 * abs(gtd) + 1e-12


def test_cubic_interpolation_finds_the_cubics_minimum() -> None:
    from autodiff.optim.lbfgs import _cubic_interpolate

    # f(x) = (x - 1)^3 - 3 (x - 1) has its local minimum at x = 2.
    def f(x: float) -> float:
        return (x - 1) ** 3 - 3 * (x - 1)

    def g(x: float) -> Any:
        return autodiff.tensor(3 * (x - 1) ** 2 - 3.0, dtype=autodiff.float64)

    assert float(_cubic_interpolate(1.5, f(1.5), g(1.5), 3.0, f(3.0), g(3.0))) == \
        pytest.approx(2.0)
    # Bounds clip the minimiser.
    assert float(_cubic_interpolate(1.5, f(1.5), g(1.5), 3.0, f(3.0), g(3.0),
                                    bounds=(2.5, 3.0))) == 2.5


def test_errors_and_an_optimum_already_reached() -> None:
    param = nn.Parameter(autodiff.ones(2))
    optimizer = optim.LBFGS([param], line_search_fn="backtracking")

    def closure() -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = ((param - 2) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optimizer.step(closure)
    at_optimum = nn.Parameter(autodiff.full((2,), 2.0))
    optimizer = optim.LBFGS([at_optimum])

    def flat() -> autodiff.Tensor:
        optimizer.zero_grad()
        loss = ((at_optimum - 2) ** 2).sum()
        loss.backward()
        return loss

    assert optimizer.step(flat).item() == 0.0
    assert optimizer.state[at_optimum] == {"func_evals": 1, "n_iter": 0}
