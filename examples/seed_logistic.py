"""The tutorials' one-layer network, trained: z = x @ w + b, loss = BCE-with-logits(z, y).

A generated, linearly separable problem (5 features, 3 independent binary labels, each with a
margin around its true separating plane), trained full-batch with gradient descent until the
loss is small. Prints the loss going down and the final accuracy (100%).

    python examples/seed_logistic.py [--device cpu|cuda|strict:1] [--steps 300] [--lr 1.0]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import autodiff as torch


def make_problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n points in 5-D and 3 labels, each the side of a random plane (margin >= 0.3)."""
    rng = np.random.default_rng(seed)
    planes = rng.standard_normal((5, 3))
    planes /= np.linalg.norm(planes, axis=0)
    offsets = rng.uniform(-0.5, 0.5, 3)
    x = rng.standard_normal((4 * n, 5))
    margins = x @ planes + offsets
    keep = np.all(np.abs(margins) >= 0.3, axis=1)
    x, margins = x[keep][:n], margins[keep][:n]
    return x.astype(np.float32), (margins > 0).astype(np.float32)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    features, labels = make_problem(args.samples, args.seed)
    x = torch.tensor(features, device=args.device)
    y = torch.tensor(labels, device=args.device)
    w = torch.randn(5, 3, device=args.device, requires_grad=True)
    b = torch.randn(3, device=args.device, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=args.lr)

    first_loss = last_loss = float("nan")
    for step in range(args.steps + 1):
        z = torch.matmul(x, w) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        last_loss = loss.item()
        if step == 0:
            first_loss = last_loss
        if step % max(args.steps // 10, 1) == 0:
            print(f"step {step:4d}  loss {last_loss:.6f}")

    with torch.no_grad():
        predictions = (torch.matmul(x, w) + b) > 0
        accuracy = (predictions == (y > 0.5)).float().mean().item()
    print(f"final loss {last_loss:.6f} (from {first_loss:.6f}), accuracy {accuracy:.1%}")
    return {"first_loss": first_loss, "loss": last_loss, "accuracy": accuracy}


if __name__ == "__main__":
    main()
    sys.exit(0)
