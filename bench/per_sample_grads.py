"""Per-sample gradients of the digits MLP (64 -> 128 -> ReLU -> 10, cross-entropy), a batch of
64, float32:

    python -m bench.per_sample_grads                  # CPU; torch.func too when importable
    python -m bench.per_sample_grads --rounds 21 --threads 1

Engines: `vmap(grad(loss))` over the batch (autodiff.func); one batched backward of the mean
loss (what training costs: every example's gradient summed, not kept); the per-example loop
(64 forward/backward passes); the limit, per-sample gradients written by hand in NumPy (one
batched forward, the backward with per-example outer products); PyTorch's
`torch.func.vmap(grad)` when installed. Timed round-robin by `_timing.paired_samples`, each
call both right after another engine's and right after one of its own; ratios are to the
batched backward, per round.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
import autodiff.nn.functional as F
from autodiff import nn
from autodiff.func import functional_call, grad, vmap
from bench._setup import DeviceUnavailable, Setup, make_setup
from bench._timing import paired_ratio, paired_samples

BATCH, INPUTS, HIDDEN, CLASSES = 64, 64, 128, 10


def make_problem(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.random((BATCH, INPUTS), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    w1 = (rng.standard_normal((HIDDEN, INPUTS)) / 8).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    w2 = (rng.standard_normal((CLASSES, HIDDEN)) / 11).astype(np.float32)
    b2 = np.zeros(CLASSES, np.float32)
    return x, y, w1, b1, w2, b2


def limit_per_sample(xp: Any, x: Any, y: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> list[Any]:
    """d loss_i / d params for every example i, by hand: (B, *param shape) each."""
    hidden = x @ w1.T + b1
    active = xp.maximum(hidden, 0)
    logits = active @ w2.T + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    probabilities = xp.exp(shifted)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    d_logits = probabilities
    d_logits[xp.arange(x.shape[0]), y] -= 1
    d_active = d_logits @ w2
    d_hidden = d_active * (hidden > 0)
    return [outer_each(xp, d_hidden, x), d_hidden, outer_each(xp, d_logits, active), d_logits]


def outer_each(xp: Any, a: Any, b: Any) -> Any:
    """out[k] = outer(a[k], b[k]), the fastest way we know: on NumPy, matmuls over an inner dim
    of 2 whose second terms are zero (BLAS, where einsum clears the output and adds into it
    row by row, and matmul over an inner dim of 1 takes a generic loop); einsum elsewhere."""
    if xp is not np:
        return xp.einsum("bi,bj->bij", a, b)
    left = np.zeros((*a.shape, 2), a.dtype)
    left[:, :, 0] = a
    right = np.zeros((b.shape[0], 2, b.shape[1]), b.dtype)
    right[:, 0, :] = b
    return np.matmul(left, right)


def _model(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray,
           device: str) -> nn.Module:
    model = nn.Sequential(nn.Linear(INPUTS, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    with autodiff.no_grad():
        for p, value in zip(model.parameters(), (w1, b1, w2, b2)):
            p.copy_(autodiff.tensor(value))
    return model.to(device)


def make_engines(setup: Setup) -> tuple[dict[str, Callable[[], Any]], str]:
    x, y, w1, b1, w2, b2 = make_problem()
    xp = setup.xp
    limit_name = xp.__name__
    lx, ly, lw1, lb1, lw2, lb2 = (xp.asarray(a) for a in (x, y, w1, b1, w2, b2))
    engines: dict[str, Callable[[], Any]] = {
        limit_name: lambda: limit_per_sample(xp, lx, ly, lw1, lb1, lw2, lb2)}

    model = _model(w1, b1, w2, b2, setup.device)
    tx = autodiff.tensor(x, device=setup.device)
    ty = autodiff.tensor(y, device=setup.device)
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(params: dict[str, Any], sample: Any, target: Any) -> Any:
        return F.cross_entropy(functional_call(model, params, (sample.unsqueeze(0),)),
                               target.unsqueeze(0))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
    engines["vmap(grad)"] = lambda: list(per_sample(params, tx, ty).values())

    def batched_backward() -> list[Any]:
        model.zero_grad()
        F.cross_entropy(model(tx), ty).backward()
        return [p.grad for p in model.parameters()]

    engines["batched backward"] = batched_backward

    def loop() -> list[Any]:
        rows = []
        for index in range(BATCH):
            model.zero_grad()
            F.cross_entropy(model(tx[index:index + 1]), ty[index:index + 1]).backward()
            rows.append([p.grad.clone() for p in model.parameters()])  # type: ignore[union-attr]
        return [autodiff.stack(list(column)) for column in zip(*rows)]

    engines["per-example loop"] = loop

    if setup.torch is not None:
        torch = setup.torch
        tmodel = torch.nn.Sequential(torch.nn.Linear(INPUTS, HIDDEN), torch.nn.ReLU(),
                                     torch.nn.Linear(HIDDEN, CLASSES)).to(setup.torch_device)
        with torch.no_grad():
            for p, value in zip(tmodel.parameters(), (w1, b1, w2, b2)):
                p.copy_(torch.tensor(value))
        px = torch.tensor(x, device=setup.torch_device)
        py = torch.tensor(y, device=setup.torch_device)
        tparams = {name: p.detach() for name, p in tmodel.named_parameters()}

        def torch_loss(params: dict[str, Any], sample: Any, target: Any) -> Any:
            prediction = torch.func.functional_call(tmodel, params, (sample.unsqueeze(0),))
            return torch.nn.functional.cross_entropy(prediction, target.unsqueeze(0))

        torch_per_sample = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))
        engines["torch.func"] = lambda: list(torch_per_sample(tparams, px, py).values())
    return engines, limit_name


def check_agreement(engines: dict[str, Callable[[], Any]], limit: str, setup: Setup) -> None:
    to_numpy = (lambda a: setup.xp.asnumpy(a)) if setup.xp.__name__ == "cupy" else np.asarray
    expected = [to_numpy(a) for a in engines[limit]()]
    for name in ("vmap(grad)", "per-example loop", "torch.func"):
        if name not in engines:
            continue
        for got, want in zip(engines[name](), expected):
            got_array = np.array(got.detach().cpu().tolist(), dtype=np.float64)
            np.testing.assert_allclose(got_array, want, rtol=1e-3, atol=1e-5,
                                       err_msg=f"{name} disagrees with {limit}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.per_sample_grads",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    try:
        setup = make_setup(args.device, with_torch=not args.no_torch, threads=args.threads)
    except DeviceUnavailable as error:
        raise SystemExit(f"bench.per_sample_grads: {error}") from None
    engines, limit = make_engines(setup)
    check_agreement(engines, limit, setup)
    print(f"per-sample gradients of the digits MLP, batch {BATCH}; {setup.describe()}; "
          f"{args.rounds} rounds")
    # Two measures of each engine: one call right after another engine's (after the per-example
    # loop, caches hold the loop's code and data, and an engine with more code of its own pays
    # more to load it), and one call right after an untimed call of its own (the cost of a
    # call in a loop, as a training step makes it).
    cold = paired_samples(engines, rounds=args.rounds, number=1, warmup=1, sync=setup.sync)
    warm = paired_samples(engines, rounds=args.rounds, number=1, warmup=1, sync=setup.sync,
                          warm_calls=1)
    print(f"{'':<18} {'after another engine':>30} {'in a loop':>30}")
    print(f"{'engine':<18} {'median':>10} {'ratio to batched':>19} {'median':>10} "
          f"{'ratio to batched':>19}")
    reference = "batched backward"
    for name in engines:
        print(f"{name:<18} {statistics.median(cold[name]) * 1e3:>7.2f} ms "
              f"{paired_ratio(cold, name, reference):>18.2f}x "
              f"{statistics.median(warm[name]) * 1e3:>7.2f} ms "
              f"{paired_ratio(warm, name, reference):>18.2f}x")
    loop, vmapped = statistics.median(cold["per-example loop"]), statistics.median(
        cold["vmap(grad)"])
    print(f"per-example loop / vmap(grad): {loop / vmapped:.1f}x (ratio of medians, after "
          "another engine)")

if __name__ == "__main__":
    main()
