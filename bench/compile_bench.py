"""autodiff.compile against eager autodiff and the hand-written NumPy limit, in one run,
interleaved (`_timing.paired` through `seed_graph.run_paired`):

- seed: the seed graph's training step (tutorial size, 64x256x256 and 1024^3), compiled; at the
  two matrix sizes also the matmul floor, the step's two products alone (x @ w and x.T @ g, the
  same BLAS calls as the limit's): each row's note gives its paired ratio to that floor;
- chain: 100 x (y * 1.0001 + 0.0001) then sum().backward(), at 16 and 1M float32 elements,
  compiled forward+backward, against NumPy's forward only (and its forward+backward);
- epoch: the digits MLP epoch (SGD momentum, batch 64) with a compiled step (CPU time);
- seed and epoch also compiled with the `product_reductions` option (off by default: float
  sums as BLAS products with ones, not eager's bits);
- overhead: the first call (trace, plan, build) against one eager call, and a cache hit of a
  one-op function (x + 1 on 16 elements) against the same NumPy call.

    python -m bench --suite compile [--quick]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from autodiff.nn import functional as F
from bench import nn_bench, per_op, seed_graph
from bench._setup import Setup
from bench._timing import paired_ratio
from bench.seed_graph import Row, run_paired

ROUNDS = {"seed": 101, "seed1024": 11, "chain16": 101, "chain1M": 15, "epoch": 7,
          "overhead": 101}
QUICK_ROUNDS = {"seed": 31, "seed1024": 3, "chain16": 31, "chain1M": 5, "epoch": 3,
                "overhead": 31}


def _rows(suite: str, case: str, result: dict[str, dict[str, float]],
          note: Callable[[str], str] = lambda name: "") -> list[Row]:
    return [Row(suite, case, name, stats["median"], stats["ratio"], note(name))
            for name, stats in result.items()]


def bench_seed(setup: Setup, rounds: int, size: str) -> list[Row]:
    problem = seed_graph.make_problem(size)
    engines, limit = seed_graph.make_engines(problem, setup)
    engines.pop("torch", None)
    engines["autodiff compiled"] = autodiff.compile(
        seed_graph.step_of(autodiff, problem, setup.device), fullgraph=True)
    engines[PRODUCTS] = autodiff.compile(
        seed_graph.step_of(autodiff, problem, setup.device), fullgraph=True,
        options={"product_reductions": True})
    seed_graph.check_agreement(engines, limit, setup)
    if problem.x.ndim == 1:  # (the tutorial's products are outer products of 5 and 3 numbers)
        result, _ = run_paired(engines, limit, rounds, setup)
        return _rows("compile", f"seed {size}", result)
    engines[FLOOR] = matmul_floor(setup.xp, problem)
    samples, _ = seed_graph.paired_per_call(engines, rounds, setup)
    result = {name: {"median": statistics.median(samples[name]),
                     "ratio": paired_ratio(samples, name, limit)} for name in engines}

    def note(name: str) -> str:
        if name == limit:
            return ""
        return f"{paired_ratio(samples, name, FLOOR):.2f}x the matmul floor"

    return _rows("compile", f"seed {size}", result, note)


FLOOR = "matmul floor (x @ w, x.T @ g)"
# compile's one pass that changes op order (off by default): sums as BLAS products with ones
PRODUCTS = "autodiff compiled, product_reductions"


def matmul_floor(xp: Any, problem: seed_graph.Problem) -> Callable[[], Any]:
    """The step's two matrix products alone, as the limit makes them (the same BLAS calls on
    the same shapes), into arrays made once: what no engine can go below on one thread, since
    every engine makes exactly these two products."""
    x, w = xp.asarray(problem.x), xp.asarray(problem.w)
    grad = xp.asarray(np.random.default_rng(1).standard_normal(
        problem.y.shape, dtype=np.float32))
    z = xp.empty(grad.shape, dtype=grad.dtype)
    grad_w = xp.empty(w.shape, dtype=w.dtype)
    matmul = xp.matmul

    def floor() -> Any:
        matmul(x, w, out=z)
        matmul(x.T, grad, out=grad_w)
        return grad_w

    return floor


def bench_chain(setup: Setup, rounds: int, size: int) -> list[Row]:
    start = np.random.default_rng(0).standard_normal(size, dtype=np.float32)
    xp = setup.xp
    lx = xp.asarray(start)
    eager_x = autodiff.tensor(start, device=setup.device, requires_grad=True)
    compiled_x = autodiff.tensor(start, device=setup.device, requires_grad=True)

    def compiled_step() -> Any:
        return per_op.chain(autodiff, compiled_x, True)

    engines: dict[str, Callable[[], Any]] = {
        "numpy fwd": lambda: per_op.limit_chain(xp, lx, False),
        "numpy fwd+bwd": lambda: per_op.limit_chain(xp, lx, True),
        "autodiff fwd+bwd": lambda: per_op.chain(autodiff, eager_x, True),
        "autodiff compiled fwd+bwd": autodiff.compile(compiled_step, fullgraph=True),
    }
    _, expected = engines["autodiff fwd+bwd"]()
    _, got = engines["autodiff compiled fwd+bwd"]()
    _, got = engines["autodiff compiled fwd+bwd"]()
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    result, _ = run_paired(engines, "numpy fwd", rounds, setup)
    return _rows("compile", f"chain {size} elems", result,
                 lambda name: f"{result[name]['median'] / per_op.OPS * 1e6:.2f} us/op")


class CompiledLoop(nn_bench.AutodiffLoop):
    """The digits epoch with the step (forward, backward, SGD) compiled."""

    def __init__(self, x: np.ndarray, y: np.ndarray, device: str = "cpu",
                 options: dict[str, bool] | None = None) -> None:
        super().__init__(x, y, device=device)
        model, optimizer = self.model, self.optimizer

        def step(inputs: autodiff.Tensor, targets: autodiff.Tensor) -> autodiff.Tensor:
            loss = F.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        self.step = autodiff.compile(step, options=options)

    def epoch(self) -> None:
        step = self.step
        for x, y in self.loader:
            step(x, y)


def bench_epoch(setup: Setup, rounds: int) -> list[Row]:
    x, y = nn_bench.digits_data()
    engines: dict[str, Callable[[], object]] = {
        "numpy (hand-written)": nn_bench.NumpyLoop(x, y).epoch,
        "autodiff": nn_bench.AutodiffLoop(x, y, device=setup.device).epoch,
        "autodiff compiled": CompiledLoop(x, y, device=setup.device).epoch,
        PRODUCTS: CompiledLoop(x, y, device=setup.device,
                               options={"product_reductions": True}).epoch,
    }
    result = nn_bench.paired_cpu_time(engines, "numpy (hand-written)", rounds=rounds, number=1,
                                      warmup=2)
    return _rows("compile", "digits MLP epoch (CPU time)", result)


def bench_overhead(setup: Setup, rounds: int) -> list[Row]:
    problem = seed_graph.make_problem("tutorial")
    eager = seed_graph.step_of(autodiff, problem, setup.device)
    eager()
    firsts, eagers = [], []
    for _ in range(rounds):
        compiled = autodiff.compile(seed_graph.step_of(autodiff, problem, setup.device))
        start = time.perf_counter()
        compiled()
        firsts.append(time.perf_counter() - start)
        start = time.perf_counter()
        eager()
        eagers.append(time.perf_counter() - start)
    ratios = sorted(first / once for first, once in zip(firsts, eagers))
    rows = [Row("compile", "first call (seed tutorial)", "eager call",
                float(np.median(eagers)), 1.0),
            Row("compile", "first call (seed tutorial)", "trace + plan + build",
                float(np.median(firsts)), ratios[len(ratios) // 2])]
    xp = setup.xp
    lx = xp.asarray(problem.x)
    ax = autodiff.tensor(problem.x, device=setup.device)
    plus_one = autodiff.compile(lambda t: t + 1.0)
    engines: dict[str, Callable[[], Any]] = {
        "numpy x + 1": lambda: lx + np.float32(1.0),
        "compiled x + 1 (cache hit)": lambda: plus_one(ax),
        "eager x + 1": lambda: ax + 1.0,
    }
    result, _ = run_paired(engines, "numpy x + 1", rounds, setup)
    extra = result["compiled x + 1 (cache hit)"]["median"] - result["numpy x + 1"]["median"]
    rows += _rows("compile", "cache hit (1 op, 5 elems)", result,
                  lambda name: f"+{extra * 1e6:.2f} us over NumPy"
                  if name.startswith("compiled") else "")
    return rows


def run(setup: Setup, rounds: int | None = None, quick: bool = False) -> list[Row]:
    counts = QUICK_ROUNDS if quick else ROUNDS

    def count(name: str) -> int:
        return rounds or counts[name]

    rows = bench_seed(setup, count("seed"), "tutorial")
    rows += bench_seed(setup, count("seed"), "64x256x256")
    rows += bench_seed(setup, count("seed1024"), "1024x1024x1024")
    rows += bench_chain(setup, count("chain16"), 16)
    rows += bench_chain(setup, count("chain1M"), 1_000_000)
    if setup.device == "cpu":
        rows += bench_epoch(setup, count("epoch"))
    rows += bench_overhead(setup, count("overhead"))
    return rows
