"""Checkpointing memory of the W4 network measured by the kernel, for autodiff and PyTorch alike:
the same three quantities as bench/checkpoint_bench.py, taken from the process's resident set
instead of tracemalloc (which cannot see PyTorch's allocator).

    python -m bench.checkpoint_rss               # autodiff, then torch.utils.checkpoint

Each library runs in a child process whose glibc malloc maps every block above 128 KiB on its
own (MALLOC_MMAP_THRESHOLD_), so a freed activation leaves the resident set at once; the peak
is the kernel's high-water mark (VmHWM), reset before each run through /proc/self/clear_refs.
Bytes are above the resident set at the start of the run. Linux only.
"""

from __future__ import annotations

import os
import subprocess
import sys

MIB = 2**20
_MEASURES = ("held for backward (a)", "peak, grads freed (b)", "peak, grads kept (c)")


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def _traced(run: object) -> tuple[int, int, object]:
    """(resident bytes held after `run`, peak resident bytes while it ran, its result)."""
    import gc

    gc.collect()
    start = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # reset VmHWM to the current resident set
    result = run()  # type: ignore[operator]
    gc.collect()
    return _status("VmRSS") - start, _status("VmHWM") - start, result


def measure(library: str) -> dict[str, tuple[int, int, int]]:
    """The three measures for each variant, in this process, for `library` (autodiff, torch)."""
    if library == "torch":
        import torch
        from torch.utils.checkpoint import checkpoint_sequential

        torch.set_num_threads(1)
        torch.manual_seed(0)
        nn, randn = torch.nn, torch.randn
    else:
        import autodiff
        from autodiff import nn  # type: ignore[no-redef]
        from autodiff.utils.checkpoint import (  # type: ignore[assignment]
            checkpoint_sequential,
        )

        autodiff.manual_seed(0)
        randn = autodiff.randn  # type: ignore[assignment]
    from .checkpoint_bench import BATCH, LAYERS, SEGMENTS, WIDTH

    layers: list[object] = []
    for _ in range(LAYERS):
        layers += [nn.Linear(WIDTH, WIDTH), nn.ReLU()]
    model = nn.Sequential(*layers)  # type: ignore[arg-type]
    x = randn(BATCH, WIDTH)
    x.requires_grad_()
    forwards = {
        "unchecked": lambda: model(x),
        "checkpoint (use_reentrant=False)":
            lambda: checkpoint_sequential(model, SEGMENTS, x, use_reentrant=False),
        "checkpoint (use_reentrant=True)":
            lambda: checkpoint_sequential(model, SEGMENTS, x, use_reentrant=True),
    }

    def clear() -> None:
        for parameter in model.parameters():
            parameter.grad = None
        x.grad = None

    def drop(parameter: object) -> None:
        parameter.grad = None  # type: ignore[attr-defined]

    results = {}
    for name, forward in forwards.items():
        forward().sum().backward()  # first run: allocator and caches settle
        clear()
        held, _, output = _traced(forward)
        del output
        clear()
        _, kept, _ = _traced(lambda forward=forward: forward().sum().backward())
        clear()
        handles = [p.register_post_accumulate_grad_hook(drop) for p in model.parameters()]
        _, dropped, _ = _traced(lambda forward=forward: forward().sum().backward())
        for handle in handles:
            handle.remove()
        clear()
        results[name] = (held, dropped, kept)
    return results


def report(library: str, results: dict[str, tuple[int, int, int]]) -> None:
    base = results["unchecked"]
    print(f"{library}: MiB (x unchecked)")
    print(f"    {'':<34}" + "".join(f"{header:>26}" for header in _MEASURES))
    for name, values in results.items():
        cells = [f"{value / MIB:8.1f} ({value / base[i]:4.2f}x)" for i, value in enumerate(values)]
        print(f"    {name:<34}" + "".join(f"{cell:>26}" for cell in cells), flush=True)


def main() -> None:
    if len(sys.argv) > 1:  # the child: one library
        library = sys.argv[1]
        report(library, measure(library))
        return
    environment = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", OMP_NUM_THREADS="1",
                       OPENBLAS_NUM_THREADS="1")
    for library in ("autodiff", "torch"):
        if library == "torch":
            try:
                import torch  # noqa: F401
            except ImportError:
                print("torch is not installed: its row is left out")
                continue
        subprocess.run([sys.executable, "-m", "bench.checkpoint_rss", library], check=True,
                       env=environment)


if __name__ == "__main__":
    main()
