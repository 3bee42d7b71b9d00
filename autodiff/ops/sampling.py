"""Drawing from distributions: normal, bernoulli, poisson and multinomial, and the in-place
samplers uniform_, normal_, exponential_, geometric_, cauchy_, log_normal_, random_
and bernoulli_.

Each draws from `generator=` (or the device's default generator) through `generator.draw`,
from the backend's uniform, normal and integer streams (the transforms are the textbook ones:
exponential = -log(1 - u) / lambda, Cauchy = median + sigma tan(pi (u - 1/2)), geometric =
ceil(log(1 - u) / log(1 - p)), ...), so the same seed gives the same numbers again on one
backend (not PyTorch's numbers: its generators are other algorithms). As in PyTorch, a sample
is not differentiable in its parameters: the nodes record the op and pass zero gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from backends import broadcast_shapes

from .. import dtypes
from ..batching.dispatch import random_op
from ..creation import randn, zeros_like
from ..function import Function
from ..generator import draw
from ..jvp_rules import zero_tangent
from ..sparse_coo import SparseCOO
from ..sparse_dispatch import refuse, refuse_operator
from ..tensor import Tensor, _wrap
from . import inplace
from ._checks import scalar_type_name
from ._promotion import check_broadcast
from .sorting import topk

_FLOAT_LIMITS = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
                 "float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}
_MANTISSA_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_INT_RANGES = {"bool": (0, 1), "uint8": (0, 255), "int8": (-128, 127),
               "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
               "int64": (-(2**63), 2**63 - 1)}


def _uniform(backend: Any, generator: Any, shape: tuple[int, ...], dtype: str,
             function: str) -> Any:
    """Uniform on [0, 1), drawn in `dtype` when it is a float dtype (else in float64)."""
    kind = dtype if dtype.startswith(("float", "bfloat")) else "float64"
    return draw(function, backend, generator, "rand", shape, kind)


def _normal(backend: Any, generator: Any, shape: tuple[int, ...], dtype: str,
            function: str) -> Any:
    kind = dtype if dtype.startswith(("float", "bfloat")) else "float64"
    return draw(function, backend, generator, "randn", shape, kind)


class _Sampled(Function):
    """An in-place sampler's node: the new values do not depend on the old ones (or on the
    parameters), so the gradient is zero."""

    node_name = ""

    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, a: Any, *, sample: Any) -> Any:
        out = sample(ctx.backend, a.shape, ctx.backend.dtype_name(a))
        return out if out.dtype == a.dtype else ctx.backend.astype(out, ctx.backend.dtype_name(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


def _sampler(name: str) -> type[_Sampled]:
    return type(name, (_Sampled,), {"node_name": name, "__module__": __name__})


UniformSampled = _sampler("UniformBackward0")
NormalSampled = _sampler("NormalBackward0")
ExponentialSampled = _sampler("ExponentialBackward0")
GeometricSampled = _sampler("GeometricBackward0")
CauchySampled = _sampler("CauchyBackward0")
LogNormalSampled = _sampler("LogNormalBackward0")
RandomFromTo = _sampler("RandomBackward0")
RandomTo = _sampler("RandomBackward1")
RandomSampled = _sampler("RandomBackward2")
BernoulliNumber = _sampler("BernoulliBackward2")


def _dense_only(op: type[Function], tensor: Tensor) -> None:
    """PyTorch has no sparse kernel for any sampler: it refuses a sparse tensor before it
    reads the other arguments."""
    if type(tensor._data) is SparseCOO:
        refuse(op(), (tensor,))


def _fill(op: type[_Sampled], tensor: Tensor, sample: Any) -> Tensor:
    return inplace.apply(tensor, (), lambda source: op.apply(source, sample=sample))


def _continuous(name: str, tensor: Tensor, kernel: str | None = None) -> None:
    """The samplers of continuous distributions take float tensors only (PyTorch's words)."""
    if tensor.dtype.is_floating_point:
        return
    if kernel is not None:
        device = "cuda" if tensor._backend.device.type == "cuda" else "cpu"
        suffix = f"_{device}" if kernel.endswith("_kernel") or kernel == "log_normal" else ""
        raise NotImplementedError(
            f'"{kernel}{suffix}" not implemented for \'{scalar_type_name(tensor)}\'')
    # PyTorch names the dtype as its scalar type in one message and as a C++ type in another.
    found = (dtypes.SCALAR_TYPE_NAMES if name == "Exponential" else dtypes.CPP_TYPE_NAMES)[
        tensor.dtype.name]
    raise RuntimeError(
        f"{name} distribution is a continuous probability distribution. dtype must be a "
        f"floating point but you specified {found}"
    )


@random_op
def uniform_(tensor: Tensor, from_: float = 0.0, to: float = 1.0, *,
             generator: Any = None) -> Tensor:
    """Fill with numbers drawn uniformly from [from, to)."""
    _dense_only(UniformSampled, tensor)
    _continuous("Uniform", tensor, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_g(from_)} > "
            f"to={_g(to)}")
    limit = _FLOAT_LIMITS[tensor.dtype.name]
    if not -limit <= from_ <= limit:
        raise RuntimeError(f"from is out of bounds for {dtypes.CPP_TYPE_NAMES[tensor.dtype.name]}")
    if not -limit <= to <= limit:
        raise RuntimeError(f"to is out of bounds for {dtypes.CPP_TYPE_NAMES[tensor.dtype.name]}")

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        u = _uniform(backend, generator, shape, dtype, "uniform_")
        return backend.add(backend.multiply(u, to - from_), from_)

    return _fill(UniformSampled, tensor, sample)


@random_op
def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Any = None) -> Tensor:
    """Fill with numbers drawn from N(mean, std^2)."""
    _dense_only(NormalSampled, tensor)
    _continuous("Normal", tensor, "normal_kernel")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(std)}")

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        z = _normal(backend, generator, shape, dtype, "normal_")
        return backend.add(backend.multiply(z, std), mean)

    return _fill(NormalSampled, tensor, sample)


@random_op
def exponential_(tensor: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with numbers drawn from the exponential distribution of rate `lambd`."""
    _dense_only(ExponentialSampled, tensor)
    _continuous("Exponential", tensor)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_g(lambd)}")

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        u = _uniform(backend, generator, shape, dtype, "exponential_")
        return backend.divide(backend.negative(backend.log1p(backend.negative(u))), lambd)

    return _fill(ExponentialSampled, tensor, sample)


@random_op
def geometric_(tensor: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    _dense_only(GeometricSampled, tensor)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_g(p)}")

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        u = _uniform(backend, generator, shape, "float64", "geometric_")
        trials = backend.ceil(backend.divide(backend.log1p(backend.negative(u)),
                                             math.log1p(-p)))
        return backend.maximum(trials, backend.ones_like(trials))

    return _fill(GeometricSampled, tensor, sample)


@random_op
def cauchy_(tensor: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: Any = None) -> Tensor:
    """Fill with numbers drawn from the Cauchy distribution."""
    _dense_only(CauchySampled, tensor)
    _continuous("Cauchy", tensor)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_g(sigma)}")

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        u = _uniform(backend, generator, shape, dtype, "cauchy_")
        angle = backend.multiply(backend.subtract(u, 0.5), math.pi)
        return backend.add(backend.multiply(backend.tan(angle), sigma), median)

    return _fill(CauchySampled, tensor, sample)


@random_op
def log_normal_(tensor: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: Any = None) -> Tensor:
    """Fill with exp(N(mean, std^2))."""
    _dense_only(LogNormalSampled, tensor)
    _continuous("LogNormal", tensor, "log_normal")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_g(std)}")

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        z = _normal(backend, generator, shape, dtype, "log_normal_")
        return backend.exp(backend.add(backend.multiply(z, std), mean))

    return _fill(LogNormalSampled, tensor, sample)


@random_op
def random_(tensor: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with integers drawn uniformly: random_() over every integer the dtype holds exactly
    ([0, 2^mantissa] for floats), random_(to) from [0, to), random_(from, to) from [from, to)
    (to=None: up to the dtype's largest)."""
    from_: Any = kwargs.pop("from", None)
    to: Any = kwargs.pop("to", None)
    if kwargs:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if len(args) == 2:
        from_, to = args
    elif len(args) == 1 and from_ is None and "to" not in kwargs and to is None:
        to = args[0]
        if to is None:
            raise TypeError("random_(): argument 'to' must be int, not NoneType")
    elif len(args) == 1:
        from_ = args[0]
    elif len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    _dense_only(RandomSampled if from_ is None and to is None else
                RandomTo if from_ is None else RandomFromTo, tensor)
    name = tensor.dtype.name
    top = _random_range(name)
    if from_ is None and to is None:
        op: type[_Sampled] = RandomSampled
        low, high = 0, top + 1
    elif from_ is None:
        op, low, high = RandomTo, 0, int(to)
        _check_bound(name, "to - 1", high - 1)
    else:
        op, low = RandomFromTo, int(from_)
        high = top + 1 if to is None else int(to)
        if low >= high:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        _check_bound(name, "from", low)
        _check_bound(name, "to - 1", high - 1)

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        return draw("random_", backend, generator, "randint", low, high, shape, "int64")

    return _fill(op, tensor, sample)


def _random_range(name: str) -> int:
    """The largest integer random_() draws: every integer up to it is exact in the dtype."""
    if name.startswith(("float", "bfloat")):
        return int(2 ** _MANTISSA_BITS[name])
    return _INT_RANGES[name][1]


def _check_bound(name: str, what: str, value: int) -> None:
    if name.startswith(("float", "bfloat")):
        limit = _FLOAT_LIMITS[name]
        inside = -limit <= value <= limit
    else:
        low, high = _INT_RANGES[name]
        inside = low <= value <= high
    if not inside:
        raise RuntimeError(f"{what} is out of bounds for {dtypes.CPP_TYPE_NAMES[name]}")


def _g(value: float) -> str:
    """A number as PyTorch's messages print it (C++ stream: 1.5, -1, inf)."""
    return f"{value:g}"


# ----------------------------------------------------------------------------- bernoulli
class BernoulliTensor(Function):
    """bernoulli_(p tensor): 1 with probability p (broadcast to the tensor), else 0."""

    node_name = "BernoulliBackward1"

    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, a: Any, p: Any, *, generator: Any) -> Any:
        backend = ctx.backend
        ctx.inputs = [(p.shape, backend.dtype_name(p))]
        u = _uniform(backend, generator, a.shape, "float64", "bernoulli_")
        chosen = backend.less(u, backend.astype(backend.broadcast_to(p, a.shape), "float64"))
        return backend.astype(chosen, backend.dtype_name(a))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        needs_input, needs_p = ctx.needs_input_grad
        grad_p = _zeros(grad, *ctx.inputs[0]) if needs_p else None
        return (zeros_like(grad) if needs_input else None), grad_p


def _zeros(like: Tensor, shape: tuple[int, ...], dtype: str) -> Tensor:
    """Zeros of `shape` and `dtype` on `like`'s device (a parameter's zero gradient)."""
    return _wrap(like._backend.zeros(shape, dtype), like._backend)


class Bernoulli(Function):
    """torch.bernoulli(input): 1 with probability input, else 0, in input's dtype."""

    node_name = "BernoulliBackward0"

    jvp: Callable[..., Any] | None = zero_tangent

    @staticmethod
    def forward(ctx: Any, p: Any, *, generator: Any, probability: float | None) -> Any:
        backend = ctx.backend
        u = _uniform(backend, generator, p.shape, "float64", "bernoulli")
        threshold: Any = probability if probability is not None else backend.astype(p, "float64")
        return backend.astype(backend.less(u, threshold), backend.dtype_name(p))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


class BernoulliProbability(Bernoulli):
    """torch.bernoulli(input, p): input's shape and dtype, probability p (no derivative)."""

    node_name = "torch::autograd::NotImplemented"
    forward_ad_name = "aten::bernoulli"
    jvp = None

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        raise RuntimeError("derivative for aten::bernoulli.p is not implemented")


def _check_probabilities(backend: Any, array: Any) -> None:
    if array.size and not backend.all_true(backend.logical_and(
            backend.greater_equal(array, 0), backend.less_equal(array, 1))):
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )


@random_op
def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:
    """0/1 samples: 1 with probability `input` (each element), or with probability `p`."""
    if type(input._data) is SparseCOO:  # PyTorch's bernoulli makes an empty_like first
        raise RuntimeError("memory format option is only supported by strided tensors")
    backend = input._backend
    if p is None:
        if not input.dtype.is_floating_point:
            raise NotImplementedError(
                f'"bernoulli_tensor_{"cuda" if backend.device.type == "cuda" else "cpu"}_p_" '
                f"not implemented for '{scalar_type_name(input)}'")
        _check_probabilities(backend, input._data)
        return Bernoulli.apply(input, generator=generator, probability=None)
    _check_probability(float(p))
    return BernoulliProbability.apply(input, generator=generator, probability=float(p))


def _check_probability(p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_g(p)}")


@random_op
def bernoulli_(tensor: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 0/1: 1 with probability `p` (a number, or a tensor broadcast to this one)."""
    _dense_only(BernoulliTensor if isinstance(p, Tensor) else BernoulliNumber, tensor)
    if isinstance(p, Tensor):
        p.expand(tensor._data.shape)  # PyTorch's error when p does not expand to the tensor
        _check_probabilities(p._backend, p._data)
        return inplace.apply(tensor, (p,), lambda source: BernoulliTensor.apply(
            source, p, generator=generator))
    probability = float(p)
    _check_probability(probability)

    def sample(backend: Any, shape: tuple[int, ...], dtype: str) -> Any:
        u = _uniform(backend, generator, shape, "float64", "bernoulli_")
        return backend.less(u, probability)

    return _fill(BernoulliNumber, tensor, sample)


# ----------------------------------------------------------------------------- normal
class Normal(Function):
    """torch.normal with a tensor mean and/or std: mean + std * N(0, 1) elementwise."""

    node_name = "NormalBackward3"

    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, *arrays: Any, mean: Any, std: Any, shape: tuple[int, ...],
                generator: Any) -> Any:
        backend = ctx.backend
        ctx.inputs = [(array.shape, backend.dtype_name(array)) for array in arrays]
        tensors = iter(arrays)
        mean_array = next(tensors) if mean is None else mean
        std_array = next(tensors) if std is None else std
        kind = backend.dtype_name(arrays[0])
        z = _normal(backend, generator, shape, kind, "normal")
        return backend.add(backend.multiply(z, std_array), mean_array)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        zeros = tuple(_zeros(grad, shape, dtype) if needed else None
                      for (shape, dtype), needed in zip(ctx.inputs, ctx.needs_input_grad))
        return zeros if len(zeros) > 1 else zeros[0]


class NormalMeanTensor(Normal):
    node_name = "NormalBackward1"


class NormalStdTensor(Normal):
    node_name = "NormalBackward2"


@random_op
def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2): elementwise for tensor mean and/or std (broadcast), or a
    tensor of `size` for numbers."""
    mean_tensor, std_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_tensor and not std_tensor:
        if size is None:
            raise TypeError(
                "normal() received an invalid combination of arguments - got (float, float), "
                "but expected (Tensor mean, Tensor std), (Tensor mean, float std), (float "
                "mean, Tensor std) or (float mean, float std, tuple of ints size)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(std)}")
        shape = (size,) if isinstance(size, int) else tuple(size)
        samples = randn(shape, generator=generator, dtype=dtype, device=device)
        samples._data = samples._backend.add(samples._backend.multiply(samples._data, std),
                                             mean)
        return samples.requires_grad_(requires_grad)
    for tensor in (mean, std):
        if isinstance(tensor, Tensor) and not tensor.dtype.is_floating_point:
            device_kind = "cuda" if tensor._backend.device.type == "cuda" else "cpu"
            raise NotImplementedError(
                f'"normal_kernel_{device_kind}" not implemented for '
                f"'{scalar_type_name(tensor)}'")
    if std_tensor:
        if std.numel() and not std._backend.all_true((std >= 0)._data):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(std)}")
    if mean_tensor and std_tensor:
        check_broadcast(mean._data.shape, std._data.shape)
        shape = broadcast_shapes(mean._data.shape, std._data.shape)
        return Normal.apply(mean, std, mean=None, std=None, shape=shape, generator=generator)
    if mean_tensor:
        return NormalMeanTensor.apply(mean, mean=None, std=float(std),
                                      shape=mean._data.shape, generator=generator)
    return NormalStdTensor.apply(std, mean=float(mean), std=None, shape=std._data.shape,
                                 generator=generator)


# ----------------------------------------------------------------------------- poisson
class Poisson(Function):
    node_name = "PoissonBackward0"

    jvp = zero_tangent

    @staticmethod
    def forward(ctx: Any, rates: Any, *, generator: Any) -> Any:
        backend = ctx.backend
        counts = draw("poisson", backend, generator, "poisson", rates)
        return backend.astype(counts, backend.dtype_name(rates))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return zeros_like(grad)


@random_op
def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """Poisson samples with the rates `input` (in input's dtype)."""
    backend = input._backend
    if not input.dtype.is_floating_point:
        device = "cuda" if backend.device.type == "cuda" else "cpu"
        raise NotImplementedError(
            f'"poisson_{device}" not implemented for \'{scalar_type_name(input)}\'')
    if input.numel() and not backend.all_true(backend.greater_equal(input._data, 0)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return Poisson.apply(input, generator=generator)


# ----------------------------------------------------------------------------- multinomial
@random_op
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """Indices drawn from the categories of each row of `input` (weights, not necessarily
    normalised), with or without replacement. Without replacement the draw is by exponential
    keys (Efraimidis-Spirakis): the same distribution as drawing one at a time."""
    if type(input._data) is SparseCOO:
        refuse_operator("aten::multinomial", input.device)
    backend = input._backend
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: "
            f"{scalar_type_name(input)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input._data.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if categories > 2**24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    weights = backend.astype(input._data, "float64")
    if weights.size:
        finite = backend.logical_and(backend.isfinite(weights), backend.greater_equal(weights, 0))
        if not backend.all_true(finite):
            raise RuntimeError(
                "probability tensor contains either `inf`, `nan` or element < 0")
        if not backend.all_true(backend.greater(backend.sum(weights, axis=-1), 0)):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = weights if weights.ndim == 2 else backend.reshape(weights, (1, categories))
    count = rows.shape[0]
    if replacement:
        totals = backend.cumulative_sum(rows, axis=-1)
        u = _uniform(backend, generator, (count, num_samples), "float64", "multinomial")
        targets = backend.multiply(u, totals[:, -1:])
        # The first category whose running total passes the target.
        picked = backend.searchsorted(totals, targets, right=True)
        picked = backend.clip(picked, 0, categories - 1)
    else:
        u = _uniform(backend, generator, (count, categories), "float64", "multinomial")
        # key = -log(u) / w: the k smallest keys are a draw of k without replacement; a zero
        # weight gives an infinite key, taken only once every positive weight is.
        keys = backend.divide(backend.negative(backend.log1p(backend.negative(u))), rows)
        picked = topk(_wrap(keys, backend), num_samples, -1, largest=False).indices._data
    if input.ndim == 1:
        picked = backend.reshape(picked, (num_samples,))
    return _wrap(backend.astype(picked, "int64"), backend)
