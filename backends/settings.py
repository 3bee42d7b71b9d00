"""Process-wide switches the backends read (autodiff sets them through
`torch.use_deterministic_algorithms`, `torch.set_float32_matmul_precision` and
`torch.backends.cuda.matmul.allow_tf32`)."""

from __future__ import annotations

# Deterministic algorithms: CUDA's scatter-adds sum in a fixed (sorted) order, not with atomics.
deterministic = False
# "highest": float32 products in float32; "high"/"medium": TensorFloat-32 allowed on CUDA.
float32_matmul_precision = "highest"
