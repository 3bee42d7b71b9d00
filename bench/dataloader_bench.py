"""DataLoader benchmark: throughput of worker processes on a CPU-bound per-sample transform.

    python -m bench.dataloader_bench                  # num_workers 0 and 2, 9 rounds
    python -m bench.dataloader_bench --workers 0,1,2,4 --rounds 15

Each sample is a 96x96 float32 "image" put through a transform written in NumPy (three box
blurs by cumulative sums, a random crop and flip, normalisation): about 1-2 ms of one core per
sample, with nothing the loader itself could batch. An epoch is 1536 samples in batches of 32,
collated by the default collate into one tensor per batch. Timed round-robin in the same run
(bench/_timing.paired's method), wall clock (workers run in other processes, so this process's
CPU time would miss them); each epoch starts and stops its workers, as a DataLoader without
persistent_workers does. Reported: median seconds per epoch, samples per second, and the
median per-round throughput ratio to num_workers=0 (target: num_workers=2 >= 1.7x on a
2-core machine). The machine's load average is printed: other processes take cores from the
workers.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from autodiff.utils.data import DataLoader, Dataset, Generator  # noqa: E402

from . import _timing  # noqa: E402

SAMPLES, BATCH, SIDE, CROP = 1536, 32, 96, 80


class AugmentedImages(Dataset):
    """Images made from their index, augmented on the fly in NumPy (one core per sample)."""

    def __init__(self, samples: int = SAMPLES, side: int = SIDE) -> None:
        self.samples = samples
        self.side = side

    def __len__(self) -> int:
        return self.samples

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        rng = np.random.default_rng(index)
        image = rng.random((3, self.side, self.side), dtype=np.float32)
        for _ in range(3):
            image = _box_blur(image, 5)
        top, left = rng.integers(0, self.side - CROP + 1, 2)
        image = image[:, top:top + CROP, left:left + CROP]
        if rng.random() < 0.5:
            image = image[:, :, ::-1]
        image = (image - image.mean(axis=(1, 2), keepdims=True)) / \
            (image.std(axis=(1, 2), keepdims=True) + 1e-6)
        return np.ascontiguousarray(image, dtype=np.float32), index % 10


def _box_blur(image: np.ndarray, width: int) -> np.ndarray:
    """A width x width mean filter (valid region padded back by edge values)."""
    pad = width // 2
    padded = np.pad(image, ((0, 0), (pad + 1, pad), (pad + 1, pad)), mode="edge")
    summed = padded.cumsum(axis=1).cumsum(axis=2)
    window = (summed[:, width:, width:] - summed[:, :-width, width:]
              - summed[:, width:, :-width] + summed[:, :-width, :-width])
    return (window / (width * width)).astype(np.float32)


def epoch(num_workers: int) -> Any:
    loader = DataLoader(AugmentedImages(), batch_size=BATCH, shuffle=True,
                        num_workers=num_workers, generator=Generator().manual_seed(0))
    count = 0
    for images, _ in loader:
        count += images.shape[0]
    assert count == SAMPLES
    return count


def cpu_seconds(num_workers: int, epochs: int = 3) -> tuple[float, float]:
    """Median CPU seconds per epoch of this process and of its (finished) workers: what the
    work costs whatever else the machine runs. On k free cores an epoch takes about
    max(main, workers / k) of wall time."""
    own, children = [], []
    for _ in range(epochs):
        before = os.times()
        epoch(num_workers)
        after = os.times()
        own.append(after.user - before.user + after.system - before.system)
        children.append(after.children_user - before.children_user
                        + after.children_system - before.children_system)
    return sorted(own)[len(own) // 2], sorted(children)[len(children) // 2]


def bench(workers: list[int], rounds: int) -> dict[str, dict[str, float]]:
    engines = {f"num_workers={n}": (lambda n=n: epoch(n)) for n in workers}
    return _timing.paired(engines, f"num_workers={workers[0]}", rounds=rounds, number=1,
                          warmup=1)


def run(setup: Any, rounds: int | None = None, quick: bool = False) -> list[Any]:
    """`python -m bench --suite data`: rows for the table (time per epoch; the ratio column is
    time relative to num_workers=0, so throughput is its inverse)."""
    from .seed_graph import Row

    results = bench([0, 2], rounds or (5 if quick else 9))
    rows = []
    for name, result in results.items():
        note = f"{1 / result['ratio']:.2f}x throughput" + \
            ("; target >= 1.70x" if name == "num_workers=2" else "")
        rows.append(Row("data", f"epoch ({SAMPLES} augmented samples)", name, result["median"],
                        result["ratio"], note))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="0,2")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    workers = [int(n) for n in args.workers.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    results = bench(workers, args.rounds)
    print(f"load average after:  {os.getloadavg()[0]:.2f}")
    print(f"{SAMPLES} samples per epoch, batches of {BATCH}, {args.rounds} rounds (wall clock)")
    print(f"    {'loader':<16} {'s/epoch':>8} {'samples/s':>10} {'x throughput':>13}")
    for name, result in results.items():
        print(f"    {name:<16} {result['median']:8.3f} {SAMPLES / result['median']:10.1f} "
              f"{1 / result['ratio']:13.2f}")
    print("    target: num_workers=2 at least 1.70x the throughput of num_workers=0")
    print("CPU seconds per epoch (median of 3):")
    for n in workers:
        own, children = cpu_seconds(n)
        print(f"    num_workers={n:<3} main {own:6.3f}  workers {children:6.3f}  total "
              f"{own + children:6.3f}")


if __name__ == "__main__":
    main()
