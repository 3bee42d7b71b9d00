"""`autodiff.utils`: data loading (`data`), DLPack (`dlpack`), safetensors (`safetensors`)."""

from . import data, dlpack, safetensors
