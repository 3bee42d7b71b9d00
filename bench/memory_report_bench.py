"""autograd.graph.memory_report's predicted backward peak against the measured one, on the W4
network (16 x Linear(2048) + ReLU, batch 512, float32; bench/checkpoint_bench.py's).

    python -m bench.memory_report_bench

Measured: tracemalloc (which sees NumPy's buffers), the peak during `loss.backward()` above
what was allocated when it started. Predicted: `report.peak_increase`. Two cases: a first
backward (every .grad new) and a second one (gradients added into existing .grad, with the
engine's undo copies). Target: within 10%.
"""

from __future__ import annotations

import gc
import tracemalloc

import autodiff
from autodiff.autograd.graph import memory_report

from .checkpoint_bench import MIB, w4


def measure() -> list[tuple[str, int, int]]:
    model, x = w4()
    rows = []
    tracemalloc.start()
    try:
        for case in ("first backward", "into existing .grad"):
            loss = model(x).sum()
            report = memory_report(loss)
            gc.collect()
            tracemalloc.reset_peak()
            current, _ = tracemalloc.get_traced_memory()
            loss.backward()
            measured = tracemalloc.get_traced_memory()[1] - current
            rows.append((case, report.peak_increase, measured))
            del loss
    finally:
        tracemalloc.stop()
    return rows


def main() -> None:
    print("W4 (16 x Linear(2048) + ReLU, batch 512, float32): backward peak above its start")
    print(f"{'case':<22}{'predicted':>12}{'measured':>12}{'ratio':>8}")
    for case, predicted, measured in measure():
        print(f"{case:<22}{predicted / MIB:>9.1f} MiB{measured / MIB:>9.1f} MiB"
              f"{predicted / measured:>8.3f}")


if __name__ == "__main__":
    autodiff.manual_seed(0)
    main()
