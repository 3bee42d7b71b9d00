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
    autograd,
    cuda,
    distributed,
    fft,
    linalg,
    nn,
    optim,
    random,
    return_types,
    serialization,
    special,
    utils,
    viz,
)

# Devices and dtypes
from backends import Device as device
from .dtypes import (
    Size,
    complex64,
    complex128,
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
from .dtypes import complex64 as cfloat
from .dtypes import complex128 as cdouble
from .dtypes import float16 as half
from .dtypes import float32 as float
from .dtypes import float64 as double
from .dtypes import int16 as short
from .dtypes import int32 as int
from .dtypes import int64 as long

# Creation and random numbers
from .creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
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
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from .ops.sampling import bernoulli, multinomial, normal, poisson
from .windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window
from .generator import Generator
from .random import (
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .utils.dlpack import from_dlpack

# Grad modes and anomaly detection
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
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
    neg,
    negative,
    pow,
    reciprocal,
    rsub,
    square,
    sub,
    true_divide,
)
from .ops.arithmetic import mul as multiply
from .ops.arithmetic import sub as subtract
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
    absolute,
    acos,
    acosh,
    acosh_,
    arccos,
    arccosh,
    arccosh_,
    arcsin,
    arcsinh,
    arcsinh_,
    arctan,
    arctan2,
    arctanh,
    arctanh_,
    asin,
    asinh,
    asinh_,
    atan,
    atan2,
    atanh,
    atanh_,
    ceil,
    cos,
    cosh,
    deg2rad,
    deg2rad_,
    erf,
    exp,
    exp2,
    exp2_,
    expm1,
    fix,
    floor,
    frac,
    frac_,
    log,
    log1p,
    log2,
    log10,
    positive,
    rad2deg,
    rad2deg_,
    round,
    rsqrt,
    sgn,
    sign,
    sin,
    sinc,
    sinc_,
    sinh,
    sqrt,
    tan,
    tanh,
    trunc,
)

# Activations and softmax
from .ops.activation import celu, relu, selu, sigmoid, softplus
from .ops.piecewise import hardshrink, prelu, rrelu, threshold
from .nn._activations import celu_, relu_, rrelu_, selu_, threshold_
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
    clamp_max,
    clamp_min,
    clip,
    fmax,
    fmin,
    lerp,
    maximum,
    minimum,
    where,
)

# Reductions
from .ops.reduction import all, any, logsumexp, mean, norm, prod, std, sum, var
from .ops.minmax import amax, amin, aminmax, argmax, argmin, max, min
from .ops.cumulative import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.statistics import corrcoef, cov, nanmean, nansum, std_mean, var_mean

# Sorting, order statistics, unique values, searching and histograms
from .ops.sorting import argsort, msort, sort, topk
from .ops.order_statistics import kthvalue, median, mode, nanmedian, nanquantile, quantile
from .ops.unique import unique, unique_consecutive
from .ops.searching import argwhere, bucketize, count_nonzero, nonzero, searchsorted
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
from .ops.conversion import clone
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
from .ops.scatter import (
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_fill,
    scatter,
    scatter_add,
    take_along_dim,
)
from .ops.scatter_reduce import index_reduce, scatter_reduce
from .ops.view_scatter import select_scatter, slice_scatter
from .ops.strides import as_strided, as_strided_scatter, empty_strided, ravel
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
from .ops.decompositions import det, inverse, slogdet
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

# nn functions torch exposes at the top level
from .ops.normalization import layer_norm

# Saving and printing
from .serialization import load, save
from ._printing import set_printoptions
# isort: on

__version__ = "0.1.0"
