"""`autodiff.nn.utils`: gradient clipping, parameters as one vector and back, packed sequences
(`rnn`), pruning by masks (`prune`), modules made without initialization (`skip_init`),
reparametrizations of weights (`parametrize`, `parametrizations`, and the older weight_norm
and spectral_norm hooks), convolution weights in a memory format (`memory_format`), batch
norms folded into the layer before them (`fusion`); and, on import (it depends on
`autodiff.func`, which needs `nn`), the deprecated `stateless.functional_call`."""

from . import clip_grad, fusion, memory_format, parametrizations, parametrize, prune, rnn
from .clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .init import skip_init
from .memory_format import convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad", "clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
    "convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format", "fusion",
    "get_total_norm", "memory_format", "parameters_to_vector", "parametrizations", "parametrize",
    "prune", "remove_spectral_norm", "remove_weight_norm", "rnn", "skip_init", "spectral_norm",
    "vector_to_parameters", "weight_norm",
]
