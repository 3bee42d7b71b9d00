"""cross_entropy and layer_norm, forward + backward: autodiff against hand-written NumPy (the
limit) and PyTorch when installed, paired round by round (see _timing.py).

    python -m bench.losses
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autodiff
import autodiff.nn.functional as F
from bench._timing import paired


def _cross_entropy(n: int, c: int) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c)).astype(np.float32)
    target = rng.integers(0, c, n)
    rows = np.arange(n)

    def numpy_limit() -> object:
        shifted = x - x.max(1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        loss = -log_probs[rows, target].mean()
        grad = np.exp(log_probs)
        grad[rows, target] -= 1
        grad /= n
        return loss, grad

    ours_x, ours_t = autodiff.tensor(x, requires_grad=True), autodiff.tensor(target)
    engines: dict[str, Callable[[], object]] = {
        "numpy": numpy_limit,
        "autodiff": lambda: F.cross_entropy(ours_x, ours_t).backward(),
    }
    try:
        import torch
    except ImportError:
        return engines
    torch_x, torch_t = torch.tensor(x, requires_grad=True), torch.tensor(target)
    engines["torch"] = lambda: torch.nn.functional.cross_entropy(torch_x, torch_t).backward()
    return engines


def _layer_norm(shape: tuple[int, ...]) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    upstream = rng.standard_normal(shape).astype(np.float32)
    dim = shape[-1]

    def numpy_limit() -> object:
        centered = x - x.mean(-1, keepdims=True)
        rstd = 1 / np.sqrt((centered * centered).mean(-1, keepdims=True) + 1e-5)
        normalized = centered * rstd
        out = normalized * 1.0 + 0.0
        grad_x = rstd * (upstream - upstream.mean(-1, keepdims=True)
                         - normalized * (upstream * normalized).mean(-1, keepdims=True))
        batch = tuple(range(len(shape) - 1))
        return out, grad_x, (upstream * normalized).sum(batch), upstream.sum(batch)

    ours = [autodiff.tensor(x, requires_grad=True), autodiff.ones(dim, requires_grad=True),
            autodiff.zeros(dim, requires_grad=True)]
    ours_up = autodiff.tensor(upstream)
    engines: dict[str, Callable[[], object]] = {
        "numpy": numpy_limit,
        "autodiff": lambda: F.layer_norm(ours[0], (dim,), ours[1], ours[2]).backward(ours_up),
    }
    try:
        import torch
    except ImportError:
        return engines
    theirs = [torch.tensor(x, requires_grad=True), torch.ones(dim, requires_grad=True),
              torch.zeros(dim, requires_grad=True)]
    theirs_up = torch.tensor(upstream)
    engines["torch"] = lambda: torch.nn.functional.layer_norm(
        theirs[0], (dim,), theirs[1], theirs[2]).backward(theirs_up)
    return engines


def main() -> None:
    cases = [
        ("cross_entropy 32x10", _cross_entropy(32, 10), 200),
        ("cross_entropy 256x1000", _cross_entropy(256, 1000), 20),
        ("cross_entropy 4096x1000", _cross_entropy(4096, 1000), 2),
        ("layer_norm 8x16", _layer_norm((8, 16)), 200),
        ("layer_norm 64x128x256", _layer_norm((64, 128, 256)), 2),
    ]
    print(f"{'fwd+bwd':26} {'engine':9} {'median':>10} {'x numpy':>8}")
    for label, engines, number in cases:
        for name, result in paired(engines, "numpy", number=number).items():
            print(f"{label:26} {name:9} {result['median'] * 1e6:8.0f}us {result['ratio']:8.2f}")


if __name__ == "__main__":
    main()
