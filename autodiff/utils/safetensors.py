"""`autodiff.utils.safetensors`: Hugging Face's safetensors format, shaped like
`safetensors.torch` (`save_file`, `load_file`, `save`, `load`).

A safetensors file is a flat dict of named tensors (a state dict) and a JSON header; it holds no
code. Reading and writing go through the `safetensors` package's NumPy API (the `interop` extra:
`pip install 'autodiff[interop]'`), with the array conversion in `backends/`. Hugging Face
weights load straight into modules: `model.load_state_dict(load_file("model.safetensors"))`.
"""

from __future__ import annotations

import os
from typing import Any

from backends import get_backend
from backends import serialization as host

from ..tensor import Tensor, _wrap

__all__ = ["load", "load_file", "save", "save_file"]

_SHARED = (
    "\n            Some tensors share memory, this will lead to duplicate memory on disk and "
    "potential differences when loading them again: {groups}.\n            A potential way to "
    "correctly save your model is to use `save_model`.\n            More information at "
    "https://huggingface.co/docs/safetensors/torch_shared_tensors\n            "
)


def save_file(tensors: dict[str, Tensor], filename: str | os.PathLike[str],
              metadata: dict[str, str] | None = None) -> None:
    """Write `tensors` (name -> Tensor) to `filename`; `metadata` is free text (str -> str)."""
    host.safetensors_save_file(_host_arrays(tensors), filename, metadata)


def save(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of `tensors`."""
    return host.safetensors_save(_host_arrays(tensors), metadata)


def load_file(filename: str | os.PathLike[str], device: Any = "cpu") -> dict[str, Tensor]:
    """The tensors of a safetensors file, on `device`."""
    _check_dtypes(host.safetensors_dtypes(filename))
    return _tensors(host.safetensors_load_file(filename), device)


def load(data: bytes) -> dict[str, Tensor]:
    """The tensors of safetensors bytes, on the CPU."""
    _check_dtypes(host.safetensors_bytes_dtypes(data))
    return _tensors(host.safetensors_load(data), "cpu")


def _host_arrays(tensors: Any) -> dict[str, Any]:
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    arrays: dict[str, Any] = {}
    owners: dict[int, set[str]] = {}
    for name, tensor in tensors.items():
        if not isinstance(tensor, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected torch.Tensor but received "
                             f"{type(tensor)}")
        view = host.storage_view(tensor._data)
        if view is not None:
            owners.setdefault(id(view.root), set()).add(name)
        arrays[name] = host.contiguous_host(tensor._backend, tensor._data)
    shared = [names for names in owners.values() if len(names) > 1]
    if shared:
        raise RuntimeError(_SHARED.format(groups=shared))
    return arrays


def _check_dtypes(codes: dict[str, str]) -> None:
    for name, code in codes.items():
        if host.safetensors_dtype_name(code) is None:
            raise TypeError(f"safetensors: tensor {name!r} has dtype {code}, which autodiff has "
                            "no dtype for (it reads BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, "
                            "F64)")


def _tensors(arrays: dict[str, Any], device: Any) -> dict[str, Tensor]:
    cpu = get_backend("cpu")
    backend = get_backend(device)
    return {name: _wrap(array if backend is cpu else backend.transfer(array, cpu), backend)
            for name, array in arrays.items()}
