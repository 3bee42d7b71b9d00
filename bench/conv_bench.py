"""Vision benchmarks: convolution, max pooling and batch norm against hand-written NumPy, the
peak memory of a convolution's forward+backward, and an epoch of the CNN example.

    python -m bench.conv_bench                    # everything, on the CPU
    python -m bench.conv_bench --suite conv       # (a) only; pool, norm, memory, epoch likewise
    python -m bench.conv_bench --rounds 11

(a) conv2d forward+backward (input and weight gradients), N=32, C 64->64, 32x32, 3x3, padding 1,
    float32, against a hand-written NumPy im2col + GEMM + col2im (the limit: it keeps the
    forward's columns for the weight gradient) and PyTorch's CPU convolution when installed.
(b) max_pool2d 2x2 and (c) batch_norm (training, affine) forward+backward on the same (32, 64,
    32, 32) input, each against hand-written NumPy.
(d) Peak memory increase of one conv forward+backward (tracemalloc), against the floor of the
    columns (one im2col buffer) plus the output and the gradients.
(e) An epoch of examples/train_cnn.py's model (batch 32, SGD momentum 0.9) against PyTorch's
    on the same batches.

Every engine runs with one BLAS thread (these machines have two shared cores); times are this
process's CPU time, paired round by round (bench/_timing's method), reported as medians and the
median per-round ratio to the limit.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import as_strided  # noqa: E402

import autodiff  # noqa: E402
from autodiff.nn import functional as F  # noqa: E402

from .nn_bench import MIB, _peak_increase, paired_cpu_time  # noqa: E402

N, C, SIZE, K = 32, 64, 32, 3


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


# ----------------------------------------------------------------------------- (a) conv
class NumpyConv:
    """conv2d (stride 1, padding 1) forward and backward by hand: the padded input's strided
    window view copied into columns (N, C*9, H*W), one GEMM per sample; the weight gradient
    from the same columns, the input gradient by col2im (one strided add per kernel tap)."""

    def __init__(self, x: np.ndarray, w: np.ndarray, grad: np.ndarray) -> None:
        self.x, self.w, self.grad = x, w, grad

    def run(self) -> tuple[np.ndarray, ...]:
        x, w, grad = self.x, self.w, self.grad
        n, c, h, width = x.shape
        out_channels, k = w.shape[0], w.shape[2]
        padded = np.zeros((n, c, h + 2, width + 2), x.dtype)
        padded[:, :, 1:-1, 1:-1] = x
        s = padded.strides
        windows = as_strided(padded, (n, c, k, k, h, width), (s[0], s[1], s[2], s[3], s[2], s[3]))
        columns = windows.reshape(n, c * k * k, h * width)
        matrix = w.reshape(out_channels, -1)
        y = np.matmul(matrix, columns).reshape(n, out_channels, h, width)
        grads = grad.reshape(n, out_channels, h * width)
        grad_w = np.matmul(grads, columns.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
        del columns
        grad_columns = np.matmul(matrix.T, grads).reshape(n, c, k, k, h, width)
        grad_padded = np.zeros_like(padded)
        for i in range(k):
            for j in range(k):
                grad_padded[:, :, i:i + h, j:j + width] += grad_columns[:, :, i, j]
        return y, grad_padded[:, :, 1:-1, 1:-1], grad_w


def conv_engines(torch: Any) -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, SIZE, SIZE), dtype=np.float32)
    w = (rng.standard_normal((C, C, K, K), dtype=np.float32) / 24).astype(np.float32)
    grad = rng.standard_normal((N, C, SIZE, SIZE), dtype=np.float32)
    limit = NumpyConv(x, w, grad)
    ours_x = autodiff.tensor(x, requires_grad=True)
    ours_w = autodiff.tensor(w, requires_grad=True)
    ours_grad = autodiff.tensor(grad)

    def ours() -> tuple[Any, ...]:
        ours_x.grad = ours_w.grad = None
        y = F.conv2d(ours_x, ours_w, padding=1)
        y.backward(ours_grad)
        return y, ours_x.grad, ours_w.grad

    engines: dict[str, Callable[[], object]] = {"numpy (im2col+GEMM)": limit.run,
                                                "autodiff": ours}
    if torch is not None:
        theirs_x = torch.tensor(x, requires_grad=True)
        theirs_w = torch.tensor(w, requires_grad=True)
        theirs_grad = torch.tensor(grad)

        def theirs() -> tuple[Any, ...]:
            theirs_x.grad = theirs_w.grad = None
            y = torch.nn.functional.conv2d(theirs_x, theirs_w, padding=1)
            y.backward(theirs_grad)
            return y, theirs_x.grad, theirs_w.grad

        engines["torch"] = theirs

    def check() -> None:
        expected = limit.run()
        for got in (ours(), *((engines["torch"](),) if "torch" in engines else ())):
            for value, reference in zip(got, expected):
                array = value.detach().numpy()
                np.testing.assert_allclose(array, reference, rtol=2e-3,
                                           atol=2e-3 * np.abs(reference).max())

    return engines, check


# ----------------------------------------------------------------------------- (b) max pool
def pool_engines() -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, C, SIZE, SIZE), dtype=np.float32)
    grad = rng.standard_normal((N, C, SIZE // 2, SIZE // 2), dtype=np.float32)
    half = SIZE // 2

    def limit() -> tuple[np.ndarray, np.ndarray]:
        windows = x.reshape(N, C, half, 2, half, 2).transpose(0, 1, 2, 4, 3, 5)
        windows = windows.reshape(N, C, half, half, 4)
        arg = windows.argmax(axis=-1)[..., None]
        y = np.take_along_axis(windows, arg, axis=-1)[..., 0]
        grad_windows = np.zeros((N, C, half, half, 4), np.float32)
        np.put_along_axis(grad_windows, arg, grad[..., None], axis=-1)
        grad_x = grad_windows.reshape(N, C, half, half, 2, 2).transpose(0, 1, 2, 4, 3, 5)
        return y, grad_x.reshape(N, C, SIZE, SIZE)

    ours_x, ours_grad = autodiff.tensor(x, requires_grad=True), autodiff.tensor(grad)

    def ours() -> tuple[Any, ...]:
        ours_x.grad = None
        y = F.max_pool2d(ours_x, 2)
        y.backward(ours_grad)
        return y, ours_x.grad

    def check() -> None:
        for value, reference in zip(ours(), limit()):
            np.testing.assert_array_equal(value.detach().numpy(), reference)

    return {"numpy (hand-written)": limit, "autodiff": ours}, check


# ----------------------------------------------------------------------------- (c) batch norm
def norm_engines() -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, C, SIZE, SIZE), dtype=np.float32)
    grad = rng.standard_normal((N, C, SIZE, SIZE), dtype=np.float32)
    weight = rng.standard_normal(C, dtype=np.float32)
    bias = rng.standard_normal(C, dtype=np.float32)
    axes, eps, count = (0, 2, 3), 1e-5, N * SIZE * SIZE
    shape = (1, C, 1, 1)

    def limit() -> tuple[np.ndarray, ...]:
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = np.mean(centered * centered, axis=axes, keepdims=True)
        rstd = 1.0 / np.sqrt(var + eps)
        normalized = centered * rstd
        y = normalized * weight.reshape(shape) + bias.reshape(shape)
        grad_bias = grad.sum(axis=axes, keepdims=True)
        grad_weight = (grad * normalized).sum(axis=axes, keepdims=True)
        grad_x = (grad - (grad_bias + normalized * grad_weight) / count) \
            * (rstd * weight.reshape(shape))
        return y, grad_x, grad_weight.reshape(C), grad_bias.reshape(C)

    ours_x = autodiff.tensor(x, requires_grad=True)
    ours_w = autodiff.tensor(weight, requires_grad=True)
    ours_b = autodiff.tensor(bias, requires_grad=True)
    ours_grad = autodiff.tensor(grad)

    def ours() -> tuple[Any, ...]:
        ours_x.grad = ours_w.grad = ours_b.grad = None
        y = F.batch_norm(ours_x, None, None, ours_w, ours_b, training=True)
        y.backward(ours_grad)
        return y, ours_x.grad, ours_w.grad, ours_b.grad

    def check() -> None:
        for value, reference in zip(ours(), limit()):
            np.testing.assert_allclose(value.detach().numpy(), reference, rtol=1e-3,
                                       atol=1e-3 * np.abs(reference).max())

    return {"numpy (hand-written)": limit, "autodiff": ours}, check


# ----------------------------------------------------------------------------- (d) memory
def conv_memory() -> dict[str, float]:
    """Peak bytes above the inputs during one conv forward+backward, and the floor."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, C, SIZE, SIZE), dtype=np.float32)
    w = (rng.standard_normal((C, C, K, K), dtype=np.float32) / 24).astype(np.float32)
    grad = rng.standard_normal((N, C, SIZE, SIZE), dtype=np.float32)
    limit = NumpyConv(x, w, grad)
    results: dict[str, float] = {}
    results["numpy (im2col+GEMM)"] = _peak_increase(lambda: limit.run() and None)
    ours_x = autodiff.tensor(x, requires_grad=True)
    ours_w = autodiff.tensor(w, requires_grad=True)
    ours_grad = autodiff.tensor(grad)

    def ours() -> None:
        F.conv2d(ours_x, ours_w, padding=1).backward(ours_grad)

    results["autodiff"] = _peak_increase(ours)
    columns = N * C * K * K * SIZE * SIZE * 4
    outputs = 2 * x.nbytes + w.nbytes  # y, grad_x, grad_w
    results["floor"] = columns + outputs
    results["columns"] = columns
    return results


# ----------------------------------------------------------------------------- (e) CNN epoch
def _digits_images(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from .nn_bench import digits_data

    x, y = digits_data(seed)
    return x.reshape(-1, 1, 8, 8), y


def _batches(count: int, batch: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(count)
    return [order[start:start + batch] for start in range(0, count, batch)]


def epoch_engines(torch: Any) -> dict[str, Callable[[], object]]:
    """The CNN example's model, the same initial weights and the same 45 batches for both."""
    from examples.train_cnn import build_model

    x, y = _digits_images()
    batches = _batches(len(x), 32)
    autodiff.manual_seed(0)
    model = build_model()
    optimizer = autodiff.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    ours_x, ours_y = autodiff.tensor(x), autodiff.tensor(y)
    ours_batches = [(ours_x[autodiff.tensor(rows)], ours_y[autodiff.tensor(rows)])
                    for rows in batches]

    def ours() -> None:
        for inputs, targets in ours_batches:
            loss = F.cross_entropy(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    engines: dict[str, Callable[[], object]] = {"autodiff": ours}
    if torch is not None:
        tnn = torch.nn
        theirs_model = tnn.Sequential(
            tnn.Conv2d(1, 16, 3, padding=1), tnn.BatchNorm2d(16), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(16, 32, 3, padding=1), tnn.BatchNorm2d(32), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(32 * 2 * 2, 10))
        with torch.no_grad():
            for key, value in theirs_model.state_dict().items():
                value.copy_(torch.from_numpy(model.state_dict()[key].numpy()))
        theirs_optimizer = torch.optim.SGD(theirs_model.parameters(), lr=0.05, momentum=0.9)
        theirs_x, theirs_y = torch.from_numpy(x), torch.from_numpy(y)
        theirs_batches = [(theirs_x[rows], theirs_y[rows]) for rows in batches]

        def theirs() -> None:
            for inputs, targets in theirs_batches:
                loss = torch.nn.functional.cross_entropy(theirs_model(inputs), targets)
                theirs_optimizer.zero_grad()
                loss.backward()
                theirs_optimizer.step()

        engines["torch"] = theirs
    return engines


# ----------------------------------------------------------------------------- entry points
def run(setup: Any, rounds: int | None = None, quick: bool = False) -> list[Any]:
    """`python -m bench --suite vision`: rows for the table ((a), (b), (c), (e)); the memory
    result is printed, as it is not a time. CPU only."""
    from .seed_graph import Row

    if setup.device != "cpu":
        print("# vision: CPU only (the limits are NumPy)")
        return []
    rounds = rounds or (5 if quick else 11)
    rows = []
    torch = _torch() if setup.torch is not None else None
    for case, (engines, check), limit, target in (
            ("conv2d 3x3 64->64 fwd+bwd", conv_engines(torch), "numpy (im2col+GEMM)",
             "target <= 1.10x"),
            ("max_pool2d 2x2 fwd+bwd", pool_engines(), "numpy (hand-written)",
             "target <= 1.50x"),
            ("batch_norm fwd+bwd", norm_engines(), "numpy (hand-written)", "target <= 1.50x")):
        check()
        results = paired_cpu_time(engines, limit, rounds=rounds, number=1, warmup=2)
        rows += [Row("vision", case, name, result["median"], result["ratio"],
                     target if name == "autodiff" else "") for name, result in results.items()]
    if torch is not None:
        results = paired_cpu_time(epoch_engines(torch), "torch", rounds=rounds, number=1,
                                  warmup=1)
        rows += [Row("vision", "CNN example epoch (vs torch)", name, result["median"],
                     result["ratio"], "") for name, result in results.items()]
    if not quick:
        _print_memory(conv_memory())
    return rows


def _print_memory(memory: dict[str, float]) -> None:
    print("(d) peak memory increase of one conv2d forward+backward (tracemalloc), inputs "
          "excluded")
    print(f"    im2col columns {memory['columns'] / MIB:7.1f} MiB; floor (columns + y + "
          f"grad_x + grad_w) {memory['floor'] / MIB:7.1f} MiB")
    for name in ("numpy (im2col+GEMM)", "autodiff"):
        print(f"    {name:<22} {memory[name] / MIB:7.1f} MiB  "
              f"{memory[name] / memory['floor']:5.2f}x floor", flush=True)


# ----------------------------------------------------------------------------- report
def _print(title: str, results: dict[str, dict[str, float]], limit: str, unit: float,
           target: str) -> None:
    print(title)
    print(f"    {'engine':<22} {'ms':>9} {'x ' + limit.split()[0]:>9}")
    for name, result in results.items():
        print(f"    {name:<22} {result['median'] * unit:9.2f} {result['ratio']:9.2f}")
    print(f"    {target}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="conv,pool,norm,memory,epoch",
                        help="comma-separated: conv, pool, norm, memory, epoch")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    suites = {s.strip() for s in args.suite.split(",")}
    torch = None if args.no_torch else _torch()
    if "conv" in suites:
        engines, check = conv_engines(torch)
        check()
        results = paired_cpu_time(engines, "numpy (im2col+GEMM)", rounds=args.rounds,
                                  number=1, warmup=1)
        _print(f"(a) conv2d fwd+bwd, x ({N}, {C}, {SIZE}, {SIZE}), w ({C}, {C}, {K}, {K}), "
               "padding 1, float32 (CPU time, 1 thread)", results, "numpy (im2col+GEMM)", 1e3,
               "target: autodiff <= 1.10x the NumPy im2col limit")
    if "pool" in suites:
        engines, check = pool_engines()
        check()
        results = paired_cpu_time(engines, "numpy (hand-written)", rounds=args.rounds,
                                  number=3, warmup=2)
        _print(f"(b) max_pool2d 2x2 fwd+bwd, x ({N}, {C}, {SIZE}, {SIZE}), float32", results,
               "numpy (hand-written)", 1e3, "target: autodiff <= 1.5x hand-written NumPy")
    if "norm" in suites:
        engines, check = norm_engines()
        check()
        results = paired_cpu_time(engines, "numpy (hand-written)", rounds=args.rounds,
                                  number=3, warmup=2)
        _print(f"(c) batch_norm (training, affine) fwd+bwd, x ({N}, {C}, {SIZE}, {SIZE}), "
               "float32", results, "numpy (hand-written)", 1e3,
               "target: autodiff <= 1.5x hand-written NumPy")
    if "memory" in suites:
        _print_memory(conv_memory())
    if "epoch" in suites:
        engines = epoch_engines(torch)
        if "torch" in engines:
            results = paired_cpu_time(engines, "torch", rounds=args.rounds, number=1,
                                      warmup=1)
            _print("(e) CNN example epoch (45 batches of 32, 1x8x8 digits), SGD momentum 0.9",
                   results, "torch", 1e3, "(PyTorch's oneDNN kernels; no target)")
        else:
            print("(e) CNN epoch: PyTorch not installed, nothing to compare against")


if __name__ == "__main__":
    main()
