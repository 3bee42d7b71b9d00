"""Interop benchmarks: DLPack import/export without copying, and loading a PyTorch checkpoint.

    python -m bench.interop_bench                    # both
    python -m bench.interop_bench --suite dlpack     # or --suite checkpoint

(a) DLPack of a 1 GiB float32 array (and of a 4 KiB one: the same time shows O(1)): import
    (`autodiff.from_dlpack`, `from_numpy`, `asarray`) and export (`np.from_dlpack(tensor)`, and
    PyTorch both ways when installed). Each result must share the array's memory (same data
    pointer); the limit is NumPy importing its own array (`np.from_dlpack(array)`). Target: same
    pointer, under 50 us. Medians over many calls, round-robin (bench/_timing.paired).
(b) Loading a 100 MiB PyTorch checkpoint (25 float32 tensors of 1024x1024, written by torch.save
    when PyTorch is installed, else by autodiff.save(format="torch")): `autodiff.load` against
    `torch.load(weights_only=True)` and the hand-written NumPy limit (one `readinto` of the whole
    file into a preallocated array: the I/O floor), timed round-robin from the page cache.
    Target: within 1.3x PyTorch. Memory: the peak of `autodiff.load` under tracemalloc (NumPy
    reports its buffers to it), and the peak RSS each loader adds in a fresh process, against
    the file's tensor bytes. Target: within 1.1x.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff

from . import _timing

MIB = 2**20
GIB = 2**30


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _pointer(obj: Any) -> int:
    """The address of an array's (or tensor's) first element."""
    if isinstance(obj, autodiff.Tensor):
        obj = obj.numpy()
    if hasattr(obj, "data_ptr"):
        return int(obj.data_ptr())
    return int(obj.__array_interface__["data"][0])


# ----------------------------------------------------------------------------- (a) DLPack
def _per_call(function: Callable[[], object], calls: int = 2000, rounds: int = 15) -> float:
    """Median seconds per call over `rounds` batches of `calls` calls."""
    samples = [_timing.time_once(function, calls) for _ in range(rounds)]
    return statistics.median(samples)


def dlpack_rows(size: int) -> list[tuple[str, float, float, bool]]:
    """(what, median us per call, ratio to NumPy's own import, same pointer) for one array."""
    array = np.empty(size // 4, dtype=np.float32)  # untouched: no page is ever mapped in
    tensor = autodiff.from_dlpack(array)
    cases: dict[str, tuple[Callable[[], object], Callable[[], Any]]] = {
        "np.from_dlpack(array) [limit]": (lambda: np.from_dlpack(array),
                                          lambda: np.from_dlpack(array)),
        "autodiff.from_dlpack(array)": (lambda: autodiff.from_dlpack(array),
                                        lambda: autodiff.from_dlpack(array)),
        "autodiff.from_numpy(array)": (lambda: autodiff.from_numpy(array),
                                       lambda: autodiff.from_numpy(array)),
        "autodiff.asarray(array)": (lambda: autodiff.asarray(array),
                                    lambda: autodiff.asarray(array)),
        "np.from_dlpack(tensor)": (lambda: np.from_dlpack(tensor),
                                   lambda: np.from_dlpack(tensor)),
    }
    torch = _torch()
    if torch is not None:
        theirs = torch.from_numpy(array)
        cases["torch.from_dlpack(tensor)"] = (lambda: torch.from_dlpack(tensor),
                                              lambda: torch.from_dlpack(tensor))
        cases["autodiff.from_dlpack(torch tensor)"] = (lambda: autodiff.from_dlpack(theirs),
                                                       lambda: autodiff.from_dlpack(theirs))
    engines = {name: run for name, (run, _) in cases.items()}
    results = _timing.paired(engines, "np.from_dlpack(array) [limit]", rounds=15, number=2000)
    pointer = _pointer(array)
    return [(name, results[name]["median"] * 1e6, results[name]["ratio"],
             _pointer(make()) == pointer) for name, (_, make) in cases.items()]


def run_dlpack() -> None:
    print("== (a) DLPack, zero copy: median us per call (round-robin), ratio to NumPy's own "
          "import, same data pointer")
    print(f"{'array':>8}  {'operation':<38} {'us/call':>9} {'ratio':>7}  {'shared':<6}")
    for size, label in ((GIB, "1 GiB"), (4096, "4 KiB")):
        for name, micros, ratio, shared in dlpack_rows(size):
            print(f"{label:>8}  {name:<38} {micros:9.2f} {ratio:7.2f}  {shared!s:<6}")
        gc.collect()


# ----------------------------------------------------------------------------- (b) checkpoint
def write_checkpoint(path: str, count: int = 25, side: int = 1024) -> tuple[int, str]:
    """A `count`-tensor float32 state dict at `path`; its tensor bytes and who wrote it."""
    torch = _torch()
    if torch is not None:
        generator = torch.Generator().manual_seed(0)
        state = {f"layer{i}.weight": torch.randn(side, side, generator=generator)
                 for i in range(count)}
        torch.save(state, path)
        return count * side * side * 4, "torch.save"
    autodiff.manual_seed(0)
    autodiff.save({f"layer{i}.weight": autodiff.randn(side, side) for i in range(count)}, path,
                  format="torch")
    return count * side * side * 4, "autodiff.save(format='torch')"


def _round_robin(engines: dict[str, Callable[[], object]],
                 rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each engine in each round; each round runs every engine once, in a
    rotating order (two warm-up calls each first)."""
    names = list(engines)
    for name in names:
        for _ in range(2):
            engines[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names[index % len(names):] + names[:index % len(names)]:
            times[name].append(_timing.time_once(engines[name], 1))
    return times


def _ratio(samples: list[float], reference: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(samples, reference))


def _numpy_limit(path: str) -> Callable[[], object]:
    size = os.path.getsize(path)

    def read() -> object:
        target = np.empty(size, dtype=np.uint8)
        with open(path, "rb") as stream:
            stream.readinto(memoryview(target))
        return target

    return read


def _peak_traced(function: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak


_RSS_SCRIPT = """
import sys
loader, path, small = sys.argv[1], sys.argv[2], sys.argv[3]
if loader == "torch":
    import torch
    load = lambda name: torch.load(name, weights_only=True)
else:
    import autodiff
    load = lambda name: autodiff.load(name, mmap=loader == "autodiff-mmap")


def high_water():  # this process's peak resident memory (VmHWM: not inherited through exec)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))


load(small)  # modules imported on first use are not the load's memory
before = high_water()
state = load(path)
print(high_water() - before)
"""


def _peak_rss(loader: str, path: str, small: str) -> int:
    """The peak resident memory a loader adds, in a fresh process (imports done first, and a
    small file loaded first)."""
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, loader, path, small],
                         capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.dirname(
                             os.path.abspath(__file__))))
    return int(out.stdout.strip())


def run_checkpoint(rounds: int) -> None:
    torch = _torch()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        tensor_bytes, writer = write_checkpoint(path)
        engines: dict[str, Callable[[], object]] = {
            "numpy readinto [limit]": _numpy_limit(path),
            "autodiff.load": lambda: autodiff.load(path),
            "autodiff.load(mmap=True)": lambda: autodiff.load(path, mmap=True),
        }
        if torch is not None:
            engines["torch.load(weights_only=True)"] = lambda: torch.load(path,
                                                                          weights_only=True)
        loaded = autodiff.load(path)
        assert sum(t.numel() * 4 for t in loaded.values()) == tensor_bytes
        del loaded
        times = _round_robin(engines, rounds)
        limit = "numpy readinto [limit]"
        reference = "torch.load(weights_only=True)" if torch is not None else None
        print(f"== (b) loading a {tensor_bytes / MIB:.0f} MiB checkpoint written by {writer} "
              f"({rounds} rounds, round-robin, page cache warm; ratios are medians of per-round "
              "ratios)")
        print(f"{'loader':<34} {'median ms':>10} {'vs limit':>9} {'vs torch':>9}")
        for name, samples in times.items():
            versus_torch = "" if reference is None else f"{_ratio(samples, times[reference]):9.2f}"
            print(f"{name:<34} {statistics.median(samples) * 1e3:10.1f} "
                  f"{_ratio(samples, times[limit]):9.2f} {versus_torch:>9}")
        if reference is not None:
            print(f"target: autodiff.load / torch.load <= 1.3: "
                  f"{_ratio(times['autodiff.load'], times[reference]):.2f}")
        traced = _peak_traced(lambda: autodiff.load(path))
        print(f"memory: autodiff.load traced peak {traced / MIB:.1f} MiB = "
              f"{traced / tensor_bytes:.3f}x the tensor bytes (target <= 1.1)")
        small = os.path.join(folder, "small.pt")
        write_checkpoint(small, count=1, side=4)
        for loader in ("autodiff", "autodiff-mmap", *(("torch",) if torch is not None else ())):
            rss = _peak_rss(loader, path, small)
            print(f"memory: {loader:<14} adds {rss / MIB:7.1f} MiB peak RSS = "
                  f"{rss / tensor_bytes:.3f}x the tensor bytes")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.interop_bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="dlpack,checkpoint",
                        help="comma-separated: dlpack, checkpoint (default: both)")
    parser.add_argument("--rounds", type=int, default=11, help="checkpoint rounds (default 11)")
    args = parser.parse_args(argv)
    suites = [suite.strip() for suite in args.suite.split(",") if suite.strip()]
    started = time.perf_counter()
    if "dlpack" in suites:
        run_dlpack()
    if "checkpoint" in suites:
        run_checkpoint(args.rounds)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
