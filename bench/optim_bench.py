"""One optimizer step on 10M float32 parameters (Adam, AdamW, NAdam, RAdam): autodiff's
`optimizer.step()` against a hand-written in-place update in the device's array library (NumPy
or CuPy: ufuncs writing `out=` into preallocated scratch arrays, the least memory traffic the
arithmetic allows) and torch.optim when installed, paired round by round (see _timing.py).

    python -m bench.optim_bench [--rounds 15] [--size 10000000] [--device cpu] [--no-torch]
    python -m bench --suite optim

Target: autodiff within 1.2x of the hand-written update.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from autodiff import nn, optim
from bench._setup import Setup, make_setup
from bench._timing import paired

SIZE = 10_000_000
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
WEIGHT_DECAY = {"Adam": 0.0, "AdamW": 1e-2, "NAdam": 0.0, "RAdam": 0.0}
MOMENTUM_DECAY = 4e-3
WARMUP = 8  # steps before timing: RAdam is past its unrectified start (rho_t > 5)


class Limit:
    """The hand-written update: parameter, gradient and moments as arrays of `xp`, two scratch
    arrays allocated once, the step count and NAdam's momentum product on the host."""

    def __init__(self, name: str, xp: Any, param: Any, grad: Any) -> None:
        self.name, self.xp = name, xp
        self.param, self.grad = param, grad
        self.exp_avg, self.exp_avg_sq = xp.zeros_like(param), xp.zeros_like(param)
        self.scratch = [xp.empty_like(param), xp.empty_like(param)]
        self.step_count = 0
        self.mu_product = 1.0

    def __call__(self) -> None:
        xp, p, g, m, v = self.xp, self.param, self.grad, self.exp_avg, self.exp_avg_sq
        t, d = self.scratch
        self.step_count += 1
        step = self.step_count
        if WEIGHT_DECAY[self.name]:  # AdamW: decoupled decay
            p *= 1 - LR * WEIGHT_DECAY[self.name]
        # m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g²
        m *= BETA1
        xp.multiply(g, 1 - BETA1, out=t)
        m += t
        v *= BETA2
        xp.multiply(g, g, out=t)
        t *= 1 - BETA2
        v += t
        bias_correction1, bias_correction2 = 1 - BETA1**step, 1 - BETA2**step
        if self.name in ("Adam", "AdamW"):
            xp.sqrt(v, out=t)
            t *= 1 / math.sqrt(bias_correction2)
            t += EPS
            xp.divide(m, t, out=t)
            t *= -LR / bias_correction1
            p += t
        elif self.name == "NAdam":
            mu = BETA1 * (1 - 0.5 * 0.96 ** (step * MOMENTUM_DECAY))
            mu_next = BETA1 * (1 - 0.5 * 0.96 ** ((step + 1) * MOMENTUM_DECAY))
            self.mu_product *= mu
            xp.multiply(v, 1 / bias_correction2, out=d)
            xp.sqrt(d, out=d)
            d += EPS
            xp.divide(g, d, out=t)
            t *= -LR * (1 - mu) / (1 - self.mu_product)
            p += t
            xp.divide(m, d, out=d)
            d *= -LR * mu_next / (1 - self.mu_product * mu_next)
            p += d
        else:  # RAdam
            rho_inf = 2 / (1 - BETA2) - 1
            rho_t = rho_inf - 2 * step * BETA2**step / bias_correction2
            if rho_t <= 5:  # the first steps: bias-corrected momentum only
                xp.multiply(m, -LR / bias_correction1, out=t)
                p += t
                return
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            xp.sqrt(v, out=t)
            t += EPS
            xp.divide(math.sqrt(bias_correction2), t, out=t)
            t *= m
            t *= -LR * rect / bias_correction1
            p += t


def _autodiff_optimizer(name: str, param: Any) -> Any:
    options: dict[str, Any] = dict(lr=LR, betas=(BETA1, BETA2), eps=EPS,
                                   weight_decay=WEIGHT_DECAY[name])
    if name == "NAdam":
        options["momentum_decay"] = MOMENTUM_DECAY
    return getattr(optim, name)([param], **options)


def check_agreement(name: str, setup: Setup, size: int = 1000) -> None:
    """The limit computes the same update as autodiff (so the table compares like with like)."""
    rng = np.random.default_rng(1)
    start = rng.standard_normal(size).astype(np.float32)
    grads = [rng.standard_normal(size).astype(np.float32) for _ in range(WARMUP + 2)]
    xp = setup.xp
    limit = Limit(name, xp, xp.asarray(start.copy()), xp.asarray(grads[0]))
    param = nn.Parameter(autodiff.tensor(start, device=setup.device))
    optimizer = _autodiff_optimizer(name, param)
    for grad in grads:
        limit.grad[...] = xp.asarray(grad)
        limit()
        param.grad = autodiff.tensor(grad, device=setup.device)
        optimizer.step()
    theirs = limit.param.get() if hasattr(limit.param, "get") else limit.param
    np.testing.assert_allclose(param.detach().cpu().numpy(), theirs, rtol=2e-5, atol=1e-6)


def make_engines(name: str, setup: Setup, size: int) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    start = rng.standard_normal(size, dtype=np.float32)
    grad = rng.standard_normal(size, dtype=np.float32) * 0.1
    xp = setup.xp
    engines: dict[str, Callable[[], object]] = {
        "numpy" if xp.__name__ == "numpy" else "cupy": Limit(name, xp, xp.asarray(start),
                                                            xp.asarray(grad)),
    }
    param = nn.Parameter(autodiff.tensor(start, device=setup.device))
    param.grad = autodiff.tensor(grad, device=setup.device)
    optimizer = _autodiff_optimizer(name, param)
    engines["autodiff"] = optimizer.step
    if setup.torch is not None:
        torch = setup.torch
        torch_param = torch.nn.Parameter(torch.tensor(start, device=setup.torch_device))
        torch_param.grad = torch.tensor(grad, device=setup.torch_device)
        options: dict[str, Any] = dict(lr=LR, betas=(BETA1, BETA2), eps=EPS,
                                       weight_decay=WEIGHT_DECAY[name])
        if name == "NAdam":
            options["momentum_decay"] = MOMENTUM_DECAY
        engines["torch"] = getattr(torch.optim, name)([torch_param], **options).step
    for engine in engines.values():
        for _ in range(WARMUP):
            engine()
    setup.sync()
    return engines


def run(setup: Setup, rounds: int | None = None, quick: bool = False,
        size: int = SIZE) -> list[Any]:
    """`python -m bench --suite optim`: one row per optimizer and engine."""
    from .seed_graph import Row

    rows = []
    for name in ("Adam", "AdamW", "NAdam", "RAdam"):
        check_agreement(name, setup)
        engines = make_engines(name, setup, size)
        limit = next(iter(engines))
        results = paired(engines, limit, rounds=rounds or (7 if quick else 15), warmup=0,
                         sync=setup.sync)
        rows += [Row("optim", f"{name} step, {size / 1e6:g}M float32", engine,
                     result["median"], result["ratio"],
                     "target <= 1.20x" if engine == "autodiff" else "")
                 for engine, result in results.items()]
        del engines
    return rows


def main(argv: list[str] | None = None) -> None:
    from bench.__main__ import format_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    setup = make_setup(args.device, with_torch=not args.no_torch)
    print(f"# {setup.describe()}", flush=True)
    print(format_table(run(setup, args.rounds, size=args.size)))


if __name__ == "__main__":
    main()
