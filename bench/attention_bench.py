"""Attention benchmarks.

    python -m bench.attention_bench            # all three, CPU time, one BLAS thread
    python -m bench --suite attention

(a) scaled_dot_product_attention, B=8, H=8, L=S=256, D=64, causal, float32, forward + backward,
    against a hand-written NumPy attention with analytic backward (the limit: scores, in-place
    softmax, dS = P * (dP - rowsum(dO * O)) in dP's buffer) and PyTorch's, round-robin in the
    same run. Target: autodiff within 1.20x of the limit.
(b) Peak memory of (a) beyond its inputs, output and gradients (tracemalloc), in units of one
    B x H x L x S float32 buffer. Target: autodiff at most one such buffer (it keeps the
    probabilities for backward, plus chunk temporaries).
(c) One training step (forward, backward, AdamW) of examples/char_transformer.py's model at
    its defaults against the same model in PyTorch with the same weights and batch.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import autodiff  # noqa: E402
import autodiff.nn.functional as F  # noqa: E402

from .nn_bench import paired_cpu_time  # noqa: E402

B, H, L, D = 8, 8, 256, 64
MIB = 2**20


def make_data(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((B, H, L, D), dtype=np.float32) for _ in range(4)]


def numpy_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                    upstream: np.ndarray) -> list[np.ndarray]:
    """The limit: causal attention forward and analytic backward; returns (out, dq, dk, dv)."""
    scale = np.float32(1 / math.sqrt(q.shape[-1]))
    length, source = q.shape[-2], k.shape[-2]
    causal = np.where(np.tril(np.ones((length, source), bool)), np.float32(0),
                      np.float32(-np.inf))
    probs = q @ k.swapaxes(-1, -2)
    probs *= scale
    probs += causal
    probs -= probs.max(axis=-1, keepdims=True)
    np.exp(probs, out=probs)
    probs /= probs.sum(axis=-1, keepdims=True)
    out = probs @ v
    grad_v = probs.swapaxes(-1, -2) @ upstream
    grad_probs = upstream @ v.swapaxes(-1, -2)
    grad_probs -= (upstream * out).sum(axis=-1, keepdims=True)
    grad_probs *= probs
    grad_probs *= scale
    grad_q = grad_probs @ k
    grad_k = grad_probs.swapaxes(-1, -2) @ q
    return [out, grad_q, grad_k, grad_v]


def autodiff_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                       upstream: np.ndarray) -> list[np.ndarray]:
    """On the NumPy arrays themselves (from_numpy shares them), as the limit runs."""
    tensors = [autodiff.from_numpy(a).requires_grad_() for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*tensors, is_causal=True)
    out.backward(autodiff.from_numpy(upstream))
    return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]


def torch_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                    upstream: np.ndarray) -> list[np.ndarray]:
    import torch

    tensors = [torch.from_numpy(a).requires_grad_() for a in (q, k, v)]
    out = torch.nn.functional.scaled_dot_product_attention(*tensors, is_causal=True)
    out.backward(torch.from_numpy(upstream))
    return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]


def make_engines(with_torch: bool = True) -> dict[str, Callable[[], list[np.ndarray]]]:
    data = make_data()
    engines: dict[str, Callable[[], list[np.ndarray]]] = {
        "numpy (hand-written)": lambda: numpy_attention(*data),
        "autodiff": lambda: autodiff_attention(*data),
    }
    if with_torch:
        try:
            import torch

            torch.set_num_threads(1)
            engines["torch"] = lambda: torch_attention(*data)
        except ImportError:
            pass
    return engines


def check_agreement(engines: dict[str, Callable[[], list[np.ndarray]]]) -> None:
    reference = engines["numpy (hand-written)"]()
    for name, engine in engines.items():
        for mine, expected in zip(engine(), reference):
            np.testing.assert_allclose(mine, expected, rtol=1e-3, atol=1e-4, err_msg=name)


# ----------------------------------------------------------------------------- (b) memory
def peak_beyond_io(run: Callable[[], list[np.ndarray]]) -> float:
    """Peak bytes traced while `run` executes, less what it returns (output and gradients)."""
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        results = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kept = sum(r.nbytes for r in results)
    return float(peak - start - kept)


def memory() -> dict[str, float]:
    data = make_data()
    buffer = B * H * L * L * 4
    return {"numpy (hand-written)": peak_beyond_io(lambda: numpy_attention(*data)) / buffer,
            "autodiff": peak_beyond_io(lambda: autodiff_attention(*data)) / buffer}


# ----------------------------------------------------------------------------- (c) char model
def _example() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "examples" / "char_transformer.py"
    spec = importlib.util.spec_from_file_location("char_transformer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def char_model_steps(with_torch: bool) -> dict[str, Callable[[], object]]:
    """A training step of the example's model (defaults, vocabulary 100) in each library."""
    example = _example()
    args = example.parse_args([])
    vocab = 100
    autodiff.manual_seed(0)
    ours = example.CharTransformer(vocab, args.context, args.d_model, args.heads, args.layers,
                                   args.dropout)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab, (args.batch_size, args.context + 1))
    inputs, targets = autodiff.tensor(tokens[:, :-1]), autodiff.tensor(tokens[:, 1:])
    optimizer = autodiff.optim.AdamW(ours.parameters(), lr=args.lr, weight_decay=0.01)

    def ours_step() -> None:
        logits = ours(inputs)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    steps: dict[str, Callable[[], object]] = {"autodiff": ours_step}
    if with_torch:
        try:
            import torch
        except ImportError:
            return steps
        torch.set_num_threads(1)
        theirs = _torch_char_model(torch, vocab, args)
        theirs.load_state_dict({k: torch.tensor(v.numpy())
                                for k, v in ours.state_dict().items()})
        t_inputs, t_targets = torch.tensor(tokens[:, :-1]), torch.tensor(tokens[:, 1:])
        t_optimizer = torch.optim.AdamW(theirs.parameters(), lr=args.lr, weight_decay=0.01)

        def torch_step() -> None:
            logits = theirs(t_inputs)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab),
                                                     t_targets.reshape(-1))
            t_optimizer.zero_grad()
            loss.backward()
            t_optimizer.step()

        steps["torch"] = torch_step
    return steps


def _torch_char_model(torch: Any, vocab: int, args: Any) -> Any:
    class TorchCharTransformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            d = args.d_model
            self.token = torch.nn.Embedding(vocab, d)
            self.position = torch.nn.Embedding(args.context, d)
            layer = torch.nn.TransformerEncoderLayer(d, args.heads, 4 * d, args.dropout,
                                                     activation="relu", batch_first=True,
                                                     norm_first=True)
            self.blocks = torch.nn.TransformerEncoder(layer, args.layers,
                                                      enable_nested_tensor=False)
            self.norm = torch.nn.LayerNorm(d)
            self.head = torch.nn.Linear(d, vocab)

        def forward(self, tokens: Any) -> Any:
            length = tokens.shape[1]
            x = self.token(tokens) + self.position(torch.arange(length))
            mask = torch.nn.Transformer.generate_square_subsequent_mask(length)
            return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))

    return TorchCharTransformer()


# ----------------------------------------------------------------------------- entry points
def run(setup: Any, rounds: int | None = None, quick: bool = False) -> list[Any]:
    from .seed_graph import Row

    with_torch = setup.torch is not None
    engines = make_engines(with_torch)
    check_agreement(engines)
    results = paired_cpu_time(engines, "numpy (hand-written)", rounds or (5 if quick else 15),
                              number=1, warmup=2)
    case = f"SDPA B={B} H={H} L={L} D={D} causal fwd+bwd"
    rows = [Row("attention", case, name, result["median"], result["ratio"],
                "target <= 1.20x" if name == "autodiff" else "")
            for name, result in results.items()]
    steps = char_model_steps(with_torch)
    if len(steps) > 1:
        step_results = paired_cpu_time(steps, "torch", rounds or (5 if quick else 10),
                                       number=1, warmup=2)
        rows += [Row("attention", "char transformer train step (vs torch)", name,
                     result["median"], result["ratio"]) for name, result in step_results.items()]
    print_memory()
    return rows


def print_memory() -> None:
    print(f"(b) peak memory of SDPA fwd+bwd beyond inputs, output and gradients, in units of one "
          f"B x H x L x S float32 buffer ({B * H * L * L * 4 / MIB:.0f} MiB)")
    for name, value in memory().items():
        print(f"    {name:<22} {value:5.2f}")
    print("    target: autodiff at most 1 buffer (plus chunk temporaries)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    engines = make_engines(not args.no_torch)
    check_agreement(engines)
    results = paired_cpu_time(engines, "numpy (hand-written)", args.rounds, number=1, warmup=2)
    print(f"(a) scaled_dot_product_attention B={B} H={H} L={L} D={D} causal float32, "
          "forward + backward (CPU time, 1 thread)")
    print(f"    {'engine':<22} {'ms':>9} {'x numpy':>8}")
    for name, result in results.items():
        print(f"    {name:<22} {result['median'] * 1e3:9.2f} {result['ratio']:8.2f}")
    print("    target: autodiff within 1.20x of the hand-written NumPy attention", flush=True)
    print_memory()
    steps = char_model_steps(not args.no_torch)
    if len(steps) > 1:
        step_results = paired_cpu_time(steps, "torch", max(args.rounds // 2, 3), number=1,
                                       warmup=2)
        print("(c) char transformer (examples/char_transformer.py defaults) training step")
        print(f"    {'engine':<22} {'ms':>9} {'x torch':>8}")
        for name, result in step_results.items():
            print(f"    {name:<22} {result['median'] * 1e3:9.2f} {result['ratio']:8.2f}")


if __name__ == "__main__":
    main()
