"""`autodiff.nn.init`: fill a tensor in place, outside the graph, with values drawn from
`generator` or the default generator of the tensor's own device (seeded by
`autodiff.manual_seed`)."""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..generator import draw
from ..tensor import Tensor
from ..user_warnings import warn

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: Any = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _write(tensor: Tensor, array: Any) -> Tensor:
    """Write `array` into the tensor's own buffer (views and aliases see it), as in-place ops do
    under no_grad."""
    tensor._backend.setitem(tensor._data, (...,), array)
    tensor._bump_version()
    return tensor


def _float_dtype(tensor: Tensor, kernel: str) -> str:
    """The tensor's dtype name; PyTorch's error from its random kernel for other dtypes."""
    name = tensor._backend.dtype_name(tensor._data)
    if not name.startswith(("float", "bfloat")):
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{dtypes.SCALAR_TYPE_NAMES[name]}'")
    return name


def _normal_kernel(tensor: Tensor) -> str:
    return "normal_kernel_cuda" if tensor.device.type == "cuda" else "normal_kernel_cpu"


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with values drawn from U(a, b)."""
    backend = tensor._backend
    values = draw("uniform_", backend, generator, "rand", tensor._data.shape,
                  _float_dtype(tensor, "check_uniform_bounds"))
    values *= b - a
    values += a
    return _write(tensor, values)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with values drawn from N(mean, std²)."""
    backend = tensor._backend
    values = draw("normal_", backend, generator, "randn", tensor._data.shape,
                  _float_dtype(tensor, _normal_kernel(tensor)))
    values *= std
    values += mean
    return _write(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _write(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _write(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor._data.shape
    backend = tensor._backend
    return _write(tensor, backend.eye(rows, cols, backend.dtype_name(tensor._data)))


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    shape = tensor._data.shape
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015)."""
    if 0 in tensor._data.shape:
        warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std  # PyTorch's order of operations: the same bound to the bit
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """N(0, std²) with std = gain / sqrt(fan) (He et al., 2015)."""
    if 0 in tensor._data.shape:
        warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """Fill with values drawn from N(mean, std²) truncated to [a, b], by rejection (PyTorch's
    two regimes: redraw normals outside [a, b] when [a, b] holds over 30% of the mass; else
    uniform proposals on [a, b] accepted with probability pdf(x) / pdf(mode))."""
    dtype = _float_dtype(tensor, _normal_kernel(tensor))
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
             "distribution of values may be incorrect.", stacklevel=2)
    backend = tensor._backend
    shape = tensor._data.shape

    def normal_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    def uniform(low: float, high: float) -> Any:
        values = draw("uniform_", backend, generator, "rand", shape, dtype)
        values *= high - low
        values += low
        return values

    mass = normal_cdf((b - mean) / std) - normal_cdf((a - mean) / std)
    if mass > 0.3:
        # The bounds as the tensor's dtype holds them, so the test agrees with the values.
        low = float(backend.item(backend.asarray(a, dtype)))
        high = float(backend.item(backend.asarray(b, dtype)))

        def normal() -> Any:
            values = draw("normal_", backend, generator, "randn", shape, dtype)
            values *= std
            values += mean
            return values

        result = normal()
        while True:
            rejected = (result < low) | (result > high)
            if not backend.any_true(rejected):
                break
            result = backend.where(rejected, normal(), result)
    else:
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def pending_of(candidates: Any) -> Any:
            log_ratio = (candidates - mean) / std
            log_ratio = log_ratio * log_ratio * -0.5 - log_peak
            accept = draw("uniform_", backend, generator, "rand", shape, dtype)
            return backend.log(accept) > log_ratio

        result = uniform(a, b)
        pending = pending_of(result)
        while backend.any_true(pending):
            candidates = uniform(a, b)
            result = backend.where(pending, candidates, result)
            pending = backend.logical_and(pending, pending_of(candidates))
    return _write(tensor, result)


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-d convolution weight with the Dirac delta: each of the first
    min(out / groups, in) output channels of each group passes its input channel through at
    the kernel's centre (the identity convolution)."""
    dimensions = tensor.ndim
    if dimensions not in [3, 4, 5]:
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor._data.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    backend = tensor._backend
    values = backend.zeros(sizes, backend.dtype_name(tensor._data))
    centre = tuple(size // 2 for size in sizes[2:])
    for group in range(groups):
        for channel in range(min_dim):
            backend.setitem(values, (group * out_chans_per_grp + channel, channel, *centre), 1)
    return _write(tensor, values)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Any = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix (Saxe et al., 2013), dimensions after the first
    flattened: the Q of the QR factorisation of a standard normal matrix, its columns' signs
    fixed by R's diagonal so Q is uniform (Mezzadri, 2007), times `gain`."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    backend = tensor._backend
    dtype = _float_dtype(tensor, _normal_kernel(tensor))
    rows = tensor._data.shape[0]
    cols = tensor.numel() // rows
    flattened = draw("normal_", backend, generator, "randn", (rows, cols), dtype)
    if rows < cols:
        flattened = backend.permute_dims(flattened, (1, 0))
    q, r = backend.qr(flattened)  # r is (cols, cols): the flattened matrix is now tall
    size = r.shape[0]
    diagonal = backend.getitem(backend.reshape(r, (size * size,)), slice(None, None, size + 1))
    q = q * backend.sign(diagonal)
    if rows < cols:
        q = backend.permute_dims(q, (1, 0))
    q = backend.reshape(q, tensor._data.shape)
    return _write(tensor, q * gain)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> Tensor:
    """Fill a 2-D tensor from N(0, std²), then zero ceil(sparsity * rows) randomly chosen
    entries in each column (Martens, 2010)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor._data.shape
    num_zeros = math.ceil(sparsity * rows)
    normal_(tensor, 0, std, generator)
    backend = tensor._backend
    # A random permutation of the rows of each column: a row is zeroed when its rank among
    # the column's uniform draws is below num_zeros. (PyTorch draws these permutations from
    # the global generator whatever `generator` is; here a generator gives all the numbers.)
    order = draw("sparse_", backend, generator, "rand", (rows, cols), "float64")
    ranks = backend.argsort(backend.argsort(order, axis=0), axis=0)
    return _write(tensor, backend.where(ranks < num_zeros, 0.0, tensor._data))
