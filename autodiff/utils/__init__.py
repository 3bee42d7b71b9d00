"""`autodiff.utils` (torch.utils): data loading (`data`), activation checkpointing
(`checkpoint`), DLPack (`dlpack`), safetensors (`safetensors`)."""

from . import checkpoint, data, dlpack, safetensors
