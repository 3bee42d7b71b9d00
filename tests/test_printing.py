"""Tensor printing: byte-identical to PyTorch's repr.

The literal tables below were generated once with PyTorch 2.13 (`repr(torch.tensor(...))` for the
same constructor code, with `m` bound to `torch`); each case builds the tensor with `m` bound to
`autodiff` instead. `test_matches_torch_on_random_tensors` re-checks against PyTorch itself when
it is installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import _printing
from autodiff.tensor import _wrap
from backends import Device
from backends.base import DTYPE_NAMES, Backend
from backends.numpy_backend import NumpyBackend

Build = Callable[[Any], Any]

CASES: list[tuple[str, Build, str]] = [
    (
        "tutorial_requires_grad",
        lambda m: m.tensor([1.3505, 0.9042, -0.7476], requires_grad=True),
        "tensor([ 1.3505,  0.9042, -0.7476], requires_grad=True)",
    ),
    (
        "tutorial_sci_mixed",
        lambda m: m.tensor([6.4465e-01, 1.5289e01, 9.9570e-03]),
        "tensor([6.4465e-01, 1.5289e+01, 9.9570e-03])",
    ),
    (
        "tutorial_mean_grad_fn",
        lambda m: m.tensor([14.1525], requires_grad=True).mean(),
        "tensor(14.1525, grad_fn=<MeanBackward0>)",
    ),
    (
        "tutorial_scalar_int_valued",
        lambda m: m.tensor(2.0),
        "tensor(2.)",
    ),
    (
        "tutorial_scalar_negative",
        lambda m: m.tensor(-7.6613),
        "tensor(-7.6613)",
    ),
    (
        "tutorial_thirds",
        lambda m: m.tensor([2.0, 4.0, 6.0]) / 3,
        "tensor([0.6667, 1.3333, 2.0000])",
    ),
    (
        "tutorial_5x5",
        lambda m: m.tensor([[4.0 if i == j else 2.0 for j in range(5)] for i in range(5)]),
        "tensor([[4., 2., 2., 2., 2.],\n"
        "        [2., 4., 2., 2., 2.],\n"
        "        [2., 2., 4., 2., 2.],\n"
        "        [2., 2., 2., 4., 2.],\n"
        "        [2., 2., 2., 2., 4.]])",
    ),
    (
        "scalar_float",
        lambda m: m.tensor(6.6918),
        "tensor(6.6918)",
    ),
    (
        "scalar_three",
        lambda m: m.tensor(3.0),
        "tensor(3.)",
    ),
    (
        "scalar_int",
        lambda m: m.tensor(5),
        "tensor(5)",
    ),
    (
        "scalar_int32",
        lambda m: m.tensor(-5, dtype=m.int32),
        "tensor(-5, dtype=torch.int32)",
    ),
    (
        "scalar_bool",
        lambda m: m.tensor(True),
        "tensor(True)",
    ),
    (
        "scalar_float64",
        lambda m: m.tensor(0.1, dtype=m.float64),
        "tensor(0.1000, dtype=torch.float64)",
    ),
    (
        "scalar_requires_grad",
        lambda m: m.tensor(1.5, requires_grad=True),
        "tensor(1.5000, requires_grad=True)",
    ),
    (
        "scalar_nan",
        lambda m: m.tensor(float("nan")),
        "tensor(nan)",
    ),
    (
        "scalar_neg_inf",
        lambda m: m.tensor(float("-inf")),
        "tensor(-inf)",
    ),
    (
        "scalar_neg_zero",
        lambda m: m.tensor(-0.0),
        "tensor(-0.)",
    ),
    (
        "scalar_tiny",
        lambda m: m.tensor(1e-4),
        "tensor(1.0000e-04)",
    ),
    (
        "scalar_1e8",
        lambda m: m.tensor(1e8, dtype=m.float64),
        "tensor(100000000., dtype=torch.float64)",
    ),
    (
        "scalar_big",
        lambda m: m.tensor(123456789.0, dtype=m.float64),
        "tensor(1.2346e+08, dtype=torch.float64)",
    ),
    (
        "scalar_sum_grad_fn",
        lambda m: (m.tensor([1.0, 2.0, 3.5], requires_grad=True) * 2).sum(),
        "tensor(13., grad_fn=<SumBackward0>)",
    ),
    (
        "empty_float",
        lambda m: m.tensor([]),
        "tensor([])",
    ),
    (
        "empty_int64",
        lambda m: m.tensor([], dtype=m.int64),
        "tensor([], dtype=torch.int64)",
    ),
    (
        "empty_bool",
        lambda m: m.tensor([], dtype=m.bool),
        "tensor([], dtype=torch.bool)",
    ),
    (
        "empty_float64",
        lambda m: m.tensor([], dtype=m.float64),
        "tensor([], dtype=torch.float64)",
    ),
    (
        "empty_0x3",
        lambda m: m.tensor([]).reshape(0, 3),
        "tensor([], size=(0, 3))",
    ),
    (
        "empty_2x0_int32",
        lambda m: m.tensor([[], []], dtype=m.int32),
        "tensor([], size=(2, 0), dtype=torch.int32)",
    ),
    (
        "empty_requires_grad",
        lambda m: m.tensor([], requires_grad=True),
        "tensor([], requires_grad=True)",
    ),
    (
        "empty_3d",
        lambda m: m.tensor([[[]]]),
        "tensor([], size=(1, 1, 0))",
    ),
    (
        "float_int_valued",
        lambda m: m.tensor([1.0, 2.0, 3.0]),
        "tensor([1., 2., 3.])",
    ),
    (
        "float_negative",
        lambda m: m.tensor([-1.0, -2.5, 3.25]),
        "tensor([-1.0000, -2.5000,  3.2500])",
    ),
    (
        "float_negative_int_valued",
        lambda m: m.tensor([-1.0, 20.0, -300.0]),
        "tensor([  -1.,   20., -300.])",
    ),
    (
        "float_precision_round",
        lambda m: m.tensor([0.12345, 1.99999, -0.00005]),
        "tensor([ 1.2345e-01,  2.0000e+00, -5.0000e-05])",
    ),
    (
        "float_nan_inf_int_mode",
        lambda m: m.tensor([float("nan"), float("inf"), float("-inf"), 1.0]),
        "tensor([nan, inf, -inf, 1.])",
    ),
    (
        "float_nan_inf_fixed",
        lambda m: m.tensor([float("nan"), float("inf"), float("-inf"), 1.5]),
        "tensor([   nan,    inf,   -inf, 1.5000])",
    ),
    (
        "float_nan_inf_sci",
        lambda m: m.tensor([float("nan"), float("inf"), 1e-5, 1.0]),
        "tensor([       nan,        inf, 1.0000e-05, 1.0000e+00])",
    ),
    (
        "float_only_nonfinite",
        lambda m: m.tensor([float("nan"), float("-inf")]),
        "tensor([nan, -inf])",
    ),
    (
        "float_zeros_and_nan",
        lambda m: m.tensor([0.0, float("nan"), -0.0]),
        "tensor([0., nan, -0.])",
    ),
    (
        "float_neg_zero",
        lambda m: m.tensor([-0.0, 0.0]),
        "tensor([-0., 0.])",
    ),
    (
        "float_neg_zero_fixed",
        lambda m: m.tensor([-0.0, 1.5]),
        "tensor([-0.0000, 1.5000])",
    ),
    (
        "float_neg_zero_sci",
        lambda m: m.tensor([-0.0, 1e-6]),
        "tensor([-0.0000e+00, 1.0000e-06])",
    ),
    (
        "float_all_zero",
        lambda m: m.tensor([0.0, 0.0]),
        "tensor([0., 0.])",
    ),
    (
        "sci_small",
        lambda m: m.tensor([1e-5, 1.0]),
        "tensor([1.0000e-05, 1.0000e+00])",
    ),
    (
        "sci_big",
        lambda m: m.tensor([1e9, 1.0]),
        "tensor([1.0000e+09, 1.0000e+00])",
    ),
    (
        # 1e-4 is not below 1e-4 in float64, so no scientific notation ...
        "no_sci_min_exactly_1e-4",
        lambda m: m.tensor([1e-4, 0.05], dtype=m.float64),
        "tensor([0.0001, 0.0500], dtype=torch.float64)",
    ),
    (
        # ... but the float32 nearest to 1e-4 is.
        "sci_min_float32_1e-4",
        lambda m: m.tensor([1e-4, 0.05]),
        "tensor([1.0000e-04, 5.0000e-02])",
    ),
    (
        "sci_ratio_over_1000",
        lambda m: m.tensor([1.0, 1001.0]),
        "tensor([1.0000e+00, 1.0010e+03])",
    ),
    (
        "no_sci_ratio_1000",
        lambda m: m.tensor([1.0, 1000.0]),
        "tensor([   1., 1000.])",
    ),
    (
        "no_sci_ratio_1000_fraction",
        lambda m: m.tensor([0.5, 500.0]),
        "tensor([  0.5000, 500.0000])",
    ),
    (
        "sci_negative",
        lambda m: m.tensor([-1e-7, 2.5, -3e6]),
        "tensor([-1.0000e-07,  2.5000e+00, -3.0000e+06])",
    ),
    (
        "sci_max_over_1e8_alone",
        lambda m: m.tensor([2e8, 3e8]),
        "tensor([2.0000e+08, 3.0000e+08])",
    ),
    (
        "sci_extreme_float64",
        lambda m: m.tensor([1e-300, 1e300], dtype=m.float64),
        "tensor([1.0000e-300, 1.0000e+300], dtype=torch.float64)",
    ),
    (
        "sci_three_digit_exponent",
        lambda m: m.tensor([1e-100, 1.0, float("inf")], dtype=m.float64),
        "tensor([1.0000e-100,  1.0000e+00,         inf], dtype=torch.float64)",
    ),
    (
        "float32_large_int_valued",
        lambda m: m.tensor([16777217.0, 1.0]),
        "tensor([1.6777e+07, 1.0000e+00])",
    ),
    (
        "float64",
        lambda m: m.tensor([0.1, 0.2, 0.3], dtype=m.float64),
        "tensor([0.1000, 0.2000, 0.3000], dtype=torch.float64)",
    ),
    (
        "float64_int_valued",
        lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
        "tensor([1., 2.], dtype=torch.float64)",
    ),
    (
        "float64_requires_grad",
        lambda m: m.tensor([0.5, -1.25], dtype=m.float64, requires_grad=True),
        "tensor([ 0.5000, -1.2500], dtype=torch.float64, requires_grad=True)",
    ),
    (
        "float16",
        lambda m: m.tensor([0.1, 1.5, -2.0], dtype=m.float16),
        "tensor([ 0.1000,  1.5000, -2.0000], dtype=torch.float16)",
    ),
    (
        "float16_max_and_subnormal",
        lambda m: m.tensor([65504.0, 5.960464477539063e-08], dtype=m.float16),
        "tensor([6.5504e+04, 5.9605e-08], dtype=torch.float16)",
    ),
    (
        "float16_int_valued",
        lambda m: m.tensor([1.0, 2048.0], dtype=m.float16),
        "tensor([1.0000e+00, 2.0480e+03], dtype=torch.float16)",
    ),
    (
        "int64",
        lambda m: m.tensor([1, 2, 3]),
        "tensor([1, 2, 3])",
    ),
    (
        "int64_negative_wide",
        lambda m: m.tensor([-1, 200, -30000]),
        "tensor([    -1,    200, -30000])",
    ),
    (
        "int64_extremes",
        lambda m: m.tensor([-9223372036854775808, 9223372036854775807]),
        "tensor([-9223372036854775808,  9223372036854775807])",
    ),
    (
        "int32",
        lambda m: m.tensor([1, -2, 300], dtype=m.int32),
        "tensor([  1,  -2, 300], dtype=torch.int32)",
    ),
    (
        "int16",
        lambda m: m.tensor([-32768, 32767], dtype=m.int16),
        "tensor([-32768,  32767], dtype=torch.int16)",
    ),
    (
        "int8",
        lambda m: m.tensor([-128, 0, 127], dtype=m.int8),
        "tensor([-128,    0,  127], dtype=torch.int8)",
    ),
    (
        "uint8",
        lambda m: m.tensor([0, 7, 255], dtype=m.uint8),
        "tensor([  0,   7, 255], dtype=torch.uint8)",
    ),
    (
        "bool",
        lambda m: m.tensor([True, False, True]),
        "tensor([ True, False,  True])",
    ),
    (
        "bool_2d",
        lambda m: m.tensor([[True], [False]]),
        "tensor([[ True],\n"
        "        [False]])",
    ),
    (
        "int_2d",
        lambda m: m.tensor([[1, -20], [300, 4]], dtype=m.int32),
        "tensor([[  1, -20],\n"
        "        [300,   4]], dtype=torch.int32)",
    ),
    (
        "float_2d",
        lambda m: m.tensor([[1.5, -2.0], [3.25, 4.0]]),
        "tensor([[ 1.5000, -2.0000],\n"
        "        [ 3.2500,  4.0000]])",
    ),
    (
        "float_3d",
        lambda m: m.tensor([[[1.5, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, -8.125]]]),
        "tensor([[[ 1.5000,  2.0000],\n"
        "         [ 3.0000,  4.0000]],\n"
        "\n"
        "        [[ 5.0000,  6.0000],\n"
        "         [ 7.0000, -8.1250]]])",
    ),
    (
        "int_3d",
        lambda m: m.tensor([[[1, 2, 3]], [[4, 5, 6]]]),
        "tensor([[[1, 2, 3]],\n"
        "\n"
        "        [[4, 5, 6]]])",
    ),
    (
        "float_4d",
        lambda m: m.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]], [[[5.0, 6.0]], [[7.0, 8.0]]]]),
        "tensor([[[[1., 2.]],\n"
        "\n"
        "         [[3., 4.]]],\n"
        "\n"
        "\n"
        "        [[[5., 6.]],\n"
        "\n"
        "         [[7., 8.]]]])",
    ),
    (
        "float_column",
        lambda m: m.tensor([[0.5], [1.5], [2.5]]),
        "tensor([[0.5000],\n"
        "        [1.5000],\n"
        "        [2.5000]])",
    ),
    (
        "float_row_of_one",
        lambda m: m.tensor([[[0.25]]]),
        "tensor([[[0.2500]]])",
    ),
    (
        "wrap_1d",
        lambda m: m.tensor([i * 1.123456 for i in range(30)]),
        "tensor([ 0.0000,  1.1235,  2.2469,  3.3704,  4.4938,  5.6173,  6.7407,  7.8642,\n"
        "         8.9876, 10.1111, 11.2346, 12.3580, 13.4815, 14.6049, 15.7284, 16.8518,\n"
        "        17.9753, 19.0988, 20.2222, 21.3457, 22.4691, 23.5926, 24.7160, 25.8395,\n"
        "        26.9629, 28.0864, 29.2099, 30.3333, 31.4568, 32.5802])",
    ),
    (
        "wrap_1d_sci",
        lambda m: m.tensor([i * 1e-5 for i in range(1, 25)]),
        "tensor([1.0000e-05, 2.0000e-05, 3.0000e-05, 4.0000e-05, 5.0000e-05, 6.0000e-05,\n"
        "        7.0000e-05, 8.0000e-05, 9.0000e-05, 1.0000e-04, 1.1000e-04, 1.2000e-04,\n"
        "        1.3000e-04, 1.4000e-04, 1.5000e-04, 1.6000e-04, 1.7000e-04, 1.8000e-04,\n"
        "        1.9000e-04, 2.0000e-04, 2.1000e-04, 2.2000e-04, 2.3000e-04, 2.4000e-04])",
    ),
    (
        "wrap_2d",
        lambda m: m.tensor([[i * 0.5 + j for i in range(20)] for j in range(3)]),
        "tensor([[ 0.0000,  0.5000,  1.0000,  1.5000,  2.0000,  2.5000,  3.0000,  3.5000,\n"
        "          4.0000,  4.5000,  5.0000,  5.5000,  6.0000,  6.5000,  7.0000,  7.5000,\n"
        "          8.0000,  8.5000,  9.0000,  9.5000],\n"
        "        [ 1.0000,  1.5000,  2.0000,  2.5000,  3.0000,  3.5000,  4.0000,  4.5000,\n"
        "          5.0000,  5.5000,  6.0000,  6.5000,  7.0000,  7.5000,  8.0000,  8.5000,\n"
        "          9.0000,  9.5000, 10.0000, 10.5000],\n"
        "        [ 2.0000,  2.5000,  3.0000,  3.5000,  4.0000,  4.5000,  5.0000,  5.5000,\n"
        "          6.0000,  6.5000,  7.0000,  7.5000,  8.0000,  8.5000,  9.0000,  9.5000,\n"
        "         10.0000, 10.5000, 11.0000, 11.5000]])",
    ),
    (
        "wrap_3d",
        lambda m: m.tensor([[[i * 100.25 + j for i in range(15)] for j in range(2)]] * 2),
        "tensor([[[0.0000e+00, 1.0025e+02, 2.0050e+02, 3.0075e+02, 4.0100e+02,\n"
        "          5.0125e+02, 6.0150e+02, 7.0175e+02, 8.0200e+02, 9.0225e+02,\n"
        "          1.0025e+03, 1.1028e+03, 1.2030e+03, 1.3032e+03, 1.4035e+03],\n"
        "         [1.0000e+00, 1.0125e+02, 2.0150e+02, 3.0175e+02, 4.0200e+02,\n"
        "          5.0225e+02, 6.0250e+02, 7.0275e+02, 8.0300e+02, 9.0325e+02,\n"
        "          1.0035e+03, 1.1038e+03, 1.2040e+03, 1.3042e+03, 1.4045e+03]],\n"
        "\n"
        "        [[0.0000e+00, 1.0025e+02, 2.0050e+02, 3.0075e+02, 4.0100e+02,\n"
        "          5.0125e+02, 6.0150e+02, 7.0175e+02, 8.0200e+02, 9.0225e+02,\n"
        "          1.0025e+03, 1.1028e+03, 1.2030e+03, 1.3032e+03, 1.4035e+03],\n"
        "         [1.0000e+00, 1.0125e+02, 2.0150e+02, 3.0175e+02, 4.0200e+02,\n"
        "          5.0225e+02, 6.0250e+02, 7.0275e+02, 8.0300e+02, 9.0325e+02,\n"
        "          1.0035e+03, 1.1038e+03, 1.2040e+03, 1.3042e+03, 1.4045e+03]]])",
    ),
    (
        "wrap_ints",
        lambda m: m.tensor(list(range(100, 160))),
        "tensor([100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,\n"
        "        114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,\n"
        "        128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141,\n"
        "        142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155,\n"
        "        156, 157, 158, 159])",
    ),
    (
        "wrap_bools",
        lambda m: m.tensor([i % 3 == 0 for i in range(25)]),
        "tensor([ True, False, False,  True, False, False,  True, False, False,  True,\n"
        "        False, False,  True, False, False,  True, False, False,  True, False,\n"
        "        False,  True, False, False,  True])",
    ),
    (
        "wrap_suffix_requires_grad",
        lambda m: m.tensor([1.5] * 8, requires_grad=True),
        "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000],\n"
        "       requires_grad=True)",
    ),
    (
        "wrap_suffix_dtype_and_grad",
        lambda m: m.tensor([1.5] * 8, dtype=m.float64, requires_grad=True),
        "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000],\n"
        "       dtype=torch.float64, requires_grad=True)",
    ),
    (
        "wrap_suffix_fits",
        lambda m: m.tensor([1.5] * 7, requires_grad=True),
        "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000],\n"
        "       requires_grad=True)",
    ),
    (
        "suffix_fits_line_of_78",
        lambda m: m.tensor([1.0] * 12, requires_grad=True),
        "tensor([1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.], requires_grad=True)",
    ),
    (
        # 59 characters + ", requires_grad=True)" is 80: PyTorch's width arithmetic still wraps.
        "suffix_wraps_at_boundary",
        lambda m: m.tensor([1.0] * 13, requires_grad=True),
        "tensor([1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.],\n"
        "       requires_grad=True)",
    ),
    (
        "wrap_suffix_after_newline",
        lambda m: m.tensor([2.5] * 16, dtype=m.float64, requires_grad=True),
        "tensor([2.5000, 2.5000, 2.5000, 2.5000, 2.5000, 2.5000, 2.5000, 2.5000, 2.5000,\n"
        "        2.5000, 2.5000, 2.5000, 2.5000, 2.5000, 2.5000, 2.5000],\n"
        "       dtype=torch.float64, requires_grad=True)",
    ),
    (
        "wrap_suffix_2d",
        lambda m: m.tensor([[0.5] * 12] * 2, dtype=m.float16, requires_grad=True),
        "tensor([[0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000,\n"
        "         0.5000, 0.5000, 0.5000],\n"
        "        [0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000,\n"
        "         0.5000, 0.5000, 0.5000]], dtype=torch.float16, requires_grad=True)",
    ),
    (
        "summarize_ints",
        lambda m: m.tensor(list(range(2000))),
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])",
    ),
    (
        "summarize_1001",
        lambda m: m.tensor([0.5] * 1001),
        "tensor([0.5000, 0.5000, 0.5000,  ..., 0.5000, 0.5000, 0.5000])",
    ),
    (
        "summarize_floats",
        lambda m: m.tensor([i * 0.37 for i in range(1500)]),
        "tensor([0.0000e+00, 3.7000e-01, 7.4000e-01,  ..., 5.5389e+02, 5.5426e+02,\n"
        "        5.5463e+02])",
    ),
    (
        "summarize_2d",
        lambda m: m.tensor([[i * 1.1 + j for i in range(40)] for j in range(40)]),
        "tensor([[ 0.0000,  1.1000,  2.2000,  ..., 40.7000, 41.8000, 42.9000],\n"
        "        [ 1.0000,  2.1000,  3.2000,  ..., 41.7000, 42.8000, 43.9000],\n"
        "        [ 2.0000,  3.1000,  4.2000,  ..., 42.7000, 43.8000, 44.9000],\n"
        "        ...,\n"
        "        [37.0000, 38.1000, 39.2000,  ..., 77.7000, 78.8000, 79.9000],\n"
        "        [38.0000, 39.1000, 40.2000,  ..., 78.7000, 79.8000, 80.9000],\n"
        "        [39.0000, 40.1000, 41.2000,  ..., 79.7000, 80.8000, 81.9000]])",
    ),
    (
        "summarize_2d_narrow",
        lambda m: m.tensor([[i + j * 6.5 for i in range(5)] for j in range(300)]),
        "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00, 3.0000e+00, 4.0000e+00],\n"
        "        [6.5000e+00, 7.5000e+00, 8.5000e+00, 9.5000e+00, 1.0500e+01],\n"
        "        [1.3000e+01, 1.4000e+01, 1.5000e+01, 1.6000e+01, 1.7000e+01],\n"
        "        ...,\n"
        "        [1.9305e+03, 1.9315e+03, 1.9325e+03, 1.9335e+03, 1.9345e+03],\n"
        "        [1.9370e+03, 1.9380e+03, 1.9390e+03, 1.9400e+03, 1.9410e+03],\n"
        "        [1.9435e+03, 1.9445e+03, 1.9455e+03, 1.9465e+03, 1.9475e+03]])",
    ),
    (
        "summarize_3d_first_axis",
        lambda m: m.tensor(
            [[[x * 0.25 + y + z for x in range(80)] for y in range(2)] for z in range(7)]
        ),
        "tensor([[[ 0.0000,  0.2500,  0.5000,  ..., 19.2500, 19.5000, 19.7500],\n"
        "         [ 1.0000,  1.2500,  1.5000,  ..., 20.2500, 20.5000, 20.7500]],\n"
        "\n"
        "        [[ 1.0000,  1.2500,  1.5000,  ..., 20.2500, 20.5000, 20.7500],\n"
        "         [ 2.0000,  2.2500,  2.5000,  ..., 21.2500, 21.5000, 21.7500]],\n"
        "\n"
        "        [[ 2.0000,  2.2500,  2.5000,  ..., 21.2500, 21.5000, 21.7500],\n"
        "         [ 3.0000,  3.2500,  3.5000,  ..., 22.2500, 22.5000, 22.7500]],\n"
        "\n"
        "        ...,\n"
        "\n"
        "        [[ 4.0000,  4.2500,  4.5000,  ..., 23.2500, 23.5000, 23.7500],\n"
        "         [ 5.0000,  5.2500,  5.5000,  ..., 24.2500, 24.5000, 24.7500]],\n"
        "\n"
        "        [[ 5.0000,  5.2500,  5.5000,  ..., 24.2500, 24.5000, 24.7500],\n"
        "         [ 6.0000,  6.2500,  6.5000,  ..., 25.2500, 25.5000, 25.7500]],\n"
        "\n"
        "        [[ 6.0000,  6.2500,  6.5000,  ..., 25.2500, 25.5000, 25.7500],\n"
        "         [ 7.0000,  7.2500,  7.5000,  ..., 26.2500, 26.5000, 26.7500]]])",
    ),
    (
        "summarize_3d_ints",
        lambda m: m.tensor(
            [[[x + 10 * y + 100 * z for x in range(9)] for y in range(9)] for z in range(15)]
        ),
        "tensor([[[   0,    1,    2,  ...,    6,    7,    8],\n"
        "         [  10,   11,   12,  ...,   16,   17,   18],\n"
        "         [  20,   21,   22,  ...,   26,   27,   28],\n"
        "         ...,\n"
        "         [  60,   61,   62,  ...,   66,   67,   68],\n"
        "         [  70,   71,   72,  ...,   76,   77,   78],\n"
        "         [  80,   81,   82,  ...,   86,   87,   88]],\n"
        "\n"
        "        [[ 100,  101,  102,  ...,  106,  107,  108],\n"
        "         [ 110,  111,  112,  ...,  116,  117,  118],\n"
        "         [ 120,  121,  122,  ...,  126,  127,  128],\n"
        "         ...,\n"
        "         [ 160,  161,  162,  ...,  166,  167,  168],\n"
        "         [ 170,  171,  172,  ...,  176,  177,  178],\n"
        "         [ 180,  181,  182,  ...,  186,  187,  188]],\n"
        "\n"
        "        [[ 200,  201,  202,  ...,  206,  207,  208],\n"
        "         [ 210,  211,  212,  ...,  216,  217,  218],\n"
        "         [ 220,  221,  222,  ...,  226,  227,  228],\n"
        "         ...,\n"
        "         [ 260,  261,  262,  ...,  266,  267,  268],\n"
        "         [ 270,  271,  272,  ...,  276,  277,  278],\n"
        "         [ 280,  281,  282,  ...,  286,  287,  288]],\n"
        "\n"
        "        ...,\n"
        "\n"
        "        [[1200, 1201, 1202,  ..., 1206, 1207, 1208],\n"
        "         [1210, 1211, 1212,  ..., 1216, 1217, 1218],\n"
        "         [1220, 1221, 1222,  ..., 1226, 1227, 1228],\n"
        "         ...,\n"
        "         [1260, 1261, 1262,  ..., 1266, 1267, 1268],\n"
        "         [1270, 1271, 1272,  ..., 1276, 1277, 1278],\n"
        "         [1280, 1281, 1282,  ..., 1286, 1287, 1288]],\n"
        "\n"
        "        [[1300, 1301, 1302,  ..., 1306, 1307, 1308],\n"
        "         [1310, 1311, 1312,  ..., 1316, 1317, 1318],\n"
        "         [1320, 1321, 1322,  ..., 1326, 1327, 1328],\n"
        "         ...,\n"
        "         [1360, 1361, 1362,  ..., 1366, 1367, 1368],\n"
        "         [1370, 1371, 1372,  ..., 1376, 1377, 1378],\n"
        "         [1380, 1381, 1382,  ..., 1386, 1387, 1388]],\n"
        "\n"
        "        [[1400, 1401, 1402,  ..., 1406, 1407, 1408],\n"
        "         [1410, 1411, 1412,  ..., 1416, 1417, 1418],\n"
        "         [1420, 1421, 1422,  ..., 1426, 1427, 1428],\n"
        "         ...,\n"
        "         [1460, 1461, 1462,  ..., 1466, 1467, 1468],\n"
        "         [1470, 1471, 1472,  ..., 1476, 1477, 1478],\n"
        "         [1480, 1481, 1482,  ..., 1486, 1487, 1488]]])",
    ),
    (
        "summarize_stats_on_edges_only",
        lambda m: m.tensor([1.5] * 3 + [1e-8] * 1000 + [2.5] * 3),
        "tensor([1.5000, 1.5000, 1.5000,  ..., 2.5000, 2.5000, 2.5000])",
    ),
    (
        "summarize_stats_middle_ignored",
        lambda m: m.tensor([[1.0] * 50] * 3 + [[0.5] * 50] * 20 + [[2.0] * 50] * 3),
        "tensor([[1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        ...,\n"
        "        [2., 2., 2.,  ..., 2., 2., 2.],\n"
        "        [2., 2., 2.,  ..., 2., 2., 2.],\n"
        "        [2., 2., 2.,  ..., 2., 2., 2.]])",
    ),
    (
        "summarize_requires_grad",
        lambda m: m.tensor([0.25] * 1200, requires_grad=True),
        "tensor([0.2500, 0.2500, 0.2500,  ..., 0.2500, 0.2500, 0.2500],\n"
        "       requires_grad=True)",
    ),
    (
        "summarize_mixed_sci",
        lambda m: m.tensor([1e-6, 1.0, 2.0] + [3.0] * 1000 + [1e6, 5.0, 6.0], dtype=m.float64),
        "tensor([1.0000e-06, 1.0000e+00, 2.0000e+00,  ..., 1.0000e+06, 5.0000e+00,\n"
        "        6.0000e+00], dtype=torch.float64)",
    ),
    (
        "summarize_bools",
        lambda m: m.tensor([True, False] * 600),
        "tensor([ True, False,  True,  ..., False,  True, False])",
    ),
    (
        "grad_fn_mul",
        lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
        "tensor([2., 4.], grad_fn=<MulBackward0>)",
    ),
    (
        "grad_fn_add",
        lambda m: m.tensor([1.0, 2.0], requires_grad=True) + 1,
        "tensor([2., 3.], grad_fn=<AddBackward0>)",
    ),
    (
        "grad_fn_sub",
        lambda m: m.tensor([1.0, 2.0], requires_grad=True) - 0.5,
        "tensor([0.5000, 1.5000], grad_fn=<SubBackward0>)",
    ),
    (
        "grad_fn_div",
        lambda m: m.tensor([1.0, 2.0], requires_grad=True) / 3,
        "tensor([0.3333, 0.6667], grad_fn=<DivBackward0>)",
    ),
    (
        "grad_fn_pow",
        lambda m: m.tensor([1.0, 2.0], requires_grad=True) ** 2,
        "tensor([1., 4.], grad_fn=<PowBackward0>)",
    ),
    (
        "grad_fn_exp",
        lambda m: m.tensor([0.0, 1.0], requires_grad=True).exp(),
        "tensor([1.0000, 2.7183], grad_fn=<ExpBackward0>)",
    ),
    (
        "grad_fn_sigmoid",
        lambda m: m.tensor([0.0, 1.0], requires_grad=True).sigmoid(),
        "tensor([0.5000, 0.7311], grad_fn=<SigmoidBackward0>)",
    ),
    (
        "grad_fn_view",
        lambda m: m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True).reshape(2, 2),
        "tensor([[1., 2.],\n"
        "        [3., 4.]], grad_fn=<ViewBackward0>)",
    ),
    (
        "grad_fn_matmul",
        lambda m: m.matmul(m.tensor([[1.0, 2.0]], requires_grad=True), m.tensor([[3.0], [4.0]])),
        "tensor([[11.]], grad_fn=<MmBackward0>)",
    ),
    (
        "grad_fn_float64",
        lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True) * 2,
        "tensor([2., 4.], dtype=torch.float64, grad_fn=<MulBackward0>)",
    ),
]

OPTION_CASES: list[tuple[str, dict[str, Any], Build, str]] = [
    (
        "precision_2",
        {"precision": 2},
        lambda m: m.tensor([1.12345, -2.5]),
        "tensor([ 1.12, -2.50])",
    ),
    (
        "precision_0",
        {"precision": 0},
        lambda m: m.tensor([1.5, 2.25, -0.5]),
        "tensor([ 2,  2, -0])",
    ),
    (
        "precision_0_sci",
        {"precision": 0},
        lambda m: m.tensor([1.5e-6, 2.25]),
        "tensor([2e-06, 2e+00])",
    ),
    (
        "precision_10",
        {"precision": 10},
        lambda m: m.tensor([1 / 3, 2.0], dtype=m.float64),
        "tensor([0.3333333333, 2.0000000000], dtype=torch.float64)",
    ),
    (
        "threshold_5",
        {"threshold": 5},
        lambda m: m.tensor(list(range(10))),
        "tensor([0, 1, 2,  ..., 7, 8, 9])",
    ),
    (
        "threshold_5_edge_1",
        {"threshold": 5, "edgeitems": 1},
        lambda m: m.tensor([[1.5, 2, 3], [4, 5, 6], [7, 8, 9.25]]),
        "tensor([[1.5000,  ..., 3.0000],\n"
        "        ...,\n"
        "        [7.0000,  ..., 9.2500]])",
    ),
    (
        "threshold_5_2d_small_rows",
        {"threshold": 5},
        lambda m: m.tensor([[1, 2]] * 8),
        "tensor([[1, 2],\n"
        "        [1, 2],\n"
        "        [1, 2],\n"
        "        ...,\n"
        "        [1, 2],\n"
        "        [1, 2],\n"
        "        [1, 2]])",
    ),
    (
        "edgeitems_0_summarized_1d",
        {"threshold": 5, "edgeitems": 0},
        lambda m: m.tensor(list(range(10))),
        "tensor([...], size=(10,))",
    ),
    (
        "edgeitems_0_summarized_2d",
        {"threshold": 5, "edgeitems": 0},
        lambda m: m.tensor([[1.5] * 3] * 3, requires_grad=True),
        "tensor([...], size=(3, 3), requires_grad=True)",
    ),
    (
        "edgeitems_0_not_summarized",
        {"edgeitems": 0},
        lambda m: m.tensor([1.5, 2.5]),
        "tensor([1.5000, 2.5000], size=(2,))",
    ),
    (
        "edgeitems_0_scalar",
        {"threshold": 0, "edgeitems": 0},
        lambda m: m.tensor(3.5),
        "tensor(3.5000, size=())",
    ),
    (
        "threshold_0_scalar",
        {"threshold": 0},
        lambda m: m.tensor(3.5),
        "tensor(3.5000)",
    ),
    (
        "threshold_0_empty",
        {"threshold": 0, "edgeitems": 0},
        lambda m: m.tensor([]),
        "tensor([])",
    ),
    (
        "linewidth_30",
        {"linewidth": 30},
        lambda m: m.tensor([1.5, 2.5, 3.5, 4.5, 5.5, 6.5]),
        "tensor([1.5000, 2.5000,\n"
        "        3.5000, 4.5000,\n"
        "        5.5000, 6.5000])",
    ),
    (
        "linewidth_30_2d",
        {"linewidth": 30},
        lambda m: m.tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] * 2),
        "tensor([[ 1,  2,  3,  4,  5,\n"
        "          6,  7,  8,  9, 10],\n"
        "        [ 1,  2,  3,  4,  5,\n"
        "          6,  7,  8,  9, 10]])",
    ),
    (
        "linewidth_30_suffix",
        {"linewidth": 30},
        lambda m: m.tensor([1.5, 2.5], dtype=m.float64, requires_grad=True),
        "tensor([1.5000, 2.5000],\n"
        "       dtype=torch.float64,\n"
        "       requires_grad=True)",
    ),
    (
        "linewidth_5",
        {"linewidth": 5},
        lambda m: m.tensor([1.5, 2.5]),
        "tensor([1.5000,\n"
        "        2.5000])",
    ),
    (
        "short_profile",
        {"profile": "short"},
        lambda m: m.tensor([1.12345, 2.0, 3.5]),
        "tensor([1.12, 2.00, 3.50])",
    ),
    (
        "short_profile_summarized",
        {"profile": "short"},
        lambda m: m.tensor(list(range(1200))),
        "tensor([   0,    1,  ..., 1198, 1199])",
    ),
    (
        "profile_then_override",
        {"profile": "short", "precision": 3},
        lambda m: m.tensor([1.12345, 2.0]),
        "tensor([1.123, 2.000])",
    ),
    (
        "sci_mode_true",
        {"sci_mode": True},
        lambda m: m.tensor([1.0, 2.0]),
        "tensor([1.0000e+00, 2.0000e+00])",
    ),
    (
        "sci_mode_true_fraction",
        {"sci_mode": True},
        lambda m: m.tensor([1.5, float("nan")]),
        "tensor([1.5000e+00,        nan])",
    ),
    (
        "sci_mode_false",
        {"sci_mode": False},
        lambda m: m.tensor([1e-5, 1e9]),
        "tensor([         0.0000, 1000000000.0000])",
    ),
    (
        "sci_mode_false_ints",
        {"sci_mode": False},
        lambda m: m.tensor([1.0, 1e10], dtype=m.float64),
        "tensor([          1., 10000000000.], dtype=torch.float64)",
    ),
]

DEFAULT_FLOAT64_CASES: list[tuple[str, Build, str]] = [
    (
        "float64_default_float",
        lambda m: m.tensor([1.5, 2.0]),
        "tensor([1.5000, 2.0000])",
    ),
    (
        "float64_default_float32",
        lambda m: m.tensor([1.5, 2.0], dtype=m.float32),
        "tensor([1.5000, 2.0000], dtype=torch.float32)",
    ),
    (
        "float64_default_empty",
        lambda m: m.tensor([]),
        "tensor([])",
    ),
    (
        "float64_default_empty_float32",
        lambda m: m.tensor([], dtype=m.float32),
        "tensor([], dtype=torch.float32)",
    ),
    (
        "float64_default_int64",
        lambda m: m.tensor([1, 2]),
        "tensor([1, 2])",
    ),
]


@contextmanager
def _options(module: Any, **options: Any) -> Iterator[None]:
    """Print options for one block, then PyTorch's defaults again (for autodiff or torch)."""
    module.set_printoptions(**options)
    try:
        yield
    finally:
        module.set_printoptions(profile="default")


@pytest.mark.parametrize(("name", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_repr_matches_pytorch(name: str, build: Build, expected: str) -> None:
    tensor = build(autodiff)
    assert repr(tensor) == expected
    assert str(tensor) == expected


@pytest.mark.parametrize(
    ("name", "options", "build", "expected"), OPTION_CASES, ids=[c[0] for c in OPTION_CASES]
)
def test_printoptions_match_pytorch(
    name: str, options: dict[str, Any], build: Build, expected: str
) -> None:
    with _options(autodiff, **options):
        assert repr(build(autodiff)) == expected


@pytest.mark.parametrize(
    ("name", "build", "expected"), DEFAULT_FLOAT64_CASES, ids=[c[0] for c in DEFAULT_FLOAT64_CASES]
)
def test_dtype_suffix_follows_default_dtype(name: str, build: Build, expected: str) -> None:
    autodiff.set_default_dtype(autodiff.float64)
    try:
        assert repr(build(autodiff)) == expected
    finally:
        autodiff.set_default_dtype(autodiff.float32)


def test_threshold_is_exclusive() -> None:
    assert "..." not in repr(autodiff.tensor([7] * 1000))
    assert repr(autodiff.tensor([7] * 1001)) == "tensor([7, 7, 7,  ..., 7, 7, 7])"


def test_full_profile_never_summarizes() -> None:
    with _options(autodiff, profile="full"):
        text = repr(autodiff.tensor(list(range(1200))))
    assert "..." not in text
    assert text.startswith("tensor([   0,    1,    2,")
    assert text.endswith("1197, 1198, 1199])")
    # (80 - len("tensor(")) // len("1199, ") = 12 columns, so 100 lines.
    assert text.count("\n") == 99


def test_set_printoptions_semantics() -> None:
    assert autodiff.set_printoptions is _printing.set_printoptions
    defaults = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                "sci_mode": None}
    assert _printing.get_printoptions() == defaults
    try:
        # A profile first, explicit options over it.
        autodiff.set_printoptions(profile="short", edgeitems=5, sci_mode=True)
        assert _printing.get_printoptions() == {
            "precision": 2, "threshold": 1000, "edgeitems": 5, "linewidth": 80, "sci_mode": True,
        }
        # Options left out keep their values, except sci_mode, which goes back to automatic.
        autodiff.set_printoptions(linewidth=120)
        assert _printing.get_printoptions() == {
            "precision": 2, "threshold": 1000, "edgeitems": 5, "linewidth": 120,
            "sci_mode": None,
        }
        autodiff.set_printoptions(profile="full")
        assert _printing.get_printoptions()["threshold"] == math.inf
        # An unknown profile is ignored, as in PyTorch.
        autodiff.set_printoptions(profile="no-such-profile", precision=6)
        assert _printing.get_printoptions()["precision"] == 6
        with _printing.printoptions(precision=1):
            assert repr(autodiff.tensor([1.25, 2.0])) == "tensor([1.2, 2.0])"
        assert _printing.get_printoptions()["precision"] == 6
    finally:
        autodiff.set_printoptions(profile="default")
    assert _printing.get_printoptions() == defaults


# ----------------------------------------------------------------------------- devices

def _on_device(tensor: Any, device: Device) -> Any:
    """The same array, as if it lived on `device` (no CUDA or strict backend needed)."""
    backend = NumpyBackend()
    backend.device = device
    return _wrap(tensor._data, backend)


def test_device_suffix() -> None:
    # PyTorch prints the device whenever it is not the cpu, first among the suffixes (compare
    # `tensor([1., 2.], device='cuda:0')` and `tensor([], device='cuda:0', size=(0, 2))`).
    strict, cuda = Device("strict", 1), Device("cuda", 0)
    assert repr(_on_device(autodiff.tensor([1.0, 2.0]), strict)) == (
        "tensor([1., 2.], device='strict:1')"
    )
    assert repr(_on_device(autodiff.tensor([]), strict)) == "tensor([], device='strict:1')"
    assert repr(_on_device(autodiff.tensor([[], []], dtype=autodiff.int64), cuda)) == (
        "tensor([], device='cuda:0', size=(2, 0), dtype=torch.int64)"
    )
    assert repr(_on_device(autodiff.tensor([1, 2], dtype=autodiff.int32), cuda)) == (
        "tensor([1, 2], device='cuda:0', dtype=torch.int32)"
    )
    leaf = _on_device(autodiff.tensor(1.5), cuda).requires_grad_()
    assert repr(leaf) == "tensor(1.5000, device='cuda:0', requires_grad=True)"
    assert repr(leaf * 2) == "tensor(3., device='cuda:0', grad_fn=<MulBackward0>)"
    long = _on_device(autodiff.tensor([1.5] * 8, dtype=autodiff.float64), strict)
    assert repr(long) == (
        "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000],\n"
        "       device='strict:1', dtype=torch.float64)"
    )


class _StrictArrays(Backend):
    """The generic backend on array-api-strict arrays on its second device: printing may use
    only slicing, concat and tolist, which this proves."""

    def __init__(self, xp: Any) -> None:
        # Not Backend.__init__: it asks for a float16, which array-api-strict does not have.
        self.xp = xp
        self.device = Device("strict", 1)
        self.native_device = xp.Device("device1")
        self.concat = xp.concat
        self._native_dtypes = {n: getattr(xp, n) for n in DTYPE_NAMES if hasattr(xp, n)}
        self._dtype_names = {native: n for n, native in self._native_dtypes.items()}

    def to_numpy(self, array: Any) -> Any:
        return np.asarray(array.to_device(self.xp.Device("CPU_DEVICE")))


@pytest.mark.parametrize(
    "values",
    [
        [[1.5, -2.0], [3.0, 4.0]],
        [[i * 0.5 + j for i in range(40)] for j in range(30)],
        [[[i + j + k for i in range(20)] for j in range(8)] for k in range(9)],
        [True, False] * 600,
        3.25,
    ],
    ids=["2d", "summarized_2d", "summarized_3d_ints", "summarized_bools", "0d"],
)
def test_array_api_strict_arrays(values: Any) -> None:
    xp = pytest.importorskip("array_api_strict")
    backend = _StrictArrays(xp)
    on_cpu = autodiff.tensor(values)
    name = on_cpu.dtype.name
    on_strict = _wrap(backend.asarray(on_cpu.tolist(), dtype=name), backend)
    assert on_strict.dtype is on_cpu.dtype
    expected = _on_device(on_cpu, Device("strict", 1))
    assert repr(on_strict) == repr(expected)
    assert "device='strict:1'" in repr(on_strict)


class _RecordingBackend(NumpyBackend):
    """Counts the elements every tolist() call converts."""

    def __init__(self) -> None:
        super().__init__()
        self.converted: list[int] = []

    def tolist(self, array: Any) -> Any:
        self.converted.append(int(array.size))
        return super().tolist(array)


def test_summarizes_before_converting() -> None:
    backend = _RecordingBackend()
    big = _wrap(np.arange(10**6, dtype=np.float32).reshape(100, 100, 100), backend)
    text = repr(big)
    assert backend.converted == [6 * 6 * 6]
    assert text.startswith("tensor([[[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.7000e+01,")
    assert text.endswith("1.0000e+06]]])")


# ----------------------------------------------------------------------------- against PyTorch

_INT_RANGES = {
    "uint8": (0, 2**8 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
_FLOAT_WIDTHS = {"float16": 16, "float32": 32, "float64": 64}


@st.composite
def _random_cases(draw: st.DrawFn) -> tuple[str, tuple[int, ...], list[Any], str, dict[str, Any]]:
    dtype = draw(st.sampled_from(["bool", *_INT_RANGES, *_FLOAT_WIDTHS]))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=4)))
    elements: st.SearchStrategy[Any]
    if dtype == "bool":
        elements = st.booleans()
    elif dtype in _INT_RANGES:
        low, high = _INT_RANGES[dtype]
        elements = st.one_of(st.integers(max(low, -50), min(high, 50)), st.integers(low, high))
    else:
        # Values exactly representable in the dtype, so both libraries store the same numbers.
        # One style per tensor, so that each notation (integer-valued, fixed, scientific) comes
        # up whole, not only mixed with the others.
        width = _FLOAT_WIDTHS[dtype]
        specials = st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan])
        styles = {
            "integral": st.integers(-2048, 2048).map(float),
            "fixed": st.floats(-200, 200, width=width),
            "any": st.floats(width=width),
        }
        style = styles[draw(st.sampled_from(sorted(styles)))]
        elements = st.one_of(style, style, style, specials)
    values = draw(st.lists(elements, min_size=math.prod(shape), max_size=math.prod(shape)))
    grad = draw(st.sampled_from(["none", "leaf", "op"])) if dtype in _FLOAT_WIDTHS else "none"
    # Mostly PyTorch's defaults; otherwise any mix of options (small thresholds summarize).
    options = draw(
        st.one_of(
            st.just({}),
            st.fixed_dictionaries(
                {},
                optional={
                    "precision": st.integers(0, 8),
                    "threshold": st.integers(0, 40),
                    "edgeitems": st.integers(0, 4),
                    "linewidth": st.integers(10, 120),
                    "sci_mode": st.booleans(),
                },
            ),
        )
    )
    return dtype, shape, values, grad, options


def _build(module: Any, dtype: str, shape: tuple[int, ...], values: list[Any], grad: str) -> Any:
    tensor = module.tensor(values, dtype=getattr(module, dtype)).reshape(shape)
    if grad != "none":
        tensor.requires_grad_(True)
    if grad == "op":
        tensor = tensor * 1  # values unchanged, grad_fn=<MulBackward0>
    return tensor


def test_matches_torch_on_random_tensors() -> None:
    torch = pytest.importorskip("torch")

    @settings(max_examples=200, deadline=None)
    @given(case=_random_cases())
    def check(case: tuple[str, tuple[int, ...], list[Any], str, dict[str, Any]]) -> None:
        dtype, shape, values, grad, options = case
        theirs = _build(torch, dtype, shape, values, grad)
        ours = _build(autodiff, dtype, shape, values, grad)
        with _options(torch, **options):
            expected = repr(theirs)
        with _options(autodiff, **options):
            assert repr(ours) == expected

    check()
