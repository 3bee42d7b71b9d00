"""Train the digits MLP (64-128-ReLU-10, scikit-learn's bundled 8x8 digits) in mixed precision:
the forward runs under `autocast` (the Linear layers in bfloat16 or float16, the loss in
float32) and a `GradScaler` scales the loss, unscales the gradients and skips steps whose
gradients overflowed. The parameters stay float32.

    python examples/train_digits_amp.py                   # CPU, bfloat16, about 97% test accuracy
    python examples/train_digits_amp.py --dtype float16
"""

from __future__ import annotations

import argparse

import autodiff as torch
from autodiff import nn


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    torch.manual_seed(args.seed)
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.2, stratify=digits.target,
        random_state=args.seed)
    x_train, x_test = torch.tensor(x_train, dtype=torch.float32), torch.tensor(x_test,
                                                                                dtype=torch.float32)
    y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu")
    low = getattr(torch, args.dtype)
    loss_value = float("nan")
    for epoch in range(args.epochs):
        order = torch.randperm(len(x_train))
        for start in range(0, len(x_train), args.batch_size):
            batch = order[start:start + args.batch_size]
            optimizer.zero_grad()
            with torch.autocast("cpu", dtype=low):
                logits = model(x_train[batch])  # low precision
                loss = nn.functional.cross_entropy(logits, y_train[batch])  # float32
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_value = loss.item()
        print(f"epoch {epoch + 1}: loss {loss_value:.4f}, scale {scaler.get_scale():g}")
    with torch.no_grad(), torch.autocast("cpu", dtype=low):
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"test accuracy {accuracy:.3f}")
    return {"loss": loss_value, "accuracy": accuracy, "scale": scaler.get_scale()}


if __name__ == "__main__":
    main()
