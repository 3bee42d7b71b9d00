"""torch.utils.benchmark's Fuzzer: random parameters (`FuzzedParameter`, `ParameterAlias`)
and tensors shaped by them (`FuzzedTensor`), resampled until every constraint holds.

The draws follow PyTorch's exactly: PyTorch samples with NumPy's legacy `RandomState`
(MT19937 seeded by its integer seed), and `_RandomState` below produces the same stream from
Python's own MT19937, so a seed gives the same parameters, orders and contiguity as in
PyTorch. The tensors' values come from this library's generator, seeded from that stream as
PyTorch seeds its own, so they are reproducible but not PyTorch's values."""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

from ... import dtypes
from ...creation import rand, randint
from ...random import manual_seed

__all__ = ["FuzzedParameter", "FuzzedTensor", "Fuzzer", "ParameterAlias"]

_DISTRIBUTIONS = ("loguniform", "uniform")
_MASK32 = 0xFFFFFFFF


def _mask(limit: int) -> int:
    """The smallest all-ones number not below `limit`."""
    return (1 << limit.bit_length()) - 1


class _RandomState:
    """The draws of NumPy's legacy RandomState that the fuzzer uses, bit for bit."""

    def __init__(self, seed: int):
        if not 0 <= seed <= _MASK32:
            raise ValueError("Seed must be between 0 and 2**32 - 1")
        key = [seed]
        for i in range(1, 624):  # MT19937's init_genrand, as NumPy seeds an integer
            key.append((1812433253 * (key[-1] ^ (key[-1] >> 30)) + i) & _MASK32)
        self._mt = random.Random()
        self._mt.setstate((3, (*key, 624), None))

    def _next32(self) -> int:
        return self._mt.getrandbits(32)

    def _next64(self) -> int:
        high = self._next32()
        return (high << 32) | self._next32()

    def _masked(self, limit: int) -> int:
        """A uniform integer in [0, limit] by rejecting masked draws above it."""
        mask = _mask(limit)
        draw = self._next32 if limit <= _MASK32 else self._next64
        while True:
            value = draw() & mask
            if value <= limit:
                return value

    def rand(self) -> float:
        return self._mt.random()  # both take 53 bits from two words the same way

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.rand()

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high)."""
        span = high - 1 - low
        if span == 0:
            return low
        if span in (_MASK32, 2 ** 64 - 1):
            return low + (self._next32() if span == _MASK32 else self._next64())
        return low + self._masked(span)

    def permutation(self, n: int) -> list[int]:
        values = list(range(n))
        for i in reversed(range(1, n)):
            j = self._masked(i)
            values[i], values[j] = values[j], values[i]
        return values

    def choice(self, count: int, probabilities: tuple[float, ...]) -> int:
        cdf = list(itertools.accumulate(probabilities))
        cdf = [c / cdf[-1] for c in cdf]
        return bisect.bisect_right(cdf, self.rand())


class FuzzedParameter:
    """A named parameter drawn from `distribution`: "loguniform" or "uniform" between `minval`
    and `maxval` (inclusive; integers unless either bound is a float), or a dict of values to
    probabilities. A `strict` parameter keeps its first draw while the others are resampled."""

    def __init__(self, name: str, minval: int | float | None = None,
                 maxval: int | float | None = None,
                 distribution: str | dict[Any, float] | None = None, strict: bool = False):
        self._name = name
        self._minval = minval
        self._maxval = maxval
        self._distribution = self._check_distribution(distribution)
        self.strict = strict

    @property
    def name(self) -> str:
        return self._name

    def sample(self, state: _RandomState) -> Any:
        if self._distribution == "loguniform":
            return self._loguniform(state)
        if self._distribution == "uniform":
            return self._uniform(state)
        return self._custom_distribution(state)

    def _check_distribution(self, distribution: Any) -> Any:
        if not isinstance(distribution, dict):
            if distribution not in _DISTRIBUTIONS:
                raise AssertionError(f"Unknown distribution: {distribution}")
            return distribution
        if any(p < 0 for p in distribution.values()):
            raise AssertionError("Probabilities cannot be negative")
        # PyTorch 2.13 inverts this test (it rejects normalized distributions); this is the
        # check its message describes.
        if abs(sum(distribution.values()) - 1) > 1e-5:
            raise AssertionError("Distribution is not normalized")
        if self._minval is not None:
            raise AssertionError("When passing a custom distribution, 'minval' must be None")
        if self._maxval is not None:
            raise AssertionError("When passing a custom distribution, 'maxval' must be None")
        return distribution

    def _loguniform(self, state: _RandomState) -> int | float:
        assert self._minval is not None and self._maxval is not None
        output = int(2 ** state.uniform(math.log2(self._minval), math.log2(self._maxval)))
        return min(max(output, self._minval), self._maxval)

    def _uniform(self, state: _RandomState) -> int | float:
        assert self._minval is not None and self._maxval is not None
        if isinstance(self._minval, int) and isinstance(self._maxval, int):
            return state.randint(self._minval, self._maxval + 1)
        return state.uniform(self._minval, self._maxval)

    def _custom_distribution(self, state: _RandomState) -> Any:
        index = state.choice(len(self._distribution), tuple(self._distribution.values()))
        return list(self._distribution)[index]


class ParameterAlias:
    """A parameter value that takes the value of the parameter named `alias_to` (chains
    allowed, cycles not): in a custom distribution, it makes some draws equal."""

    def __init__(self, alias_to: str):
        self.alias_to = alias_to

    def __repr__(self) -> str:
        return f"ParameterAlias[alias_to: {self.alias_to}]"


def _prod(values: Any, base: int = 1) -> int:
    return functools.reduce(lambda x, y: int(x) * int(y), values, base)


class FuzzedTensor:
    """A tensor named `name` whose `size` (ints or parameter names, cut or padded with 1s to
    the `dim_parameter`'s value) is sliced out of one `steps` times larger; with probability
    1 - `probability_contiguous` its memory order is a random permutation. Parameters giving
    fewer than `min_elements`, more than `max_elements` or an allocation over
    `max_allocation_bytes` are rejected."""

    def __init__(self, name: str, size: tuple[str | int, ...],
                 steps: tuple[str | int, ...] | None = None,
                 probability_contiguous: float = 0.5, min_elements: int | None = None,
                 max_elements: int | None = None, max_allocation_bytes: int | None = None,
                 dim_parameter: str | None = None, roll_parameter: str | None = None,
                 dtype: Any = dtypes.float32, cuda: bool = False,
                 tensor_constructor: Callable[..., Any] | None = None):
        self._name = name
        self._size = size
        self._steps = steps
        self._probability_contiguous = probability_contiguous
        self._min_elements = min_elements
        self._max_elements = max_elements
        self._max_allocation_bytes = max_allocation_bytes
        self._dim_parameter = dim_parameter
        self._dtype = dtype
        self._cuda = cuda
        self._tensor_constructor = tensor_constructor

    @property
    def name(self) -> str:
        return self._name

    @staticmethod
    def default_tensor_constructor(size: tuple[int, ...], dtype: Any, **kwargs: Any) -> Any:
        if dtype.is_floating_point or dtype.is_complex:
            return rand(size=size, dtype=dtype, device="cpu")
        return randint(1, 127, size=size, dtype=dtype, device="cpu")

    def _make_tensor(self, params: dict[str, Any],
                     state: _RandomState) -> tuple[Any, dict[str, Any]]:
        size, steps, allocation_size = self._get_size_and_steps(params)
        constructor = self._tensor_constructor or self.default_tensor_constructor
        raw = constructor(size=allocation_size, dtype=self._dtype, **params)
        if self._cuda:
            raw = raw.cuda()
        dim = len(size)
        order = list(range(dim))
        if state.rand() > self._probability_contiguous:
            while dim > 1 and order == list(range(dim)):
                order = state.permutation(raw.dim())
            inverse = sorted(range(dim), key=order.__getitem__)
            raw = raw.permute(tuple(order)).contiguous().permute(tuple(inverse))
        tensor = raw[tuple(slice(0, n * step, step) for n, step in zip(size, steps))]
        properties = {"numel": int(tensor.numel()), "order": tuple(order), "steps": steps,
                      "is_contiguous": tensor.is_contiguous(), "dtype": str(self._dtype)}
        return tensor, properties

    def _get_size_and_steps(
            self, params: dict[str, Any]) -> tuple[tuple[int, ...], tuple[int, ...],
                                                   tuple[int, ...]]:
        dim = params[self._dim_parameter] if self._dim_parameter is not None else len(self._size)

        def resolve(values: tuple[str | int, ...]) -> tuple[int, ...]:
            concrete = tuple(params.get(v, v) if isinstance(v, str) else v for v in values)[:dim]
            return concrete + (1,) * (dim - len(concrete))

        size = resolve(self._size)
        steps = resolve(self._steps or ())
        return size, steps, tuple(n * step for n, step in zip(size, steps))

    def satisfies_constraints(self, params: dict[str, Any]) -> bool:
        size, _, allocation_size = self._get_size_and_steps(params)
        elements = _prod(size)
        if elements < 0:
            raise AssertionError("Computed number of elements is negative")
        allocation_bytes = _prod(allocation_size, base=self._dtype.itemsize)

        def greater(left: int | None, right: int | None) -> bool:
            return left is not None and right is not None and left > right

        return not (greater(elements, self._max_elements)
                    or greater(self._min_elements, elements)
                    or greater(allocation_bytes, self._max_allocation_bytes))


class Fuzzer:
    """Draws `parameters` until `constraints` (callables of the parameters as keywords) and
    every tensor's limits hold, then makes `tensors`; `take(n)` yields n such
    (tensors, tensor properties, parameters). The same `seed` gives the same draws."""

    def __init__(self, parameters: list[Any], tensors: list[Any],
                 constraints: list[Callable[..., bool]] | None = None,
                 seed: int | None = None):
        if seed is None:
            seed = random.SystemRandom().randrange(0, 2 ** 32 - 1)
        self._seed = seed
        self._parameters: tuple[FuzzedParameter, ...] = Fuzzer._unpack(
            parameters, FuzzedParameter)
        self._tensors: tuple[FuzzedTensor, ...] = Fuzzer._unpack(tensors, FuzzedTensor)
        self._constraints = constraints or ()
        overlap = ({p.name for p in self._parameters}
                   & {t.name for t in self._tensors})
        if overlap:
            raise ValueError(f"Duplicate names in parameters and tensors: {overlap}")
        self._rejections = 0
        self._total_generated = 0

    @staticmethod
    def _unpack(values: list[Any], cls: type) -> tuple[Any, ...]:
        return tuple(itertools.chain.from_iterable(
            [v] if isinstance(v, cls) else v for v in values))

    def take(self, n: int) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
        state = _RandomState(self._seed)
        manual_seed(state.randint(0, 2 ** 63))
        for _ in range(n):
            params = self._generate(state)
            tensors, properties = {}, {}
            for t in self._tensors:
                tensors[t.name], properties[t.name] = t._make_tensor(params, state)
            yield tensors, properties, params

    @property
    def rejection_rate(self) -> float:
        return self._rejections / self._total_generated if self._total_generated else 0.0

    def _generate(self, state: _RandomState) -> dict[str, Any]:
        strict: dict[str, Any] = {}
        for _ in range(1000):
            candidate: dict[str, Any] = {}
            for p in self._parameters:
                if p.strict and p.name in strict:
                    candidate[p.name] = strict[p.name]
                else:
                    candidate[p.name] = p.sample(state)
                    if p.strict:
                        strict[p.name] = candidate[p.name]
            candidate = self._resolve_aliases(candidate)
            self._total_generated += 1
            if not (all(f(candidate) for f in self._constraints)
                    and all(t.satisfies_constraints(candidate) for t in self._tensors)):
                self._rejections += 1
                continue
            return candidate
        raise ValueError("Failed to generate a set of valid parameters.")

    @staticmethod
    def _resolve_aliases(params: dict[str, Any]) -> dict[str, Any]:
        params = dict(params)
        count = sum(isinstance(v, ParameterAlias) for v in params.values())
        while count:
            for key in list(params):
                if isinstance(params[key], ParameterAlias):
                    params[key] = params[params[key].alias_to]
            new_count = sum(isinstance(v, ParameterAlias) for v in params.values())
            if new_count == count:
                raise ValueError(f"ParameterAlias cycle detected\n{params}")
            count = new_count
        return params
