"""Per-op overhead: x of n float32 elements requiring grad, 100 times y = y * 1.0001 + 0.0001
(200 ops), then y.sum().backward(); and the same forward alone under no_grad.

At 16 elements this is the tape's cost per op (Python frames, node creation, the backward walk);
at 1,000,000 it is memory traffic. The limit is NumPy (CuPy on a GPU) doing the same ops, with
the hand-written backward (the Add passes the gradient on, the Mul multiplies it by 1.0001).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from bench._setup import Setup
from bench.seed_graph import Row, run_paired

STEPS = 100
OPS = 2 * STEPS  # forward ops per chain (the sum and the backward come on top)
SIZES = (16, 1_000_000)
ROUNDS = {16: 201, 1_000_000: 31}
QUICK_ROUNDS = {16: 41, 1_000_000: 5}


def limit_chain(xp: Any, x: Any, backward: bool) -> Any:
    y = x
    for _ in range(STEPS):
        y = y * np.float32(1.0001) + np.float32(0.0001)
    total = y.sum()
    if not backward:
        return total
    grad = xp.ones_like(x)  # d total / d y
    for _ in range(STEPS):
        grad = grad * np.float32(1.0001)  # through y * 1.0001 (the + 0.0001 passes it on)
    return total, grad


def chain(lib: Any, x: Any, backward: bool) -> Any:
    """The chain on autodiff or PyTorch (`lib` is the module; the code is the same)."""
    if not backward:
        with lib.no_grad():
            y = x
            for _ in range(STEPS):
                y = y * 1.0001 + 0.0001
            return y.sum()
    x.grad = None
    y = x
    for _ in range(STEPS):
        y = y * 1.0001 + 0.0001
    total = y.sum()
    total.backward()
    return total, x.grad


def make_engines(size: int, backward: bool, setup: Setup
                 ) -> tuple[dict[str, Callable[[], Any]], str]:
    start = np.random.default_rng(0).standard_normal(size, dtype=np.float32)
    xp = setup.xp
    limit_name = xp.__name__
    lx = xp.asarray(start)
    ax = autodiff.tensor(start, device=setup.device, requires_grad=True)
    engines: dict[str, Callable[[], Any]] = {
        limit_name: lambda: limit_chain(xp, lx, backward),
        "autodiff": lambda: chain(autodiff, ax, backward),
    }
    if setup.torch is not None:
        torch = setup.torch
        tx = torch.tensor(start, device=setup.torch_device, requires_grad=True)
        engines["torch"] = lambda: chain(torch, tx, backward)
    return engines, limit_name


def check_agreement(engines: dict[str, Callable[[], Any]], limit: str, setup: Setup) -> None:
    to_numpy = (lambda a: setup.xp.asnumpy(a)) if setup.xp.__name__ == "cupy" else np.asarray
    expected_total, expected_grad = (to_numpy(a).astype(np.float64) for a in engines[limit]())
    for name, chain in engines.items():
        if name != limit:
            total, grad = chain()
            np.testing.assert_allclose(float(total.item()), expected_total, rtol=1e-4,
                                       err_msg=name)
            np.testing.assert_allclose(np.array(grad.detach().cpu().tolist()), expected_grad,
                                       rtol=1e-5, err_msg=name)


def run(setup: Setup, rounds: int | None = None, quick: bool = False,
        sizes: tuple[int, ...] = SIZES) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:
        for backward in (True, False):
            engines, limit = make_engines(size, backward, setup)
            if backward:
                check_agreement(engines, limit, setup)
            count = rounds or (QUICK_ROUNDS if quick else ROUNDS)[size]
            result, _ = run_paired(engines, limit, count, setup)
            case = f"{size} elems, {'fwd+bwd' if backward else 'fwd (no_grad)'}"
            for engine, stats in result.items():
                per_op = stats["median"] / OPS * 1e6
                rows.append(Row("per_op", case, engine, stats["median"], stats["ratio"],
                                f"{per_op:.2f} us/op"))
    return rows
