"""A variational autoencoder (Kingma and Welling, 2013) after PyTorch's examples/vae, on
scikit-learn's bundled digits (8x8 images scaled to [0, 1]; no download) instead of MNIST.

    pip install -e ".[examples]"
    python examples/vae.py                          # 30 epochs on the CPU
    python examples/vae.py --device cuda --samples samples.png

The encoder gives the mean and log-variance of q(z|x), a `Normal` whose reparameterized sample
(`rsample`) feeds the decoder; the loss is the reconstruction's binary cross-entropy plus
KL(q(z|x) || N(0, I)) from `kl_divergence`, the negative evidence lower bound. Prints PyTorch's
example's per-epoch lines; --samples draws 64 decoded samples of the prior with matplotlib.
"""

from __future__ import annotations

import argparse
from typing import Any

import autodiff as torch
from autodiff import nn, optim
from autodiff.distributions import Normal, kl_divergence
from autodiff.nn import functional as F
from autodiff.utils.data import DataLoader, TensorDataset

PIXELS = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="VAE digits example, on autodiff")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N",
                        help="input batch size for training (default: 64)")
    parser.add_argument("--epochs", type=int, default=30, metavar="N",
                        help="number of epochs to train (default: 30)")
    parser.add_argument("--latent", type=int, default=8, metavar="N",
                        help="size of the latent code (default: 8)")
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="random seed (default: 1)")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N",
                        help="how many batches to wait before logging training status")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or strict:1")
    parser.add_argument("--samples", default=None, metavar="PNG",
                        help="draw 64 samples decoded from the prior to this file")
    return parser.parse_args(argv)


class VAE(nn.Module):
    def __init__(self, latent: int = 8, hidden: int = 128) -> None:
        super().__init__()
        self.fc1 = nn.Linear(PIXELS, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, PIXELS)

    def encode(self, x: torch.Tensor) -> Normal:
        """q(z|x): a diagonal normal."""
        h1 = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        return Normal(mu, torch.exp(0.5 * logvar))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Normal]:
        posterior = self.encode(x.view(-1, PIXELS))
        z = posterior.rsample()  # the reparameterization trick: mu + std * eps
        return self.decode(z), posterior


def loss_function(recon_x: torch.Tensor, x: torch.Tensor, posterior: Normal) -> torch.Tensor:
    """Reconstruction + KL divergence losses summed over all elements and batch."""
    bce = F.binary_cross_entropy(recon_x, x.view(-1, PIXELS), reduction="sum")
    prior = Normal(torch.zeros_like(posterior.loc), torch.ones_like(posterior.scale))
    kld = kl_divergence(posterior, prior).sum()
    return bce + kld


def load_digits(device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test images (1437 and 360), pixels in [0, 1]."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    images = sklearn_digits().data / 16.0
    train, test = train_test_split(images, test_size=0.2, random_state=0)
    return (torch.tensor(train, dtype=torch.float32, device=device),
            torch.tensor(test, dtype=torch.float32, device=device))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_images, test_images = load_digits(args.device)
    generator = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(TensorDataset(train_images), batch_size=args.batch_size,
                              shuffle=True, generator=generator)
    test_loader = DataLoader(TensorDataset(test_images), batch_size=args.batch_size)

    model = VAE(args.latent).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    train_losses, test_losses = [], []

    for epoch in range(1, args.epochs + 1):
        model.train()
        train_loss = 0.0
        for batch_idx, (data,) in enumerate(train_loader):
            optimizer.zero_grad()
            recon_batch, posterior = model(data)
            loss = loss_function(recon_batch, data, posterior)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            if batch_idx % args.log_interval == 0:
                print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/"
                      f"{len(train_loader.dataset)} "
                      f"({100.0 * batch_idx / len(train_loader):.0f}%)]\t"
                      f"Loss: {loss.item() / len(data):.6f}")
        train_losses.append(train_loss / len(train_loader.dataset))
        print(f"====> Epoch: {epoch} Average loss: {train_losses[-1]:.4f}")

        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for (data,) in test_loader:
                recon_batch, posterior = model(data)
                test_loss += loss_function(recon_batch, data, posterior).item()
        test_losses.append(test_loss / len(test_loader.dataset))
        print(f"====> Test set loss: {test_losses[-1]:.4f}")

    with torch.no_grad():
        prior = Normal(torch.zeros(64, args.latent, device=args.device),
                       torch.ones(64, args.latent, device=args.device))
        samples = model.decode(prior.sample()).cpu()
    if args.samples:
        draw(args.samples, samples)
    return {"train_losses": train_losses, "test_losses": test_losses, "model": model,
            "samples": samples}


def draw(path: str, samples: torch.Tensor) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(8, 8, figsize=(6, 6))
    for image, axis in zip(samples.view(64, 8, 8).numpy(), axes.flat):
        axis.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        axis.axis("off")
    figure.savefig(path)
    plt.close(figure)


if __name__ == "__main__":
    main()
