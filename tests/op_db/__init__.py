"""The op table: every differentiable op once, with sample inputs (broadcasting shapes, 0-d and
empty tensors), a NumPy reference and PyTorch's node name. `tests/test_ops.py` drives forward
checks against the reference and float64 gradient checks from it, on every device.

An entry's `op` takes Tensors (one per sample shape) and returns a Tensor; `ref` takes the same
inputs as float64 NumPy arrays. Entries live in one module per op family, like the ops.
"""

from __future__ import annotations

from .activation import ACTIVATION
from .attention import ATTENTION
from .complex import COMPLEX
from .conv import CONV
from .decompositions import DECOMPOSITIONS, LOWRANK
from .elementwise import ELEMENTWISE
from .fft import FFT_OPS, SPECTRAL
from .indexing import INDEXING
from .info import BINARY_SHAPES, UNARY_SHAPES, OpInfo, Sample
from .inplace import INPLACE, INPLACE_FUNCTIONS
from .linalg import LINALG
from .loss import LOSS
from .masked import MASKED
from .math import MATH
from .normalization import NORMALIZATION
from .pooling import POOLING
from .reduction import REDUCTION
from .resampling import RESAMPLING
from .rnn import RNN
from .shape import SHAPE
from .sorting import SORTING_TABLE
from .sparse import SPARSE
from .sparse_compressed import COMPRESSED
from .special import SPECIAL
from .variates import VARIATES

OP_DB: list[OpInfo] = [
    *ELEMENTWISE, *ACTIVATION, *REDUCTION, *SHAPE, *INDEXING, *INPLACE, *LINALG, *LOSS,
    *SORTING_TABLE,
    *CONV, *POOLING, *NORMALIZATION, *RESAMPLING, *ATTENTION, *RNN, *MATH, *SPECIAL,
    *COMPLEX, *DECOMPOSITIONS, *LOWRANK, *FFT_OPS, *SPECTRAL, *VARIATES, *INPLACE_FUNCTIONS,
    *SPARSE, *COMPRESSED, *MASKED,
]

__all__ = ["BINARY_SHAPES", "OP_DB", "UNARY_SHAPES", "OpInfo", "Sample"]
