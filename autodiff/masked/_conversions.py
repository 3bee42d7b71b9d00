"""The conversions of a masked tensor between layouts as recorded ops (PyTorch's
`_MaskedToDense`, `_MaskedToSparse`, `_MaskedToSparseCsr`): their gradients are masked tensors
in the input's layout."""

from __future__ import annotations

from typing import Any

from .. import layouts
from ..function import Function
from ..sparse_compressed import gather as compressed_gather
from ..sparse_compressed import to_dense as compressed_to_dense
from ..sparse_coo import SparseCOO
from ..sparse_coo import gather as coo_gather
from ..sparse_coo import to_dense as coo_to_dense
from ..tensor import Tensor
from .maskedtensor import MaskedTensor, is_masked_tensor


class MaskedToDense(Function):
    """A sparse (COO or CSR) masked tensor's data made dense. The gradient, a strided masked
    tensor (or a plain one, read under this tensor's mask), goes back to the data in its
    layout: the masked tensor converted, its mask's True elements specified (PyTorch's
    `_MaskedToDense`)."""

    node_name = "_MaskedToDenseBackward"
    takes_layout_data = True

    @staticmethod
    def forward(ctx: Any, data: Any, *, mask: Tensor) -> Any:
        ctx.mask = mask
        if isinstance(data, SparseCOO):
            return coo_to_dense(ctx.backend, data)
        return compressed_to_dense(ctx.backend, data)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> Tensor:
        mask = ctx.mask
        if not is_masked_tensor(grad_output):
            return MaskedTensor._make(masked_at(grad_output, mask), mask)
        return MaskedTensor._make(masked_at(grad_output._masked_data, mask),
                                  masked_at(grad_output._masked_mask, mask))


def masked_at(tensor: Tensor, like: Tensor) -> Tensor:
    """`tensor` (strided, or sparse of like's layout) at the specified elements of `like`, a
    sparse masked tensor's mask (coalesced COO, or CSR), as a tensor of like's layout and
    indices. Recorded with the masked conversions, so that masked gradients of it are
    taken."""
    if tensor.layout is not layouts.strided:
        if _same_indices(tensor, like):
            return tensor
        tensor = tensor.to_dense()
    if like.layout is layouts.sparse_coo:
        return MaskedToSparse.apply(tensor, mask=like)
    return MaskedToSparseCsr.apply(tensor, mask=like)


def _same_indices(a: Tensor, b: Tensor) -> bool:
    if a.layout is not b.layout or tuple(a.shape) != tuple(b.shape):
        return False
    if a.layout is layouts.sparse_coo:
        if not (a._data.coalesced and b._data.coalesced):
            return False
        pairs = [(a.indices(), b.indices())]
    else:
        pairs = [(a.crow_indices(), b.crow_indices()), (a.col_indices(), b.col_indices())]
    return all(first.shape == second.shape and bool((first == second).all())
               for first, second in pairs)


class MaskedToSparse(Function):
    """A strided masked tensor's data at the True elements of its mask, `mask` (sparse COO,
    coalesced); the gradient goes back dense (PyTorch's `_MaskedToSparse`)."""

    node_name = "_MaskedToSparseBackward"

    @staticmethod
    def forward(ctx: Any, data: Any, *, mask: Tensor) -> Any:
        indices = mask._data.indices
        return SparseCOO(indices, coo_gather(ctx.backend, data, indices),
                         tuple(data.shape), True)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> Tensor:
        return grad_output.to_dense()


class MaskedToSparseCsr(Function):
    """A strided masked tensor's data at the True elements of its mask, `mask` (sparse CSR);
    the gradient goes back dense (PyTorch's `_MaskedToSparseCsr`)."""

    node_name = "_MaskedToSparseCsrBackward"

    @staticmethod
    def forward(ctx: Any, data: Any, *, mask: Tensor) -> Any:
        like = mask._data
        return like.with_values(compressed_gather(ctx.backend, data, like))

    backward = staticmethod(MaskedToSparse.backward)
