"""Hand-written NumPy versions of Adafactor, Muon, SparseAdam and L-BFGS (fixed step length),
in float64, from their papers and PyTorch's documentation (not from autodiff's code)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np


class AdafactorReference:
    """Adafactor (Shazeer & Stern, 2018) as PyTorch documents it: factored second moment for
    matrices, beta2_t = 1 - t^c, relative step size, update clipping to RMS d."""

    def __init__(self, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, maximize: bool = False) -> None:
        self.lr, self.c, self.d = lr, beta2_decay, d
        self.eps1 = np.finfo(np.float64).eps if eps[0] is None else eps[0]
        self.eps2 = eps[1]
        self.weight_decay, self.maximize = weight_decay, maximize
        self.row: Any = None
        self.col: Any = None
        self.v: Any = None
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        if self.maximize:
            g = -g
        beta2_t = 1 - self.t**self.c
        rho = min(self.lr, 1 / math.sqrt(self.t))
        alpha = max(self.eps2, np.sqrt(np.mean(theta * theta))) * rho
        theta = theta * (1 - self.lr * self.weight_decay)
        if g.ndim > 1:
            if self.row is None:
                self.row = np.zeros((*g.shape[:-1], 1))
                self.col = np.zeros((*g.shape[:-2], 1, g.shape[-1]))
            self.row = beta2_t * self.row + (1 - beta2_t) * np.mean(g * g, axis=-1,
                                                                    keepdims=True)
            self.col = beta2_t * self.col + (1 - beta2_t) * np.mean(g * g, axis=-2,
                                                                    keepdims=True)
            v_hat = (self.row @ self.col) / np.maximum(np.mean(self.row, axis=-2,
                                                               keepdims=True), self.eps1)
        else:
            self.v = beta2_t * (0.0 if self.v is None else self.v) + (1 - beta2_t) * g * g
            v_hat = self.v
        u = g / np.sqrt(np.maximum(v_hat, self.eps1**2))
        u_hat = u / max(1.0, np.sqrt(np.mean(u * u)) / self.d)
        return theta - alpha * u_hat


def newton_schulz(g: np.ndarray, coefficients: tuple[float, float, float],
                  steps: int, eps: float, bfloat16: bool = True) -> np.ndarray:
    """The quintic Newton-Schulz iteration of Muon (Jordan et al., 2024) on the wide
    orientation of g, started from g / ||g||_F. bfloat16: as PyTorch runs it, each op in
    float32 with its result rounded to bfloat16 (else exactly, in g's dtype)."""
    a, b, c = coefficients

    def rounded(x: Any) -> Any:
        if not bfloat16:
            return x
        return np.asarray(x).astype(ml_dtypes.bfloat16).astype(np.float32)

    x = g.T if g.shape[0] > g.shape[1] else g
    x = rounded(x)
    x = rounded(x / rounded(max(rounded(np.sqrt(np.sum(x * x))), eps)))
    for _ in range(steps):
        gram = rounded(x @ x.T)
        x = rounded(a * x + rounded(b * gram + c * (gram @ gram)) @ x)
    x = x.astype(g.dtype)
    return x.T if g.shape[0] > g.shape[1] else x


class MuonReference:
    def __init__(self, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None,
                 bfloat16: bool = True) -> None:
        self.bfloat16 = bfloat16
        self.lr, self.weight_decay, self.momentum = lr, weight_decay, momentum
        self.nesterov, self.coefficients = nesterov, ns_coefficients
        self.eps, self.ns_steps, self.adjust_lr_fn = eps, ns_steps, adjust_lr_fn
        self.buffer: Any = 0.0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.buffer = self.momentum * self.buffer + (1 - self.momentum) * g
        update = ((1 - self.momentum) * g + self.momentum * self.buffer if self.nesterov
                  else self.buffer)
        orthogonal = newton_schulz(update, self.coefficients, self.ns_steps, self.eps,
                                   self.bfloat16)
        rows, cols = theta.shape
        if self.adjust_lr_fn == "match_rms_adamw":
            lr = self.lr * 0.2 * math.sqrt(max(rows, cols))
        else:
            lr = self.lr * math.sqrt(max(1, rows / cols))
        return theta * (1 - self.lr * self.weight_decay) - lr * orthogonal


class SparseAdamReference:
    """Adam with lazy updates: the rows (first dimension) a step's gradient touches are the
    only ones whose moments and values change."""

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.maximize = maximize
        self.m: Any = None
        self.v: Any = None
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.m is None:
            self.m, self.v = np.zeros_like(theta), np.zeros_like(theta)
        self.t += 1
        if self.maximize:
            g = -g
        theta = theta.copy()
        rows = [i for i in range(g.shape[0]) if np.any(g[i] != 0)]
        step_size = self.lr * math.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        for i in rows:
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g[i]
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g[i] * g[i]
            theta[i] = theta[i] - step_size * self.m[i] / (np.sqrt(self.v[i]) + self.eps)
        return theta


class LBFGSReference:
    """L-BFGS with a fixed step length (Nocedal & Wright, algorithm 7.4 with the two-loop
    recursion 7.5), with PyTorch's conventions: the first step is scaled by
    min(1, 1 / |g|_1), a pair is kept only when y's > 1e-10, H0 = y's / y'y, and each step()
    runs up to max_iter iterations with the tolerance checks."""

    def __init__(self, function: Callable[[np.ndarray], tuple[float, np.ndarray]],
                 lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100) -> None:
        self.function = function
        self.lr, self.max_iter = lr, max_iter
        self.max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        self.tolerance_grad, self.tolerance_change = tolerance_grad, tolerance_change
        self.history_size = history_size
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.h0 = 1.0
        self.iterations = 0
        self.direction: Any = None
        self.t = 0.0
        self.previous_grad: Any = None

    def step(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """One step() (several iterations); returns the new x and the first loss."""
        loss, g = self.function(x)
        first_loss, evaluations = loss, 1
        if np.max(np.abs(g)) <= self.tolerance_grad:
            return x, first_loss
        for n in range(1, self.max_iter + 1):
            self.iterations += 1
            if self.iterations == 1:
                d = -g
            else:
                y, s = g - self.previous_grad, self.direction * self.t
                if y @ s > 1e-10:
                    if len(self.pairs) == self.history_size:
                        self.pairs.pop(0)
                    self.pairs.append((y, s))
                    self.h0 = (y @ s) / (y @ y)
                q, alphas = -g, []
                for y_i, s_i in reversed(self.pairs):  # rho_i = 1 / y_i's_i
                    alpha = (s_i @ q) * (1.0 / (y_i @ s_i))
                    alphas.append(alpha)
                    q = q - alpha * y_i
                d = q * self.h0
                for (y_i, s_i), alpha in zip(self.pairs, reversed(alphas)):
                    beta = (y_i @ d) * (1.0 / (y_i @ s_i))
                    d = d + (alpha - beta) * s_i
            self.previous_grad, previous_loss = g.copy(), loss
            self.direction = d
            self.t = (min(1.0, 1.0 / np.sum(np.abs(g))) * self.lr if self.iterations == 1
                      else self.lr)
            if g @ d > -self.tolerance_change:
                break
            x = x + self.t * d
            if n == self.max_iter:
                break
            loss, g = self.function(x)
            evaluations += 1
            if evaluations >= self.max_eval or np.max(np.abs(g)) <= self.tolerance_grad:
                break
            if np.max(np.abs(d * self.t)) <= self.tolerance_change:
                break
            if abs(loss - previous_loss) < self.tolerance_change:
                break
        return x, first_loss
