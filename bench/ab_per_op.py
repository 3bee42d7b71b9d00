"""The per-op chain's CPU time per op in two source trees, alternating (A/B): how a change to the
hot path (`Function.apply`, `_record`, the engine's loop) moves the per-op overhead, on a machine
too noisy for two separate `python -m bench` runs to compare.

    git archive main | tar -x -C /tmp/base
    python -m bench.ab_per_op /tmp/base . --rounds 12

Each round runs one subprocess per tree (A first, then B); each subprocess times 15 repeats of
20 chains of 200 ops on 16 float32 elements (bench/per_op.py's chain), in process CPU time,
and reports the median per op, forward under no_grad and forward + backward. Printed: the
medians over rounds and the median over rounds of B's time divided by A's (paired).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CHILD = """
import time
import autodiff
x = autodiff.ones(16, requires_grad=True)
def forward():
    with autodiff.no_grad():
        y = x
        for _ in range(100):
            y = y * 1.0001 + 0.0001
def forward_backward():
    y = x
    for _ in range(100):
        y = y * 1.0001 + 0.0001
    y.sum().backward()
medians = []
for case in (forward, forward_backward):
    times = []
    for _ in range(15):
        start = time.process_time_ns()
        for _ in range(20):
            case()
        times.append((time.process_time_ns() - start) / (20 * 200) / 1000)
    medians.append(sorted(times)[len(times) // 2])
print(*medians)
"""


def run(tree: str) -> list[float]:
    environment = dict(os.environ, PYTHONPATH=os.path.abspath(tree), OPENBLAS_NUM_THREADS="1")
    output = subprocess.run([sys.executable, "-c", CHILD], env=environment, cwd=tree,
                            capture_output=True, text=True, check=True).stdout
    return [float(value) for value in output.split()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab_per_op",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("a", help="source tree A (the baseline)")
    parser.add_argument("b", help="source tree B")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args(argv)
    a_times, b_times = [], []
    for _ in range(args.rounds):
        a_times.append(run(args.a))
        b_times.append(run(args.b))
    print(f"{'case (16 elements, us/op CPU)':<32}{'A':>8}{'B':>8}{'B/A paired':>12}")
    for index, case in enumerate(("fwd (no_grad)", "fwd+bwd")):
        a_median = statistics.median(times[index] for times in a_times)
        b_median = statistics.median(times[index] for times in b_times)
        ratio = statistics.median(b[index] / a[index] for a, b in zip(a_times, b_times))
        print(f"{case:<32}{a_median:>8.3f}{b_median:>8.3f}{ratio:>11.3f}x")


if __name__ == "__main__":
    main()
