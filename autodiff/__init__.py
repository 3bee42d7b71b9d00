"""autodiff: define-by-run automatic differentiation shaped like PyTorch, on NumPy or CuPy.

    import autodiff as torch
    w = torch.randn(5, 3, requires_grad=True)
"""

from __future__ import annotations

# isort: off
# Tensor first: tensor.py loads `function` and the op modules once the class exists, and every
# other module needs that done (see the end of tensor.py).
from .tensor import Tensor
# isort: on

from backends import Device as device

from . import autograd, nn
from ._printing import set_printoptions
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    Size,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .dtypes import bool_ as bool
from .function import Function
from .generator import Generator
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops.elementwise import (
    add,
    clamp,
    clip,
    cos,
    div,
    eq,
    exp,
    ge,
    gt,
    isnan,
    le,
    log,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    negative,
    pow,
    reciprocal,
    rsub,
    sigmoid,
    sin,
    softplus,
    sub,
    where,
)
from .ops.linalg import matmul, mm
from .ops.reduction import mean, sum
from .ops.shape import (
    broadcast_to,
    clone,
    expand,
    permute,
    reshape,
    squeeze,
    swapaxes,
    t,
    transpose,
    unsqueeze,
)

# (issue 3, elementwise and reductions: add exports right below this line)
# isort: split
from . import return_types
from .ops.elementwise import (
    abs,
    absolute,
    acos,
    allclose,
    arccos,
    arcsin,
    arctan,
    arctan2,
    asin,
    atan,
    atan2,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    clamp_max,
    clamp_min,
    cosh,
    divide,
    equal,
    erf,
    expm1,
    fix,
    floor,
    floor_divide,
    greater,
    greater_equal,
    isclose,
    isfinite,
    isinf,
    lerp,
    less,
    less_equal,
    log1p,
    log2,
    log10,
    logical_xor,
    not_equal,
    relu,
    remainder,
    round,
    rsqrt,
    sign,
    sinh,
    sqrt,
    square,
    tan,
    tanh,
    true_divide,
    trunc,
)
from .ops.reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumprod,
    cumsum,
    logsumexp,
    max,
    min,
    norm,
    prod,
    std,
    var,
)

# (issue 3, shape and indexing: add exports right below this line)
# isort: off
from .ops.diagonal import diagonal, trace, tril, triu
from .ops.indexing import narrow, select
from .ops.inplace import addcdiv, addcmul
from .ops.joining import cat, chunk, concat, concatenate, flip, roll, split, stack, tile, unbind
from .ops.scatter import (
    gather,
    index_add,
    index_select,
    masked_fill,
    scatter,
    scatter_add,
    take_along_dim,
)
from .ops.shape import flatten, movedim, swapdims, unflatten
from .ops.shape import movedim as moveaxis
# isort: on

# (issue 3, linear algebra and nn.functional: add exports right below this line)
# isort: split
from . import linalg
from .ops.einsum import einsum, inner, tensordot
from .ops.linalg import bmm, dot, ger, mv, outer
from .ops.matrix import det, inverse, slogdet
from .ops.nn_ops import layer_norm
from .ops.softmax import log_softmax, softmax

# (issue 4, autograd: add exports right below this line)
# isort: split
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)

# (issue 5, devices: add exports right below this line)
# isort: split
from . import cuda, random
from .random import (
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

# (issue 6, nn / optim / save / utils / viz: add exports right below this line)
# isort: split
from . import optim, utils, viz
from .serialization import load, save

# (issue 7, distributed: add exports right below this line)
# isort: split
from . import distributed

half = float16
float = float32
double = float64
short = int16
int = int32
long = int64

__version__ = "0.1.0"

