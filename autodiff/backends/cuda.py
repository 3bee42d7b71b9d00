"""`torch.backends.cuda`: whether CUDA support (CuPy) is installed, and `matmul`'s switch for
TensorFloat-32 (the same as `torch.set_float32_matmul_precision`: CuPy's TF32 compute type
for float32 products). Reduced-precision reductions in float16 products are allowed by default,
as in PyTorch; allowing them obliges cuBLAS to nothing. The attention switches (which kernels,
and whether the math kernel may compute half precision in half precision) live in
ops/attention_kernels.py."""

from __future__ import annotations

from typing import Any

import backends

from ..ops import attention_kernels


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
        if name == "allow_tf32":
            if not isinstance(value, bool):
                raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got "
                                   f"{type(value).__name__}")
            backends.set_float32_matmul_precision("high" if value else "highest")
        else:
            self._allowed[name] = _reduced_precision(name, value)


def _reduced_precision(name: str, value: Any) -> bool:
    """A reduced-precision switch: a bool, or (allow_reduced_precision[, allow_splitk])."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got {type(value)}")
    if not value:
        raise TypeError(f"{name} expects at least one boolean argument")
    if len(value) > 2:
        raise TypeError(f"{name} expects at most two boolean arguments")
    for label, item in zip(("allow_reduced_precision", "allow_splitk"), value):
        if not isinstance(item, bool):
            raise TypeError(f"{name} expects a bool for {label}, but got {type(item)}")
    if len(value) == 2 and value[0] and not value[1]:
        raise RuntimeError("allow_splitk=False is not supported when reduced precision "
                           "reductions are enabled")
    return bool(value[0])


matmul = _Matmul()


def flash_sdp_enabled() -> bool:
    """Whether scaled_dot_product_attention may use the flash kernel (nn.attention)."""
    return attention_kernels.is_enabled("flash")


def enable_flash_sdp(enabled: bool) -> None:
    attention_kernels.set_enabled("flash", enabled)


def mem_efficient_sdp_enabled() -> bool:
    return attention_kernels.is_enabled("mem_efficient")


def enable_mem_efficient_sdp(enabled: bool) -> None:
    attention_kernels.set_enabled("mem_efficient", enabled)


def math_sdp_enabled() -> bool:
    return attention_kernels.is_enabled("math")


def enable_math_sdp(enabled: bool) -> None:
    attention_kernels.set_enabled("math", enabled)


def allow_fp16_bf16_reduction_math_sdp(enabled: bool) -> None:
    """Let the math attention kernel compute float16 and bfloat16 inputs in their own precision
    (by default it computes them in float32 and rounds the result)."""
    attention_kernels.allow_reduced_precision_math(enabled)


def fp16_bf16_reduction_math_sdp_allowed() -> bool:
    return attention_kernels.reduced_precision_math_allowed()


def cudnn_sdp_enabled() -> bool:
    return attention_kernels.is_enabled("cudnn")


def enable_cudnn_sdp(enabled: bool) -> None:
    attention_kernels.set_enabled("cudnn", enabled)


__all__ = ["allow_fp16_bf16_reduction_math_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp",
           "enable_flash_sdp", "enable_math_sdp", "enable_mem_efficient_sdp", "flash_sdp_enabled",
           "fp16_bf16_reduction_math_sdp_allowed", "is_built", "math_sdp_enabled", "matmul",
           "mem_efficient_sdp_enabled"]
