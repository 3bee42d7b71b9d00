"""`torch.backends`: what autodiff's array backends are built with and use, and the flags
scripts set (`cudnn.benchmark`, `cuda.matmul.allow_tf32`, ...), answered for autodiff's own
backends: NumPy with its BLAS on the CPU, CuPy on CUDA (which calls cuBLAS, not cuDNN), no MPS
and no oneDNN. (The array backends themselves are the top-level `backends` package.)"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
