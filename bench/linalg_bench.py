"""The factorizations at 512 x 512 float64: autodiff.linalg's svd (reduced), svdvals, eigh and
qr against the array library's own call (the limit: NumPy's, or CuPy's on CUDA) and PyTorch
when installed, paired round by round (see _timing.py).

    python -m bench.linalg_bench [--rounds 15] [--size 512] [--device cpu] [--no-torch]
    python -m bench --suite linalg

Target: autodiff within 1.15x of the limit (the same LAPACK call, plus the tape's overhead).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff
import autodiff.linalg as LA
from bench._setup import Setup, make_setup
from bench._timing import paired

SIZE = 512
Engines = dict[str, Callable[[], object]]


def _matrix(setup: Setup, size: int, symmetric: bool) -> np.ndarray:
    a = np.random.default_rng(0).standard_normal((size, size))
    return a + a.T if symmetric else a


def make_engines(case: str, setup: Setup, size: int = SIZE) -> Engines:
    """The limit first, then autodiff (and torch): each computes `case` of the same matrix."""
    host = _matrix(setup, size, symmetric=case == "eigh")
    xp = setup.xp
    limit_input = xp.asarray(host)
    ours = autodiff.tensor(host, device=setup.device)
    calls: dict[str, tuple[Callable[[Any], object], Callable[[Any], object],
                           Callable[[Any, Any], object]]] = {
        "svd": (lambda a: xp.linalg.svd(a, full_matrices=False),
                lambda t: LA.svd(t, full_matrices=False),
                lambda torch, t: torch.linalg.svd(t, full_matrices=False)),
        "svdvals": (lambda a: xp.linalg.svd(a, compute_uv=False), LA.svdvals,
                    lambda torch, t: torch.linalg.svdvals(t)),
        "eigh": (xp.linalg.eigh, LA.eigh, lambda torch, t: torch.linalg.eigh(t)),
        "qr": (xp.linalg.qr, LA.qr, lambda torch, t: torch.linalg.qr(t)),
    }
    limit, mine, theirs = calls[case]
    engines: Engines = {"numpy": lambda: limit(limit_input), "autodiff": lambda: mine(ours)}
    if setup.torch is not None:
        tensor = setup.torch.tensor(host, device=setup.torch_device)
        engines["torch"] = lambda: theirs(setup.torch, tensor)
    return engines


def check_agreement(case: str, setup: Setup, size: int = 64) -> None:
    """What is timed computes the limit's result (singular values / eigenvalues / |R|)."""
    engines = make_engines(case, setup, size)
    expected, got = engines["numpy"](), engines["autodiff"]()
    pick = {"svd": 1, "svdvals": None, "eigh": 0, "qr": 1}[case]
    want = expected if pick is None else expected[pick]
    have = got if pick is None else got[pick]
    np.testing.assert_allclose(np.abs(np.asarray(have.cpu().numpy())),
                               np.abs(setup.backend.to_numpy(want)), rtol=1e-9, atol=1e-9)


def run(setup: Setup, rounds: int | None = None, quick: bool = False,
        size: int = SIZE) -> list[Any]:
    """`python -m bench --suite linalg`: one row per factorization and engine."""
    from .seed_graph import Row

    rows = []
    for case in ("svd", "svdvals", "eigh", "qr"):
        check_agreement(case, setup)
        results = paired(make_engines(case, setup, size), "numpy",
                         rounds=rounds or (7 if quick else 15), sync=setup.sync)
        rows += [Row("linalg", f"{case} {size}x{size} float64", engine, result["median"],
                     result["ratio"], "target <= 1.15x" if engine == "autodiff" else "")
                 for engine, result in results.items()]
    return rows


def main(argv: list[str] | None = None) -> None:
    from bench.__main__ import format_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    setup = make_setup(args.device, with_torch=not args.no_torch, threads=args.threads)
    print(f"# {setup.describe()}", flush=True)
    print(format_table(run(setup, args.rounds, size=args.size)))


if __name__ == "__main__":
    main()
