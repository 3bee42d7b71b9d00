"""The Hessian of the seed graph's loss w.r.t. a 64x8 weight: loss = mean BCE-with-logits(
x @ w + b, y), x of 64 features, 8 outputs, float32.

    python -m bench.hessian                  # CPU; PyTorch too when importable
    python -m bench.hessian --device cuda --rounds 5

`autograd.functional.hessian` is the Jacobian of the gradient: one recorded backward for the
gradient, then one backward pass through it per weight (512 here), so it costs about 512
backward passes of the gradient graph. `autodiff.func.hessian` (jacfwd(jacrev(f)), as
torch.func's) batches instead: one backward for the gradient, then its forward-mode
derivative along all 512 basis tangents at once under vmap. Engines: autodiff's two; the
limit, the analytic Hessian written by hand in NumPy (CuPy on a GPU); PyTorch's
`torch.autograd.functional.hessian` (the same algorithm, same thread count) and
`torch.func.hessian`. Timed round-robin by
`_timing.paired_samples`; the speedup of func.hessian is its per-round ratio to
autograd.functional.hessian, median over rounds.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from bench._setup import DeviceUnavailable, Setup, make_setup
from bench._timing import paired_ratio, paired_samples

INPUTS, OUTPUTS = 64, 8


def make_problem(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(INPUTS, dtype=np.float32)
    w = rng.standard_normal((INPUTS, OUTPUTS), dtype=np.float32) / np.float32(np.sqrt(INPUTS))
    b = rng.standard_normal(OUTPUTS, dtype=np.float32)
    y = (rng.random(OUTPUTS, dtype=np.float32) < 0.5).astype(np.float32)
    return x, w, b, y


def limit_hessian(xp: Any, x: Any, w: Any, b: Any) -> Any:
    """H[i, k, j, l] = delta_kl x_i x_j s_k (1 - s_k) / OUTPUTS, s = sigmoid(x @ w + b)."""
    s = 1 / (1 + xp.exp(-(x @ w + b)))
    curvature = s * (1 - s) / s.size
    outer = xp.multiply.outer(x, x)
    hessian = xp.zeros((INPUTS, OUTPUTS, INPUTS, OUTPUTS), dtype=x.dtype)
    for k in range(OUTPUTS):
        hessian[:, k, :, k] = outer * curvature[k]
    return hessian


def make_engines(setup: Setup) -> tuple[dict[str, Callable[[], Any]], str]:
    x, w, b, y = make_problem()
    xp = setup.xp
    limit_name = xp.__name__
    lx, lw, lb = (xp.asarray(a) for a in (x, w, b))
    engines: dict[str, Callable[[], Any]] = {limit_name: lambda: limit_hessian(xp, lx, lw, lb)}

    tx, tw, tb, ty = (autodiff.tensor(a, device=setup.device) for a in (x, w, b, y))
    bce = autodiff.nn.functional.binary_cross_entropy_with_logits

    def loss(weight: autodiff.Tensor) -> autodiff.Tensor:
        return bce(autodiff.matmul(tx, weight) + tb, ty)

    engines["autodiff"] = lambda: autodiff.autograd.functional.hessian(loss, tw)
    engines["func"] = lambda: autodiff.func.hessian(loss)(tw)

    if setup.torch is not None:
        torch = setup.torch
        px, pw, pb, py = (torch.tensor(a, device=setup.torch_device) for a in (x, w, b, y))
        torch_bce = torch.nn.functional.binary_cross_entropy_with_logits

        def torch_loss(weight: Any) -> Any:
            return torch_bce(torch.matmul(px, weight) + pb, py)

        engines["torch"] = lambda: torch.autograd.functional.hessian(torch_loss, pw)
        engines["torch.func"] = lambda: torch.func.hessian(torch_loss)(pw)
    return engines, limit_name


def check_agreement(engines: dict[str, Callable[[], Any]], limit: str, setup: Setup) -> None:
    to_numpy = (lambda a: setup.xp.asnumpy(a)) if setup.xp.__name__ == "cupy" else np.asarray
    expected = to_numpy(engines[limit]()).astype(np.float64)
    scale = float(np.abs(expected).max())
    for name, engine in engines.items():
        if name != limit:
            got = np.array(engine().detach().cpu().tolist(), dtype=np.float64)
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * scale,
                                       err_msg=f"{name} disagrees with {limit}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hessian",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    try:
        setup = make_setup(args.device, with_torch=not args.no_torch, threads=args.threads)
    except DeviceUnavailable as error:
        raise SystemExit(f"bench.hessian: {error}") from None
    engines, limit = make_engines(setup)
    check_agreement(engines, limit, setup)
    samples = paired_samples(engines, rounds=args.rounds, number=1, warmup=1, sync=setup.sync)
    result = {name: {"median": statistics.median(samples[name]),
                     "ratio": paired_ratio(samples, name, limit)} for name in engines}
    passes = INPUTS * OUTPUTS
    print(f"hessian of the seed loss w.r.t. a {INPUTS}x{OUTPUTS} weight ({passes} backward "
          f"passes); {setup.describe()}; {args.rounds} rounds")
    print(f"{'engine':<10} {'median':>10} {'per pass':>10} {'ratio to limit':>15}")
    for name, stats in result.items():
        one_pass = stats["median"] / passes * 1e6
        per_pass = "" if name in (limit, "func", "torch.func") else f"{one_pass:.1f} us"
        print(f"{name:<10} {stats['median'] * 1e3:>7.2f} ms {per_pass:>10} "
              f"{stats['ratio']:>14.1f}x")
    print(f"func.hessian speedup over autograd.functional.hessian (median of per-round "
          f"ratios): {paired_ratio(samples, 'autodiff', 'func'):.1f}x")
    if "torch.func" in samples:
        print(f"torch.func.hessian speedup over torch.autograd.functional.hessian: "
              f"{paired_ratio(samples, 'torch', 'torch.func'):.1f}x")


if __name__ == "__main__":
    main()
