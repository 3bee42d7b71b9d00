"""`autodiff.nn.functional`: activations and losses as functions."""

# ruff: noqa: F401 (a namespace of re-exported functions)

from __future__ import annotations

from ..ops.elementwise import sigmoid, softplus
from ..ops.loss import binary_cross_entropy_with_logits

# (issue 3, elementwise activations: add imports right below this line)
from ._activations import elu, gelu, leaky_relu, relu, silu, tanh

# (issue 3, linear algebra and losses: add imports right below this line)
# isort: split
from typing import Any

from ..ops.loss import (
    binary_cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)
from ..ops.nll import cross_entropy, nll_loss
from ..ops.nn_ops import dropout, embedding, layer_norm, linear, normalize, one_hot
from ..ops.softmax import implicit_dim as _implicit_dim
from ..ops.softmax import log_softmax as _log_softmax
from ..ops.softmax import softmax as _softmax
from ..tensor import Tensor


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim."""
    if dim is None:
        dim = _implicit_dim("softmax", input.dim(), _stacklevel)
    return _softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along dim."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim(), _stacklevel)
    return _log_softmax(input, dim, dtype)


# (issue 3, shape and indexing)
from ..ops.padding import pad  # noqa: E402

# isort: split
from ..ops.adaptive_pool import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
)
from ..ops.avg_pool import (  # noqa: E402
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
)
from ..ops.conv import (  # noqa: E402
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from ..ops.dropout import (  # noqa: E402
    alpha_dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from ..ops.fold import fold, unfold  # noqa: E402
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: E402
from ..ops.interpolate import (  # noqa: E402
    interpolate,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from ..ops.max_pool import max_pool1d, max_pool2d, max_pool3d  # noqa: E402
from ..ops.max_unpool import max_unpool1d, max_unpool2d, max_unpool3d  # noqa: E402
from ..ops.normalization import (  # noqa: E402
    batch_norm,
    group_norm,
    instance_norm,
    local_response_norm,
)
from ..ops.pixel_shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle  # noqa: E402
