"""What mixed precision costs on the CPU, where NumPy has no fast bfloat16 or float16 matmul
(so autocast buys memory for saved activations, not speed; the speed case is CUDA's float16,
for ci/gpu.sh):

- the autocast wrapper on ops of the lists when autocast is off: the decorated op against its
  undecorated function (`__wrapped__`, the limit), on tiny tensors where a wrapper shows most;
- one training step of the digits MLP shape (batch 64, 64-128-10, SGD): hand-written NumPy in
  float32 (the limit) against autodiff in float32 and under autocast (bfloat16, float16) with a
  GradScaler.

    python -m bench.amp_bench            # 15 rounds
    python -m bench.amp_bench --quick    # 5 rounds
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from bench._timing import paired


def wrapper_cases() -> list[tuple[str, dict[str, Callable[[], Any]]]]:
    x = autodiff.rand(4, 4)
    exp, mm, cat = autodiff.exp, autodiff.mm, autodiff.cat
    return [
        ("exp 4x4", {"undecorated": lambda: exp.__wrapped__(x), "autodiff": lambda: exp(x)}),
        ("mm 4x4", {"undecorated": lambda: mm.__wrapped__(x, x), "autodiff": lambda: mm(x, x)}),
        ("cat 2x(4x4)", {"undecorated": lambda: cat.__wrapped__([x, x]),
                         "autodiff": lambda: cat([x, x])}),
    ]


def training_cases(batch: int = 64) -> dict[str, Callable[[], Any]]:
    rng = np.random.default_rng(0)
    x = rng.random((batch, 64), dtype=np.float32)
    target = rng.integers(0, 10, batch)
    w1 = (rng.standard_normal((128, 64)) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((10, 128)) * 0.1).astype(np.float32)

    def numpy_step() -> None:
        hidden = np.maximum(x @ w1.T, 0)
        logits = hidden @ w2.T
        logits -= logits.max(1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(1, keepdims=True)
        probabilities[np.arange(batch), target] -= 1
        grad_logits = probabilities / batch
        grad_w2 = grad_logits.T @ hidden
        grad_hidden = (grad_logits @ w2) * (hidden > 0)
        grad_w1 = grad_hidden.T @ x
        np.subtract(w1, 0.05 * grad_w1, out=w1)
        np.subtract(w2, 0.05 * grad_w2, out=w2)

    inputs, labels = autodiff.tensor(x), autodiff.tensor(target)

    def autodiff_step(dtype: Any) -> Callable[[], None]:
        model = autodiff.nn.Sequential(autodiff.nn.Linear(64, 128, bias=False),
                                       autodiff.nn.ReLU(),
                                       autodiff.nn.Linear(128, 10, bias=False))
        optimizer = autodiff.optim.SGD(model.parameters(), lr=0.05)
        scaler = autodiff.amp.GradScaler("cpu", enabled=dtype is not None)

        def step() -> None:
            optimizer.zero_grad()
            with autodiff.autocast("cpu", dtype=dtype, enabled=dtype is not None):
                loss = autodiff.nn.functional.cross_entropy(model(inputs), labels)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

        return step

    return {"numpy float32": numpy_step, "autodiff float32": autodiff_step(None),
            "autocast bfloat16": autodiff_step(autodiff.bfloat16),
            "autocast float16": autodiff_step(autodiff.float16)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.amp_bench")
    parser.add_argument("--quick", action="store_true", help="5 rounds")
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 15
    print("# median microseconds per call; median per-round ratio to the limit")
    with autodiff.no_grad():
        for label, engines in wrapper_cases():
            for name, result in paired(engines, "undecorated", rounds=rounds,
                                       number=2000).items():
                print(f"{label:14} {name:18} {result['median'] * 1e6:9.2f}us "
                      f"{result['ratio']:6.3f}")
    for name, result in paired(training_cases(), "numpy float32", rounds=rounds,
                               number=20).items():
        print(f"{'MLP step':14} {name:18} {result['median'] * 1e6:9.1f}us {result['ratio']:6.2f}")


if __name__ == "__main__":
    main()
