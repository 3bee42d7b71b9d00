"""`autodiff.nn.utils`: gradient clipping (`clip_grad`) and packed sequences (`rnn`)."""

from . import clip_grad, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

__all__ = ["clip_grad", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "rnn"]
