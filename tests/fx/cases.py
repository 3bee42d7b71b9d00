"""Programs to trace, written once against a library (`lib` is autodiff or torch), so that the
same text traces on both and the parity tests can compare graphs, code and results."""

from __future__ import annotations

import collections
import math
from typing import Any


def wrapped_norm(x: Any, y: Any) -> Any:
    """Marked with fx.wrap by the test module: one node, not traced through."""
    return x * x + y * y


def operators(lib: Any) -> Any:
    def f(x, y):
        a = x + y
        b = a * 2 - y / 3
        c = 1 - b
        d = -c @ y.T
        e = (d > 0) & (d < 5)
        return d ** 2, e, x[0, 1:], abs(x), 2 ** x
    return f


def methods(lib: Any) -> Any:
    def f(x):
        n = x.size(0)
        y = x.view(n, -1).sum(dim=1, keepdim=True)
        z = x.shape[1]
        return y.exp().clamp(min=0.5) + z, x.transpose(0, 1).contiguous()
    return f


def modules(lib: Any) -> Any:
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.linear(x)) + x

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            lib.manual_seed(0)
            self.block = Block()
            self.seq = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
            self.scale = nn.Parameter(lib.ones(3))
            self.register_buffer("shift", lib.full((3,), 0.5))

        def forward(self, x):
            h = self.block(x)
            h = self.block(h)  # a second call of the same module: the same target again
            return self.seq(h) * self.scale + self.shift

    return Net()


def keywords(lib: Any) -> Any:
    def f(x, *args, scale=2.0, **kwargs):
        return x * scale
    return f


def unpacking(lib: Any) -> Any:
    def f(x):
        a, b = x
        return a + b
    return f


def math_autowrap(lib: Any) -> Any:
    def f(x):
        return x / math.sqrt(x.size(-1))
    return f


def defaults(lib: Any) -> Any:
    def f(x, y=None, flag: bool = True):
        return x.relu()
    return f


def wrapped_call(lib: Any) -> Any:
    def f(x, y):
        return wrapped_norm(x, y).relu()
    return f


Pair = collections.namedtuple("Pair", ["a", "b"])


def annotated(lib: Any) -> Any:
    def f(x: lib.Tensor, n: int = 3) -> lib.Tensor:
        return x * n
    return f


def containers(lib: Any) -> Any:
    def f(x):
        return {"pair": Pair(x.relu(), x.neg()), "list": [x + 1, (x * 2,)]}
    return f


def constants(lib: Any) -> Any:
    class Constants(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.plain = lib.ones(3)  # neither parameter nor buffer
            self.register_buffer("buf", lib.zeros(3))

        def forward(self, x):
            return x + self.plain + self.buf + lib.tensor(2.0)

    return Constants()


def containers_of_modules(lib: Any) -> Any:
    nn = lib.nn

    class Nested(nn.Module):
        def __init__(self):
            super().__init__()
            lib.manual_seed(0)
            self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
            self.d = nn.ModuleDict({"act": nn.ReLU()})

        def forward(self, x):
            for layer in self.layers:
                x = self.d["act"](layer(x))
            return x.view(-1, 3)[:, None, ...]

    return Nested()


def indexing(lib: Any) -> Any:
    def f(x):
        return x[1:, ::2], x[..., 0], x[None], x[x > 0], x.size()[-1]
    return f


def in_place(lib: Any) -> Any:
    def f(x):
        y = x.clone()
        y += 1
        y.add_(2)
        return y.to(lib.float64), y.new_zeros((2,), dtype=lib.int64)
    return f


def functions(lib: Any) -> Any:
    def f(x, y):
        a = lib.relu(x) + lib.add(x, y, alpha=2)
        b = lib.cat([a, y], dim=0).flatten(0)
        c = lib.where(b > 0, b, lib.zeros_like(b))
        return lib.sum(lib.arctan(c), dim=0), lib.flatten(lib.stack([x, y]), 1)
    return f


def wrapped_len(lib: Any) -> Any:
    def f(x):
        return x * len(x)  # `len` is wrapped in this module: recorded, not asked of the Proxy
    return f


CASES = {"wrapped_len": wrapped_len, "functions": functions, "annotated": annotated,
         "containers": containers,
         "constants": constants, "containers_of_modules": containers_of_modules,
         "indexing": indexing, "in_place": in_place, "operators": operators, "methods": methods,
         "modules": modules,
         "keywords": keywords, "unpacking": unpacking, "math_autowrap": math_autowrap,
         "defaults": defaults, "wrapped_call": wrapped_call}

import autodiff.fx  # noqa: E402  (after wrapped_norm: wrap registers this module's name)

autodiff.fx.wrap("wrapped_norm")
autodiff.fx.wrap("len")
