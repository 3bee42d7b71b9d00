"""LSTM benchmark: 2 layers, hidden 256, input 256, sequence 64, batch 32, float32,
forward + backward (gradients of the input and of every weight for a random upstream gradient).

    python -m bench.rnn_bench                 # CPU time, one BLAS thread for every engine
    python -m bench --suite rnn

The limit is a hand-written NumPy LSTM with analytic backward, written as one would by hand:
the input projection of all steps as one GEMM per layer, one GEMM per step for the hidden
gates, the backward loop in reverse, and each weight gradient as one GEMM over all steps.
autodiff's nn.LSTM and PyTorch's (when installed) are timed against it, round-robin in the
same run (bench/nn_bench.paired_cpu_time). Target: autodiff within 1.30x of the limit.
"""

from __future__ import annotations

import os

# One BLAS thread for every engine (set before NumPy is imported): these machines are shared,
# and threaded BLAS on 32-row GEMMs measures contention, not the engines.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import autodiff  # noqa: E402
from autodiff import nn  # noqa: E402

from .nn_bench import paired_cpu_time  # noqa: E402

LAYERS, HIDDEN, INPUT, STEPS, BATCH = 2, 256, 256, 64, 32


def make_weights(seed: int = 0) -> list[list[np.ndarray]]:
    """(W_ih, W_hh, b_ih, b_hh) per layer, PyTorch's init range, float32."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(HIDDEN)
    weights = []
    for layer in range(LAYERS):
        inputs = INPUT if layer == 0 else HIDDEN
        shapes = ((4 * HIDDEN, inputs), (4 * HIDDEN, HIDDEN), (4 * HIDDEN,), (4 * HIDDEN,))
        weights.append([rng.uniform(-bound, bound, s).astype(np.float32) for s in shapes])
    return weights


def make_data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((STEPS, BATCH, INPUT), dtype=np.float32)
    upstream = rng.standard_normal((STEPS, BATCH, HIDDEN), dtype=np.float32)
    return x, upstream


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out = np.exp(-x)
    out += 1
    return np.reciprocal(out, out=out)


class NumpyLSTM:
    """The limit: forward and analytic backward of a multi-layer LSTM in NumPy."""

    def __init__(self, weights: list[list[np.ndarray]]) -> None:
        self.weights = weights

    def forward_backward(self, x: np.ndarray, upstream: np.ndarray) -> list[np.ndarray]:
        tapes = []
        layer_input = x
        for w_ih, w_hh, b_ih, b_hh in self.weights:
            tape = self._forward(layer_input, w_ih, w_hh, b_ih + b_hh)
            tapes.append(tape)
            layer_input = tape["out"]
        grads: list[np.ndarray] = []
        grad_out = upstream
        for (w_ih, w_hh, _, _), tape in zip(self.weights[::-1], tapes[::-1]):
            grad_gates = self._backward(grad_out, w_hh, tape)
            flat = grad_gates.reshape(STEPS * BATCH, 4 * HIDDEN)
            layer_in = tape["input"].reshape(STEPS * BATCH, -1)
            grad_w_hh = flat.T @ tape["h_prev"].reshape(STEPS * BATCH, HIDDEN)
            grad_w_ih = flat.T @ layer_in
            grad_b = flat.sum(axis=0)
            grad_out = (flat @ w_ih).reshape(STEPS, BATCH, -1)
            grads = [grad_w_ih, grad_w_hh, grad_b, grad_b, *grads]
        return [grad_out, *grads]

    @staticmethod
    def _forward(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
                 bias: np.ndarray) -> dict[str, np.ndarray]:
        hidden = w_hh.shape[1]
        projection = x.reshape(STEPS * BATCH, -1) @ w_ih.T
        projection += bias
        projection = projection.reshape(STEPS, BATCH, 4 * hidden)
        h = np.zeros((BATCH, hidden), np.float32)
        c = np.zeros((BATCH, hidden), np.float32)
        activations = np.empty_like(projection)
        out = np.empty((STEPS, BATCH, hidden), np.float32)
        h_prev = np.empty_like(out)
        c_prev = np.empty_like(out)
        tanh_c = np.empty_like(out)
        w_hh_t = w_hh.T
        for t in range(STEPS):
            gates = h @ w_hh_t
            gates += projection[t]
            act = _sigmoid(gates)
            act[:, 2 * hidden:3 * hidden] = np.tanh(gates[:, 2 * hidden:3 * hidden])
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            h_prev[t], c_prev[t] = h, c
            c = f * c
            c += i * g
            tc = np.tanh(c)
            h = o * tc
            activations[t], tanh_c[t], out[t] = act, tc, h
        return {"input": x, "out": out, "h_prev": h_prev, "c_prev": c_prev,
                "activations": activations, "tanh_c": tanh_c}

    @staticmethod
    def _backward(grad_out: np.ndarray, w_hh: np.ndarray,
                  tape: dict[str, np.ndarray]) -> np.ndarray:
        hidden = w_hh.shape[1]
        grad_h = np.zeros((BATCH, hidden), np.float32)
        grad_c = np.zeros((BATCH, hidden), np.float32)
        grad_gates = np.empty((STEPS, BATCH, 4 * hidden), np.float32)
        for t in range(STEPS - 1, -1, -1):
            act, tc, c_prev = tape["activations"][t], tape["tanh_c"][t], tape["c_prev"][t]
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            grad_h += grad_out[t]
            grad_c += grad_h * o * (1 - tc * tc)
            step = grad_gates[t]
            step[:, :hidden] = grad_c * g * i * (1 - i)
            step[:, hidden:2 * hidden] = grad_c * c_prev * f * (1 - f)
            step[:, 2 * hidden:3 * hidden] = grad_c * i * (1 - g * g)
            step[:, 3 * hidden:] = grad_h * tc * o * (1 - o)
            grad_h = step @ w_hh
            grad_c *= f
        return grad_gates


class AutodiffLSTM:
    def __init__(self, weights: list[list[np.ndarray]], device: str = "cpu") -> None:
        self.model = nn.LSTM(INPUT, HIDDEN, num_layers=LAYERS).to(device)
        state = {f"{stem}_l{layer}": autodiff.tensor(value, device=device)
                 for layer, group in enumerate(weights)
                 for stem, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), group)}
        self.model.load_state_dict(state)
        self.device = device

    def forward_backward(self, x: np.ndarray, upstream: np.ndarray) -> list[np.ndarray]:
        inputs = autodiff.tensor(x, device=self.device, requires_grad=True)
        self.model.zero_grad()
        out, _ = self.model(inputs)
        out.backward(autodiff.tensor(upstream, device=self.device))
        return [inputs.grad.cpu().numpy()] + [p.grad.cpu().numpy()
                                              for p in self.model.parameters()]


class TorchLSTM:
    def __init__(self, weights: list[list[np.ndarray]]) -> None:
        import torch

        self.torch = torch
        self.model = torch.nn.LSTM(INPUT, HIDDEN, num_layers=LAYERS)
        state = {f"{stem}_l{layer}": torch.tensor(value) for layer, group in enumerate(weights)
                 for stem, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), group)}
        self.model.load_state_dict(state)

    def forward_backward(self, x: np.ndarray, upstream: np.ndarray) -> list[np.ndarray]:
        inputs = self.torch.tensor(x, requires_grad=True)
        self.model.zero_grad()
        out, _ = self.model(inputs)
        out.backward(self.torch.tensor(upstream))
        return [inputs.grad.numpy()] + [p.grad.numpy() for p in self.model.parameters()]


def make_engines(with_torch: bool = True, device: str = "cpu"
                 ) -> dict[str, Callable[[], list[np.ndarray]]]:
    weights = make_weights()
    x, upstream = make_data()
    engines: dict[str, Callable[[], list[np.ndarray]]] = {
        "numpy (hand-written)": lambda: NumpyLSTM(weights).forward_backward(x, upstream),
    }
    mine = AutodiffLSTM(weights, device)
    engines["autodiff"] = lambda: mine.forward_backward(x, upstream)
    if with_torch:
        try:
            import torch

            torch.set_num_threads(1)
            theirs = TorchLSTM(weights)
            engines["torch"] = lambda: theirs.forward_backward(x, upstream)
        except ImportError:
            pass
    return engines


def check_agreement(engines: dict[str, Callable[[], list[np.ndarray]]]) -> None:
    """Every engine computes the same gradients (float32 tolerance)."""
    reference = engines["numpy (hand-written)"]()
    for name, engine in engines.items():
        for mine, expected in zip(engine(), reference):
            np.testing.assert_allclose(mine, expected, rtol=2e-3, atol=2e-4, err_msg=name)


def bench(rounds: int, with_torch: bool, device: str = "cpu") -> dict[str, dict[str, float]]:
    engines = make_engines(with_torch, device)
    check_agreement(engines)
    return paired_cpu_time(engines, "numpy (hand-written)", rounds=rounds, number=1, warmup=2)


def run(setup: Any, rounds: int | None = None, quick: bool = False) -> list[Any]:
    """`python -m bench --suite rnn`: rows for the table."""
    from .seed_graph import Row

    results = bench(rounds or (5 if quick else 15), setup.torch is not None)
    case = f"LSTM {LAYERS}x{HIDDEN}, T={STEPS}, B={BATCH}, fwd+bwd"
    return [Row("rnn", case, name, result["median"], result["ratio"],
                "target <= 1.30x" if name == "autodiff" else "")
            for name, result in results.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    results = bench(args.rounds, not args.no_torch)
    print(f"LSTM {LAYERS} layers, hidden {HIDDEN}, input {INPUT}, T={STEPS}, B={BATCH}, "
          "float32, forward + backward (CPU time, 1 thread)")
    print(f"    {'engine':<22} {'ms':>9} {'x numpy':>8}")
    for name, result in results.items():
        print(f"    {name:<22} {result['median'] * 1e3:9.2f} {result['ratio']:8.2f}")
    print("    target: autodiff within 1.30x of the hand-written NumPy LSTM", flush=True)


if __name__ == "__main__":
    main()
