"""Hand-written NumPy versions of each optimizer's published update rule, in float64, written
from the algorithm boxes of PyTorch's documentation (not from autodiff's code)."""

from __future__ import annotations

from typing import Any

import numpy as np


class SGDReference:
    def __init__(self, lr: float, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, maximize: bool = False
                 ) -> None:
        self.options = dict(lr=lr, momentum=momentum, dampening=dampening,
                            weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        self.b: Any = None
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        o = self.options
        self.t += 1
        # maximize negates the gradient first, then weight decay applies as usual (PyTorch's
        # code does this; the algorithm box of its SGD page adds instead, which differs once
        # weight decay is on; the Adam and RMSprop boxes negate first).
        if o["maximize"]:
            g = -g
        if o["weight_decay"]:
            g = g + o["weight_decay"] * theta
        if o["momentum"]:
            self.b = g.copy() if self.t == 1 else \
                o["momentum"] * self.b + (1 - o["dampening"]) * g
            g = g + o["momentum"] * self.b if o["nesterov"] else self.b
        return theta - o["lr"] * g


class AdamReference:
    """Adam (L2 weight decay) or AdamW (decoupled weight decay), with amsgrad."""

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False,
                 maximize: bool = False, decoupled: bool = False) -> None:
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.amsgrad, self.maximize = weight_decay, amsgrad, maximize
        self.decoupled = decoupled
        self.m: Any = 0.0
        self.v: Any = 0.0
        self.v_max: Any = 0.0
        self.t = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        if self.maximize:
            g = -g
        if self.decoupled:
            theta = theta * (1 - self.lr * self.weight_decay)
        elif self.weight_decay:
            g = g + self.weight_decay * theta
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g * g
        m_hat = self.m / (1 - self.beta1**self.t)
        if self.amsgrad:
            self.v_max = np.maximum(self.v_max, self.v)
            v_hat = self.v_max / (1 - self.beta2**self.t)
        else:
            v_hat = self.v / (1 - self.beta2**self.t)
        return theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class RMSpropReference:
    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 maximize: bool = False) -> None:
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.weight_decay, self.momentum, self.centered = weight_decay, momentum, centered
        self.maximize = maximize
        self.v: Any = 0.0
        self.g_ave: Any = 0.0
        self.b: Any = 0.0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.maximize:
            g = -g
        if self.weight_decay:
            g = g + self.weight_decay * theta
        self.v = self.alpha * self.v + (1 - self.alpha) * g * g
        v_tilde = self.v
        if self.centered:
            self.g_ave = self.alpha * self.g_ave + (1 - self.alpha) * g
            v_tilde = v_tilde - self.g_ave**2
        if self.momentum > 0:
            self.b = self.momentum * self.b + g / (np.sqrt(v_tilde) + self.eps)
            return theta - self.lr * self.b
        return theta - self.lr * g / (np.sqrt(v_tilde) + self.eps)
