"""nn benchmarks: a training epoch of the digits MLP, and peak memory of a deep MLP's backward.

    python -m bench.nn_bench                 # both, on the CPU
    python -m bench.nn_bench --suite epoch   # (a) only;  --suite memory for (b) only

(a) Time per epoch of the digits MLP (64-128-ReLU-10, cross-entropy, SGD momentum 0.9, batch 64,
    1437 training rows, shuffled) against the same loop with hand-written NumPy gradients over
    the same batches, timed round-robin in the same run (bench/_timing.paired's method, with
    this process's CPU time on the CPU: the machines are shared), plus PyTorch's loop when torch
    is installed. One BLAS thread for all. Reported: median ms per epoch and the median
    per-round ratio to the NumPy loop (target: within 2.5x).
(b) Peak memory increase of one forward+backward of a 16-layer, width-2048 ReLU MLP at batch
    512 (float32), measured with tracemalloc (NumPy reports its buffers to it), against the
    floor of an engine that frees each saved activation as soon as its layer's backward is
    done: all parameter gradients plus one transient activation pair (about 264 MiB). The
    hand-written NumPy forward/backward is measured the same way (target: within 1.10x).
"""

from __future__ import annotations

import os

# One BLAS thread for every engine: these machines have 2 shared cores, and a threaded BLAS on
# 64x128 matrices measures contention, not the engines (set before NumPy is imported).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import autodiff  # noqa: E402
from autodiff import nn  # noqa: E402
from autodiff.nn import functional as F  # noqa: E402
from autodiff.utils.data import DataLoader, Generator, TensorDataset  # noqa: E402

from . import _timing  # noqa: E402

MIB = 2**20


# ----------------------------------------------------------------------------- (a) epoch
def digits_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 1437 training rows of the digits example (or random data of that shape without
    scikit-learn: the timing depends on the shapes only)."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        rng = np.random.default_rng(seed)
        return (rng.random((1437, 64), dtype=np.float32),
                rng.integers(0, 10, 1437).astype(np.int64))
    digits = load_digits()
    x, _, y, _ = train_test_split(digits.data / 16.0, digits.target, test_size=0.2,
                                  stratify=digits.target, random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)


def init_weights(seed: int = 0) -> list[np.ndarray]:
    """W1 (128, 64), b1, W2 (10, 128), b2 with PyTorch's default ranges."""
    rng = np.random.default_rng(seed)
    out = []
    for fan_out, fan_in in ((128, 64), (10, 128)):
        bound = 1 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return out


class NumpyLoop:
    """The same epoch with hand-written gradients: the limit an eager engine can approach."""

    def __init__(self, x: np.ndarray, y: np.ndarray, lr: float = 0.05, momentum: float = 0.9,
                 batch: int = 64, seed: int = 0) -> None:
        self.x, self.y, self.lr, self.momentum, self.batch = x, y, lr, momentum, batch
        self.params = init_weights(seed)
        self.buffers: list[np.ndarray | None] = [None] * 4
        self.rng = np.random.default_rng(seed)

    def epoch(self) -> float:
        w1, b1, w2, b2 = self.params
        order = self.rng.permutation(len(self.x))
        total = 0.0
        for start in range(0, len(order), self.batch):
            rows = order[start:start + self.batch]
            x, y = self.x[rows], self.y[rows]
            n = len(rows)
            h = x @ w1.T
            h += b1
            a = np.maximum(h, 0)
            logits = a @ w2.T
            logits += b2
            shifted = logits - logits.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            sums = exp.sum(axis=1, keepdims=True)
            total += float(np.log(sums).sum() - shifted[np.arange(n), y].sum()) / n * n
            grad = exp / sums  # softmax - one_hot, over n
            grad[np.arange(n), y] -= 1
            grad /= n
            grads = [None, None, grad.T @ a, grad.sum(axis=0)]
            grad_a = grad @ w2
            grad_a *= h > 0
            grads[0] = grad_a.T @ x
            grads[1] = grad_a.sum(axis=0)
            for index, (param, g) in enumerate(zip(self.params, grads)):
                buffer = self.buffers[index]
                if buffer is None:
                    buffer = self.buffers[index] = g.copy()
                else:
                    buffer *= self.momentum
                    buffer += g
                param -= self.lr * buffer
        return total / len(self.x)


class AutodiffLoop:
    """The PyTorch training loop, written for autodiff."""

    def __init__(self, x: np.ndarray, y: np.ndarray, lr: float = 0.05, momentum: float = 0.9,
                 batch: int = 64, seed: int = 0, device: str = "cpu") -> None:
        weights = init_weights(seed)
        self.model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
        with autodiff.no_grad():
            for parameter, value in zip(self.model.parameters(), weights):
                parameter.data = autodiff.tensor(value, device=device)
        dataset = TensorDataset(autodiff.tensor(x, device=device),
                                autodiff.tensor(y, device=device))
        self.loader = DataLoader(dataset, batch_size=batch, shuffle=True,
                                 generator=Generator().manual_seed(seed))
        self.optimizer = autodiff.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)

    def epoch(self) -> None:
        model, optimizer = self.model, self.optimizer
        for x, y in self.loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


class TorchLoop:
    def __init__(self, x: np.ndarray, y: np.ndarray, lr: float = 0.05, momentum: float = 0.9,
                 batch: int = 64, seed: int = 0) -> None:
        import torch

        torch.manual_seed(seed)
        self.torch = torch
        weights = init_weights(seed)
        self.model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                         torch.nn.Linear(128, 10))
        with torch.no_grad():
            for parameter, value in zip(self.model.parameters(), weights):
                parameter.copy_(torch.from_numpy(value))
        dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)

    def epoch(self) -> None:
        model, optimizer, cross_entropy = self.model, self.optimizer, \
            self.torch.nn.functional.cross_entropy
        for x, y in self.loader:
            loss = cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def bench_epoch(rounds: int, device: str, with_torch: bool) -> dict[str, dict[str, float]]:
    x, y = digits_data()
    engines: dict[str, Callable[[], object]] = {
        "numpy (hand-written)": NumpyLoop(x, y).epoch,
        "autodiff": AutodiffLoop(x, y, device=device).epoch,
    }
    if with_torch:
        try:
            import torch

            torch.set_num_threads(1)
            engines["torch"] = TorchLoop(x, y).epoch
        except ImportError:
            pass
    if device != "cpu":
        backend = autodiff.zeros(1, device=device)._backend
        return _timing.paired(engines, "numpy (hand-written)", rounds=rounds, number=3, warmup=3,
                              sync=backend.synchronize)
    # On the CPU, time the CPU this process uses: the machines are shared, and other people's
    # processes taking the cores would otherwise count against whichever engine was running.
    return paired_cpu_time(engines, "numpy (hand-written)", rounds=rounds, number=3, warmup=3)


def paired_cpu_time(engines: dict[str, Callable[[], object]], limit: str, rounds: int,
                    number: int, warmup: int) -> dict[str, dict[str, float]]:
    """bench/_timing.paired with this process's CPU time instead of the wall clock."""
    names = list(engines)
    for name in names:
        for _ in range(warmup):
            engines[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        this_round = {}
        for name in order:
            start = time.process_time()
            for _ in range(number):
                engines[name]()
            this_round[name] = (time.process_time() - start) / number
        for name in names:
            samples[name].append(this_round[name])
            ratios[name].append(this_round[name] / this_round[limit])
    return {name: {"median": statistics.median(samples[name]),
                   "ratio": statistics.median(ratios[name])} for name in names}


# ----------------------------------------------------------------------------- (b) memory
LAYERS, WIDTH, BATCH = 16, 2048, 512


def _peak_increase(run: Callable[[], None]) -> float:
    """Peak bytes allocated above the starting point while `run` executes (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak - start)


def memory_floor() -> float:
    """All parameter gradients plus one transient (an activation and its gradient)."""
    parameters = LAYERS * (WIDTH * WIDTH + WIDTH) * 4
    return parameters + 2 * BATCH * WIDTH * 4


def memory_numpy(seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    weights = [(rng.standard_normal((WIDTH, WIDTH), dtype=np.float32) * 0.02,
                np.zeros(WIDTH, np.float32)) for _ in range(LAYERS)]
    x = rng.standard_normal((BATCH, WIDTH), dtype=np.float32)
    grads: list[Any] = []

    def run() -> None:
        saved = []  # (input of the layer, its relu mask source)
        h = x
        for w, b in weights:
            z = h @ w.T
            z += b
            saved.append((h, z))
            h = np.maximum(z, 0)
        grad = np.ones_like(h)
        del h
        for w, _ in reversed(weights):
            layer_input, z = saved.pop()
            grad *= z > 0  # relu backward
            del z
            grads.append((grad.T @ layer_input, grad.sum(axis=0)))
            grad = grad @ w
            del layer_input
        del grad

    increase = _peak_increase(run)
    grads.clear()
    return increase


def memory_autodiff(device: str = "cpu", seed: int = 0) -> float:
    autodiff.manual_seed(seed)
    layers: list[nn.Module] = []
    for _ in range(LAYERS):
        layers += [nn.Linear(WIDTH, WIDTH), nn.ReLU()]
    model = nn.Sequential(*layers).to(device)
    x = autodiff.randn(BATCH, WIDTH, device=device)

    def run() -> None:
        model(x).sum().backward()

    increase = _peak_increase(run)
    model.zero_grad()
    return increase


# ----------------------------------------------------------------------------- entry points
def run(setup: Any, rounds: int | None = None, quick: bool = False) -> list[Any]:
    """`python -m bench --suite nn`: the epoch rows for the table; the memory result (CPU only)
    is printed, as it is not a time."""
    from .seed_graph import Row

    results = bench_epoch(rounds or (10 if quick else 25), setup.device,
                          with_torch=setup.torch is not None)
    rows = [Row("nn", "digits MLP epoch (23 x 64)", name, result["median"], result["ratio"],
                "target <= 2.50x" if name == "autodiff" else "")
            for name, result in results.items()]
    if setup.device == "cpu" and not quick:
        print_memory()
    return rows


def print_memory() -> None:
    floor = memory_floor()
    numpy_peak = memory_numpy()
    autodiff_peak = memory_autodiff()
    print(f"(b) peak memory increase, forward+backward, {LAYERS} x Linear({WIDTH}) + ReLU, "
          f"batch {BATCH}, float32 (tracemalloc)")
    print(f"    floor (all grads + one transient) {floor / MIB:8.1f} MiB")
    for name, value in (("numpy (hand-written)", numpy_peak), ("autodiff", autodiff_peak)):
        print(f"    {name:<33} {value / MIB:8.1f} MiB  {value / floor:5.2f}x floor")
    print("    target: autodiff within 1.10x of the floor", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["all", "epoch", "memory"], default="all")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    if args.suite in ("all", "epoch"):
        results = bench_epoch(args.rounds, args.device, not args.no_torch)
        print("(a) digits MLP, one epoch (23 batches of 64), SGD momentum 0.9"
              + (" (CPU time)" if args.device == "cpu" else ""))
        print(f"    {'engine':<22} {'ms/epoch':>9} {'x numpy':>8}")
        for name, result in results.items():
            print(f"    {name:<22} {result['median'] * 1e3:9.2f} {result['ratio']:8.2f}")
        print("    target: autodiff within 2.50x of the hand-written NumPy loop", flush=True)
    if args.suite in ("all", "memory") and args.device == "cpu":
        print_memory()


if __name__ == "__main__":
    main()
