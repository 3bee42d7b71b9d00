"""Distributed benchmarks, run under an MPI launcher from the repository root:

    mpirun -n 2 python -m bench.allreduce                  # both suites
    mpirun -n 2 python -m bench.allreduce --suite allreduce
    mpirun -n 1 python -m bench.allreduce --suite ddp      # the 1-rank row of (b)

(a) All-reduce (sum, in place) of float32 buffers of 1 MiB ... 256 MiB: `autodiff.distributed.
    all_reduce` on a tensor against mpi4py's own `Allreduce(MPI.IN_PLACE, array)` on a NumPy
    array, and against mpi4py's `Iallreduce(...).Wait()` (the non-blocking collective autodiff
    starts, so that column isolates autodiff's own cost: the rank-agreement exchange of a few
    integers and the polling), in the same run, round-robin (a barrier before each timed call).
    Reported: median ms per call, bandwidth (bytes of the buffer per second), and the median
    per-round ratios of autodiff to each (target: within 1.05x, i.e. no copies).
(b) A training step of the digits MLP (64-128-ReLU-10, cross-entropy, SGD momentum 0.9, batch
    64 per rank) wrapped in DistributedDataParallel, against the same step on the bare model
    (no communication) and against the hand-written limit (the bare step plus one blocking
    mpi4py Allreduce of all gradients, concatenated, between backward and step), paired round
    by round in the same run. With 2 ranks each rank trains on its own 64 rows, so throughput
    is 2 x 64 rows per step.
"""

from __future__ import annotations

import os

# One BLAS thread per rank: the ranks already take the cores (set before NumPy is imported).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import autodiff  # noqa: E402
import autodiff.distributed as dist  # noqa: E402
from autodiff import nn  # noqa: E402

MIB = 2**20


def paired_collective(engines: dict[str, Callable[[], object]], rounds: int,
                      barrier: Callable[[], object]) -> dict[str, list[float]]:
    """Seconds of each call, round-robin in a rotating order that every rank follows."""
    names = list(engines)
    for name in names:  # warm-up
        barrier()
        engines[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            barrier()
            start = time.perf_counter()
            engines[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def report(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, ["-" * width for width in widths], *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def allreduce_suite(sizes_mib: list[int]) -> None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rows = []
    for mib in sizes_mib:
        count = mib * MIB // 4
        array = np.zeros(count, np.float32)  # zeros stay zeros: no overflow, no denormals
        tensor = autodiff.zeros(count)
        rounds = max(7, min(41, 512 // mib))
        samples = paired_collective({
            "Allreduce": lambda array=array: comm.Allreduce(MPI.IN_PLACE, array),
            "Iallreduce": lambda array=array: comm.Iallreduce(MPI.IN_PLACE, array).Wait(),
            "autodiff": lambda tensor=tensor: dist.all_reduce(tensor),
        }, rounds, comm.Barrier)
        row = [f"{mib}"]
        for name in ("Allreduce", "Iallreduce", "autodiff"):
            median = statistics.median(samples[name])
            row += [f"{median * 1e3:.2f}", f"{mib / 1024 / median:.2f}"]
        for name in ("Allreduce", "Iallreduce"):
            ratios = [ours / theirs for ours, theirs in zip(samples["autodiff"], samples[name])]
            row.append(f"{statistics.median(ratios):.3f}")
        rows.append(row)
        del array, tensor
    if comm.Get_rank() == 0:
        report(f"(a) all-reduce, float32, {comm.Get_size()} ranks (median of paired rounds)",
               ["MiB", "Allreduce ms", "GiB/s", "Iallreduce ms", "GiB/s", "autodiff ms",
                "GiB/s", "/Allreduce", "/Iallreduce"], rows)


def ddp_suite(steps: int, rounds: int) -> None:
    from .nn_bench import digits_data

    rank, size = dist.get_rank(), dist.get_world_size()
    x_all, y_all = digits_data()
    rng = np.random.default_rng(rank)
    batches = []
    for _ in range(steps):
        rows = rng.integers(0, len(x_all), 64)
        batches.append((autodiff.tensor(x_all[rows]), autodiff.tensor(y_all[rows])))

    from mpi4py import MPI

    comm = MPI.COMM_WORLD

    def training(model: nn.Module, params: nn.Module, by_hand: bool = False
                 ) -> Callable[[], None]:
        optimizer = autodiff.optim.SGD(params.parameters(), lr=0.05, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        parameters = list(params.parameters())

        def run() -> None:
            for x, y in batches:
                loss = loss_fn(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                if by_hand:  # what DDP does, written out: one copy, one all-reduce, views
                    grads = [p.grad.numpy() for p in parameters]
                    flat = np.concatenate([g.reshape(-1) for g in grads])
                    comm.Allreduce(MPI.IN_PLACE, flat)
                    flat /= size
                    start = 0
                    for p, g in zip(parameters, grads):
                        p.grad = autodiff.from_numpy(flat[start:start + g.size].reshape(g.shape))
                        start += g.size
                optimizer.step()

        return run

    def build() -> nn.Module:
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    bare, by_hand, inner = build(), build(), build()
    ddp = nn.parallel.DistributedDataParallel(inner)
    engines = {"bare model (no communication)": training(bare, bare),
               "hand-written mpi4py Allreduce": training(by_hand, by_hand, by_hand=True),
               "DistributedDataParallel": training(ddp, inner)}
    samples = paired_collective(engines, rounds, dist.barrier)
    limit = samples["hand-written mpi4py Allreduce"]
    rows = []
    for name, times in samples.items():
        step = statistics.median(times) / steps
        ratio = statistics.median(ours / theirs for ours, theirs in zip(times, limit))
        rows.append([name, f"{step * 1e3:.3f}", f"{64 * size / step:,.0f}", f"{ratio:.3f}"])
    if rank == 0:
        report(f"(b) digits MLP training step, batch 64 per rank, {size} rank(s) "
               f"(median of {rounds} rounds of {steps} steps; ratio to the hand-written step)",
               ["engine", "ms/step", "rows/s (all ranks)", "ratio"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=("all", "allreduce", "ddp"), default="all")
    parser.add_argument("--sizes", default="1,4,16,64,256", help="MiB, comma-separated")
    parser.add_argument("--steps", type=int, default=50, help="DDP steps per round")
    parser.add_argument("--rounds", type=int, default=15, help="DDP rounds")
    args = parser.parse_args()
    dist.init_process_group("mpi")
    if args.suite in ("all", "allreduce"):
        allreduce_suite([int(size) for size in args.sizes.split(",")])
    if args.suite in ("all", "ddp"):
        ddp_suite(args.steps, args.rounds)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
