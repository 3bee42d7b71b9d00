"""`python -m bench`: time autodiff against the hand-written limit and print a table.

    python -m bench                              # both suites, every size (about ten minutes)
    python -m bench --quick                      # fewer rounds, no 2048^3 (about a minute)
    python -m bench --suite seed --sizes tutorial,64x256x256 --rounds 11
    python -m bench --device cuda                # CuPy is the limit; timings synchronise
    python -m bench --threads 1                  # one BLAS / PyTorch thread (busy machines)
    python -m bench --suite nn                   # digits MLP epoch + deep-MLP backward memory
    python -m bench --suite vision               # conv, max-pool, batch-norm, CNN epoch, memory
    python -m bench --suite optim                # Adam/AdamW/NAdam/RAdam step, 10M float32
    python -m bench --suite data,checkpoint      # DataLoader workers; activation checkpointing
    python -m bench --suite rnn,attention        # LSTM, attention (time, memory), char model
    python -m bench --suite compile              # autodiff.compile vs eager vs NumPy
    python -m bench --suite forward_ad           # func.jvp of an MLP, jacfwd/jacrev, hessian
    python -m bench --suite linalg               # svd, svdvals, eigh, qr at 512 x 512

Each round times every engine once, back to back in a rotating order; the table shows each
engine's median seconds per call and the median over rounds of its time divided by the limit's
time in the same round (the machine's speed drifts; a ratio within one round does not).
"""

from __future__ import annotations

import argparse
import sys

from bench import (
    attention_bench,
    checkpoint_bench,
    compile_bench,
    conv_bench,
    dataloader_bench,
    forward_ad_bench,
    linalg_bench,
    nn_bench,
    optim_bench,
    per_op,
    rnn_bench,
    seed_graph,
)
from bench._setup import DeviceUnavailable, make_setup
from bench.seed_graph import Row

SUITES = ("seed", "per_op", "nn", "optim", "vision", "data", "checkpoint", "rnn",
          "attention", "compile", "forward_ad", "linalg")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--suite", default="seed,per_op",
                        help=f"comma-separated suites: {', '.join(SUITES)} (default: seed,per_op)")
    parser.add_argument("--sizes", default=None,
                        help="seed-graph sizes, comma-separated: "
                             f"{', '.join(seed_graph.SIZES)} (default: all; --quick: not 2048)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds per case (default: chosen per size)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds per case, seed sizes up to 1024^3")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: NumPy's BLAS default, i.e. all "
                             "cores); 1 avoids thread pools fighting on a busy machine")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = parser.parse_args(argv)
    args.suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    for suite in args.suites:
        if suite not in SUITES:
            parser.error(f"unknown suite {suite!r} (choose from {', '.join(SUITES)})")
    if args.sizes is None:
        args.sizes = list(seed_graph.QUICK_SIZES if args.quick else seed_graph.SIZES)
    else:
        args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
        for size in args.sizes:
            if size not in seed_graph.SIZES:
                parser.error(f"unknown size {size!r} (choose from {', '.join(seed_graph.SIZES)})")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}" if unit != "us" else f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e9:.0f} ns"


def format_table(rows: list[Row]) -> str:
    header = ("suite", "case", "engine", "median", "ratio to limit", "")
    lines = [header]
    previous = None
    for row in rows:
        key = (row.suite, row.case)
        suite, case = (row.suite, row.case) if key != previous else ("", "")
        previous = key
        lines.append((suite, case, row.engine, format_seconds(row.median), f"{row.ratio:.2f}x",
                      row.note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        cells = [cell.ljust(width) if i < 3 or i == 5 else cell.rjust(width)
                 for i, (cell, width) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths).rstrip())
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        setup = make_setup(args.device, with_torch=not args.no_torch, threads=args.threads)
    except DeviceUnavailable as error:
        print(f"error: cannot benchmark on {args.device}: {error}", file=sys.stderr)
        return 2
    print(f"# {setup.describe()}", flush=True)
    rows: list[Row] = []
    if "seed" in args.suites:
        print("# seed: z = x @ w + b, BCE-with-logits (mean), backward to w and b; float32",
              flush=True)
        rows += seed_graph.run(setup, args.sizes, args.rounds, args.quick)
    if "per_op" in args.suites:
        print(f"# per_op: {per_op.STEPS} x (y * 1.0001 + 0.0001) = {per_op.OPS} ops, then "
              "sum().backward(); us/op = median / 200", flush=True)
        rows += per_op.run(setup, args.rounds, args.quick)
    if "nn" in args.suites:
        print("# nn: digits MLP (64-128-ReLU-10) epoch, cross-entropy + SGD momentum 0.9, vs the "
              "same loop with hand-written NumPy gradients (CPU time on the CPU)", flush=True)
        rows += nn_bench.run(setup, args.rounds, args.quick)
    if "optim" in args.suites:
        print(f"# optim: one optimizer.step() on {optim_bench.SIZE / 1e6:g}M float32 parameters "
              "vs a hand-written in-place update (scratch arrays preallocated)", flush=True)
        rows += optim_bench.run(setup, args.rounds, args.quick)
    if "vision" in args.suites:
        print("# vision: conv2d / max_pool2d / batch_norm fwd+bwd on (32, 64, 32, 32) float32 vs "
              "hand-written NumPy, the CNN example's epoch vs PyTorch (CPU time)", flush=True)
        rows += conv_bench.run(setup, args.rounds, args.quick)
    if "data" in args.suites:
        print("# data: DataLoader epoch of a CPU-bound per-sample transform, num_workers 0 and 2 "
              "(wall clock)", flush=True)
        rows += dataloader_bench.run(setup, args.rounds, args.quick)
    if "checkpoint" in args.suites:
        print("# checkpoint: W4 (16 x Linear(2048) + ReLU, batch 512) forward + backward, "
              "unchecked vs checkpoint_sequential in 4 segments (CPU only)", flush=True)
        rows += checkpoint_bench.run(setup, args.rounds, args.quick)
    if "rnn" in args.suites:
        print("# rnn: LSTM 2 layers x 256, T=64, B=32, forward + backward, vs a hand-written NumPy "
              "LSTM with analytic backward (CPU time on the CPU)", flush=True)
        rows += rnn_bench.run(setup, args.rounds, args.quick)
    if "attention" in args.suites:
        print("# attention: SDPA causal B=8 H=8 L=256 D=64 forward + backward vs hand-written "
              "NumPy; the char transformer's training step vs PyTorch", flush=True)
        rows += attention_bench.run(setup, args.rounds, args.quick)
    if "linalg" in args.suites:
        print(f"# linalg: svd (reduced), svdvals, eigh, qr of a {linalg_bench.SIZE}^2 float64 "
              "matrix vs the array library's own call", flush=True)
        rows += linalg_bench.run(setup, args.rounds, args.quick)
    if "compile" in args.suites:
        print("# compile: autodiff.compile'd steps vs eager and the NumPy limit (seed step, "
              "200-op chain, digits epoch, first-call and cache-hit overhead)", flush=True)
        rows += compile_bench.run(setup, args.rounds, args.quick)
    if "forward_ad" in args.suites:
        print("# forward_ad: func.jvp of an MLP 64-128-128-10 (batch 64) vs its no_grad forward "
              "and a hand-written NumPy JVP; jacfwd vs jacrev; func.hessian vs the 512-pass "
              "autograd.functional.hessian (float32)", flush=True)
        rows += forward_ad_bench.run(setup, args.rounds, args.quick)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
