"""An LSTM on the adding problem (Hochreiter & Schmidhuber, 1997): each sequence is a row of
random numbers in [0, 1) with two of them marked; the target is the sum of the two marked ones.
The sequences have different lengths, so each batch is packed (pack_padded_sequence) and the
LSTM's final hidden state of each sequence predicts the sum.

    python examples/lstm_sequence.py                       # CPU, about a minute
    python examples/lstm_sequence.py --device cuda --steps 3000 --seq-len 100

Predicting the mean (1.0) whatever the input gives a mean squared error of 1/6 (about 0.167);
the default run (1000 steps, sequences of 10 to 30) reaches a test MSE below 0.01, i.e. it has
learned to find and add the two marked numbers.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import autodiff as torch
from autodiff import nn
from autodiff.nn.utils.rnn import pack_padded_sequence

BASELINE_MSE = 1.0 / 6.0  # Var(u1 + u2) for u1, u2 ~ U(0, 1): the error of predicting 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or strict:1")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seq-len", type=int, default=30, help="the longest sequence")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def adding_batch(batch: int, longest: int, generator: torch.Generator,
                 device: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs (longest, batch, 2), lengths (longest first), targets (batch,)): channel 0 the
    numbers, channel 1 the two markers (one in each half of the sequence)."""
    shortest = max(2, longest // 3)
    lengths = torch.randint(shortest, longest + 1, (batch,), generator=generator)
    lengths = lengths.tolist()
    lengths.sort(reverse=True)
    values = torch.rand(longest, batch, generator=generator)
    markers = torch.zeros(longest, batch)
    first = torch.rand(batch, generator=generator)
    second = torch.rand(batch, generator=generator)
    targets = []
    for column, length in enumerate(lengths):
        half = length // 2
        i = int(first[column].item() * half)
        j = half + int(second[column].item() * (length - half))
        markers[i, column] = 1.0
        markers[j, column] = 1.0
        targets.append(values[i, column].item() + values[j, column].item())
    inputs = torch.stack([values, markers], dim=-1).to(device)
    return inputs, torch.tensor(lengths), torch.tensor(targets, device=device)


class AddingModel(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(inputs, lengths)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1]).squeeze(-1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from tqdm import tqdm

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    data = torch.Generator().manual_seed(args.seed)
    model = AddingModel(args.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()
    losses: list[float] = []
    progress = tqdm(range(1, args.steps + 1), desc="adding", disable=args.quiet,
                    file=sys.stdout)
    for step in progress:
        inputs, lengths, targets = adding_batch(args.batch_size, args.seq_len, data, device)
        loss = loss_fn(model(inputs, lengths), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 50 == 0:
            progress.set_postfix(mse=f"{sum(losses[-50:]) / 50:.4f}")

    model.eval()
    test = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        inputs, lengths, targets = adding_batch(1000, args.seq_len, test, device)
        test_mse = loss_fn(model(inputs, lengths), targets).item()
    print(f"test MSE {test_mse:.4f} (predicting the mean: {BASELINE_MSE:.4f}) after "
          f"{args.steps} steps on {device}")
    return {"test_mse": test_mse, "losses": losses, "baseline": BASELINE_MSE}


if __name__ == "__main__":
    main()
