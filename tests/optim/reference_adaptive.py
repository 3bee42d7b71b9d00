"""Hand-written NumPy versions of Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD and Rprop, in
float64, written from the algorithm boxes of PyTorch's documentation (not from autodiff's
code). Each `step(theta, g)` returns the new parameters."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _gradient(g: np.ndarray, theta: np.ndarray, maximize: bool,
              weight_decay: float) -> np.ndarray:
    """g_t: negated to maximize, then plus L2 weight decay."""
    if maximize:
        g = -g
    if weight_decay:
        g = g + weight_decay * theta
    return g


class AdagradReference:
    def __init__(self, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 maximize: bool = False) -> None:
        self.lr, self.lr_decay, self.weight_decay = lr, lr_decay, weight_decay
        self.eps, self.maximize = eps, maximize
        self.state_sum: Any = initial_accumulator_value
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        g = _gradient(g, theta, self.maximize, self.weight_decay)
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        self.state_sum = self.state_sum + g * g
        return theta - clr * g / (np.sqrt(self.state_sum) + self.eps)


class AdadeltaReference:
    def __init__(self, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, maximize: bool = False) -> None:
        self.lr, self.rho, self.eps = lr, rho, eps
        self.weight_decay, self.maximize = weight_decay, maximize
        self.v: Any = 0.0
        self.u: Any = 0.0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        g = _gradient(g, theta, self.maximize, self.weight_decay)
        self.v = self.rho * self.v + (1 - self.rho) * g * g
        delta = np.sqrt(self.u + self.eps) / np.sqrt(self.v + self.eps) * g
        self.u = self.rho * self.u + (1 - self.rho) * delta * delta
        return theta - self.lr * delta


class AdamaxReference:
    def __init__(self, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, maximize: bool = False) -> None:
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.maximize = weight_decay, maximize
        self.m: Any = 0.0
        self.u: Any = 0.0
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        g = _gradient(g, theta, self.maximize, self.weight_decay)
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.u = np.maximum(self.beta2 * self.u, np.abs(g) + self.eps)
        return theta - self.lr * self.m / ((1 - self.beta1**self.t) * self.u)


class NAdamReference:
    """NAdam; decoupled weight decay (NAdamW) when `decoupled`."""

    def __init__(self, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled: bool = False, maximize: bool = False) -> None:
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.psi = weight_decay, momentum_decay
        self.decoupled, self.maximize = decoupled, maximize
        self.m: Any = 0.0
        self.v: Any = 0.0
        self.mu_product = 1.0
        self.t = 0

    def _mu(self, t: int) -> float:
        return self.beta1 * (1 - 0.5 * 0.96 ** (t * self.psi))

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        if self.maximize:
            g = -g
        if self.decoupled:
            theta = theta * (1 - self.lr * self.weight_decay)
        elif self.weight_decay:
            g = g + self.weight_decay * theta
        mu, mu_next = self._mu(self.t), self._mu(self.t + 1)
        self.mu_product *= mu
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g * g
        m_hat = (mu_next * self.m / (1 - self.mu_product * mu_next)
                 + (1 - mu) * g / (1 - self.mu_product))
        v_hat = self.v / (1 - self.beta2**self.t)
        return theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class RAdamReference:
    """RAdam; decoupled weight decay (RAdamW) when `decoupled`."""

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled: bool = False,
                 maximize: bool = False) -> None:
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.decoupled, self.maximize = weight_decay, decoupled, maximize
        self.m: Any = 0.0
        self.v: Any = 0.0
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        t, beta1, beta2 = self.t, self.beta1, self.beta2
        if self.maximize:
            g = -g
        if self.decoupled:
            theta = theta * (1 - self.lr * self.weight_decay)
        elif self.weight_decay:
            g = g + self.weight_decay * theta
        self.m = beta1 * self.m + (1 - beta1) * g
        self.v = beta2 * self.v + (1 - beta2) * g * g
        m_hat = self.m / (1 - beta1**t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 5:
            adaptive = math.sqrt(1 - beta2**t) / (np.sqrt(self.v) + self.eps)
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            return theta - self.lr * m_hat * rect * adaptive
        return theta - self.lr * m_hat


class ASGDReference:
    def __init__(self, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, maximize: bool = False) -> None:
        self.lr, self.lambd, self.alpha, self.t0 = lr, lambd, alpha, t0
        self.weight_decay, self.maximize = weight_decay, maximize
        self.eta = lr
        self.mu = 1.0
        self.ax: Any = 0.0
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        g = _gradient(g, theta, self.maximize, self.weight_decay)
        theta = theta * (1 - self.lambd * self.eta) - self.eta * g
        self.ax = self.ax + (theta - self.ax) * self.mu if self.mu != 1 else theta.copy()
        self.eta = self.lr / (1 + self.lambd * self.lr * self.t) ** self.alpha
        self.mu = 1 / max(1, self.t - self.t0)
        return theta


class RpropReference:
    def __init__(self, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), maximize: bool = False) -> None:
        self.etaminus, self.etaplus = etas
        self.step_min, self.step_max = step_sizes
        self.lr, self.maximize = lr, maximize
        self.prev: Any = None
        self.step_size: Any = None

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.prev is None:
            self.prev = np.zeros_like(theta)
            self.step_size = np.full_like(theta, self.lr)
        if self.maximize:
            g = -g
        g = g.copy()
        product = g * self.prev
        factor = np.where(product > 0, self.etaplus, np.where(product < 0, self.etaminus, 1.0))
        self.step_size = np.clip(self.step_size * factor, self.step_min, self.step_max)
        g[product < 0] = 0  # a sign change: no step, and the gradient is forgotten
        self.prev = g
        return theta - np.sign(g) * self.step_size
