"""Activation checkpointing benchmark: the W4 network (16 x Linear(2048) + ReLU, batch 512,
float32; the network of bench/nn_bench.py's memory case), unchecked against
`checkpoint_sequential(model, 4, x)` (use_reentrant False and True).

    python -m bench.checkpoint_bench             # memory, then 5 timing rounds
    python -m bench.checkpoint_bench --rounds 9

Memory (tracemalloc, which sees NumPy's buffers; bytes above the starting point):
  (a) activations held for backward: what the forward leaves allocated (the model's output
      included);
  (b) peak of forward + backward with each parameter gradient freed as soon as it is
      accumulated (a post-accumulate-grad hook, as an optimizer fused into backward does), so
      the peak is activations plus the backward's transients;
  (c) peak of forward + backward keeping every parameter gradient (bench/nn_bench.py's
      measure). The 16 weight gradients alone are 256 MiB, more than all activations (64 MiB),
      and checkpointing cannot shrink them: this ratio stays near 1 by construction.
Target: peak backward memory <= 0.45x the unchecked run. For (b) that is out of reach by
construction: the peak comes while the last (unchecked) segment's first Linear runs backward,
and is what the forward held (0.44x: 28 MiB) plus that node's weight gradient (16 MiB) and
input gradient (4 MiB), which the unchecked run adds to its 64 MiB as well: (28 + 20) / (64 + 20)
= 0.57x, which both variants now reach (0.62x reentrant: its backward keeps the outer gradient
while it runs the inner one). torch.utils.checkpoint gives the same three ratios on this network
(0.44x, 0.57x, 1.00x; reentrant 0.44x, 0.62x, 1.03x): `python -m bench.checkpoint_rss` measures
both libraries by the kernel's resident-set high-water mark, as tracemalloc cannot see PyTorch's
allocator.
Time: forward + backward (gradients set to None before each run), paired round-robin in one
process, in this process's CPU time (bench/nn_bench.py's paired_cpu_time: the machines are
shared, and wall time would count other people's processes), one BLAS thread; target <= 1.4x
the unchecked run.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import autodiff  # noqa: E402
from autodiff import nn  # noqa: E402
from autodiff.utils.checkpoint import checkpoint_sequential  # noqa: E402

from .nn_bench import paired_cpu_time  # noqa: E402

LAYERS, WIDTH, BATCH, SEGMENTS = 16, 2048, 512, 4
MIB = 2**20


def w4(seed: int = 0) -> tuple[nn.Module, autodiff.Tensor]:
    autodiff.manual_seed(seed)
    layers: list[nn.Module] = []
    for _ in range(LAYERS):
        layers += [nn.Linear(WIDTH, WIDTH), nn.ReLU()]
    return nn.Sequential(*layers), autodiff.randn(BATCH, WIDTH)


def forwards(model: nn.Module, x: autodiff.Tensor) -> dict[str, Callable[[], autodiff.Tensor]]:
    return {
        "unchecked": lambda: model(x),
        "checkpoint (use_reentrant=False)":
            lambda: checkpoint_sequential(model, SEGMENTS, x, use_reentrant=False),
        "checkpoint (use_reentrant=True)":
            lambda: checkpoint_sequential(model, SEGMENTS, x, use_reentrant=True),
    }


def _traced(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """(bytes held after `run`, peak bytes while it ran, its result), above the start."""
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = run()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(held - start), float(peak - start), result


def memory() -> dict[str, dict[str, float]]:
    model, x = w4()
    # The reentrant variant needs an input that requires grad (else nothing flows back).
    x.requires_grad_()
    results: dict[str, dict[str, float]] = {}
    for name, forward in forwards(model, x).items():
        held, _, output = _traced(forward)
        del output
        model.zero_grad()
        _, kept, _ = _traced(lambda forward=forward: forward().sum().backward())
        model.zero_grad()
        handles = [p.register_post_accumulate_grad_hook(_drop_grad) for p in model.parameters()]
        _, dropped, _ = _traced(lambda forward=forward: forward().sum().backward())
        for handle in handles:
            handle.remove()
        x.grad = None
        results[name] = {"held": held, "peak without grads": dropped, "peak with grads": kept}
    return results


def _drop_grad(parameter: autodiff.Tensor) -> None:
    parameter.grad = None


def timing(rounds: int) -> dict[str, dict[str, float]]:
    model, x = w4()
    x.requires_grad_()

    def step(forward: Callable[[], autodiff.Tensor]) -> None:
        model.zero_grad()
        x.grad = None
        forward().sum().backward()

    engines = {name: (lambda forward=forward: step(forward))
               for name, forward in forwards(model, x).items()}
    return paired_cpu_time(engines, "unchecked", rounds=rounds, number=1, warmup=1)


def run(setup: Any, rounds: int | None = None, quick: bool = False) -> list[Any]:
    """`python -m bench --suite checkpoint`: timing rows for the table; memory is printed."""
    from .seed_graph import Row

    if setup.device != "cpu":
        return []
    print_memory()
    results = timing(rounds or (3 if quick else 5))
    return [Row("checkpoint", f"W4 fwd+bwd, {SEGMENTS} segments", name, result["median"],
                result["ratio"], "target <= 1.40x" if name != "unchecked" else "")
            for name, result in results.items()]


def print_memory() -> None:
    results = memory()
    base = results["unchecked"]
    print(f"W4 ({LAYERS} x Linear({WIDTH}) + ReLU, batch {BATCH}, float32), "
          f"{SEGMENTS} segments; MiB (x unchecked)")
    header = ("held for backward (a)", "peak, grads freed (b)", "peak, grads kept (c)")
    print(f"    {'':<34}" + "".join(f"{h:>26}" for h in header))
    for name, result in results.items():
        cells = [f"{result[key] / MIB:8.1f} ({result[key] / base[key]:4.2f}x)"
                 for key in ("held", "peak without grads", "peak with grads")]
        print(f"    {name:<34}" + "".join(f"{cell:>26}" for cell in cells))
    print("    target: peak backward memory <= 0.45x the unchecked run", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print_memory()
    results = timing(args.rounds)
    print(f"forward + backward, {args.rounds} rounds (CPU time; load average "
          f"{os.getloadavg()[0]:.2f})")
    print(f"    {'':<34} {'s/step':>8} {'x unchecked':>12}")
    for name, result in results.items():
        print(f"    {name:<34} {result['median']:8.3f} {result['ratio']:12.2f}")
    print("    target: <= 1.40x the unchecked run")


if __name__ == "__main__":
    main()
