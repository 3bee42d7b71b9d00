"""`autodiff.utils` (torch.utils): data loading (`data`), activation checkpointing
(`checkpoint`), DLPack (`dlpack`), safetensors (`safetensors`), the settings of save and load
(`serialization.config`), `swap_tensors`."""

from ..swap import swap_tensors
from . import checkpoint, data, dlpack, safetensors, serialization
