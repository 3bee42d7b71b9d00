"""autograd.graph.memory_report's predicted backward peak against the measured one, on the W4
network (16 x Linear(2048) + ReLU, batch 512, float32; bench/checkpoint_bench.py's) and on
narrower ones (width 1024, 512, 256), where an op's temporaries weigh more beside the weights.

    python -m bench.memory_report_bench [width ...]

Measured: tracemalloc (which sees NumPy's buffers), the peak during `loss.backward()` above
what was allocated when it started. Predicted: `report.peak_increase`. Two cases: a first
backward (every .grad new) and a second one (gradients added into existing .grad, with the
engine's undo copies). Target: within 10%.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc

import autodiff
from autodiff import nn
from autodiff.autograd.graph import memory_report

from .checkpoint_bench import BATCH, LAYERS, MIB, WIDTH


def network(width: int) -> tuple[nn.Module, autodiff.Tensor]:
    """W4 at another width (W4 itself at 2048)."""
    autodiff.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(LAYERS):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers), autodiff.randn(BATCH, width)


def measure(width: int = WIDTH) -> list[tuple[str, int, int]]:
    model, x = network(width)
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


def main(widths: list[int]) -> None:
    print(f"{LAYERS} x Linear(width) + ReLU, batch {BATCH}, float32: backward peak above its "
          "start")
    print(f"{'width':>6}  {'case':<22}{'predicted':>12}{'measured':>12}{'ratio':>8}")
    for width in widths:
        for case, predicted, measured in measure(width):
            print(f"{width:>6}  {case:<22}{predicted / MIB:>9.2f} MiB{measured / MIB:>9.2f} MiB"
                  f"{predicted / measured:>8.3f}")


if __name__ == "__main__":
    main([int(width) for width in sys.argv[1:]] or [WIDTH, 1024, 512, 256])
