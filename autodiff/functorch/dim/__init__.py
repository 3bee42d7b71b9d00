"""autodiff.functorch.dim: first-class dimensions (PyTorch's `functorch.dim`, "torchdim").

A `Dim` names a dimension; indexing a tensor with dims binds its positional dims to them
(`x[batch, channel]`), and from then on ops line dims up by identity rather than by position:
`(A[i, k] * B[k, j]).sum(k)` is a matrix product, `.order(i, j)` makes dims positional again.
Built on autodiff's ops and vmap levels, so gradients flow back to the tensors indexed.

    from autodiff.functorch.dim import dims
    i, j, k = dims()
    C = (A[i, k] * B[k, j]).sum(k).order(i, j)
"""

from __future__ import annotations

from ...ops import indexing as _indexing
from . import calls as _calls  # makes the method mirrors of first-class tensors
from .dims import DimList, dimlists, dims
from .indexing import getitem as _getitem
from .indexing import has_first_class as _has_first_class
from .indexing import index
from .indexing import setitem as _setitem
from .joining import cat, softmax, split, stack
from .levels import DimensionBindError, DimensionMismatchError
from .ordering import order
from .tensor import Dim, Tensor

_indexing.first_class.register(_has_first_class, _getitem, _setitem)

__all__ = ["Dim", "DimList", "DimensionBindError", "DimensionMismatchError", "Tensor", "cat",
           "dimlists", "dims", "index", "order", "softmax", "split", "stack"]
