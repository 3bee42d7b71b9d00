"""`torch.backends.cuda`: whether CUDA support (CuPy) is installed, and `matmul`'s switch for
TensorFloat-32 (the same as `torch.set_float32_matmul_precision`: CuPy's TF32 compute type
for float32 products). Reduced-precision reductions in float16 products are allowed by default,
as in PyTorch; allowing them obliges cuBLAS to nothing."""

from __future__ import annotations

from typing import Any

import backends


def is_built() -> bool:
    """Whether CuPy, autodiff's CUDA backend, is installed (a GPU may still be missing)."""
    return backends.cuda_is_built()


class _Matmul:
    """`torch.backends.cuda.matmul`: cuBLAS's switches."""

    _names = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction")

    def __init__(self) -> None:
        object.__setattr__(self, "_allowed", {"allow_fp16_reduced_precision_reduction": True,
                                              "allow_bf16_reduced_precision_reduction": True})

    def __getattr__(self, name: str) -> Any:
        if name == "allow_tf32":
            return backends.float32_matmul_precision() != "highest"
        if name in self._names:
            return self._allowed[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._names:
            raise AttributeError(f"Unknown attribute {name}")
        if not isinstance(value, bool):
            raise TypeError(f"{name} expects a bool, but got {type(value).__name__}")
        if name == "allow_tf32":
            backends.set_float32_matmul_precision("high" if value else "highest")
        else:
            self._allowed[name] = value


matmul = _Matmul()

__all__ = ["is_built", "matmul"]
