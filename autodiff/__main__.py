"""`python -m autodiff`: the tutorials' one-layer network, forward and backward, on a device.

    python -m autodiff                      # the tutorial sizes on the CPU
    python -m autodiff --device cuda        # the same graph through CuPy
    python -m autodiff --batch 64 --in-features 256 --out-features 256 --steps 20
    python -m autodiff --graph graph.svg    # also draw the backward graph (.svg/.png/.dot)
"""

from __future__ import annotations

import argparse
import sys

import autodiff as torch


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m autodiff", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--batch", type=int, default=None,
                        help="rows of x (default: none, x is one vector as in the tutorials)")
    parser.add_argument("--in-features", type=int, default=5)
    parser.add_argument("--out-features", type=int, default=3)
    parser.add_argument("--steps", type=int, default=0,
                        help="gradient-descent steps to run after the first backward")
    parser.add_argument("--lr", type=float, default=0.5, help="learning rate for --steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--graph", metavar="PATH", default=None,
                        help="draw the backward graph of the loss to PATH (.svg, .png, .pdf "
                             "need the graphviz package and program; .dot needs nothing)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        device = torch.device(args.device) if isinstance(args.device, str) else args.device
        torch.zeros(1, device=device)  # selects the backend: fails here, clearly, if it can't
    except (RuntimeError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    torch.manual_seed(args.seed)
    x_shape = (args.in_features,) if args.batch is None else (args.batch, args.in_features)
    y_shape = (args.out_features,) if args.batch is None else (args.batch, args.out_features)

    x = torch.ones(*x_shape, device=device)  # input tensor
    y = torch.zeros(*y_shape, device=device)  # expected output
    w = torch.randn(args.in_features, args.out_features, device=device, requires_grad=True)
    b = torch.randn(args.out_features, device=device, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

    print(f"device: {w.device}")
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    print("loss =", loss)
    if args.graph is not None:
        try:
            path = torch.viz.render(loss, args.graph, params={"w": w, "b": b})
        except (RuntimeError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"graph written to {path}")
    loss.backward()
    print(f"w.grad =\n{w.grad}")
    print(f"b.grad =\n{b.grad}")

    for step in range(1, args.steps + 1):
        with torch.no_grad():
            w -= args.lr * w.grad
            b -= args.lr * b.grad
        w.grad = None
        b.grad = None
        loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.matmul(x, w) + b, y)
        loss.backward()
        print(f"step {step:4d}  loss {loss.item():.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
