"""Which scaled-dot-product-attention kernels may run: the process-wide switches of
torch.backends.cuda (`enable_math_sdp`, `enable_flash_sdp`, ...; `nn.attention.sdpa_kernel`
sets them for a block), and the choice PyTorch's CPU dispatcher makes from them.

autodiff has one kernel, the math one (ops/attention.py). On the CPU PyTorch also has a flash
kernel that computes the same function for the inputs it accepts (4-D, no dropout, equal
batch, heads and head sizes, a 2-D or 4-D mask, unit last stride): PyTorch runs flash when it
is enabled and accepts the inputs, else math when math is enabled, else it refuses, warning
why flash did not fit. `check_kernel` makes the same choice and refusals, then autodiff runs its
one kernel either way (so the values are the same; the graph node stays the math path's). On
CUDA autodiff has no flash, memory-efficient or cuDNN kernel, so math must be enabled there
(PyTorch's GPU kernels would accept what is refused here).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from ..user_warnings import warn

# PyTorch's names (torch._C._get_<name>_sdp_enabled) and SDPBackend values
BACKENDS = {"cudnn": 3, "flash": 1, "mem_efficient": 2, "math": 0, "overrideable": 4}
DEFAULT_PRIORITY = (1, 2, 0, 3, 4)  # flash, memory-efficient, math, cuDNN, overrideable

_enabled = dict.fromkeys(BACKENDS, True)
_priority = list(DEFAULT_PRIORITY)

_NO_VIABLE = ("No viable backend for scaled_dot_product_attention was found. This is likely due "
              "to turning off both the math kernel and the fused kernels.")
_NO_KERNEL = "No available kernel.  Aborting execution."


def is_enabled(name: str) -> bool:
    return _enabled[name]


def set_enabled(name: str, enabled: Any) -> None:
    if not isinstance(enabled, bool):
        raise RuntimeError(f"set_sdp_use_{name} expects a bool, but got "
                           f"{type(enabled).__name__}")
    _enabled[name] = enabled


# The math kernel computes float16 and bfloat16 inputs in float32 unless this is set
# (torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp).
_reduced_precision_math = [False]


def reduced_precision_math_allowed() -> bool:
    return _reduced_precision_math[0]


def allow_reduced_precision_math(enabled: Any) -> None:
    if not isinstance(enabled, bool):  # PyTorch's message names the math switch
        raise RuntimeError(f"set_sdp_use_math expects a bool, but got {type(enabled).__name__}")
    _reduced_precision_math[0] = enabled


def priority_order() -> list[int]:
    return list(_priority)


def set_priority_order(order: list[int]) -> None:
    _priority[:] = order


def check_kernel(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None,
                 dropout_p: float, enable_gqa: bool) -> None:
    """Refuse the call as PyTorch's dispatcher would, given the enabled kernels."""
    if query.numel() == 0 or key.numel() == 0 or value.numel() == 0:
        return  # nothing to compute: PyTorch returns before choosing a kernel
    math_on, flash_on = _enabled["math"], _enabled["flash"]
    if query.device.type == "cuda":
        if not math_on:
            warn("autodiff has only the math kernel for scaled_dot_product_attention "
                 "on CUDA, and it is disabled", stacklevel=4)
            raise RuntimeError(_NO_KERNEL)
        return
    if not math_on and not flash_on:
        raise RuntimeError(_NO_VIABLE)
    if math_on:
        return  # the math kernel takes anything; flash's checks only matter without it
    reason = _flash_refusal(query, key, value, mask, dropout_p, enable_gqa)
    if not reason:
        return
    warn("Flash attention kernel not used because:", stacklevel=4)
    warn(reason, stacklevel=4)
    raise RuntimeError(_NO_KERNEL)


def flash_output_order(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None,
                       dropout_p: float, enable_gqa: bool) -> tuple[int, ...] | None:
    """When PyTorch's CPU dispatcher would run flash, the query's dim order in memory (outermost
    first), in which flash lays out its output (None otherwise, or when it is row-major): code
    that views the output transposed, as attention modules do, depends on it."""
    if query.device.type != "cpu" or not _enabled["flash"] or any(
            tensor is not None and tensor._batched for tensor in (query, key, value, mask)):
        return None  # (under vmap a batched input's strides are not readable)
    for backend in _priority:
        if backend == BACKENDS["math"] and _enabled["math"]:
            return None
        if backend == BACKENDS["flash"]:
            break
    if _flash_refusal(query, key, value, mask, dropout_p, enable_gqa):
        return None
    strides = query.stride()
    order = tuple(sorted(range(4), key=lambda dim: -strides[dim]))
    return None if order == (0, 1, 2, 3) else order


def _flash_refusal(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None,
                   dropout_p: float, enable_gqa: bool) -> str:
    """Why PyTorch's CPU flash kernel would not take these inputs ("" when it would), in the
    order and words of its checks."""
    if dropout_p > 0.0:
        return "Both fused kernels do not support non-zero dropout."
    if not query.dim() == key.dim() == value.dim() == 4:
        return (f"All fused kernels requires query, key and value to be 4 dimensional, but got "
                f"Query dim: {query.dim()}, Key dim: {key.dim()}, Value dim: {value.dim()} "
                "instead.")
    q, k, v = list(query.shape), list(key.shape), list(value.shape)
    if not q[0] == k[0] == v[0]:
        return (f"For dense inputs, both fused kernels require query, key and value to have the "
                f"same batch_size. Query.sizes(): {q}, Key.sizes(): {k}, Value.sizes(): {v} "
                "instead. To broadcast dense inputs, try using unsqueeze and expand_to before "
                "passing them into the kernel.")
    heads_match = q[1] == k[1] == v[1] or (enable_gqa and k[1] == v[1] and q[1] % k[1] == 0)
    if not heads_match:
        return (f"For dense input, both fused kernels require query, key and value to have the "
                f"same num_heads. Query.sizes(): {q}, Key sizes(): {k}, Value sizes(): {v} "
                "instead. To broadcast dense inputs, try using unsqueeze and expand_to before "
                "passing them into the kernel.")
    if mask is not None and not _mask_fits(list(mask.shape), q, k):
        return ("Please use the following attn mask shapes: 2d - ({Q_seq_len, 1}  x "
                "{KV_seq_len, 1}); 4d - ({Batch, 1} x {Num_heads, 1} x {Q_seq_len, 1}  x "
                "{KV_seq_len, 1})")
    if not q[3] == k[3] == v[3]:
        return (f"Flash attention requires q,k,v to have the same last dimension. Got "
                f"Query.size(-1): {q[3]}, Key.size(-1): {k[3]}, Value.size(-1): {v[3]} "
                "instead.")
    strides = [tensor.stride(-1) for tensor in (query, key, value)]
    if any(stride != 1 for stride in strides):
        return (f"All fused kernels require the last dimension of the input to have stride 1. "
                f"Got Query.stride(-1): {strides[0]}, Key.stride(-1): {strides[1]}, "
                f"Value.stride(-1): {strides[2]}")
    return ""


def _mask_fits(mask: list[int], q: list[int], k: list[int]) -> bool:
    """A 2-D mask of (L or 1, S or 1), or a 4-D one of (B or 1, H or 1, L or 1, S or 1)."""
    if len(mask) == 2:
        wanted = [q[2], k[2]]
    elif len(mask) == 4:
        wanted = [q[0], q[1], q[2], k[2]]
    else:
        return False
    return all(size in (1, full) for size, full in zip(mask, wanted, strict=True))
