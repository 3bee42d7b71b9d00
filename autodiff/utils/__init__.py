"""`autodiff.utils` (torch.utils): data loading (`autodiff.utils.data`) and activation
checkpointing (`autodiff.utils.checkpoint`)."""

from . import checkpoint, data
