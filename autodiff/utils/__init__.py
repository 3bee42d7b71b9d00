"""`autodiff.utils` (torch.utils): data loading (`data`), activation checkpointing
(`checkpoint`), DLPack (`dlpack`), safetensors (`safetensors`), `swap_tensors`."""

from ..swap import swap_tensors
from . import checkpoint, data, dlpack, safetensors
