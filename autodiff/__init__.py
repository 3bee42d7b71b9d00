"""autodiff: define-by-run automatic differentiation shaped like PyTorch, on NumPy or CuPy.

    import autodiff as torch
    w = torch.randn(5, 3, requires_grad=True)
"""

from __future__ import annotations

# isort: off
# Tensor first: tensor.py loads `function` and the op modules once the class exists, and every
# other module needs that done (see the end of tensor.py).
from .tensor import Tensor

# The rest is grouped by family, as torch's namespace is documented, not sorted by module.

# Namespaces (torch.autograd, torch.nn, torch.linalg, ...)
from . import (
    _C,
    __future__,
    accelerator,
    autograd,
    backends,
    cuda,
    distributed,
    distributions,
    fft,
    func,
    jit,
    library,
    linalg,
    masked,
    multiprocessing,
    nested,
    nn,
    onnx,
    overrides,
    optim,
    profiler,
    random,
    return_types,
    serialization,
    testing,
    sparse,
    special,
    utils,
    viz,
)

# Devices, dtypes, layouts and defaults
from backends import Device as device
from .defaults import get_default_device, set_default_device, set_default_tensor_type
from .layouts import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    memory_format,
    jagged,
    preserve_format,
    sparse_bsc,
    sparse_bsr,
    sparse_coo,
    sparse_csc,
    sparse_csr,
    strided,
)
from .dtypes import (
    Size,
    bfloat16,
    complex64,
    complex128,
    dtype,
    finfo,
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
from .dtypes import complex64 as cfloat
from .dtypes import complex128 as cdouble
from .dtypes import float16 as half
from .dtypes import float32 as float
from .dtypes import float64 as double
from .dtypes import int16 as short
from .dtypes import int32 as int
from .dtypes import int64 as long
from .type_info import iinfo

# The legacy tensor types: torch.FloatTensor(2, 3), isinstance(t, torch.LongTensor)
from .legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)

# Creation and random numbers
from .creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    from_file,
    frombuffer,
    full,
    full_like,
    is_tensor,
    linspace,
    logspace,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from .ops.sampling import bernoulli, multinomial, normal, poisson
from .windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window
from .generator import Generator
from .ops.variates import (
    _dirichlet_grad,
    _sample_dirichlet,
    _standard_gamma,
    _standard_gamma_grad,
    binomial,
)
from .random import (
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
    thread_safe_generator,
)
from .utils.dlpack import from_dlpack, to_dlpack

# Questions about a tensor
from .inspection import (
    _assert,
    get_device,
    is_distributed,
    is_floating_point,
    is_inference,
    is_nonzero,
    is_same_size,
    is_signed,
    is_storage,
    typename,
)

# Type promotion and casting rules
from .type_promotion import can_cast, promote_types, result_type

# Global settings: deterministic algorithms, float32 matmul precision, CPU threads
from .settings import (
    are_deterministic_algorithms_enabled,
    get_deterministic_debug_mode,
    get_float32_matmul_precision,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_flush_denormal,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
    get_num_interop_threads,
)
from .user_warnings import is_warn_always_enabled, set_warn_always

# Grad modes and anomaly detection
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

# Mixed precision: torch.autocast, torch.amp, and the deprecated torch.cpu.amp / torch.cuda.amp
from . import amp
from .amp import autocast
from .autocast_state import (
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_available,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)
from . import cpu
from .cpu import amp as _cpu_amp
from .cuda import amp as _cuda_amp
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)

# Arithmetic
from .ops.arithmetic import (
    add,
    addcdiv,
    addcmul,
    div,
    divide,
    mul,
    multiply,
    neg,
    neg_,
    negative,
    negative_,
    pow,
    reciprocal,
    reciprocal_,
    rsub,
    square,
    square_,
    sub,
    subtract,
    true_divide,
)
from .ops.division import floor_divide, remainder
from .ops.floating import (
    copysign,
    float_power,
    fmod,
    frexp,
    heaviside,
    hypot,
    ldexp,
    ldexp_,
    nan_to_num,
    nan_to_num_,
    nextafter,
    signbit,
)
from .ops.integer import bitwise_left_shift, bitwise_right_shift, gcd, gcd_, lcm, lcm_
from .ops.logarithmic import logaddexp, logaddexp2, logit, logit_, xlogy, xlogy_

# torch.vmap: torch.func's
from .func.vmap import vmap

# torch's constants
from math import e, inf, nan, pi

# torch.while_loop, torch.cond and torch._higher_order_ops: structured control flow, run eagerly
from . import _higher_order_ops
from .control_flow import cond, while_loop

# Special functions torch exposes at the top level
from .ops.bessel import i0, i0_
from .ops.error_function import erfc, erfc_, erfinv
from .ops.gamma import digamma, igamma, igammac, lgamma, mvlgamma, polygamma

# Complex numbers
from .ops.complex import (
    adjoint,
    angle,
    complex,
    conj,
    conj_physical,
    conj_physical_,
    imag,
    is_complex,
    is_conj,
    is_neg,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    view_as_complex,
    view_as_real,
)

# Unary math
from .ops.unary import (
    abs,
    abs_,
    absolute,
    acos,
    acos_,
    arccos,
    arccos_,
    arcsin,
    arcsin_,
    arctan,
    arctan2,
    arctan_,
    asin,
    asin_,
    atan,
    atan2,
    atan_,
    acosh,
    acosh_,
    arccosh,
    arccosh_,
    arcsinh,
    arcsinh_,
    arctanh,
    arctanh_,
    asinh,
    asinh_,
    atanh,
    atanh_,
    ceil,
    ceil_,
    cos,
    cos_,
    cosh,
    cosh_,
    deg2rad,
    deg2rad_,
    erf,
    erf_,
    exp,
    exp_,
    exp2,
    exp2_,
    expm1,
    expm1_,
    fix,
    fix_,
    floor,
    floor_,
    frac,
    frac_,
    log,
    log1p,
    log1p_,
    log2,
    log2_,
    log10,
    log10_,
    log_,
    positive,
    rad2deg,
    rad2deg_,
    round,
    round_,
    rsqrt,
    rsqrt_,
    sign,
    sin,
    sin_,
    sgn,
    sinc,
    sinc_,
    sinh,
    sinh_,
    sqrt,
    sqrt_,
    tan,
    tan_,
    tanh,
    tanh_,
    trunc,
    trunc_,
)

# Activations and softmax
from .ops.activation import celu, relu, relu_, selu, sigmoid, sigmoid_, softplus
from .ops.piecewise import hardshrink, prelu, rrelu, threshold
from .nn._activations import celu_, rrelu_, selu_, threshold_
from .ops.pixel_shuffle import native_channel_shuffle
from .nn_ops import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    alpha_dropout,
    alpha_dropout_,
    avg_pool1d,
    batch_norm,
    binary_cross_entropy_with_logits,
    channel_shuffle,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    convolution,
    cosine_embedding_loss,
    ctc_loss,
    dropout,
    dropout_,
    embedding,
    embedding_bag,
    feature_alpha_dropout,
    feature_alpha_dropout_,
    group_norm,
    hinge_embedding_loss,
    instance_norm,
    kl_div,
    margin_ranking_loss,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    pixel_shuffle,
    pixel_unshuffle,
    poisson_nll_loss,
    triplet_margin_loss,
)
from .ops.softmax import log_softmax, softmax

# Distances and normalization of nn's layers (torch.* names of theirs)
from .ops.distance import cosine_similarity, pairwise_distance
from .ops.linear import bilinear
from .ops.normalization import norm_except_dim, rms_norm

# Comparisons, logic and bitwise ops
from .ops.comparison import (
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    isin,
    isneginf,
    isposinf,
    isreal,
    lt,
    ne,
    not_equal,
)

# Selection: where, maximum/minimum, clamp, lerp
from .ops.selection import (
    clamp,
    clamp_,
    clamp_max,
    clamp_max_,
    clamp_min,
    clamp_min_,
    clip,
    clip_,
    fmax,
    fmin,
    lerp,
    maximum,
    minimum,
    where,
)

# Sparse COO tensors
from .ops.sparse_coo import sparse_coo_tensor

# Compressed sparse tensors (CSR, CSC, BSR, BSC)
from .ops.sparse_compressed import (
    sparse_bsc_tensor,
    sparse_bsr_tensor,
    sparse_compressed_tensor,
    sparse_csc_tensor,
    sparse_csr_tensor,
)
from .ops.sparse_products import mm as spmm

# Reductions
from .ops.reduction import all, any, logsumexp, mean, norm, prod, std, sum, var
from .ops.minmax import amax, amin, aminmax, argmax, argmin, max, min
from .ops.cumulative import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.statistics import corrcoef, cov, nanmean, nansum, std_mean, var_mean

# Sorting, order statistics, unique values, searching and histograms
from .ops.sorting import argsort, msort, sort, topk
from .ops.order_statistics import kthvalue, median, mode, nanmedian, nanquantile, quantile
from .ops.unique import unique, unique_consecutive
from .ops.searching import (
    argwhere,
    bucketize,
    count_nonzero,
    nonzero,
    nonzero_static,
    searchsorted,
)
from .ops.histogram import bincount, histc, histogram, histogramdd

# Differences and integration
from .ops.differences import cumulative_trapezoid, diff, gradient, trapezoid, trapz

# Shape, views and copies
from .ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    expand,
    flatten,
    movedim,
    permute,
    reshape,
    squeeze,
    swapaxes,
    swapdims,
    t,
    transpose,
    unflatten,
    unsqueeze,
)
from .ops.shape import movedim as moveaxis
from .ops.conversion import clone, detach, detach_
from .ops.joining import (
    cat,
    chunk,
    column_stack,
    concat,
    concatenate,
    dsplit,
    dstack,
    flip,
    hsplit,
    hstack,
    roll,
    row_stack,
    split,
    split_with_sizes,
    stack,
    tensor_split,
    tile,
    unbind,
    unsafe_chunk,
    unsafe_split,
    unsafe_split_with_sizes,
    vsplit,
    vstack,
)
from .ops.rearranging import fliplr, flipud, repeat_interleave, rot90
from .ops.combining import (
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    combinations,
    meshgrid,
)

# Indexing, gather and scatter, diagonals
from .ops.indexing import narrow, narrow_copy, select
from .ops.indexing import torch_index_put as index_put
from .ops.indexing import torch_index_put_ as index_put_
from .ops.scatter import (
    fill,
    fill_,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_fill,
    scatter,
    scatter_add,
    take_along_dim,
    zero_,
)
from .ops.scatter_reduce import index_reduce, scatter_reduce
from .ops.view_scatter import select_scatter, slice_scatter
from .ops.strides import (
    as_strided,
    as_strided_,
    as_strided_scatter,
    empty_permuted,
    empty_strided,
    ravel,
)
from .ops.resizing import resize_as_
from .creation import legacy_range as range
from .ops.flat_indexing import masked_scatter, masked_select, put, take, unravel_index
from .ops.diagonal import (
    block_diag,
    diag,
    diag_embed,
    diagflat,
    diagonal,
    diagonal_scatter,
    trace,
    tril,
    triu,
)

# Spectral analysis
from .ops.spectral import istft, stft

# Linear algebra
from .ops.matmul import bmm, dot, ger, matmul, mm, mv, outer
from .ops.products import (
    addbmm,
    addmm,
    addmv,
    addmv_,
    addr,
    baddbmm,
    chain_matmul,
    cross,
    kron,
)
from .ops.distance import cdist, dist, pdist
from .ops.norm import renorm
from .ops.einsum import einsum, inner, tensordot
from .ops.decompositions import det, inverse
from .ops.decompositions import torch_slogdet as slogdet
from .ops.householder import geqrf, orgqr, ormqr
from .ops.householder import torch_qr as qr
from .ops.lu import lu_unpack
from .ops.lu import torch_lu as lu
from .ops.lu import torch_lu_solve as lu_solve
from .ops.matrix_functions import logdet, matrix_exp, matrix_power, vdot
from .ops.matrix_functions import torch_vander as vander
from .ops.norm import frobenius_norm, nuclear_norm
from .ops.svd import pinverse
from .ops.svd import torch_svd as svd
from .ops.triangular import cholesky_inverse, cholesky_solve, triangular_solve
from .ops.triangular import torch_cholesky as cholesky
from .removed_linalg import eig, lstsq, matrix_rank, solve, symeig
from ._lowrank import pca_lowrank, svd_lowrank
from ._lobpcg import lobpcg

# nn functions torch exposes at the top level
from .ops.normalization import layer_norm
from .nn.utils.rnn import _pack_padded_sequence, _pad_packed_sequence

# Compilation (torch.compile)
from .compiler.compiled import compile, compile_stats, reset_compile_stats
from . import _dynamo, _logging, compiler, functional

# Quantized tensors; torch.quantization and torch.ao (quantize_dynamic) are imported on first use
from .dtypes import qint8, qint32, quint4x2, quint8
from .quantized_tensor import (
    dequantize,
    int_repr,
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    q_per_channel_axis,
    q_per_channel_scales,
    q_per_channel_zero_points,
    q_scale,
    q_zero_point,
    qscheme,
    quantize_per_channel,
    quantize_per_tensor,
    quantize_per_tensor_dynamic,
)

# torch._foreach_*: the per-tensor ops over lists of tensors (foreach.py's table)
from .foreach import FUNCTIONS as _foreach_functions

# Saving and printing
from .serialization import load, save
from ._printing import set_printoptions

# torch.ao, torch.quantization and torch.nn.quantized: over nn, so last
from . import ao, quantization
from .nn import quantized as _nn_quantized

del _nn_quantized
# isort: on

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`autodiff.export` (torch.export) on first use: it imports fx, which most programs never
    need at import time."""
    if name == "export":
        import importlib
        return importlib.import_module(".export", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# Every public function of autodiff, nn.functional, linalg, special and fft goes through
# `__torch_function__` (torch_function.py): each namespace's functions get their wrapper.
from .override_tables import make_namespaces_overridable as _make_namespaces_overridable  # noqa: E402

_make_namespaces_overridable()

# The `_foreach_*` functions, made from foreach.py's table, enter the namespace by name.
globals().update(_foreach_functions)
del _foreach_functions
