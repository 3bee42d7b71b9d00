"""Forward-mode AD: what a Jacobian-vector product costs, and the Jacobians and Hessians built
on it, float32:

    python -m bench.forward_ad_bench                 # CPU; torch.func too when importable
    python -m bench.forward_ad_bench --rounds 41 --threads 1
    python -m bench --suite forward_ad

Cases (each timed round-robin by `_timing.paired_samples`; ratios are per round):
* jvp: `func.jvp` of an MLP 64 -> 128 -> tanh -> 128 -> tanh -> 10, batch 64, w.r.t. its input,
  against the same MLP's forward under no_grad (the ratio the forward-mode claim is about) and
  the limit, the JVP written by hand in NumPy (forward and tangent in one pass, 3 matmuls more);
  torch.func.jvp and torch's no_grad forward when installed. Each timed call follows an
  untimed one of the same engine (the steady cost in a loop).
* jacobian: `jacfwd` and `jacrev` of x -> tanh(W2 tanh(W1 x)), R^n -> R^m for 64 -> 64, 8 -> 256
  and 256 -> 8 (forward mode should win where n < m, reverse where n > m), against the
  Jacobian written by hand in NumPy.
* hessian: `func.hessian` (forward over reverse: one vmapped jvp of the gradient) of the seed
  loss w.r.t. its 64x8 weight against `autograd.functional.hessian` (512 backward passes of the
  gradient, `bench.hessian`) and the analytic Hessian in NumPy.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
from autodiff.func import jacfwd, jacrev, jvp
from bench import hessian as hessian_bench
from bench._setup import DeviceUnavailable, Setup, make_setup
from bench._timing import paired_ratio, paired_samples
from bench.seed_graph import Row

BATCH, SIZES = 64, (64, 128, 128, 10)
JACOBIAN_SHAPES = ((64, 64), (8, 256), (256, 8))


# ----------------------------------------------------------------------------- jvp of an MLP
def make_mlp(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((BATCH, SIZES[0]), dtype=np.float32),
              rng.standard_normal((BATCH, SIZES[0]), dtype=np.float32)]
    for fan_in, fan_out in itertools.pairwise(SIZES):
        arrays.append(rng.standard_normal((fan_out, fan_in), dtype=np.float32)
                      / np.float32(np.sqrt(fan_in)))
        arrays.append(rng.standard_normal(fan_out, dtype=np.float32) / np.float32(10))
    return tuple(arrays)


def limit_mlp_jvp(xp: Any, x: Any, v: Any, params: list[Any]) -> tuple[Any, Any]:
    """(f(x), J v) in one pass: each layer's tangent is its linear part on the input tangent,
    times tanh' = 1 - tanh^2 after it."""
    h, t = x, v
    last = len(params) // 2 - 1
    for layer in range(last + 1):
        weight, bias = params[2 * layer], params[2 * layer + 1]
        h = h @ weight.T + bias
        t = t @ weight.T
        if layer < last:
            h = xp.tanh(h)
            t = t * (1 - h * h)
    return h, t


def limit_mlp_forward(xp: Any, x: Any, params: list[Any]) -> Any:
    h = x
    last = len(params) // 2 - 1
    for layer in range(last + 1):
        h = h @ params[2 * layer].T + params[2 * layer + 1]
        if layer < last:
            h = xp.tanh(h)
    return h


def mlp(x: Any, params: list[Any], functional: Any) -> Any:
    """The MLP written once for autodiff and torch (`functional` is their nn.functional)."""
    last = len(params) // 2 - 1
    for layer in range(last + 1):
        x = functional.linear(x, params[2 * layer], params[2 * layer + 1])
        if layer < last:
            x = x.tanh()
    return x


def make_jvp_engines(setup: Setup) -> tuple[dict[str, Callable[[], Any]], str]:
    x, v, *params = make_mlp()
    xp = setup.xp
    limit = f"{xp.__name__} jvp"
    lx, lv = xp.asarray(x), xp.asarray(v)
    lparams = [xp.asarray(p) for p in params]
    engines: dict[str, Callable[[], Any]] = {
        limit: lambda: limit_mlp_jvp(xp, lx, lv, lparams),
        f"{xp.__name__} forward": lambda: limit_mlp_forward(xp, lx, lparams),
    }
    tx, tv = (autodiff.tensor(a, device=setup.device) for a in (x, v))
    tparams = [autodiff.tensor(p, device=setup.device) for p in params]
    functional = autodiff.nn.functional

    def forward() -> Any:
        with autodiff.no_grad():
            return mlp(tx, tparams, functional)

    engines["func.jvp"] = lambda: jvp(lambda a: mlp(a, tparams, functional), (tx,), (tv,))
    engines["no_grad forward"] = forward
    if setup.torch is not None:
        torch = setup.torch
        px, pv = (torch.tensor(a, device=setup.torch_device) for a in (x, v))
        pparams = [torch.tensor(p, device=setup.torch_device) for p in params]

        def torch_forward() -> Any:
            with torch.no_grad():
                return mlp(px, pparams, torch.nn.functional)

        engines["torch.func.jvp"] = lambda: torch.func.jvp(
            lambda a: mlp(a, pparams, torch.nn.functional), (px,), (pv,))
        engines["torch no_grad forward"] = torch_forward
    return engines, limit


def check_jvp(engines: dict[str, Callable[[], Any]], limit: str, setup: Setup) -> None:
    expected = [_numpy(setup, a) for a in engines[limit]()]
    for name in ("func.jvp", "torch.func.jvp"):
        if name in engines:
            for got, want in zip(engines[name](), expected):
                np.testing.assert_allclose(_numpy(setup, got), want, rtol=1e-4, atol=1e-5,
                                           err_msg=f"{name} disagrees with {limit}")


# ----------------------------------------------------------------------------- jacobians
def make_jacobian_problem(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    hidden = max(n, m)
    x = rng.standard_normal(n, dtype=np.float32)
    w1 = rng.standard_normal((hidden, n), dtype=np.float32) / np.float32(np.sqrt(n))
    w2 = rng.standard_normal((m, hidden), dtype=np.float32) / np.float32(np.sqrt(hidden))
    return x, w1, w2


def limit_jacobian(xp: Any, x: Any, w1: Any, w2: Any) -> Any:
    """d tanh(W2 tanh(W1 x)) / dx = diag(1 - y^2) W2 diag(1 - h^2) W1."""
    h = xp.tanh(w1 @ x)
    y = xp.tanh(w2 @ h)
    return ((1 - y * y)[:, None] * w2) @ ((1 - h * h)[:, None] * w1)


def make_jacobian_engines(setup: Setup, n: int, m: int
                          ) -> tuple[dict[str, Callable[[], Any]], str]:
    x, w1, w2 = make_jacobian_problem(n, m)
    xp = setup.xp
    limit = xp.__name__
    lx, lw1, lw2 = (xp.asarray(a) for a in (x, w1, w2))
    tx, tw1, tw2 = (autodiff.tensor(a, device=setup.device) for a in (x, w1, w2))

    def f(a: Any) -> Any:
        return (tw2 @ (tw1 @ a).tanh()).tanh()

    engines: dict[str, Callable[[], Any]] = {
        limit: lambda: limit_jacobian(xp, lx, lw1, lw2),
        "jacfwd": lambda: jacfwd(f)(tx),
        "jacrev": lambda: jacrev(f)(tx),
    }
    if setup.torch is not None:
        torch = setup.torch
        px, pw1, pw2 = (torch.tensor(a, device=setup.torch_device) for a in (x, w1, w2))

        def g(a: Any) -> Any:
            return (pw2 @ (pw1 @ a).tanh()).tanh()

        engines["torch jacfwd"] = lambda: torch.func.jacfwd(g)(px)
        engines["torch jacrev"] = lambda: torch.func.jacrev(g)(px)
    return engines, limit


def check_jacobian(engines: dict[str, Callable[[], Any]], limit: str, setup: Setup) -> None:
    expected = _numpy(setup, engines[limit]())
    for name, engine in engines.items():
        if name != limit:
            np.testing.assert_allclose(_numpy(setup, engine()), expected, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} disagrees with {limit}")


# ----------------------------------------------------------------------------- hessian
def make_hessian_engines(setup: Setup) -> tuple[dict[str, Callable[[], Any]], str]:
    """bench.hessian's engines (the limit, autograd.functional.hessian, func.hessian and
    PyTorch's), under this bench's names."""
    engines, limit = hessian_bench.make_engines(setup)
    engines["autograd.functional.hessian"] = engines.pop("autodiff")
    engines["func.hessian"] = engines.pop("func")
    if "torch.func" in engines:
        engines["torch.func.hessian"] = engines.pop("torch.func")
    return engines, limit


# ----------------------------------------------------------------------------- running
def _numpy(setup: Setup, array: Any) -> np.ndarray:
    if hasattr(array, "detach"):
        array = array.detach().cpu()
        return np.asarray(array.numpy(), dtype=np.float64)
    if setup.xp.__name__ == "cupy":
        return np.asarray(setup.xp.asnumpy(array), dtype=np.float64)
    return np.asarray(array, dtype=np.float64)


def _rows(case: str, engines: dict[str, Callable[[], Any]], limit: str, rounds: int,
          setup: Setup, notes: dict[str, tuple[str, str]] | None = None,
          warm_calls: int = 0) -> list[Row]:
    """One row per engine: median time and paired ratio to the limit; `notes` adds the paired
    ratio to another engine (name -> (reference, label))."""
    samples = paired_samples(engines, rounds=rounds, number=1, warmup=2, sync=setup.sync,
                             warm_calls=warm_calls)
    rows = []
    for name in engines:
        note = ""
        if notes and name in notes:
            reference, label = notes[name]
            note = f"{paired_ratio(samples, name, reference):.2f}x {label}"
        rows.append(Row("forward_ad", case, name, statistics.median(samples[name]),
                        paired_ratio(samples, name, limit), note))
    return rows


def run(setup: Setup, rounds: int | None = None, quick: bool = False) -> list[Row]:
    """One call per engine per round: on a loaded machine a longer sample is more often cut
    by the scheduler, which a median over many short rounds leaves out."""
    rounds = rounds or (41 if quick else 301)
    rows: list[Row] = []
    engines, limit = make_jvp_engines(setup)
    check_jvp(engines, limit, setup)
    notes = {"func.jvp": ("no_grad forward", "no_grad forward"),
             "torch.func.jvp": ("torch no_grad forward", "torch's no_grad forward"),
             f"{setup.xp.__name__} jvp": (f"{setup.xp.__name__} forward",
                                          f"{setup.xp.__name__} forward")}
    # Each timed call right after an untimed one: the cost of a jvp in a loop, which the
    # engines run between (PyTorch's above all) would otherwise inflate by evicting caches.
    rows += _rows("jvp MLP 64-128-128-10, batch 64", engines, limit, rounds, setup, notes,
                  warm_calls=1)
    for n, m in JACOBIAN_SHAPES:
        engines, limit = make_jacobian_engines(setup, n, m)
        check_jacobian(engines, limit, setup)
        rows += _rows(f"jacobian R^{n} -> R^{m}", engines, limit, max(5, rounds // 10), setup,
                      {"jacfwd": ("jacrev", "jacrev")})
    engines, limit = make_hessian_engines(setup)
    hessian_bench.check_agreement(engines, limit, setup)
    rows += _rows("hessian of the seed loss, 64x8 weight", engines, limit,
                  max(3, rounds // 40), setup,
                  {"autograd.functional.hessian": ("func.hessian", "func.hessian")})
    return rows


def main(argv: list[str] | None = None) -> None:
    from bench.__main__ import format_table

    parser = argparse.ArgumentParser(prog="python -m bench.forward_ad_bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    try:
        setup = make_setup(args.device, with_torch=not args.no_torch, threads=args.threads)
    except DeviceUnavailable as error:
        raise SystemExit(f"bench.forward_ad_bench: {error}") from None
    print(f"# {setup.describe()}")
    print(format_table(run(setup, args.rounds, args.quick)))


if __name__ == "__main__":
    main()
