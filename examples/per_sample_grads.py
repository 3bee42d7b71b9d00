"""Per-sample gradients and model ensembling with function transforms (torch.func's tutorials
on the digits MLP of train_digits.py).

    python examples/per_sample_grads.py                  # batch of 64, an ensemble of 5 models

1. Per-sample gradients: `vmap(grad(loss))` gives the gradient of every example's loss w.r.t.
   every parameter in one batched pass, checked against a loop of one backward per example.
2. Ensembling: `stack_module_state` stacks the parameters of 5 independently initialised
   MLPs, and `vmap(functional_call)` runs all 5 on a batch at once, checked against each model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_digits import build_model, load_digits

import autodiff as torch
import autodiff.nn.functional as F
from autodiff.func import functional_call, grad, stack_module_state, vmap


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def per_sample_grads(model: torch.nn.Module, x: torch.Tensor,
                     y: torch.Tensor) -> dict[str, torch.Tensor]:
    """The gradient of each example's cross-entropy w.r.t. each parameter: (batch, *shape)."""
    params = {name: p.detach() for name, p in model.named_parameters()}
    buffers = {name: b.detach() for name, b in model.named_buffers()}

    def loss(params: dict[str, torch.Tensor], sample: torch.Tensor,
             target: torch.Tensor) -> torch.Tensor:
        # One example, as a batch of one: the model and the loss see the shapes they expect.
        prediction = functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return F.cross_entropy(prediction, target.unsqueeze(0))

    return vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)  # type: ignore[no-any-return]


def per_sample_grads_loop(model: torch.nn.Module, x: torch.Tensor,
                          y: torch.Tensor) -> dict[str, torch.Tensor]:
    """The same, one backward pass per example."""
    rows: dict[str, list[torch.Tensor]] = {name: [] for name, _ in model.named_parameters()}
    for index in range(x.shape[0]):
        model.zero_grad()
        F.cross_entropy(model(x[index:index + 1]), y[index:index + 1]).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None
            rows[name].append(p.grad.clone())
    return {name: torch.stack(grads) for name, grads in rows.items()}


def ensemble(models: list[torch.nn.Module], x: torch.Tensor) -> torch.Tensor:
    """Every model's predictions on the same batch, in one vmapped call: (models, batch, 10)."""
    params, buffers = stack_module_state(models)
    base = models[0]

    def run(params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
            x: torch.Tensor) -> torch.Tensor:
        return functional_call(base, (params, buffers), (x,))  # type: ignore[no-any-return]

    return vmap(run, in_dims=(0, 0, None))(params, buffers, x)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    x_train, _, y_train, _ = load_digits(args.seed, args.device)
    x, y = x_train[:args.batch], y_train[:args.batch]
    model = build_model().to(args.device)

    batched = per_sample_grads(model, x, y)
    looped = per_sample_grads_loop(model, x, y)
    worst = max(float((batched[name] - looped[name]).abs().max()) for name in looped)
    print(f"per-sample gradients of {args.batch} examples: "
          + ", ".join(f"{name} {tuple(g.shape)}" for name, g in batched.items()))
    print(f"largest difference from the per-example loop: {worst:.2e}")

    models = [build_model().to(args.device) for _ in range(args.models)]
    predictions = ensemble(models, x)
    one_by_one = torch.stack([m(x) for m in models])
    ensemble_error = float((predictions - one_by_one).abs().max())
    votes = predictions.softmax(-1).mean(0).argmax(-1)
    print(f"ensemble of {args.models} models: predictions {tuple(predictions.shape)}, largest "
          f"difference from running each model: {ensemble_error:.2e}")
    print(f"untrained ensemble's vote agrees with the labels on "
          f"{float((votes == y).float().mean()):.0%} of the batch")
    return {"batched": batched, "looped": looped, "worst": worst,
            "ensemble_error": ensemble_error, "predictions": predictions}


if __name__ == "__main__":
    main()
