"""Train a small CNN on scikit-learn's bundled digits as 1x8x8 images (1797 samples; no
download): two conv + batch-norm + ReLU + max-pool blocks, then a linear layer, with the PyTorch
training loop, on the CPU, a GPU or the strict test device.

    pip install -e ".[examples]"
    python examples/train_cnn.py                       # CPU, 20 epochs, about 98-99% test accuracy
    python examples/train_cnn.py --device cuda --plot curves.png --checkpoint digits_cnn.pt

Prints a progress bar per epoch (with the running loss), the test accuracy at the end, saves a
checkpoint with autodiff.save (model, with the batch-norm running statistics, and optimizer
state), and with --plot draws the training loss and test accuracy per epoch.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import autodiff as torch
from autodiff import nn
from autodiff.utils.data import DataLoader, Generator, TensorDataset


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or strict:1")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default="digits_cnn.pt",
                        help="where to save the trained model (default: digits_cnn.pt; '' skips)")
    parser.add_argument("--plot", default=None, metavar="PNG",
                        help="draw training loss and test accuracy per epoch to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def load_digits(seed: int, device: Any) -> tuple[torch.Tensor, ...]:
    """Train and test tensors: images (N, 1, 8, 8) scaled to [0, 1], labels as int64 (80/20,
    stratified: the same split as examples/train_digits.py)."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images / 16.0, digits.target, test_size=0.2, stratify=digits.target,
        random_state=seed)
    return (torch.tensor(x_train, dtype=torch.float32, device=device).unsqueeze(1),
            torch.tensor(x_test, dtype=torch.float32, device=device).unsqueeze(1),
            torch.tensor(y_train, dtype=torch.int64, device=device),
            torch.tensor(y_test, dtype=torch.int64, device=device))


def build_model() -> nn.Module:
    """1x8x8 -> 16x4x4 -> 32x2x2 -> 10."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()  # batch norm uses its running statistics
    with torch.no_grad():
        predictions = model(x).argmax(dim=1)
    model.train()
    return (predictions == y).float().mean().item()


def plot(path: str, losses: list[float], accuracies: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    epochs = range(1, len(losses) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, losses, marker="o")
    left.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    right.plot(epochs, [100 * a for a in accuracies], marker="o", color="tab:green")
    right.set(title="test accuracy", xlabel="epoch", ylabel="%")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from tqdm import tqdm

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    x_train, x_test, y_train, y_test = load_digits(args.seed, device)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=Generator().manual_seed(args.seed))
    model = build_model().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = nn.CrossEntropyLoss()

    losses: list[float] = []
    accuracies: list[float] = []
    for epoch in range(1, args.epochs + 1):
        total = torch.zeros((), device=device)  # summed on the device: no sync per batch
        progress = tqdm(loader, desc=f"epoch {epoch:2d}/{args.epochs}", leave=False,
                        disable=args.quiet, file=sys.stdout)
        for batch, (x, y) in enumerate(progress, 1):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(y)
            if batch % 5 == 0 and not args.quiet:
                progress.set_postfix(loss=f"{loss.item():.4f}")
        losses.append(total.item() / len(x_train))
        accuracies.append(accuracy(model, x_test, y_test))
        if not args.quiet:
            print(f"epoch {epoch:2d}  loss {losses[-1]:.4f}  test accuracy "
                  f"{accuracies[-1]:.2%}")

    print(f"test accuracy: {accuracies[-1]:.2%}")
    if args.checkpoint:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epochs": args.epochs, "test_accuracy": accuracies[-1]}, args.checkpoint)
        print(f"checkpoint saved to {args.checkpoint}")
    if args.plot:
        plot(args.plot, losses, accuracies)
        print(f"curves saved to {args.plot}")
    return {"model": model, "losses": losses, "accuracies": accuracies,
            "test": (x_test, y_test), "checkpoint": args.checkpoint}


if __name__ == "__main__":
    main()
