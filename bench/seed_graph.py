"""The seed graph's training step: forward z = x @ w + b and the BCE-with-logits mean loss,
backward to w and b (x and y need no grad), float32.

Engines: autodiff; the limit, a hand-written NumPy (CuPy on a GPU) forward with its analytic
gradient; PyTorch when importable (same thread count). Timed round-robin by `_timing.paired`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff
from bench._setup import Setup
from bench._timing import paired_ratio, paired_samples, time_once

# name -> (N rows of x, or None for the tutorial's single vector; D; H)
SIZES: dict[str, tuple[int | None, int, int]] = {
    "tutorial": (None, 5, 3),
    "64x256x256": (64, 256, 256),
    "1024x1024x1024": (1024, 1024, 1024),
    "2048x2048x2048": (2048, 2048, 2048),
}
# Rounds for the full run: small sizes time ~2 ms per engine and round (see TARGET), so they
# afford many; 2048^3 takes about a second per call and engine.
ROUNDS = {"tutorial": 301, "64x256x256": 201, "1024x1024x1024": 41, "2048x2048x2048": 21}
QUICK_ROUNDS = {"tutorial": 61, "64x256x256": 41, "1024x1024x1024": 5, "2048x2048x2048": 3}
QUICK_SIZES = ("tutorial", "64x256x256", "1024x1024x1024")


def limit_step(xp: Any, x: Any, y: Any, w: Any, b: Any) -> tuple[Any, Any, Any]:
    """The seed graph by hand: the loss and its gradients w.r.t. w and b.

    loss = mean(softplus(z) - z * y), z = x @ w + b; dloss/dz = (sigmoid(z) - y) / z.size.
    Both softplus and sigmoid come from one e = exp(-|z|) (stable for any z).
    """
    z = x @ w
    z += b
    e = xp.abs(z)
    e *= -1
    xp.exp(e, out=e)
    loss = xp.maximum(z, 0)
    loss -= z * y
    loss += xp.log1p(e)
    loss = loss.mean()
    grad = xp.where(z >= 0, 1.0, e).astype(z.dtype, copy=False)  # sigmoid(z) = grad / (1 + e)
    e += 1
    grad /= e
    grad -= y
    grad *= 1.0 / z.size
    if x.ndim == 1:
        return loss, xp.outer(x, grad), grad
    return loss, x.T @ grad, grad.sum(axis=0)


@dataclass
class Problem:
    """One size's inputs, as NumPy arrays (the engines copy them to their own arrays)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    b: np.ndarray


def make_problem(name: str, seed: int = 0) -> Problem:
    rows, d, h = SIZES[name]
    rng = np.random.default_rng(seed)
    x_shape = (d,) if rows is None else (rows, d)
    y_shape = (h,) if rows is None else (rows, h)
    return Problem(
        name,
        rng.standard_normal(x_shape, dtype=np.float32),
        (rng.random(y_shape, dtype=np.float32) < 0.5).astype(np.float32),
        (rng.standard_normal((d, h), dtype=np.float32) / np.float32(np.sqrt(d))),
        rng.standard_normal(h, dtype=np.float32),
    )


def make_engines(problem: Problem, setup: Setup) -> tuple[dict[str, Callable[[], Any]], str]:
    """One zero-argument step per engine, and the name of the limit."""
    xp = setup.xp
    limit_name = xp.__name__
    lx, ly, lw, lb = (xp.asarray(a) for a in (problem.x, problem.y, problem.w, problem.b))
    engines: dict[str, Callable[[], Any]] = {
        limit_name: lambda: limit_step(xp, lx, ly, lw, lb),
        "autodiff": step_of(autodiff, problem, setup.device),
    }
    if setup.torch is not None:
        engines["torch"] = step_of(setup.torch, problem, setup.torch_device)
    return engines, limit_name


def step_of(lib: Any, problem: Problem, device: Any) -> Callable[[], Any]:
    """One training step on autodiff or PyTorch (`lib` is the module; the code is the same)."""
    x = lib.tensor(problem.x, device=device)
    y = lib.tensor(problem.y, device=device)
    w = lib.tensor(problem.w, device=device, requires_grad=True)
    b = lib.tensor(problem.b, device=device, requires_grad=True)
    bce = lib.nn.functional.binary_cross_entropy_with_logits

    def step() -> Any:
        w.grad = None  # zero_grad(set_to_none=True), PyTorch's default
        b.grad = None
        loss = bce(lib.matmul(x, w) + b, y)
        loss.backward()
        return loss, w, b

    return step


def check_agreement(engines: dict[str, Callable[[], Any]], limit: str, setup: Setup) -> None:
    """Every engine computes the limit's loss and gradients (float32 tolerance): a benchmark of
    the wrong computation would mean nothing."""
    to_numpy = (lambda a: setup.xp.asnumpy(a)) if setup.xp.__name__ == "cupy" else np.asarray
    loss, dw, db = (to_numpy(a).astype(np.float64) for a in engines[limit]())
    for name, step in engines.items():
        if name == limit:
            continue
        out_loss, w, b = step()
        got = [np.array(t.detach().cpu().tolist() if hasattr(t, "detach") else t, np.float64)
               for t in (out_loss, w.grad, b.grad)]
        for value, expected in zip(got, (loss, dw, db)):
            scale = float(np.abs(expected).max()) or 1.0
            np.testing.assert_allclose(value, expected, rtol=1e-3, atol=1e-5 * scale,
                                       err_msg=f"{name} disagrees with {limit}")


def calls_per_timing(step: Callable[[], Any], setup: Setup, target: float) -> int:
    """Back-to-back calls per timing so that one timing lasts about `target` seconds."""
    step()
    once = min(time_once(step, 1, setup.sync) for _ in range(5))  # the fastest: least disturbed
    return max(1, min(100_000, round(target / max(once, 1e-7))))


# Seconds per timing. Every engine's timing is made about this long (each runs its own number of
# calls): on a shared machine a timing gets preempted with a probability that grows with its
# length, so equal lengths keep the per-round ratios unbiased, and short ones (within one
# scheduler slice) let the median skip the preempted rounds. Steps longer than this run once.
TARGET = 0.002


def run_paired(engines: dict[str, Callable[[], Any]], limit: str, rounds: int,
               setup: Setup) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """`_timing.paired` with a call count per engine; results are per call, ratios per call."""
    samples, counts = paired_per_call(engines, rounds, setup)
    result = {name: {"median": statistics.median(samples[name]),
                     "ratio": paired_ratio(samples, name, limit)} for name in engines}
    return result, counts


def paired_per_call(engines: dict[str, Callable[[], Any]], rounds: int, setup: Setup
                    ) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Seconds per call of each engine in each round (`_timing.paired_samples`, each engine
    timed over its own number of back-to-back calls, see TARGET), and those numbers: any two
    engines' ratio is then taken within a round (`_timing.paired_ratio`)."""
    counts = {name: calls_per_timing(step, setup, TARGET) for name, step in engines.items()}

    def batch(step: Callable[[], Any], count: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(count):
                step()

        return run

    batches = {name: batch(step, counts[name]) for name, step in engines.items()}
    samples = paired_samples(batches, rounds=rounds, number=1, warmup=1, sync=setup.sync)
    return {name: [seconds / counts[name] for seconds in samples[name]]
            for name in engines}, counts


@dataclass
class Row:
    suite: str
    case: str
    engine: str
    median: float  # seconds per call
    ratio: float  # median per-round ratio to the limit
    note: str = ""


def run(setup: Setup, sizes: list[str], rounds: int | None = None,
        quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    for name in sizes:
        problem = make_problem(name)
        engines, limit = make_engines(problem, setup)
        check_agreement(engines, limit, setup)
        count = rounds or (QUICK_ROUNDS if quick else ROUNDS)[name]
        result, calls = run_paired(engines, limit, count, setup)
        for engine, stats in result.items():
            note = f"{count} rounds x {calls[engine]} calls"
            rows.append(Row("seed", name, engine, stats["median"], stats["ratio"], note))
    return rows
