"""autodiff.functional (torch.functional): the tensor functions PyTorch writes in Python rather
than as ATen ops, under the same names as on `autodiff` itself, each imported from the module
of `autodiff/ops` (or `_lowrank`) that defines it."""

from __future__ import annotations

from ._lowrank import pca_lowrank, svd_lowrank
from .ops.combining import broadcast_shapes, broadcast_tensors, cartesian_prod, meshgrid
from .ops.diagonal import block_diag
from .ops.distance import cdist
from .ops.einsum import einsum, tensordot
from .ops.flat_indexing import unravel_index
from .ops.joining import split
from .ops.lu import torch_lu as lu
from .ops.products import chain_matmul
from .ops.reduction import norm
from .ops.shape import atleast_1d, atleast_2d, atleast_3d
from .ops.spectral import istft, stft
from .ops.unique import unique, unique_consecutive
from .override_tables import IGNORED as _IGNORED
from .torch_function import make_namespace_overridable as _make_namespace_overridable

__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes",
    "broadcast_tensors", "cartesian_prod", "cdist", "chain_matmul", "einsum", "istft", "lu",
    "meshgrid", "norm", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot", "unique",
    "unique_consecutive", "unravel_index",
]

# The same `__torch_function__` wrappers as autodiff's own names (one per function, shared), made
# here because this module is imported before autodiff's namespace is wrapped.
_make_namespace_overridable(globals(), "autodiff", _IGNORED["autodiff"])
