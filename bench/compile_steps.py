"""Where a compiled seed step's time goes: each statement of its replay program (a step, or a
blocked run as one loop) timed on its own, round after round, with the median per statement;
beside them the matmul floor (the step's two products alone) and the hand-written NumPy limit.
The statements run in program order on the program's own buffers, so each one sees the
operands and caches it sees in a replay.

    python -m bench.compile_steps [--size 64x256x256] [--rounds 301]

Run it with OPENBLAS_NUM_THREADS=1 to compare with `python -m bench --threads 1`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

import autodiff
from bench import seed_graph
from bench.compile_bench import matmul_floor


def statements(source: str) -> list[str]:
    """The program's body as statements: a line, or a `for` line with the lines inside it."""
    found: list[str] = []
    for line in source.splitlines()[1:-1]:  # (not the `def` line, not the `return`)
        if line.startswith("        "):
            found[-1] += "\n" + line[4:]
        else:
            found.append(line[4:])
    return found


def profile(size: str, rounds: int) -> list[tuple[str, float]]:
    problem = seed_graph.make_problem(size)
    compiled = autodiff.compile(seed_graph.step_of(autodiff, problem, "cpu"), fullgraph=True)
    for _ in range(3):
        compiled()
    entry = next(iter(entry for entry in reversed(list(compiled.cache.values()))
                      if entry.program is not None))
    program = entry.program
    hit = entry.check((), {})
    assert hit is not None
    namespace = program.run.__globals__  # the program's functions, buffers and constants
    codes = [(text, compile(text, "<step>", "exec")) for text in statements(program.source)]
    times: list[list[float]] = [[] for _ in codes]
    clock = time.perf_counter
    for _ in range(rounds):
        local: dict[str, Any] = {"inputs": hit[1]}
        for index, (_, code) in enumerate(codes):
            start = clock()
            exec(code, namespace, local)
            times[index].append(clock() - start)
    rows = [(text, statistics.median(samples)) for (text, _), samples in zip(codes, times)]
    x, y, w, b = problem.x, problem.y, problem.w, problem.b
    engines: dict[str, Any] = {}
    if x.ndim == 2:  # (the tutorial's products are outer products: no matmul floor)
        engines["matmul floor"] = matmul_floor(np, problem)
    engines["NumPy limit"] = lambda: seed_graph.limit_step(np, x, y, w, b)
    engines["compiled call"] = compiled
    for name, function in engines.items():
        samples = []
        for _ in range(rounds):
            start = clock()
            function()
            samples.append(clock() - start)
        rows.append((f"# {name}", statistics.median(samples)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="64x256x256", choices=sorted(seed_graph.SIZES))
    parser.add_argument("--rounds", type=int, default=301)
    args = parser.parse_args()
    rows = profile(args.size, args.rounds)
    steps = [seconds for text, seconds in rows if not text.startswith("#")]
    matmuls = sum(seconds for text, seconds in rows if "matmul(" in text)
    for text, seconds in rows:
        lines = text.splitlines()
        print(f"{seconds * 1e6:10.1f} us  {lines[0]}" + (
            f"  (+{len(lines) - 1} steps)" if len(lines) > 1 else ""))
    print(f"{sum(steps) * 1e6:10.1f} us  # sum of the statements "
          f"({matmuls * 1e6:.1f} us in matmuls, {(sum(steps) - matmuls) * 1e6:.1f} us the rest)")


if __name__ == "__main__":
    main()
